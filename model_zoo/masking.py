"""BERT's corruption rule, shared by every view that masks: choose 15% of the tokens; of those, 80% become the mask
token, 10% a random token, 10% stay unchanged. Static masking draws once; RoBERTa's dynamic masking draws anew per
epoch (a different seed per epoch). ELECTRA's generator fills the chosen positions instead.

    >>> m = bert_masking(ids, special, mask_id=103, vocab_size=30522, seed=0)    # doctest: +SKIP
    >>> m.positions, m.kinds   # e.g. [4, 9], ['mask', 'random']
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MASK, RANDOM, KEEP = "mask", "random", "keep"


@dataclass(frozen=True)
class Masking:
    positions: np.ndarray   # (M,) int, sorted: the chosen positions (each gives the MLM a learning signal)
    kinds: list[str]        # (M,) MASK / RANDOM / KEEP per chosen position
    corrupted: np.ndarray   # (T,) int64: the ids the model sees
    original: np.ndarray    # (T,) int64


def choose_positions(special: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """round(rate * candidates) positions (at least one) among the non-special tokens, sorted."""
    candidates = np.flatnonzero(~np.asarray(special, dtype=bool))
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    count = min(len(candidates), max(1, int(round(rate * len(candidates)))))
    return np.sort(rng.choice(candidates, size=count, replace=False)).astype(np.int64)


def bert_masking(ids: np.ndarray, special: np.ndarray, mask_id: int, vocab_size: int, seed: int = 0,
                 rate: float = 0.15, split: tuple[float, float, float] = (0.8, 0.1, 0.1),
                 forbidden_ids: tuple[int, ...] = ()) -> Masking:
    """One draw of BERT's masking (reproducible from `seed`). Random replacements avoid `forbidden_ids`
    (pass the special-token ids) and the original token."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids, dtype=np.int64)
    positions = choose_positions(special, rate, rng)
    draws = rng.random(len(positions))
    kinds = [MASK if d < split[0] else RANDOM if d < split[0] + split[1] else KEEP for d in draws]
    corrupted = ids.copy()
    forbidden = set(forbidden_ids)
    for position, kind in zip(positions, kinds):
        if kind == MASK:
            corrupted[position] = mask_id
        elif kind == RANDOM:
            replacement = int(rng.integers(vocab_size))
            while replacement in forbidden or replacement == ids[position]:
                replacement = int(rng.integers(vocab_size))
            corrupted[position] = replacement
    return Masking(positions=positions, kinds=kinds, corrupted=corrupted, original=ids)


def dynamic_masking(ids: np.ndarray, special: np.ndarray, mask_id: int, vocab_size: int, epochs: int, seed: int = 0,
                    **kwargs) -> list[Masking]:
    """RoBERTa: a fresh mask for each epoch (epoch e uses seed + e); BERT's static mask is epoch 0 every time."""
    return [bert_masking(ids, special, mask_id, vocab_size, seed=seed + epoch, **kwargs) for epoch in range(epochs)]
