"""Metrics shared by the app and the pretraining scripts, each once (numpy only, no torch, no gradio): ROC AUC, and
the intervals that say how far a figure measured on a few hundred items can be trusted: the binomial (Wilson)
interval of an accuracy, and a bootstrap interval (of a ROC AUC, an agreement) whose tokens come in sentences.

ELECTRA's view (model_zoo.electra) scores one user's sentence with it; pretrain scores the mini
discriminator on thousands of tokens with it. Keyword-only arguments, since the two used to take them in opposite
orders.

    >>> roc_auc(scores=[0.9, 0.8, 0.7, 0.1], labels=[1, 0, 1, 0])      # 3 of the 4 positive/negative pairs right
    0.75
    >>> roc_auc(scores=[0.2, 0.9], labels=[1, 1]) is None              # one class only: undefined
    True
    >>> [round(x, 3) for x in wilson_interval(0.583, 144)]              # mini-BERT's NSP on 144 story pairs
    [0.501, 0.66]
"""
from __future__ import annotations

import numpy as np


def midranks(values) -> np.ndarray:
    """1-based ranks of `values` in ascending order, tied values sharing the mean of their ranks. (N,) float64.

    Every rank is an exact half-integer, so sums of them are exact in float64 (below 2**52)."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")                            # (N,)
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])       # (G,) first index of each run of ties
    stops = np.r_[starts[1:], len(values)] - 1                              # (G,) last index of each run
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + stops) / 2 + 1, stops - starts + 1)
    return ranks


def roc_auc(*, scores, labels) -> float | None:
    """Area under the ROC curve = P(a random positive scores above a random negative), ties counting one half.

    Computed from midranks (Mann-Whitney U), so it equals sklearn.metrics.roc_auc_score. `labels` are truthy for the
    positive class. None unless both classes are present (the AUC is undefined with one class)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores)
    if labels.shape != scores.shape:
        raise ValueError(f"{scores.shape} scores for {labels.shape} labels")
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return None
    u = midranks(scores)[labels].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for z = 1.96) of a proportion `accuracy` measured on `n` independent items.

    Read it as how far the figure could move on another set of the same size: on 144 pairs, 58.3% is anywhere from
    50% to 66%. Wilson rather than p +- z * sqrt(p(1-p)/n), which leaves [0, 1] and collapses to a point at 0 or 1."""
    if n <= 0:
        raise ValueError(f"an interval needs at least one item, not {n}")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"a proportion lies in [0, 1], not {accuracy}")
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def bootstrap_interval(statistic, *, groups, resamples: int = 200, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float] | None:
    """A percentile bootstrap interval of `statistic(index)` (index: positions into the measured arrays), resampling
    whole `groups` (e.g. the sentence each token is in).

    The tokens of one sentence are not independent of each other (one sentence is easy, another hard), so the unit
    resampled is the group: `resamples` draws of as many groups as there are, with replacement, each group bringing
    all its positions. None when the statistic is undefined on the whole set."""
    groups = np.asarray(groups)
    if statistic(np.arange(len(groups))) is None:
        return None
    _, index = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(index == g) for g in range(index.max() + 1)]
    rng = np.random.default_rng(seed)
    values = [v for v in (statistic(np.concatenate([members[g] for g in rng.integers(len(members), size=len(members))]))
                          for _ in range(resamples)) if v is not None]
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def roc_auc_interval(*, scores, labels, groups, resamples: int = 200, seed: int = 0) -> tuple[float, float] | None:
    """bootstrap_interval of roc_auc over `groups`; None when the AUC itself is undefined."""
    scores, labels = np.asarray(scores), np.asarray(labels).astype(bool)
    return bootstrap_interval(lambda i: roc_auc(scores=scores[i], labels=labels[i]), groups=groups,
                              resamples=resamples, seed=seed)


def interval(m: dict, key: str, fmt: str, unit: str = "") -> str:
    """'95% interval 3.43-4.78x' from the recorded [low, high] at m[key] (the cards and the lab's table both say it)."""
    low, high = m[key]
    return f"95% interval {low:{fmt}}-{high:{fmt}}{unit}"


def pair_interval(m: dict) -> str:
    """'95% interval 50.1-66.0%' for an accuracy on m['pairs'] pairs: how far another set of that size could move it."""
    low, high = wilson_interval(m["accuracy"], m["pairs"])
    return f"95% interval {low:.1%}-{high:.1%}"
