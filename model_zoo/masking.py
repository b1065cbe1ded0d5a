"""BERT's corruption rule, the one implementation of it: choose 15% of the tokens; of those, 80% become the mask token,
10% a random token, 10% stay unchanged (`SPLIT`, applied by `split_codes` for every caller). Static masking draws once;
RoBERTa's dynamic masking draws anew per epoch (a different seed per epoch). ELECTRA's generator fills the chosen
positions instead.

Two ways of *choosing* the 15%, on purpose, both here:
  * `bert_masking` (the views: one sentence shown to a person) chooses exactly round(15%) of the real tokens, at least
    one, and a "random" replacement is never a special token nor the original, so every chosen slot shows its kind;
  * `mask_tokens` (pretrain: batches of training rows) chooses each real token with probability 15%, at
    least one per row, and draws replacements from the non-special ids, as BERT's and transformers' data collators do.
    Its RNG draws are what the mini checkpoints were trained and evaluated with, so they must not change
    (tests/test_masking.py compares it with a frozen copy of the original).

    >>> m = bert_masking(ids, special, mask_id=103, vocab_size=30522, seed=0)    # doctest: +SKIP
    >>> m.positions, m.kinds   # e.g. [4, 9], ['mask', 'random']
    >>> inputs, labels = mask_tokens(ids[None], special[None], np.random.default_rng(0), 4, 100)  # doctest: +SKIP
    >>> labels                 # (1, T): IGNORE except at chosen positions, which hold the original id
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MASK, RANDOM, KEEP = "mask", "random", "keep"
RATE = 0.15                     # share of the tokens chosen
SPLIT = (0.8, 0.1, 0.1)         # of the chosen: mask token, random token, unchanged
IGNORE = -100                   # the label of a position that is not chosen (no loss there)
_CODES = np.array([MASK, RANDOM, KEEP])


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


def split_codes(draws: np.ndarray, mask_frac: float = SPLIT[0], random_frac: float = SPLIT[1]) -> np.ndarray:
    """What becomes of a chosen position, from a uniform draw in [0, 1): 0 mask (draw < mask_frac), 1 random
    (< mask_frac + random_frac), 2 unchanged. Same shape as `draws`, int8."""
    draws = np.asarray(draws)
    return np.where(draws < mask_frac, 0, np.where(draws < mask_frac + random_frac, 1, 2)).astype(np.int8)


def bert_masking(ids: np.ndarray, special: np.ndarray, mask_id: int, vocab_size: int, seed: int = 0,
                 rate: float = RATE, split: tuple[float, float, float] = SPLIT,
                 forbidden_ids: tuple[int, ...] = ()) -> Masking:
    """One draw of BERT's masking (reproducible from `seed`). Random replacements avoid `forbidden_ids`
    (pass the special-token ids) and the original token."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids, dtype=np.int64)
    positions = choose_positions(special, rate, rng)
    draws = rng.random(len(positions))
    kinds = _CODES[split_codes(draws, split[0], split[1])].tolist()
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


def mask_tokens(ids: np.ndarray, special: np.ndarray, rng: np.random.Generator, mask_id: int, vocab_size: int,
                prob: float = RATE, mask_frac: float = SPLIT[0], random_frac: float = SPLIT[1],
                n_special: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Training form: (corrupted ids, labels), both (B, T); each non-special position chosen with probability `prob`,
    at least one per row when any can be; labels IGNORE except at chosen positions. Replacements are drawn from
    [n_special, vocab_size). ELECTRA's generator passes mask_frac=0.85, random_frac=0 (ELECTRA's own recipe); the
    evaluation mask_frac=1, random_frac=0 (a fill-mask query)."""
    chosen = (rng.random(ids.shape) < prob) & ~special                      # (B, T)
    for row in np.flatnonzero(~chosen.any(1) & (~special).any(1)):          # no example without a target
        chosen[row, rng.choice(np.flatnonzero(~special[row]))] = True
    labels = np.where(chosen, ids, IGNORE)
    codes = split_codes(rng.random(ids.shape), mask_frac, random_frac)      # (B, T)
    inputs = ids.copy()
    inputs[chosen & (codes == 0)] = mask_id
    randomise = chosen & (codes == 1)
    inputs[randomise] = rng.integers(n_special, vocab_size, size=int(randomise.sum()))
    return inputs, labels
