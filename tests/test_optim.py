"""The optimisers the Trainer builds: fused where torch has a kernel, the same update."""

import pytest
import torch
from torch import nn

from rnnlab.train.optim import OPTIMIZERS, make_optimizer

CPU = torch.device("cpu")


def _trained(name: str, fused: bool) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(20, 16), nn.LSTM(16, 16, batch_first=True))
    if fused:
        opt = make_optimizer(name, model, 1e-2, 0.01, CPU)
    else:
        opt = OPTIMIZERS[name](model.parameters(), lr=1e-2, weight_decay=0.01)
    ids = torch.randint(0, 20, (4, 10))
    for _ in range(5):
        out, _ = model(ids)
        opt.zero_grad()
        out.pow(2).mean().backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fused_update_is_the_per_tensor_update(name):
    fused = _trained(name, fused=True)
    reference = _trained(name, fused=False)
    moved = [(f - r).abs().max().item() for f, r in zip(fused, reference, strict=True)]
    assert max(moved) < 1e-5, moved


def test_fused_where_torch_has_a_kernel():
    model = nn.Linear(3, 3)
    for name in ("adam", "adamw"):
        assert make_optimizer(name, model, 1e-3, 0.0, CPU).defaults["fused"] is True
    assert "fused" not in make_optimizer("rmsprop", model, 1e-3, 0.0, CPU).defaults
    assert not make_optimizer("adam", model, 1e-3, 0.0, torch.device("meta")).defaults["fused"]
