"""AWD-LSTM's regularisers in CharLM: DropConnect on the recurrent weights and locked
(variational) dropout. Each is checked against the maths it claims, written out here."""

import pytest
import torch
import torch.nn.functional as F

from rnnlab.errors import UserError
from rnnlab.models.charlm import CharLM, CharLMConfig


def make(model: str = "lstm", **kwargs) -> CharLM:
    torch.manual_seed(0)
    config = CharLMConfig(vocab_size=11, model=model, embedding=8, hidden=8, **kwargs)
    return CharLM(config)


IDS = torch.randint(0, 11, (3, 7), generator=torch.Generator().manual_seed(1))


def masked_by_hand(lm: CharLM, seed: int) -> CharLM:
    """`lm` with the DropConnect masks of a forward pass under `seed` applied to its own
    recurrent matrices: what weight drop must compute, written out."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, weight in lm.rnn.named_parameters():
            if name.startswith("weight_hh"):
                weight.copy_(F.dropout(weight, 0.5, training=True))
    return lm


@pytest.mark.parametrize(
    "model, impl",
    [(m, i) for m in ("lstm", "gru") for i in ("torch", "scratch", "compiled")]
    + [("mogrifier", "torch"), ("lnlstm", "torch")],
)
def test_weight_drop_runs_the_masked_recurrent_matrices_in_every_impl(model, impl):
    lm = make(model, impl=impl, weight_drop=0.5).train()
    torch.manual_seed(5)
    logits, _ = lm(IDS)
    # the same draws, applied by hand to a copy of the model without weight drop
    plain = masked_by_hand(make(model, impl=impl).train(), seed=5)
    expected, _ = plain(IDS)
    torch.testing.assert_close(logits, expected)
    # the gradient reaches the unmasked parameter, zero where the mask dropped a weight
    logits.sum().backward()
    dropped = plain.rnn.weight_hh_l0 == 0
    assert lm.rnn.weight_hh_l0.grad is not None
    assert torch.all(lm.rnn.weight_hh_l0.grad[dropped] == 0)
    assert lm.rnn.weight_hh_l0.grad[~dropped].abs().sum() > 0


def test_weight_drop_is_off_in_evaluation_and_leaves_the_weights_alone():
    lm, plain = make(weight_drop=0.5).eval(), make().eval()
    before = lm.rnn.weight_hh_l0.clone()
    torch.testing.assert_close(lm(IDS)[0], plain(IDS)[0])
    lm.train()
    lm(IDS)
    assert torch.equal(lm.rnn.weight_hh_l0, before)


def test_variational_dropout_keeps_one_mask_for_the_whole_sequence():
    lm = make(dropout=0.5, variational=True, layers=1).train()
    x = torch.ones(4, 9, 8)
    dropped = lm._dropout(x)
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # same at every step
    assert set(dropped.unique().tolist()) <= {0.0, 2.0}
    per_step = make(dropout=0.5, layers=1).train()._dropout(x)
    assert not torch.equal(per_step, per_step[:, :1].expand_as(per_step))


def test_weight_drop_on_the_from_scratch_elman_is_refused():
    with pytest.raises(UserError, match="`weight_drop`"):
        CharLMConfig(vocab_size=5, model="elman", weight_drop=0.2)
    with pytest.raises(UserError, match="`weight_drop`"):
        CharLMConfig(vocab_size=5, weight_drop=1.0)


@pytest.mark.parametrize("model", ["mogrifier", "lnlstm"])
def test_the_loop_cells_train_carry_state_and_generate_through_the_lm(model):
    lm = make(model, dropout=0.1).eval()
    logits, state = lm(IDS)
    first, carried = lm(IDS[:, :4])
    rest, _ = lm(IDS[:, 4:], carried)
    torch.testing.assert_close(torch.cat([first, rest], 1), logits)
    stepped, step_state = lm.step(IDS[:, 0], None)  # generation's one-step path
    torch.testing.assert_close(stepped, logits[:, 0])
    assert len(step_state) == 2 and step_state[0].shape == (2, 3, 8)


@pytest.mark.gpu
def test_weight_drop_runs_on_cudnn():
    """cuDNN's fused LSTM takes the masked matrices in place of its own, as oneDNN does."""
    lm = make(weight_drop=0.5).cuda().train()
    torch.manual_seed(5)
    logits, _ = lm(IDS.cuda())
    plain = masked_by_hand(make().cuda().train(), seed=5)
    torch.testing.assert_close(logits, plain(IDS.cuda())[0], rtol=1e-4, atol=1e-4)
    logits.sum().backward()
    assert lm.rnn.weight_hh_l0.grad.abs().sum() > 0
