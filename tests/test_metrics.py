"""model_zoo.metrics.roc_auc, the one ROC AUC (ELECTRA's view and the mini zoo's evaluation both use it): known
rankings, the pairwise definition, sklearn's roc_auc_score with ties, one class only, and the pretraining wrapper.
model_zoo.metrics.wilson_interval (the spread the cards and the lab quote next to an accuracy on a few hundred pairs):
scipy's Wilson interval, the textbook value, the ends of [0, 1], and coverage by simulation."""
import numpy as np
import pytest

from model_zoo.metrics import midranks, roc_auc, wilson_interval


def test_auc_of_known_rankings():
    assert roc_auc(labels=[1, 1, 0, 0], scores=[0.9, 0.8, 0.3, 0.1]) == 1.0      # perfect ranking
    assert roc_auc(labels=[0, 0, 1, 1], scores=[0.9, 0.8, 0.3, 0.1]) == 0.0      # reversed
    assert roc_auc(labels=[1, 0, 1, 0], scores=[0.9, 0.8, 0.7, 0.1]) == 0.75     # 3 of 4 positive/negative pairs right
    assert roc_auc(labels=[1, 0], scores=[0.5, 0.5]) == 0.5                      # a tie counts one half
    assert roc_auc(labels=[1, 0, 0], scores=[0.4, 0.4, 0.1]) == 0.75             # (0.5 + 1) / 2


@pytest.mark.parametrize("labels", [[1, 1], [0, 0], [True], [], [0.0, 0.0, 0.0]])
def test_one_class_only_is_undefined(labels):
    assert roc_auc(labels=labels, scores=np.linspace(0, 1, len(labels))) is None


def test_arguments_are_keyword_only_and_shapes_must_agree():
    with pytest.raises(TypeError):
        roc_auc([0.9, 0.1], [1, 0])                                   # the two old orders were swapped: no positional
    with pytest.raises(ValueError, match="scores"):
        roc_auc(scores=[0.9, 0.1, 0.3], labels=[1, 0])


def test_auc_agrees_with_the_pairwise_definition():
    rng = np.random.default_rng(0)
    labels = rng.random(40) < 0.3
    scores = np.round(rng.random(40), 1)  # rounded: plenty of ties
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p in scores[labels] for n in scores[~labels]]
    assert roc_auc(labels=labels, scores=scores) == pytest.approx(np.mean(pairs))


@pytest.mark.parametrize("decimals", [None, 2, 1, 0])   # None: continuous scores; 0: nearly every score tied
@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_sklearn_with_and_without_ties(seed, decimals):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 2000))
    labels = rng.random(n) < rng.uniform(0.05, 0.95)
    labels[:2] = [True, False]                                        # both classes present
    scores = rng.normal(size=n).astype(np.float32) + 0.5 * labels     # float32, as the discriminator's logits are
    if decimals is not None:
        scores = np.round(scores, decimals)
    assert roc_auc(scores=scores, labels=labels) == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)


def test_midranks_share_the_mean_rank_of_ties():
    np.testing.assert_array_equal(midranks([0.3, 0.1, 0.3, 0.2, 0.3]), [4, 1, 4, 2, 4])   # ranks 3, 4, 5 -> 4 each


def test_there_is_one_roc_auc():
    """The pretraining code has no second ROC AUC (it used to take (scores, labels) where model_zoo took the reverse)."""
    evaluate = pytest.importorskip("pretrain.evaluate")
    assert not hasattr(evaluate, "roc_auc")


@pytest.mark.parametrize("k,n", [(84, 144), (72, 144), (0, 10), (10, 10), (307, 400), (1, 3)])
def test_wilson_interval_equals_scipys(k, n):
    stats = pytest.importorskip("scipy.stats")
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k / n, n)
    assert (low, high) == pytest.approx((reference.low, reference.high), abs=2e-4)  # z = 1.96 vs the exact quantile


def test_wilson_interval_textbook_value_and_ends():
    assert wilson_interval(0.5, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)   # Agresti & Coull (1998)
    low, high = wilson_interval(0.0, 10)
    assert low == 0.0 and 0.27 < high < 0.28                                       # not a point at 0
    low, high = wilson_interval(1.0, 10)
    assert high == 1.0 and 0.72 < low < 0.73
    assert wilson_interval(0.583, 1440)[1] - wilson_interval(0.583, 1440)[0] < \
        (wilson_interval(0.583, 144)[1] - wilson_interval(0.583, 144)[0]) / 3      # ten times the items: ~1/sqrt(10)
    with pytest.raises(ValueError):
        wilson_interval(0.5, 0)
    with pytest.raises(ValueError):
        wilson_interval(1.2, 10)


def test_wilson_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    n, truth = 144, 0.6
    hits = [low <= truth <= high for low, high in
            (wilson_interval(k / n, n) for k in rng.binomial(n, truth, size=4000))]
    assert 0.93 < np.mean(hits) < 0.97


def test_auc_interval_resamples_whole_sentences_and_holds_the_figure():
    """roc_auc_interval: a bootstrap over groups (the sentences the tokens are in), deterministic by seed."""
    from model_zoo.metrics import roc_auc_interval
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), 12)                       # 60 sentences of 12 tokens
    labels = rng.random(groups.size) < 0.15
    scores = labels * 1.0 + rng.normal(0, 1, groups.size)       # a detector with some skill
    point = roc_auc(scores=scores, labels=labels)
    low, high = roc_auc_interval(scores=scores, labels=labels, groups=groups)
    assert low < point < high and 0.5 < low and high < 1.0
    assert (low, high) == roc_auc_interval(scores=scores, labels=labels, groups=groups)          # same seed, same
    perfect = roc_auc_interval(scores=labels * 1.0, labels=labels, groups=groups)
    assert perfect == (1.0, 1.0)                                # every resample separates perfectly
    assert roc_auc_interval(scores=scores, labels=np.zeros_like(labels), groups=groups) is None   # undefined AUC
    # groups are resampled whole: 60 sentences whose 12 tokens are copies of one token say no more than 60 tokens do;
    # treated as 720 independent tokens the interval would be about sqrt(12) = 3.5 times narrower
    base_labels = np.arange(60) % 4 == 0
    base_scores = base_labels * 1.0 + rng.normal(0, 1, 60)
    copies_labels, copies_scores = np.repeat(base_labels, 12), np.repeat(base_scores, 12)
    by_sentence = roc_auc_interval(scores=copies_scores, labels=copies_labels, groups=groups)
    by_token = roc_auc_interval(scores=copies_scores, labels=copies_labels, groups=np.arange(groups.size))
    assert by_sentence[1] - by_sentence[0] > 2.5 * (by_token[1] - by_token[0])
