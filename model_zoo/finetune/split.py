"""One split of a dataset for every model and method: held out (stratified) when every label has enough examples,
else stratified k-fold, so that every example is tested once by a model that did not train on it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo.finetune.data import Dataset


HOLDOUT_MIN = 10            # every class at least this many examples -> a held-out split, else k-fold
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    kind: str                                          # "held-out" or "k-fold"
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]   # per fold: (train indices, test indices)
    seed: int = 0

    def describe(self, data: Dataset) -> str:
        if self.kind == "held-out":
            train, test = self.folds[0]
            return (f"Held-out split (stratified, seed {self.seed}): {len(train)} examples to train on, "
                    f"{len(test)} to test on, the same for every model and method.")
        return (f"{len(self.folds)}-fold cross-validation (stratified, seed {self.seed}; the set is small: some label "
                f"has fewer than {HOLDOUT_MIN} examples): every example is tested once, by a model that did not "
                f"train on it. The model kept for Try it is the last fold's.")

    def assignment(self, n: int) -> list[str]:
        """Per example: 'train' / 'test' (held out), or 'fold k' (the fold that tests it)."""
        where = [""] * n
        for k, (_, test) in enumerate(self.folds):
            for i in test:
                where[i] = "test" if self.kind == "held-out" else f"fold {k + 1}"
        return [w or "train" for w in where]


def make_split(data: Dataset, seed: int = 0) -> Split:
    """Held out (20%, stratified) when every label has HOLDOUT_MIN examples, else stratified k-fold (k <= 5)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split
    smallest = min(data.counts())
    indices = np.arange(len(data.texts))
    if smallest >= HOLDOUT_MIN:
        train, test = train_test_split(indices, test_size=TEST_FRACTION, stratify=data.labels, random_state=seed)
        return Split("held-out", ((np.sort(train), np.sort(test)),), seed)
    k = min(5, smallest)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(indices, data.labels)
    return Split("k-fold", tuple((np.sort(a), np.sort(b)) for a, b in folds), seed)
