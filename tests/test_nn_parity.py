"""rnnlab.nn against torch.nn: same weights (through load_state_dict), same outputs, final
states and gradients, for every impl, cell, depth, direction, layout and length setup."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab import nn as rnn
from rnnlab.nn import ElmanRNN

INPUT, HIDDEN, STEPS, BATCH = 3, 5, 7, 4
LENGTHS = torch.tensor([7, 3, 5, 1])  # unsorted, one row of length 1
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}

CELLS = {
    "rnn_tanh": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTM, torch.nn.LSTM, {}),
    "gru": (rnn.GRU, torch.nn.GRU, {}),
}


def build_pair(cell: str, impl: str, dtype: torch.dtype, device: str = "cpu", **kw):
    ours_cls, ref_cls, extra = CELLS[cell]
    torch.manual_seed(0)
    ref = ref_cls(INPUT, HIDDEN, **extra, **kw).to(device, dtype)
    ours = ours_cls(INPUT, HIDDEN, **extra, **kw, impl=impl).to(device, dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def run_case(module, x, hx, lengths, batch_first):
    """Forward + backward of a loss that touches outputs and final states; returns
    (outputs, *final states, grad x, *param grads)."""
    x = x.clone().requires_grad_()
    inp = x
    if lengths is not None:
        inp = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out, state = module(inp, hx)
    if lengths is not None:
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=STEPS)
    states = state if isinstance(state, tuple) else (state,)
    # weights the positions differently so a transposed or reversed result cannot pass
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype, device=out.device)
    loss = (out.flatten() * weights).sum() + sum((s**2).sum() for s in states)
    grads = torch.autograd.grad(loss, [x, *module.parameters()])
    return [out, *states, *grads]


def assert_parity(ours, ref, x, hx, lengths, batch_first, tol):
    got = run_case(ours, x, hx, lengths, batch_first)
    want = run_case(ref, x, hx, lengths, batch_first)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, atol=tol, rtol=tol)


def inputs(cell, layers, bidirectional, batch_first, with_state, dtype, device="cpu"):
    g = torch.Generator().manual_seed(1)
    shape = (BATCH, STEPS, INPUT) if batch_first else (STEPS, BATCH, INPUT)
    x = torch.randn(*shape, generator=g, dtype=dtype).to(device)
    hx = None
    if with_state:
        state_shape = (layers * (2 if bidirectional else 1), BATCH, HIDDEN)
        h0 = torch.randn(*state_shape, generator=g, dtype=dtype).to(device)
        c0 = torch.randn(*state_shape, generator=g, dtype=dtype).to(device)
        hx = (h0, c0) if cell == "lstm" else h0
    return x, hx


GRID = list(
    itertools.product(
        ["scratch", "compiled"], CELLS, [1, 2, 3], [False, True], [False, True], [False, True]
    )
)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("impl,cell,layers,bidirectional,batch_first,with_state", GRID)
def test_parity(impl, cell, layers, bidirectional, batch_first, with_state, lengths, dtype):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    ours, ref = build_pair(cell, impl, dtype, **kw)
    x, hx = inputs(cell, layers, bidirectional, batch_first, with_state, dtype)
    assert_parity(ours, ref, x, hx, LENGTHS if lengths else None, batch_first, TOL[dtype])


@pytest.fixture
def no_tf32():
    """TF32 matmuls would make the GPU reference itself differ by ~1e-3."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("lengths", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("impl,cell,layers,bidirectional,batch_first,with_state", GRID)
def test_parity_cuda(
    no_tf32, impl, cell, layers, bidirectional, batch_first, with_state, lengths, dtype
):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    ours, ref = build_pair(cell, impl, dtype, device="cuda", **kw)
    x, hx = inputs(cell, layers, bidirectional, batch_first, with_state, dtype, device="cuda")
    lengths = LENGTHS if lengths else None
    assert_parity(ours, ref, x, hx, lengths, batch_first, TOL[dtype])


@pytest.mark.parametrize("impl", ["scratch", "compiled"])
def test_unbatched_input_matches_torch(impl):
    ours, ref = build_pair("gru", impl, torch.float64, num_layers=2)
    x = torch.randn(STEPS, INPUT, dtype=torch.float64)
    h0 = torch.randn(2, HIDDEN, dtype=torch.float64)
    for got, want in zip(ours(x, h0), ref(x, h0), strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("impl", ["scratch", "compiled"])
def test_packed_output_has_torch_layout(impl):
    ours, ref = build_pair("lstm", impl, torch.float64)
    x = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    packed = pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    got, want = ours(packed)[0], ref(packed)[0]
    torch.testing.assert_close(got.data, want.data)
    assert torch.equal(got.batch_sizes, want.batch_sizes)
    assert torch.equal(got.sorted_indices, want.sorted_indices)


def test_state_dict_keys_and_shapes_are_torch_nns():
    ours, ref = build_pair("lstm", "compiled", torch.float32, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in ref.state_dict().items()
    }
    assert "weight_hh_l1_reverse" in ours.state_dict()


def test_dropout_between_layers_is_applied_in_training_only():
    torch.manual_seed(0)
    model = rnn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5, impl="scratch")
    x = torch.randn(STEPS, BATCH, INPUT)
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="unknown impl"):
        rnn.GRU(INPUT, HIDDEN, impl="fast")


@pytest.mark.parametrize("impl", ["torch", "compiled"])
def test_seed_elman_impls_match_its_own_loop(impl):
    torch.manual_seed(0)
    seed = ElmanRNN(INPUT, HIDDEN, num_layers=2).double()  # impl="scratch": the seed's loop
    other = ElmanRNN(INPUT, HIDDEN, num_layers=2, impl=impl).double()
    other.load_state_dict(seed.state_dict())
    x = torch.randn(BATCH, STEPS, INPUT, dtype=torch.float64)
    h0 = torch.randn(2, BATCH, HIDDEN, dtype=torch.float64)
    results = []
    for model in (seed, other):
        out, h = model(x, h0)
        loss = (out * torch.arange(STEPS, dtype=out.dtype).view(1, -1, 1)).sum() + h.sum()
        results.append([out, h, *torch.autograd.grad(loss, list(model.parameters()))])
    for got, want in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_inference_without_grad_matches_torch(cell, dtype):
    """No gradient wanted: the compiled path keeps nothing for a backward pass."""
    ours, ref = build_pair(cell, "compiled", dtype, num_layers=2, bidirectional=True)
    x, hx = inputs(cell, 2, True, False, True, dtype)
    packed = pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    with torch.no_grad():
        got, want = ours(packed, hx), ref(packed, hx)
    torch.testing.assert_close(got[0].data, want[0].data, atol=TOL[dtype], rtol=TOL[dtype])
    got_states = got[1] if isinstance(got[1], tuple) else (got[1],)
    want_states = want[1] if isinstance(want[1], tuple) else (want[1],)
    for g, w in zip(got_states, want_states, strict=True):
        torch.testing.assert_close(g, w, atol=TOL[dtype], rtol=TOL[dtype])
