"""BERT's 15% / 80-10-10 rule and RoBERTa's dynamic masking, checked over many draws; the training form draws exactly
what pretrain's own copy drew before the two were merged (so training and evaluation stay reproducible)."""
import numpy as np
import pytest

from model_zoo.masking import IGNORE, KEEP, MASK, RANDOM, bert_masking, dynamic_masking, mask_tokens, split_codes

IDS = np.arange(1000, 1200)
SPECIAL = np.zeros(200, dtype=bool)
SPECIAL[[0, -1]] = True


def test_fifteen_percent_of_non_special_tokens_and_never_specials():
    m = bert_masking(IDS, SPECIAL, mask_id=103, vocab_size=30522, seed=1, forbidden_ids=(101, 102, 103))
    assert len(m.positions) == round(0.15 * 198)
    assert not SPECIAL[m.positions].any()
    changed = np.flatnonzero(m.corrupted != m.original)
    assert set(changed) <= set(m.positions.tolist())


def test_eighty_ten_ten_over_many_draws():
    kinds = [k for seed in range(300) for k in bert_masking(IDS, SPECIAL, 103, 30522, seed=seed).kinds]
    share = {k: kinds.count(k) / len(kinds) for k in (MASK, RANDOM, KEEP)}
    assert abs(share[MASK] - 0.8) < 0.02 and abs(share[RANDOM] - 0.1) < 0.015 and abs(share[KEEP] - 0.1) < 0.015


def test_each_kind_does_what_it_says():
    m = bert_masking(IDS, SPECIAL, 103, 30522, seed=3, forbidden_ids=(101, 102, 103))
    for position, kind in zip(m.positions, m.kinds):
        if kind == MASK:
            assert m.corrupted[position] == 103
        elif kind == RANDOM:
            assert m.corrupted[position] not in (103, 101, 102, m.original[position])
        else:
            assert m.corrupted[position] == m.original[position]


def test_same_seed_same_mask_and_dynamic_masking_differs_per_epoch():
    a = bert_masking(IDS, SPECIAL, 103, 30522, seed=7)
    b = bert_masking(IDS, SPECIAL, 103, 30522, seed=7)
    assert np.array_equal(a.corrupted, b.corrupted)
    epochs = dynamic_masking(IDS, SPECIAL, 103, 30522, epochs=4, seed=7)
    assert np.array_equal(epochs[0].corrupted, a.corrupted)
    assert len({tuple(e.positions) for e in epochs}) == 4


# ------------------------------------------------------------------------------------- the training form
def _pretrain_mask_tokens_before_the_merge(ids, special, rng, mask_id, vocab_size, prob=0.15, mask_frac=0.8,
                                           random_frac=0.1, n_special=5):
    """pretrain/mlm.mask_tokens as it was (commit 9c3dd51), frozen here as the reference."""
    chosen = (rng.random(ids.shape) < prob) & ~special
    for row in np.flatnonzero(~chosen.any(1) & (~special).any(1)):
        chosen[row, rng.choice(np.flatnonzero(~special[row]))] = True
    labels = np.where(chosen, ids, -100)
    draw = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (draw < mask_frac)] = mask_id
    randomise = chosen & (draw >= mask_frac) & (draw < mask_frac + random_frac)
    inputs[randomise] = rng.integers(n_special, vocab_size, size=int(randomise.sum()))
    return inputs, labels


def _rows(seed, shape=(8, 64)):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 8000, size=shape)
    special = np.zeros(shape, dtype=bool)
    special[:, 0] = special[:, -1] = True
    special[1, :] = True                                              # a row of padding only: nothing to choose
    special[2, 3:] = True                                             # a row with two real tokens: often none drawn
    return ids, special


@pytest.mark.parametrize("kwargs", [{},                                                   # BERT, RoBERTa, ALBERT, DistilBERT
                                    {"mask_frac": 0.85, "random_frac": 0.0},              # ELECTRA's generator
                                    {"mask_frac": 1.0, "random_frac": 0.0},               # the evaluation's fill-mask
                                    {"prob": 0.5, "n_special": 9}])
@pytest.mark.parametrize("seed", range(20))
def test_training_form_draws_exactly_what_pretrain_drew(seed, kwargs):
    ids, special = _rows(seed)
    ours, theirs = np.random.default_rng([1234, seed]), np.random.default_rng([1234, seed])
    got = mask_tokens(ids, special, ours, 4, 8000, **kwargs)
    expected = _pretrain_mask_tokens_before_the_merge(ids, special, theirs, 4, 8000, **kwargs)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert ours.random() == theirs.random()                           # and the generator is left in the same state


def test_pretrain_uses_this_implementation():
    mlm = pytest.importorskip("pretrain.mlm")
    assert mlm.mask_tokens is mask_tokens and mlm.IGNORE == IGNORE


def test_training_form_fifteen_percent_and_eighty_ten_ten_over_many_draws():
    ids, special = _rows(0, shape=(400, 128))
    rng = np.random.default_rng(5)
    inputs, labels = mask_tokens(ids, special, rng, mask_id=4, vocab_size=8000)
    chosen = labels != IGNORE
    real = ~special
    assert not (chosen & special).any() and chosen[real.any(1)].any(1).all()   # never specials; a target per row
    assert abs(chosen.sum() / real.sum() - 0.15) < 0.005                        # ~50,000 real tokens
    masked, same = inputs[chosen] == 4, inputs[chosen] == ids[chosen]
    randomised = ~masked & ~same                                               # (a random draw may hit the original)
    assert abs(masked.mean() - 0.8) < 0.01 and abs(randomised.mean() - 0.1) < 0.01 and abs(same.mean() - 0.1) < 0.01
    assert (labels[chosen] == ids[chosen]).all() and (inputs[~chosen] == ids[~chosen]).all()
    assert (inputs[chosen][randomised] >= 5).all()                             # replacements are never special ids


def test_split_codes_thresholds():
    draws = np.array([0.0, 0.79, 0.8, 0.89, 0.9, 0.95, 0.999])
    np.testing.assert_array_equal(split_codes(draws), [0, 0, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(split_codes(draws, 0.85, 0.0), [0, 0, 0, 2, 2, 2, 2])       # ELECTRA: no random
