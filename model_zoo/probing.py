"""What each layer knows: a linear probe per layer (embeddings included) on word vectors, against a majority baseline
and a control task, with each model's expected layer.

- Word vectors: one forward per batch of sentences with output_hidden_states; each tokenizer's pieces are placed under
  the data set's words by character offsets (text.place) and a word's vector is the mean of its pieces'. Computed
  once per (checkpoint, data set) and kept in a bounded LRU cache, so every task of a data set reuses them.
- Split: by sentence, seeded, the same for every model (it depends on the data set only).
- Probe: a linear classifier per layer on standardised vectors, least squares with an L2 penalty on one-hot labels
  (ridge; the same predictions as scikit-learn's RidgeClassifier), solved in closed form: the task's probe and its
  control's share one solve. Logistic regression ranks the layers alike and costs a hundred times more (an iterative
  fit per probe), too much for a view that probes seven models live; accuracy on the test words.
- Majority baseline: the most frequent training label, scored on the test words.
- Control task (Hewitt & Liang 2019): each word TYPE gets a fixed random label drawn from the task's label
  distribution; the same words, splits and probe. Selectivity = accuracy - control accuracy.
- Expected layer (Tenney et al. 2019, centre of gravity): sum over layers l >= 1 of l * delta(l), divided by the
  total gain, where delta(l) is the gain of the best accuracy up to layer l over the best up to l - 1 (Tenney's
  cumulative scoring: a probe that may read layers 0..l is at least as good as its best layer); NaN when the layers
  gain nothing over the embeddings.

    >>> for result in run(["minilm-l6"], labelled_data.bundled("grammar"), "upos"):     # doctest: +SKIP
    ...     print(result.key, result.probe.accuracy.round(2), result.probe.expected_layer)
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from model_zoo import loading
from model_zoo import text as text_layer
from model_zoo.facts import max_tokens
from model_zoo.labelled_data import Dataset
from model_zoo.progress import Report, ignore
from model_zoo.tokenization import InputError

TEST_SHARE = 0.25
SEED = 0
BATCH = 32
RIDGE = 10.0                # L2 penalty of the probe (on standardised vectors: in units of training words)
FLAT = 0.02                 # a curve whose layers gain less than this over the embeddings is called flat
MAX_CACHED = 24             # word-vector sets kept
MAX_CACHED_BYTES = 1_500_000_000


def never() -> bool:
    return False


# ---------------------------------------------------------------------------------------------------- word vectors
@dataclass(frozen=True)
class WordVectors:
    layers: np.ndarray          # (L+1, N, H) float32: every word of the data set, in order; layer 0 = embeddings
    has_pieces: np.ndarray      # (N,) bool: False where the model's tokens did not reach the word (cut off)
    seconds: float              # the forward passes that made them


def cache_key(loaded, data: Dataset) -> tuple:
    c = loaded.checkpoint
    return "word vectors", c.key, c.hub_id, c.model_class, data.digest


def _pooled(hidden, offsets, keep, sentence) -> tuple[np.ndarray, np.ndarray]:
    """(L+1, W, H) mean of each word's pieces, (W,) whether it has any. hidden: (L+1, T, H)."""
    found = [text_layer.Word(i, w, s, e, False) for i, (w, (s, e)) in enumerate(zip(sentence.words, sentence.spans))]
    under = text_layer.place(offsets.tolist(), keep.tolist(), sentence.text, found)   # (W,) piece positions
    pooled = np.zeros((hidden.shape[0], len(found), hidden.shape[2]), dtype=np.float32)  # (L+1, W, H)
    for w, positions in enumerate(under):
        if positions:
            pooled[:, w] = hidden[:, positions].mean(axis=1)
    return pooled, np.asarray([bool(p) for p in under])


def _compute(loaded, data: Dataset, report: Report) -> WordVectors:
    import torch
    tokenizer, base = loaded.tokenizer, loaded.model.base_model     # the encoder without its heads
    limit = max_tokens(loaded.config)
    started, layers, present = time.perf_counter(), [], []
    sentences = data.sentences
    for start in range(0, len(sentences), BATCH):
        batch = sentences[start:start + BATCH]
        encoding = tokenizer([s.text for s in batch], padding=True, truncation=True, max_length=limit,
                             return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets = encoding.pop("offset_mapping").numpy()                                  # (B, T, 2)
        keep = encoding["attention_mask"].numpy().astype(bool) & \
            ~encoding.pop("special_tokens_mask").numpy().astype(bool)                     # (B, T): the words' pieces
        with torch.inference_mode():
            output = base(**{k: v.to(loaded.device) for k, v in encoding.items()}, output_hidden_states=True)
        hidden = torch.stack(output.hidden_states).float().cpu().numpy()                 # (L+1, B, T, H)
        for b, sentence in enumerate(batch):
            pooled, has = _pooled(hidden[:, b], offsets[b], keep[b], sentence)
            layers.append(pooled)
            present.append(has)
        report(min(start + BATCH, len(sentences)) / len(sentences),
               f"{loaded.checkpoint.key}: word vectors, sentence {min(start + BATCH, len(sentences))} of "
               f"{len(sentences)}")
    return WordVectors(np.concatenate(layers, axis=1), np.concatenate(present), time.perf_counter() - started)


def word_vectors(loaded, data: Dataset, report: Report = ignore) -> WordVectors:
    """Every word's vector at every layer, kept in the runtime (loading.Runtime.derived) once computed for this model
    and data set."""
    key, state = cache_key(loaded, data), loading.runtime()
    with state.lock:
        if key in state.derived:
            state.derived.move_to_end(key)
            return state.derived[key]
    found = _compute(loaded, data, report)
    with state.lock:
        state.derived[key] = found
        kept = [k for k in state.derived if k[0] == "word vectors"]
        while len(kept) > 1 and (len(kept) > MAX_CACHED or
                                 sum(state.derived[k].layers.nbytes for k in kept) > MAX_CACHED_BYTES):
            del state.derived[kept.pop(0)]
    return found


# ---------------------------------------------------------------------------------------------------- the task
@dataclass(frozen=True)
class Task:
    column: str
    rows: np.ndarray            # (n,) int: which words of the data set (in its word order) take part
    labels: np.ndarray          # (n,) str
    control: np.ndarray         # (n,) str: the control task's label (one per word type)
    test: np.ndarray            # (n,) bool: the word's sentence is in the test share
    classes: tuple[str, ...]


def test_sentences(n_sentences: int, share: float = TEST_SHARE, seed: int = SEED) -> np.ndarray:
    """(S,) bool: the sentences held out for testing, the same for every model (at least one each way)."""
    rng = np.random.default_rng(seed)
    n_test = min(max(1, round(share * n_sentences)), n_sentences - 1)
    chosen = np.zeros(n_sentences, dtype=bool)
    chosen[rng.permutation(n_sentences)[:n_test]] = True
    return chosen


def control_labels(types: np.ndarray, labels: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Hewitt & Liang's control task: each word type one label drawn from the labels' empirical distribution."""
    rng = np.random.default_rng(seed + 1)
    classes, counts = np.unique(labels, return_counts=True)
    kinds = sorted(set(types.tolist()))
    drawn = dict(zip(kinds, rng.choice(classes, size=len(kinds), p=counts / counts.sum())))
    return np.asarray([drawn[t] for t in types], dtype=object)


def task(data: Dataset, column: str, seed: int = SEED) -> Task:
    if column not in data.columns:
        raise InputError(f"'{data.name}' has no column {column!r}: choose one of {', '.join(data.columns)}.")
    test_of = test_sentences(len(data.sentences), seed=seed)
    rows, labels, types, test, at = [], [], [], [], 0
    for s, sentence in enumerate(data.sentences):
        for w, label in enumerate(sentence.labels[column]):
            if label is not None:
                rows.append(at + w)
                labels.append(str(label))
                types.append(sentence.words[w].lower())
                test.append(test_of[s])
        at += len(sentence.words)
    labels_array = np.asarray(labels, dtype=object)
    if len(set(labels)) < 2:
        raise InputError(f"Column {column!r} of '{data.name}' has {len(set(labels))} label(s); a probe needs two.")
    test_array = np.asarray(test, dtype=bool)
    if test_array.all() or not test_array.any():
        raise InputError(f"'{data.name}' is too small to split into training and test sentences for {column!r}.")
    return Task(column, np.asarray(rows, dtype=np.int64), labels_array,
                control_labels(np.asarray(types, dtype=object), labels_array, seed), test_array,
                tuple(sorted(set(labels))))


# ---------------------------------------------------------------------------------------------------- probes
@dataclass(frozen=True)
class LayerProbe:
    accuracy: np.ndarray        # (L+1,) test accuracy of the probe at each layer (0 = embeddings)
    control: np.ndarray         # (L+1,) the same probe on the control task
    majority: float             # test accuracy of the most frequent training label
    n_train: int
    n_test: int
    seconds: float              # fitting the probes

    @property
    def selectivity(self) -> np.ndarray:
        return self.accuracy - self.control

    @property
    def expected_layer(self) -> float:
        return expected_layer(self.accuracy)

    @property
    def flat(self) -> bool:
        """The layers gain next to nothing over the embeddings."""
        return bool(np.nanmax(self.accuracy) - self.accuracy[0] < FLAT)


def expected_layer(scores: np.ndarray) -> float:
    """Tenney's centre of gravity over the cumulative best score b(l) = max(s(0..l)): sum_l l * (b(l) - b(l-1)) /
    (b(L) - b(0)); NaN without a gain."""
    gains = np.diff(np.maximum.accumulate(np.asarray(scores, dtype=np.float64)))          # (L,) >= 0
    total = gains.sum()
    if not np.isfinite(total) or total <= 1e-9:
        return float("nan")
    return float((np.arange(1, len(scores)) * gains).sum() / total)


def probe_accuracies(train_x: np.ndarray, test_x: np.ndarray, label_sets: list[tuple[np.ndarray, np.ndarray]],
                     ridge: float = RIDGE) -> list[float]:
    """Test accuracy of a ridge probe per (train labels, test labels) pair, all fitted in one solve on standardised
    train_x (n, H); predictions equal scikit-learn's RidgeClassifier(alpha=ridge) on the same inputs."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6                              # (H,)
    x, t = (train_x - mean) / std, (test_x - mean) / std                           # (n, H), (m, H)
    classes = [np.unique(train) for train, _ in label_sets]
    targets = np.concatenate([(train[:, None] == c[None]).astype(np.float64)      # (n, C1 + C2 + ...) one-hot
                              for (train, _), c in zip(label_sets, classes)], axis=1)
    offset = targets.mean(0)                                                       # the intercept: x is centred
    gram = x.T.astype(np.float64) @ x + ridge * np.eye(x.shape[1])                 # (H, H)
    weights = np.linalg.solve(gram, x.T.astype(np.float64) @ (targets - offset))  # (H, C1 + C2 + ...)
    scores = t @ weights + offset                                                  # (m, C1 + C2 + ...)
    accuracies, start = [], 0
    for (_, test), c in zip(label_sets, classes):
        predicted = c[np.argmax(scores[:, start:start + len(c)], axis=1)]
        accuracies.append(float(np.mean(predicted == test)))
        start += len(c)
    return accuracies


def probe_layers(vectors: np.ndarray, the_task: Task, seed: int = SEED, stop: Callable[[], bool] = never,
                 report: Report = ignore) -> LayerProbe | None:
    """Probe (and control probe) at every layer; vectors (L+1, n, H) are the task's words. None when stopped."""
    started, train, test = time.perf_counter(), ~the_task.test, the_task.test
    accuracy, control = [], []
    for layer, x in enumerate(vectors):                                  # x: (n, H)
        if stop():
            return None
        report(layer / len(vectors), f"probing layer {layer} of {len(vectors) - 1}")
        task_accuracy, control_accuracy = probe_accuracies(
            x[train], x[test], [(labels[train], labels[test]) for labels in (the_task.labels, the_task.control)])
        accuracy.append(task_accuracy)
        control.append(control_accuracy)
    values, counts = np.unique(the_task.labels[train], return_counts=True)
    majority = float(np.mean(the_task.labels[test] == values[np.argmax(counts)]))
    return LayerProbe(np.asarray(accuracy), np.asarray(control), majority, int(train.sum()), int(test.sum()),
                      time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelProbe:
    spec: str
    key: str
    weights: str                # which weights answered (loaded.report.weights)
    trained: bool
    probe: LayerProbe | None    # None: an error, or stopped
    error: str = ""
    seconds_forward: float = 0.0  # 0 when the word vectors came from the cache
    cached: bool = False


def probe_model(spec: str, data: Dataset, column: str, seed: int = SEED, stop: Callable[[], bool] = never,
                report: Report = ignore) -> ModelProbe:
    """One model: load, word vectors (cached), a probe per layer. A model that fails is a result with its error."""
    the_task = task(data, column, seed)
    try:
        loaded = loading.load(spec)
    except loading.ModelError as error:
        return ModelProbe(spec, spec, "", False, None, str(error).partition("\n")[0])
    cached = cache_key(loaded, data) in loading.runtime().derived
    found = word_vectors(loaded, data, lambda f, m: report(0.6 * f, m))
    keep = found.has_pieces[the_task.rows]                               # (n,) words the model's tokens reached
    the_task = Task(column, the_task.rows[keep], the_task.labels[keep], the_task.control[keep], the_task.test[keep],
                    the_task.classes)
    probe = probe_layers(found.layers[:, the_task.rows], the_task, seed, stop,
                         lambda f, m: report(0.6 + 0.4 * f, f"{loaded.checkpoint.key}: {m}"))
    return ModelProbe(spec, loaded.checkpoint.key, loaded.report.weights, loaded.report.trained, probe,
                      "" if probe else "stopped", 0.0 if cached else found.seconds, cached)


def run(specs: list[str], data: Dataset, column: str, seed: int = SEED, stop: Callable[[], bool] = never,
        report: Report = ignore) -> Iterator[ModelProbe]:
    """Each model's probes in turn (yielded as each ends); stops between layers when stop() says so."""
    task(data, column, seed)                                             # a bad column is refused before any load
    for index, spec in enumerate(specs):
        if stop():
            return
        yield probe_model(spec, data, column, seed, stop,
                          lambda f, m, i=index: report((i + f) / len(specs), m))


CSV_HEADER = ["model", "task", "layer", "accuracy", "control accuracy", "selectivity", "majority baseline",
              "expected layer", "train words", "test words", "weights"]


def table_rows(results: list[ModelProbe], column: str) -> list[list]:
    """One row per model and layer (the table and its CSV)."""
    rows = []
    for r in results:
        if r.probe is None:
            rows.append([r.key, column] + [None] * 8 + [r.weights or r.error])
            continue
        p = r.probe
        for layer in range(len(p.accuracy)):
            rows.append([r.key, column, layer, round(float(p.accuracy[layer]), 4),
                         round(float(p.control[layer]), 4), round(float(p.selectivity[layer]), 4),
                         round(p.majority, 4), round(p.expected_layer, 2), p.n_train, p.n_test, r.weights])
    return rows
