"""BERT's 15% / 80-10-10 rule and RoBERTa's dynamic masking, checked over many draws."""
import numpy as np

from model_zoo.masking import KEEP, MASK, RANDOM, bert_masking, dynamic_masking

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
