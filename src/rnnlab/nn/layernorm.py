"""The layer-normalised LSTM (Ba, Kiros & Hinton, "Layer Normalization", 2016, section 3.1
and appendix).

The input and recurrent terms are normalised separately, each with its own gain and bias,
and the cell state is normalised before the output's tanh:

    pre = LN_ih(W_ih x) + LN_hh(W_hh h)          LN over all 4H gate units at once
    (i, f, g, o) = chunks of pre                 torch.nn's gate order
    c' = sigmoid(f) c + sigmoid(i) tanh(g)       the carried cell stays un-normalised
    h' = sigmoid(o) tanh(LN_c(c'))

LN(v) = gain * (v - mean(v)) / sqrt(var(v) + eps) + bias, over the feature dimension. The
two LN biases stand in for the LSTM's b_ih and b_hh (a third bias would add nothing).

LN_ih(W_ih x) does not depend on the state, so, as in the plain LSTM, it is computed for
every time step at once before the loop: one GEMM and one layer_norm for the sequence. The
loop does the recurrent GEMM, one layer_norm over the 4H gates and one over the cell.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.nn.stack import LSTMStack, lstm_update


class LayerNormLSTM(LSTMStack):
    """A multi-layer layer-normalised LSTM, batch first: (B, T, input) -> (B, T, hidden)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        eps: float = 1e-5,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, dropout)
        self.eps = eps
        gates = 4 * hidden_size
        for layer in range(num_layers):
            w_ih = nn.Parameter(torch.empty(gates, self.layer_input_size(layer)))
            w_hh = nn.Parameter(torch.empty(gates, hidden_size))
            self.uniform_init(w_ih, w_hh)
            self.register_parameter(f"weight_ih_l{layer}", w_ih)
            self.register_parameter(f"weight_hh_l{layer}", w_hh)
            # gain 1, bias 0: each LN starts as a plain normalisation
            for name, size in (("ih", gates), ("hh", gates), ("c", hidden_size)):
                self.register_parameter(f"ln_{name}_gain_l{layer}", nn.Parameter(torch.ones(size)))
                self.register_parameter(f"ln_{name}_bias_l{layer}", nn.Parameter(torch.zeros(size)))

    def _ln(self, name: str, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        return getattr(self, f"ln_{name}_gain_l{layer}"), getattr(self, f"ln_{name}_bias_l{layer}")

    def run_layer(self, layer, x, h, c):
        gates, hidden = 4 * self.hidden_size, self.hidden_size
        w_hh_t = getattr(self, f"weight_hh_l{layer}").t()
        g_hh, b_hh = self._ln("hh", layer)
        g_c, b_c = self._ln("c", layer)
        # every step's normalised input term at once: (B, T, 4H)
        gi = F.layer_norm(
            F.linear(x, getattr(self, f"weight_ih_l{layer}")),
            (gates,),
            *self._ln("ih", layer),
            self.eps,
        )
        outputs = []
        for gi_t in gi.unbind(1):
            pre = gi_t + F.layer_norm(h @ w_hh_t, (gates,), g_hh, b_hh, self.eps)
            c, o = lstm_update(pre, c)
            h = o * torch.tanh(F.layer_norm(c, (hidden,), g_c, b_c, self.eps))
            outputs.append(h)
        return torch.stack(outputs, dim=1), h, c

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}"
