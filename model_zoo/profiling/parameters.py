"""Exact parameter counts of a checkpoint from its config alone: built on the meta device (no memory, no weights), so
they are exact offline; each parameter is assigned to one part of the model (PARTS), tied matrices counted once.

    >>> p = parameter_breakdown(default_checkpoint("albert"))       # doctest: +SKIP
    >>> p.total, p.per_forward                                      # (11_813_810, 89_781_554): one layer used 12 times
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from model_zoo import loading
from model_zoo.config_fields import field, required
from model_zoo.facts import config_for
from model_zoo.registry import CHECKPOINTS, Checkpoint

# The parts a parameter can belong to, in the order they are stacked in the bars.
PARTS = ("token embeddings", "position embeddings", "type embeddings", "embedding projection",
         "embedding norm/other", "encoder layers", "pooler", "heads")

def default_keys() -> list[str]:
    """The default checkpoints (the six families; ELECTRA's generator and discriminator both)."""
    return [c.key for c in CHECKPOINTS.values() if c.default]


# ---------------------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class ParameterBreakdown:
    key: str
    family: str
    model_class: str
    total: int                     # stored parameters (tied matrices counted once), = sum(p.numel())
    parts: dict[str, int]          # PARTS -> count; sums to total
    per_forward: int               # parameters applied in one forward pass (ALBERT: the shared layer L times)
    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int
    shared_layers: bool
    config_source: str

    @property
    def bytes_fp32(self) -> int:
        return self.total * 4

    @property
    def bytes_fp16(self) -> int:
        return self.total * 2


def part_of(name: str) -> str:
    """Which part of the model a parameter name belongs to (names with or without the base-model prefix)."""
    if "embedding_hidden_mapping_in" in name or "embeddings_project" in name:
        return "embedding projection"          # ALBERT's E -> H (and ELECTRA's, where E != H)
    if "word_embedding" in name:
        return "token embeddings"
    if "position_embeddings" in name:
        return "position embeddings"
    if "token_type_embeddings" in name:
        return "type embeddings"
    if re.search(r"(^|\.)embeddings\.", name) or re.search(r"(^|\.)mask_emb$", name):
        return "embedding norm/other"          # the embeddings' LayerNorm; XLNet's mask embedding
    if re.search(r"(^|\.)(encoder\.|transformer\.layer\.|layer\.\d)", name):
        return "encoder layers"
    if re.search(r"(^|\.)pooler\.", name):
        return "pooler"
    return "heads"


def breakdown_of_model(model, key: str, family: str, config: dict, config_source: str) -> ParameterBreakdown:
    """The breakdown of a built model (meta or real): named parameters, each tied matrix once."""
    parts = dict.fromkeys(PARTS, 0)
    shared_group = 0
    for name, p in model.named_parameters():  # remove_duplicate=True: tied decoder weights appear once
        parts[part_of(name)] += p.numel()
        if "albert_layer_groups" in name:
            shared_group += p.numel()
    total = sum(parts.values())
    layers = required(config, "layers")
    groups = int(config.get("num_hidden_groups", 1) or 1)
    # ALBERT: each layer group is applied layers / groups times in one forward pass.
    per_forward = total + shared_group * (layers // groups - 1) if shared_group else total
    hidden = required(config, "hidden")
    return ParameterBreakdown(
        key=key, family=family, model_class=type(model).__name__, total=total, parts=parts, per_forward=per_forward,
        layers=layers, hidden=hidden, heads=required(config, "heads"),
        intermediate=int(field(config, "intermediate", 4 * hidden)),
        vocab=int(config["vocab_size"]), shared_layers=bool(shared_group), config_source=config_source)


def meta_model(config: dict, model_class: str):
    """`model_class` built from `config` on the meta device: shapes without memory (under the loader's
    construction lock: a meta-device build racing a real load would leave that model on the meta device)."""
    return loading.build_on_meta(config, model_class)


@lru_cache(maxsize=64)
def parameter_breakdown(checkpoint: Checkpoint) -> ParameterBreakdown:
    """Exact parameters of a checkpoint from its config alone (works offline for the defaults)."""
    config, source = config_for(checkpoint)
    return breakdown_of_model(meta_model(config, checkpoint.model_class), checkpoint.key, checkpoint.family, config,
                              source)


def parameter_breakdowns(specs: list[str]) -> list[ParameterBreakdown]:
    return [parameter_breakdown(loading.resolve(spec)) for spec in specs]
