"""rnnlab.nn.dropout (cheap CPU masks) and the layer-by-layer torch path that uses it
between stacked layers: the same statistics as torch's dropout, the same maths as
torch's fused multi-layer call when nothing is dropped."""

import pytest
import torch
from torch.func import functional_call

from rnnlab.nn import GRU, LSTM
from rnnlab.nn.dropout import LEVELS, Dropout, dropout


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_drops_a_fraction_p_and_keeps_the_mean(p):
    torch.manual_seed(0)
    x = torch.ones(1_000_000)
    y = dropout(x, p)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - p) < 0.003
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, LEVELS / round((1 - p) * LEVELS)))
    assert abs(y.mean().item() - 1.0) < 0.005


def test_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(0)
    x = torch.randn(64, 32, requires_grad=True)
    y = dropout(x, 0.3)
    y.sum().backward()
    scale = LEVELS / round(0.7 * LEVELS)
    expected = torch.where(y != 0, scale, 0.0)
    assert torch.allclose(x.grad, expected)


def test_off_in_evaluation_and_at_zero_and_below_resolution():
    x = torch.randn(100)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1e-9), x)
    assert torch.equal(dropout(x, 1.0), torch.zeros(100))
    with pytest.raises(ValueError):
        dropout(x, 1.5)


def test_module_follows_train_and_eval():
    layer = Dropout(0.5)
    x = torch.ones(10_000)
    assert (layer(x) == 0).any()
    layer.eval()
    assert torch.equal(layer(x), x)


def test_bf16_input_gives_bf16_output():
    y = dropout(torch.ones(1000, dtype=torch.bfloat16), 0.2)
    assert y.dtype == torch.bfloat16
    assert set(y.unique().tolist()) <= {0.0, 1.25}


def _pair(cls, bias, seed=0):
    torch.manual_seed(seed)
    return cls(8, 16, 3, batch_first=True, dropout=0.0, bias=bias).train()


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_by_layer_is_torchs_fused_call_when_nothing_drops(cls, bias):
    """dropout 1e-9 takes the layer-by-layer path but drops nothing (below 2**-16), so
    outputs, final states and gradients must be the fused call's."""
    torch.manual_seed(1)
    x = torch.randn(4, 7, 8)
    h = torch.randn(3, 4, 16)
    hx = (h, torch.randn(3, 4, 16)) if cls is LSTM else h
    results = []
    for p in (0.0, 1e-9):
        layer = _pair(cls, bias)
        layer.dropout = p
        assert layer._drops_between_layers_on_cpu(x) == (p > 0)
        out, final = layer(x, hx)
        finals = final if isinstance(final, tuple) else (final,)
        (out.sum() + sum(f.sum() for f in finals)).backward()
        results.append((out, finals, [q.grad for q in layer.parameters()]))
    (out0, fin0, g0), (out1, fin1, g1) = results
    assert torch.allclose(out0, out1, atol=1e-6)
    for a, b in zip(fin0, fin1, strict=True):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_layer_by_layer_runs_swapped_weights():
    """Weight drop hands masked matrices in with functional_call: the layer-by-layer path
    must compute with them, as the fused call does."""
    layer = _pair(LSTM, True)
    x = torch.randn(2, 5, 8)
    swapped = {"weight_hh_l1": torch.zeros(64, 16)}
    layer.dropout = 0.0
    fused, _ = functional_call(layer, swapped, (x,))
    layer.dropout = 1e-9
    by_layer, _ = functional_call(layer, swapped, (x,))
    plain, _ = layer(x)
    assert torch.allclose(fused, by_layer, atol=1e-6)
    assert not torch.allclose(plain, by_layer, atol=1e-3)


def test_dropout_between_layers_only_in_training():
    layer = LSTM(8, 16, 2, batch_first=True, dropout=0.5)
    x = torch.randn(2, 5, 8)
    assert layer._drops_between_layers_on_cpu(x)
    layer.eval()
    assert not layer._drops_between_layers_on_cpu(x)
    torch.manual_seed(0)
    a, _ = layer(x)
    b, _ = layer(x)
    assert torch.equal(a, b)
    layer.train()
    assert not torch.allclose(layer(x)[0], layer(x)[0])
