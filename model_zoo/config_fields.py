"""Reading a config's size fields under any family's names: the one table of aliases, and the one reader.

Each family names the same quantity differently (BERT `hidden_size`, DistilBERT `dim`, XLNet `d_model`). A config.json
holds only its own family's names; a transformers config object also answers BERT's names through its
`attribute_map`. `field` takes either.

    >>> field({"model_type": "distilbert", "dim": 768, "n_layers": 6}, "layers")
    6
    >>> field(XLNetConfig(d_model=32), "hidden")                    # doctest: +SKIP
    32
"""
from __future__ import annotations

from typing import Any

ALIASES: dict[str, tuple[str, ...]] = {  # quantity -> its names, BERT's first
    "layers": ("num_hidden_layers", "n_layers", "n_layer"),      # BERT... / DistilBERT / XLNet
    "hidden": ("hidden_size", "dim", "d_model"),
    "heads": ("num_attention_heads", "n_heads", "n_head"),
    "intermediate": ("intermediate_size", "hidden_dim", "d_inner"),
    "embedding": ("embedding_size",),                            # ALBERT and ELECTRA factorise the embeddings
    "max_positions": ("max_position_embeddings",),               # XLNet has none (relative positions)
}


def field(config, quantity: str, default: Any = None) -> Any:
    """The first of `quantity`'s names that `config` (a dict or a transformers config) sets to a non-None value, else
    `default`."""
    names = ALIASES[quantity]
    if isinstance(config, dict):
        return next((config[n] for n in names if config.get(n) is not None), default)
    return next((v for v in (getattr(config, n, None) for n in names) if v is not None), default)


def required(config, quantity: str) -> int:
    """`field` as an int; ValueError naming the config's model type when no name of `quantity` is set."""
    value = field(config, quantity)
    if value is None:
        model_type = config.get("model_type") if isinstance(config, dict) else getattr(config, "model_type", "?")
        raise ValueError(f"cannot tell the {quantity} of a {model_type} config (none of {', '.join(ALIASES[quantity])})")
    return int(value)
