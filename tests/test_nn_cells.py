"""The LSTM variants of rnnlab.nn (MogrifierLSTM, LayerNormLSTM) against references written
here from the papers' formulas: a plain loop over layers and steps, every gate spelled out,
reading the modules' parameters by name. Same outputs, final states and gradients."""

from __future__ import annotations

import pytest
import torch

from rnnlab.nn import LayerNormLSTM, MogrifierLSTM

INPUT, HIDDEN, STEPS, BATCH = 3, 5, 7, 4
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def lstm_step(gates, c):
    """torch.nn.LSTM's gate order: input, forget, cell, output."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o), c


def reference_mogrifier(p, x, h0, c0, layers, rounds, rank):
    """Melis et al. 2020, eq. (1)-(2): x^i = 2 s(Q^i h^(i-1)) x^(i-2) for odd i,
    h^i = 2 s(R^i x^(i-1)) h^(i-2) for even i; then an LSTM step on (x^r, h^r)."""

    def round_matrix(layer, j):
        name = f"mog_l{layer}_r{j}"
        return p[name] if rank is None else p[name + "_b"] @ p[name + "_a"]

    hs, cs = [], []
    for layer in range(layers):
        h, c = h0[layer], c0[layer]
        outs = []
        for t in range(x.shape[1]):
            xm, hm = x[:, t], h
            for j in range(1, rounds + 1):
                if j % 2 == 1:
                    xm = 2 * torch.sigmoid(hm @ round_matrix(layer, j).T) * xm
                else:
                    hm = 2 * torch.sigmoid(xm @ round_matrix(layer, j).T) * hm
            gates = (
                xm @ p[f"weight_ih_l{layer}"].T
                + p[f"bias_ih_l{layer}"]
                + hm @ p[f"weight_hh_l{layer}"].T
                + p[f"bias_hh_l{layer}"]
            )
            o, c = lstm_step(gates, c)
            h = o * torch.tanh(c)
            outs.append(h)
        x = torch.stack(outs, dim=1)
        hs.append(h)
        cs.append(c)
    return x, torch.stack(hs), torch.stack(cs)


def layer_norm(v, gain, bias, eps=1e-5):
    mean = v.mean(-1, keepdim=True)
    var = ((v - mean) ** 2).mean(-1, keepdim=True)  # the biased variance, as Ba et al.
    return gain * (v - mean) / torch.sqrt(var + eps) + bias


def reference_layernorm(p, x, h0, c0, layers):
    """Ba, Kiros & Hinton 2016: gates = LN(W_ih x) + LN(W_hh h); h' = o tanh(LN(c'))."""

    def ln(name, layer, v):
        return layer_norm(v, p[f"ln_{name}_gain_l{layer}"], p[f"ln_{name}_bias_l{layer}"])

    hs, cs = [], []
    for layer in range(layers):
        h, c = h0[layer], c0[layer]
        outs = []
        for t in range(x.shape[1]):
            gates = ln("ih", layer, x[:, t] @ p[f"weight_ih_l{layer}"].T) + ln(
                "hh", layer, h @ p[f"weight_hh_l{layer}"].T
            )
            o, c = lstm_step(gates, c)
            h = o * torch.tanh(ln("c", layer, c))
            outs.append(h)
        x = torch.stack(outs, dim=1)
        hs.append(h)
        cs.append(c)
    return x, torch.stack(hs), torch.stack(cs)


def randomise(module):
    """Non-trivial values for every parameter (the LN gains start at exactly 1)."""
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return module


def data(layers, dtype, with_state=True):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, STEPS, INPUT, generator=g, dtype=dtype)
    if not with_state:
        return x, None
    shape = (layers, BATCH, HIDDEN)
    return x, (
        torch.randn(shape, generator=g, dtype=dtype),
        torch.randn(shape, generator=g, dtype=dtype),
    )


def results(run, params, x, state):
    """(out, h_n, c_n, grads of x, h0, c0 and every parameter) of a loss that weights
    every position differently, so that a transposed or shifted result cannot pass."""
    x = x.clone().requires_grad_()
    leaves = [x]
    if state is not None:
        state = tuple(s.clone().requires_grad_() for s in state)
        leaves += list(state)
    out, h, c = run(x, state)
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).view_as(out)
    loss = (out * weights).sum() + (h**2).sum() + (c**3).sum()
    return [out, h, c, *torch.autograd.grad(loss, leaves + params)]


def assert_matches_reference(module, reference, layers, dtype, with_state):
    x, state = data(layers, dtype, with_state)
    names, params = zip(*module.named_parameters(), strict=True)
    params = list(params)

    def ours(x, state):
        out, (h, c) = module(x, state)
        return out, h, c

    def ref(x, state):
        if state is None:
            zeros = x.new_zeros(layers, BATCH, HIDDEN)
            state = (zeros, zeros)
        return reference(dict(zip(names, params, strict=True)), x, *state)

    got, want = results(ours, params, x, state), results(ref, params, x, state)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, atol=TOL[dtype], rtol=TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("rounds, rank", [(1, None), (2, None), (5, None), (4, 2)])
def test_mogrifier_matches_the_papers_formulas(rounds, rank, layers, with_state, dtype):
    torch.manual_seed(0)
    module = MogrifierLSTM(INPUT, HIDDEN, layers, rounds=rounds, rank=rank).to(dtype)
    reference = lambda p, x, h0, c0: reference_mogrifier(p, x, h0, c0, layers, rounds, rank)  # noqa: E731
    assert_matches_reference(randomise(module), reference, layers, dtype, with_state)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_layernorm_lstm_matches_the_papers_formulas(layers, with_state, dtype):
    torch.manual_seed(0)
    module = LayerNormLSTM(INPUT, HIDDEN, layers).to(dtype)
    reference = lambda p, x, h0, c0: reference_layernorm(p, x, h0, c0, layers)  # noqa: E731
    assert_matches_reference(randomise(module), reference, layers, dtype, with_state)


@pytest.mark.parametrize(
    "module",
    [
        MogrifierLSTM(2, 3, num_layers=2, rounds=3),
        MogrifierLSTM(2, 3, num_layers=2, rounds=4, rank=1),
        LayerNormLSTM(2, 3, num_layers=2),
    ],
    ids=["mogrifier", "mogrifier-low-rank", "layernorm"],
)
def test_gradients_pass_gradcheck(module):
    """Finite differences against autograd, for the input, the state and the weights."""
    module = randomise(module.double())
    names, params = zip(*module.named_parameters(), strict=True)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)

    def f(x, h0, c0, *params):
        p = dict(zip(names, params, strict=True))
        out, (h, c) = torch.func.functional_call(module, p, (x, (h0, c0)))
        return out, h, c

    inputs = (x, h0, c0, *(p.detach().clone().requires_grad_() for p in params))
    assert torch.autograd.gradcheck(f, inputs)


@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
def test_mogrifier_with_no_rounds_is_torch_lstm(with_state):
    """rounds=0 leaves x and h as they are: a torch.nn.LSTM's weights load by name and
    give its outputs, states and gradients."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, batch_first=True).double()
    ours = MogrifierLSTM(INPUT, HIDDEN, num_layers=2, rounds=0).double()
    ours.load_state_dict(ref.state_dict())  # strict: no parameter missing or extra
    x, state = data(2, torch.float64, with_state)

    def run(module):
        def call(x, state):
            out, (h, c) = module(x, state)
            return out, h, c

        return results(call, list(module.parameters()), x, state)

    for g, w in zip(run(ours), run(ref), strict=True):
        torch.testing.assert_close(g, w, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize(
    "build",
    [lambda: MogrifierLSTM(INPUT, HIDDEN, 2), lambda: LayerNormLSTM(INPUT, HIDDEN, 2)],
    ids=["mogrifier", "layernorm"],
)
def test_carried_state_continues_the_sequence(build):
    """Two halves, the second starting from the first's final state, are the whole."""
    torch.manual_seed(0)
    module = build().double()
    x, state = data(2, torch.float64)
    out, (h, c) = module(x, state)
    assert out.shape == (BATCH, STEPS, HIDDEN) and h.shape == c.shape == (2, BATCH, HIDDEN)
    first, carried = module(x[:, :3], state)
    second, (h2, c2) = module(x[:, 3:], carried)
    torch.testing.assert_close(torch.cat([first, second], dim=1), out)
    torch.testing.assert_close(h2, h)
    torch.testing.assert_close(c2, c)
    torch.testing.assert_close(out[:, -1], h[-1])  # the output is the top layer's h


@pytest.mark.parametrize("cls", [MogrifierLSTM, LayerNormLSTM])
def test_dropout_between_layers_is_applied_in_training_only(cls):
    torch.manual_seed(0)
    x = torch.randn(BATCH, STEPS, INPUT)
    model = cls(INPUT, HIDDEN, num_layers=2, dropout=0.5).train()
    assert not torch.equal(model(x)[0], model(x)[0])
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    single = cls(INPUT, HIDDEN, num_layers=1, dropout=0.5).train()  # no layer to drop between
    assert torch.equal(single(x)[0], single(x)[0])


@pytest.mark.parametrize("cls", [MogrifierLSTM, LayerNormLSTM])
def test_wrong_shapes_are_refused(cls):
    module = cls(INPUT, HIDDEN, num_layers=2)
    with pytest.raises(ValueError, match="expected input"):
        module(torch.randn(STEPS, INPUT))
    bad = torch.zeros(1, BATCH, HIDDEN)
    with pytest.raises(ValueError, match="expected state"):
        module(torch.randn(BATCH, STEPS, INPUT), (bad, bad))


def test_low_rank_mogrifier_has_fewer_parameters():
    def count(module):
        return sum(p.numel() for p in module.parameters())

    lstm = count(torch.nn.LSTM(64, 64))
    full, low = count(MogrifierLSTM(64, 64, rounds=5)), count(MogrifierLSTM(64, 64, rank=4))
    assert full == lstm + 5 * 64 * 64
    assert low == lstm + 5 * 2 * 4 * 64
