"""NSP/SOP pairs are drawn anew (issue #14: drawn once, they were memorised): per static-mask copy for BERT, per epoch
for ALBERT; the first draw is the old one, and a step's batch depends on the step alone (resuming stays exact)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("tokenizers")
pytestmark = pytest.mark.usefixtures("small_corpus")  # tests/fixtures/corpus, not .mini_work
from pretrain import data as D  # noqa: E402
from pretrain.nsp_sop import DUPE_FACTOR, MAX_TOKENS, AlbertObjective, BertObjective  # noqa: E402


@pytest.fixture(scope="module")
def bert():
    return BertObjective(0, "cpu")


def _same(p, q) -> float:
    return np.mean([len(a[0]) == len(b[0]) and a[2] == b[2] and np.array_equal(a[1], b[1]) for a, b in zip(p, q)])


def test_the_first_draw_is_the_original_one(bert):
    bert.batch(0)
    original = D.sentence_pairs(bert.data, MAX_TOKENS, 0, True)
    assert len(bert.pairs) == len(original) and _same(bert.pairs, original) == 1.0


def test_a_new_copy_regroups_the_pairs_and_a_batch_depends_on_its_step_alone(bert):
    first = list(bert.pairs)
    step = bert.epoch_len + bert.epoch_len // 2                # epoch 1: BERT's second static-mask copy
    walked = bert.batch(step)
    assert bert._drawn == 1 and _same(first, bert.pairs) < 0.3
    labels = np.array([label for _, _, label in bert.pairs])
    assert 0.4 < np.mean(labels[labels != D.NO_PAIR_LABEL]) < 0.6     # half the labelled pairs are negatives
    fresh = BertObjective(0, "cpu").batch(step)                # a resumed process: straight to that step
    for key in ("input_ids", "token_type_ids", "mlm_labels", "pair_labels"):
        assert torch.equal(walked[key], fresh[key]), key
    assert bert.batch(DUPE_FACTOR * bert.epoch_len + 1) is not None and bert._drawn == 0   # copies cycle, as BERT's


def test_albert_draws_new_pairs_every_epoch():
    albert = AlbertObjective(0, "cpu")
    albert.batch(0)
    first = list(albert.pairs)
    albert.batch(3 * albert.epoch_len)
    assert albert._drawn == 3 and _same(first, albert.pairs) < 0.3


def test_packed_objectives_mix_in_lone_sentences_padded_and_unlabelled_past_their_end():
    from pretrain.electra import ElectraObjective
    electra = ElectraObjective(0, "cpu")
    b = electra.batch(7)
    ids, labels, tok = b["original"].numpy(), b["labels"].numpy(), electra.tok
    n_short = electra.n_short
    assert n_short == round(electra.batch_size * electra.short_share) and 0 < n_short < len(ids) == electra.batch_size
    assert f"with {electra.short_share_words} of each batch lone sentences" in electra.card()["objective"]
    packed, short = ids[:-n_short], ids[-n_short:]
    assert (packed != tok.pad_token_id).all()                              # full rows, as before
    for row, lab in zip(short, labels[-n_short:]):
        n = int((row != tok.pad_token_id).sum())
        assert row[0] == tok.cls_token_id and row[n - 1] == tok.sep_token_id
        assert tok.sep_token_id not in row[1:n - 1]                        # one span of one document
        assert (row[n:] == tok.pad_token_id).all() and (lab[n:] == -100).all()   # padding is never a target
    assert b["n_tokens"] == int((ids != tok.pad_token_id).sum())           # tokens seen count real tokens only
    assert torch.equal(b["input_ids"], ElectraObjective(0, "cpu").batch(7)["input_ids"])   # a step alone fixes it
    electra.batch_size = 64                                                # a GPU run's override, set after init
    assert electra.n_short == round(64 * electra.short_share) and len(electra.batch(7)["input_ids"]) == 64
    # (the share follows it)
