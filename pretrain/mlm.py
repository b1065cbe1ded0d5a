"""BERT's masking of training rows (shared by BERT, RoBERTa, ALBERT, DistilBERT and ELECTRA's generator) and the
masked-position head. The rule itself is model_zoo.masking.mask_tokens (the one implementation; re-exported here).

Of the maskable positions, 15% are chosen; of those 80% become the mask token, 10% a random token, 10% stay.
Static masking (BERT) draws the mask from an RNG keyed by the example's index, so an example always has the same mask;
dynamic masking (RoBERTa) keys it by the training step too, so each pass gets a new one.

    >>> ids = np.array([[2, 10, 11, 12, 3]]); special = ids < 5
    >>> inputs, labels = mask_tokens(ids, special, np.random.default_rng(0), mask_id=4, vocab_size=100)
    >>> labels                                   # -100 except at chosen positions, which hold the original id
"""
from __future__ import annotations

import numpy as np
import torch

from model_zoo.masking import IGNORE, mask_tokens  # noqa: F401  (re-exported: evaluate and the objectives use them)


def rows_rng(seed: int, keys) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, *k]) if isinstance(k, tuple) else np.random.default_rng([seed, k])
            for k in keys]


def mask_rows(ids: np.ndarray, special: np.ndarray, rngs: list[np.random.Generator], **kw):
    """mask_tokens row by row, each row with its own RNG (static masking keys it by example, dynamic by step)."""
    out = [mask_tokens(ids[i:i + 1], special[i:i + 1], rngs[i], **kw) for i in range(len(ids))]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def masked_positions(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(flat indices of the labelled positions into a (B*T) view, their labels)."""
    flat = labels.reshape(-1)
    where = (flat != IGNORE).nonzero().squeeze(1)
    return where, flat[where]


def gather(hidden: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """(B, T, H) hidden states -> (n, H) at the flat positions `where` (the LM head then runs on n rows, not B*T)."""
    return hidden.reshape(-1, hidden.shape[-1])[where]
