"""Running the lab: every chosen method on one model, on one split, measured the same way (accuracy, macro-F1,
confusion over every fold's test examples), streamed as `Progress`, ending in a `ModelRun`."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from model_zoo import loading
from model_zoo.finetune.data import DataError, Dataset
from model_zoo.finetune.predict import Predictor, _linear_head
from model_zoo.finetune.split import Split
from model_zoo.finetune.train import (CLS, POOLINGS, Cancelled, TrainConfig, _count, _predict_logits, choose_trainable,
                                      classifier, features, train_steps)
from model_zoo.text import POOLINGS as POOLING_LABELS


FEATURES = "feature extraction"
FINE_TUNING = "fine-tuning"
UNTRAINED = "untrained head (the tutorial's bug)"
METHODS = (FEATURES, FINE_TUNING, UNTRAINED)


@dataclass(frozen=True)
class MethodResult:
    spec: str
    method: str
    accuracy: float = math.nan
    macro_f1: float = math.nan
    confusion: np.ndarray | None = None   # (K, K) int: rows true label, columns predicted
    seconds: float = 0.0
    params_trained: int = 0
    params_total: int = 0
    losses: tuple[float, ...] = ()         # fine-tuning: training loss per step (all folds, in order)
    note: str = ""
    cancelled: bool = False
    error: str = ""


@dataclass
class Progress:
    spec: str
    stage: str                            # what is happening, for the user
    fraction: float                       # of this model's work
    losses: list[float] = field(default_factory=list)   # fine-tuning so far
    results: list[MethodResult] = field(default_factory=list)
    run: "ModelRun | None" = None         # set on the last item


@dataclass
class ModelRun:
    spec: str
    weights: str                          # the LoadReport summary
    results: list[MethodResult]
    predictors: list["Predictor"]

    def n_bytes(self) -> int:
        return sum(p.n_bytes() for p in self.predictors)


def _metrics(classes: int, truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, np.ndarray]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    labels = list(range(classes))
    return (float(accuracy_score(truth, predicted)),
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
            confusion_matrix(truth, predicted, labels=labels))


def over_folds(split: Split, labels: np.ndarray, classes: int, predict_fold):
    """The one fold loop: `predict_fold(fold, train, test)`, a generator that may yield Progress and returns the
    predicted labels of `test` (None: cancelled), on every fold of the split; yields its Progress and returns
    (accuracy, macro-F1, confusion) over all folds' test examples, or None when a fold was cancelled."""
    truth, predicted = [], []
    for fold, (train, test) in enumerate(split.folds):
        found = yield from predict_fold(fold, train, test)
        if found is None:
            return None
        truth.append(labels[test])
        predicted.append(found)
    return _metrics(classes, np.concatenate(truth), np.concatenate(predicted))


def run_steps(spec: str, data: Dataset, split: Split, methods, pooling: str = CLS,
              config: TrainConfig = TrainConfig(), should_stop: Callable[[], bool] | None = None,
              keep: bool = True) -> Iterator[Progress]:
    """Every chosen method on one model, on the same split; yields Progress as it goes (a fine-tuning step at a time),
    the last one with `.run` set. Load errors raise loading.ModelError (the caller shows the message)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    stop = should_stop or (lambda: False)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise DataError(f"Pick at least one method among: {', '.join(METHODS)}.")
    if pooling not in POOLINGS:
        raise DataError(f"Pooling must be one of: {', '.join(POOLINGS)}.")
    yield Progress(spec, f"{spec}: loading (first use only)…", 0.0)
    loaded = loading.load(spec)
    texts, labels, k = data.texts, data.labels, len(data.classes)
    results: list[MethodResult] = []
    predictors: list[Predictor] = []
    losses: list[float] = []
    share = {m: w for m, w in zip(METHODS, (0.15, 0.8, 0.05)) if m in methods}
    done = 0.0
    last: dict = {}                                   # what the last fold left: its model, counts, notes

    def fraction(part: float) -> float:
        return min(1.0, (done + part) / sum(share.values()))

    def progress(stage: str, part: float = 0.0) -> Progress:
        return Progress(spec, f"{spec}: {stage}", fraction(part), list(losses), list(results))

    def untrained_fold(fold, train, test):
        model, _ = classifier(loaded, data.classes, seed=split.seed + fold)
        last["total"] = _count(model, trainable_only=False)
        yield from ()
        return _predict_logits(model, loaded.tokenizer, [texts[i] for i in test], loaded.device).argmax(1)

    def features_fold(fold, train, test):
        scaler = StandardScaler().fit(feats[train])
        regression = LogisticRegression(max_iter=2000, C=0.5).fit(scaler.transform(feats[train]), labels[train])
        last.update(scaler=scaler, regression=regression)
        yield from ()
        return regression.predict(scaler.transform(feats[test]))

    def fine_tuning_fold(fold, train, test):
        model, _ = classifier(loaded, data.classes, seed=split.seed + fold)
        last.update(model=model, note=choose_trainable(model, config.layers),
                    trained=_count(model, trainable_only=True), total=_count(model, trainable_only=False))
        where = f" (fold {fold + 1} of {len(split.folds)})" if len(split.folds) > 1 else ""
        for step, n_steps, loss in train_steps(model, loaded.tokenizer, [texts[i] for i in train], labels[train],
                                               config, loaded.device, stop):
            losses.append(loss)
            yield progress(f"fine-tuning{where}, step {step} of {n_steps}, loss {loss:.3f}",
                           share[FINE_TUNING] * (fold + step / n_steps) / len(split.folds))
        if stop():
            return None
        return _predict_logits(model, loaded.tokenizer, [texts[i] for i in test], loaded.device).argmax(1)

    encoder_total = sum(p.numel() for p in loaded.model.base_model.parameters())
    if UNTRAINED in methods:
        yield progress(f"{UNTRAINED}…")
        started = time.perf_counter()
        acc, f1, cm = yield from over_folds(split, labels, k, untrained_fold)
        results.append(MethodResult(spec, UNTRAINED, acc, f1, cm, time.perf_counter() - started, 0, last["total"],
                                    note=f"chance is {1 / k:.0%} (or the largest label's share)"))
        done += share[UNTRAINED]
    if FEATURES in methods:
        yield progress(f"feature extraction ({POOLING_LABELS[pooling]} pooling)…")
        started = time.perf_counter()
        try:
            feats = features(loaded, list(texts), pooling, should_stop=stop)        # (N, H): one pass for all folds
            acc, f1, cm = yield from over_folds(split, labels, k, features_fold)
            params = int(last["regression"].coef_.size + last["regression"].intercept_.size)
            results.append(MethodResult(spec, FEATURES, acc, f1, cm, time.perf_counter() - started, params,
                                        encoder_total + params, note=f"{POOLING_LABELS[pooling]} pooling, "
                                                                     f"{feats.shape[1]} features, logistic regression"))
            if keep:
                scaler, regression = last["scaler"], last["regression"]
                if split.kind == "k-fold":                     # Try it: the regression refitted on every example
                    scaler = StandardScaler().fit(feats)
                    regression = LogisticRegression(max_iter=2000, C=0.5).fit(scaler.transform(feats), labels)
                predictors.append(Predictor(spec, FEATURES, data.classes, loaded.tokenizer, loaded.model,
                                            _linear_head(scaler, regression, loaded.device), pooling))
        except Cancelled:
            results.append(MethodResult(spec, FEATURES, seconds=time.perf_counter() - started, cancelled=True,
                                        note="cancelled"))
        done += share[FEATURES]
    if FINE_TUNING in methods and not stop():
        started = time.perf_counter()
        measured = yield from over_folds(split, labels, k, fine_tuning_fold)
        layers = "all layers" if config.layers is None else ("the head only" if config.layers == 0
                                                               else f"the top {config.layers} layers")
        notes = [f"{config.epochs} epochs, {layers}, lr {config.learning_rate:g}"] + ([last["note"]] if last["note"]
                                                                                      else [])
        if measured is None:
            results.append(MethodResult(spec, FINE_TUNING, seconds=time.perf_counter() - started,
                                        losses=tuple(losses), cancelled=True, note="cancelled; " + notes[0]))
        else:
            acc, f1, cm = measured
            results.append(MethodResult(spec, FINE_TUNING, acc, f1, cm, time.perf_counter() - started,
                                        last["trained"], last["total"], tuple(losses), "; ".join(notes)))
            if keep:
                predictors.append(Predictor(spec, FINE_TUNING, data.classes, loaded.tokenizer, last["model"], None,
                                            owns_encoder=True))
        done += share[FINE_TUNING]
    elif FINE_TUNING in methods:
        results.append(MethodResult(spec, FINE_TUNING, cancelled=True, note="cancelled before it started"))
    run_ = ModelRun(spec, loaded.report.summary(), results, predictors)
    yield Progress(spec, f"{spec}: done", 1.0, list(losses), list(results), run_)


def run(spec: str, data: Dataset, split: Split, methods, pooling: str = CLS,
        config: TrainConfig = TrainConfig(), on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None, keep: bool = True) -> ModelRun:
    """`run_steps` to the end, calling on_progress(Progress) at each step (a loss curve, a progress bar)."""
    for progress in run_steps(spec, data, split, methods, pooling, config, should_stop, keep):
        if on_progress:
            on_progress(progress)
    return progress.run
