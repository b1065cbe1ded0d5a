"""Analytic FLOPs of one forward pass, by where they are spent: matrix products only, 2 FLOPs per multiply-add
(embedding lookups, softmax, norms, biases and activations are not counted). What differs between families is read
from the registry (Family.shared_layers: a factorised embedding; Family.relative_positions: Transformer-XL's terms).

    >>> forward_flops(config, "BertForPreTraining", batch=1, length=128).total   # doctest: +SKIP
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from model_zoo.config_fields import field, required
from model_zoo.profiling.parameters import meta_model, part_of
from model_zoo.registry import family_of_model_type


@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one forward pass (2 per multiply-add, matrix products only), by where they are spent."""
    batch: int
    length: int
    embedding_projection: int   # ALBERT / ELECTRA: E -> H
    attention_projections: int  # Q, K, V and the output projection
    attention_scores: int       # Q K^T and the weighted sum of V
    relative_attention: int     # XLNet only: position projection, position and segment terms
    feed_forward: int
    heads: int                  # pooler and task heads (the vocabulary projection dominates for MLM heads)

    @property
    def total(self) -> int:
        return (self.embedding_projection + self.attention_projections + self.attention_scores
                + self.relative_attention + self.feed_forward + self.heads)


# Head modules applied to one vector per sequence (the [CLS]/summary position), not to every token.
_SEQUENCE_LEVEL = re.compile(r"(^|\.)(pooler|seq_relationship|sop_classifier|pre_classifier|classifier|"
                             r"sequence_summary)(\.|$)")


def _head_flops(model, batch: int, length: int) -> int:
    """Every Linear outside the embeddings and encoder: 2 x in x out x (tokens it is applied to)."""
    import torch
    flops = 0
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or part_of(name + ".weight") not in ("pooler", "heads"):
            continue
        rows = batch if _SEQUENCE_LEVEL.search(name) else batch * length
        flops += 2 * rows * module.in_features * module.out_features
    return flops


def forward_flops(config: dict, model_class: str, batch: int, length: int, model=None) -> FlopCount:
    """Analytic FLOPs of one forward pass of `model_class` on `batch` sequences of `length` tokens, no padding.

    Per layer (H hidden, I feed-forward, n = batch x length tokens):
      Q, K, V and output projections 4 x 2nH^2; scores Q K^T and weights x V 2 x 2 batch length^2 H;
      feed-forward 2 x 2nHI. XLNet adds the relative-position projection of its 2 x length positions (2 x 2nH^2),
      the position term against those 2 x length keys (2 x 2 batch length^2 H) and the segment term
      (2 x 2nH + 2 x 2 batch heads length^2). ALBERT and ELECTRA project embeddings E -> H (2nEH).
    Heads are counted from the model's own Linear modules (built on the meta device when not given).
    """
    model_type = config["model_type"]
    layers = required(config, "layers")
    hidden = required(config, "hidden")
    inner = int(field(config, "intermediate", 4 * hidden))
    n_heads = required(config, "heads")
    embedding = int(field(config, "embedding", hidden))
    b, t, n = batch, length, batch * length
    family = family_of_model_type(model_type)
    # a factorised embedding (ALBERT) projects E -> H even when E == H
    projection = 2 * n * embedding * hidden if embedding != hidden or (family and family.shared_layers) else 0
    attention_projections = layers * 4 * 2 * n * hidden * hidden
    attention_scores = layers * 2 * 2 * b * t * t * hidden
    feed_forward = layers * 2 * 2 * n * hidden * inner
    relative = 0
    if family and family.relative_positions:
        relative = layers * (2 * 2 * n * hidden * hidden      # k_head_r: 2t relative positions through W_r
                             + 2 * 2 * b * t * t * hidden      # position term: queries against 2t positions
                             + 2 * 2 * n * hidden              # segment term: queries against 2 segment vectors
                             + 2 * 2 * b * n_heads * t * t)    # ... spread to every (i, j) pair
    model = model if model is not None else meta_model(config, model_class)
    return FlopCount(b, t, projection, attention_projections, attention_scores, relative, feed_forward,
                     _head_flops(model, b, t))
