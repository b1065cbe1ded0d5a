"""Fine-tuning lab: the user's labelled examples, and the two ways the tutorial uses an encoder for a task, measured on
the same split: feature extraction (frozen encoder, pooled features, scikit-learn logistic regression) and fine-tuning
(the encoder, all layers or the top N, plus a classification head), next to the tutorial's bug (the same model with an
untrained head: chance level).

Data flows one way: text or CSV -> `Dataset` (validated; every refusal is a `DataError` written for the user) ->
`Split` (held out, or k-fold for tiny sets) -> `run_steps` per model (yields `Progress`: stage, losses, results so
far) -> `ModelRun` (a `MethodResult` per method, and `Predictor`s for new text). Nothing here is global: the caller
keeps the predictors (the app: in the user's own gr.State) and drops them to free them.

    >>> data = parse_tsv(example_text("sentiment"))                                  # doctest: +SKIP
    >>> split = make_split(data)                                                     # 160 train / 40 test
    >>> result = run("minilm-l6", data, split, [FEATURES, UNTRAINED], pooling=MEAN)  # doctest: +SKIP
    >>> [round(r.accuracy, 2) for r in result.results]                               # [0.4, 0.97]: bug, features
    >>> result.predictors[0].predict("What a lovely day").label                      # 'positive'
"""
from __future__ import annotations

import copy
import csv
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from model_zoo import config_fields, loading
from model_zoo.registry import Capability, task_class
from model_zoo.text import POOLINGS as POOLING_LABELS

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "assets" / "finetune"
EXAMPLES = {  # name -> (file, one line for the picker)
    "sentiment": ("sentiment.tsv", "200 short sentences, positive or negative"),
    "topic": ("topic.tsv", "200 short sentences about sport, food, technology or weather"),
}
MAX_EXAMPLES = 1_000        # examples used per run (more are sampled down, with a note): training stays near a minute
MAX_INPUT_CHARS = 2_000_000  # the pasted text or uploaded file, before parsing
MAX_CLASSES = 20
MAX_LABEL_CHARS = 60
MIN_PER_CLASS = 4
MAX_LENGTH = 64             # tokens per example (longer texts are cut; a note says how many)
HOLDOUT_MIN = 10            # every class at least this many examples -> a held-out split, else k-fold
TEST_FRACTION = 0.2

FEATURES = "feature extraction"
FINE_TUNING = "fine-tuning"
UNTRAINED = "untrained head (the tutorial's bug)"
METHODS = (FEATURES, FINE_TUNING, UNTRAINED)
CLS, MEAN = "cls", "mean"  # text.POOLINGS's keys: the classification token, the mean of the tokens
POOLINGS = (CLS, MEAN)


class DataError(ValueError):
    """The examples cannot be used; the message is written for the user (and quotes their text literally)."""


# ---------------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Dataset:
    texts: tuple[str, ...]
    labels: np.ndarray                 # (N,) int64, index into classes
    classes: tuple[str, ...]           # label names in order of first appearance
    notes: tuple[str, ...] = ()        # what was skipped or sampled, for the user

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(self.classes)).tolist()


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _build(pairs: list[tuple[str, str]], notes: list[str], what: str) -> Dataset:
    """Validate (text, label) pairs and make the Dataset; sample down to MAX_EXAMPLES."""
    if not pairs:
        raise DataError(f"No examples {what}: write one example per line as text<TAB>label, upload a CSV with "
                        f"'text' and 'label' columns, or pick an example set.")
    for index, (_, label) in enumerate(pairs):
        if len(label) > MAX_LABEL_CHARS:
            raise DataError(f"Example {index + 1}'s label is {len(label)} characters long (at most {MAX_LABEL_CHARS}):"
                            f" is it written text<TAB>label? It starts '{_short(label)}'.")
    if len(pairs) > MAX_EXAMPLES:
        keep = np.sort(np.random.default_rng(0).choice(len(pairs), MAX_EXAMPLES, replace=False))
        notes.append(f"{len(pairs):,} examples given; {MAX_EXAMPLES:,} of them are used (a random sample, the same "
                     f"each time), so that training stays near a minute.")
        pairs = [pairs[i] for i in keep]
    classes = tuple(dict.fromkeys(label for _, label in pairs))
    if len(classes) < 2:
        raise DataError(f"Every example has the label '{classes[0]}': a classifier needs at least two labels.")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{len(classes)} different labels (at most {MAX_CLASSES}): is each line written "
                        f"text<TAB>label, with the label last?")
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[label] for _, label in pairs], dtype=np.int64)
    counts = np.bincount(labels, minlength=len(classes))
    few = [f"'{c}' ({n})" for c, n in zip(classes, counts) if n < MIN_PER_CLASS]
    if few:
        raise DataError(f"Each label needs at least {MIN_PER_CLASS} examples (to train and to test on); too few: "
                        + ", ".join(few) + ".")
    return Dataset(tuple(t for t, _ in pairs), labels, classes, tuple(notes))


def parse_tsv(text: str) -> Dataset:
    """One example per line, `text<TAB>label` (the label after the last tab). Empty lines are skipped with a note.

    >>> parse_tsv("good\\tpos\\n\\nbad\\tneg\\n" * 4).counts()
    [4, 4]
    """
    if len(text or "") > MAX_INPUT_CHARS:
        raise DataError(f"The examples are {len(text):,} characters long (at most {MAX_INPUT_CHARS:,}).")
    pairs, empty, no_tab, no_text = [], 0, [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            empty += 1
            continue
        if "\t" not in line:
            no_tab.append(number)
            continue
        body, label = line.rsplit("\t", 1)
        body, label = body.strip(), label.strip()
        if not body or not label:
            no_text.append(number)
            continue
        pairs.append((body, label))
    if no_tab:
        shown = ", ".join(map(str, no_tab[:5])) + (f" and {len(no_tab) - 5} more" if len(no_tab) > 5 else "")
        raise DataError(f"Line{'s' if len(no_tab) > 1 else ''} {shown}: no tab. Write each example as "
                        f"text<TAB>label (a tab, not spaces, before the label).")
    if no_text:
        shown = ", ".join(map(str, no_text[:5])) + (f" and {len(no_text) - 5} more" if len(no_text) > 5 else "")
        raise DataError(f"Line{'s' if len(no_text) > 1 else ''} {shown}: the text or the label is empty.")
    notes = [f"{empty} empty line{'s' if empty > 1 else ''} skipped."] if empty else []
    return _build(pairs, notes, "in the box")


TEXT_COLUMNS = ("text", "sentence", "review", "content")
LABEL_COLUMNS = ("label", "labels", "class", "category", "sentiment", "topic")


def parse_csv(raw: bytes, name: str = "the file") -> Dataset:
    """A CSV (or TSV) file with a header naming a text column and a label column (case-insensitive)."""
    if len(raw) > MAX_INPUT_CHARS:
        raise DataError(f"'{name}' is {len(raw):,} bytes (at most {MAX_INPUT_CHARS:,}).")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"'{name}' is not a CSV file: it is not UTF-8 text.") from None
    if "\x00" in content:
        raise DataError(f"'{name}' is not a CSV file: it holds binary data.")
    if not content.strip():
        raise DataError(f"'{name}' is empty.")
    first = content.splitlines()[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(content), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise DataError(f"'{name}' is not a readable CSV file ({error}).") from None
    header = [h.strip().lower() for h in rows[0]]
    text_col = next((header.index(c) for c in TEXT_COLUMNS if c in header), None)
    label_col = next((header.index(c) for c in LABEL_COLUMNS if c in header), None)
    columns = ", ".join(f"'{_short(h, 30)}'" for h in rows[0][:8]) or "none"
    if text_col is None:
        raise DataError(f"'{name}' has no text column (its columns: {columns}). Name one column 'text' and one "
                        f"'label' in the first row.")
    if label_col is None:
        raise DataError(f"'{name}' has no label column (its columns: {columns}). Name one column 'text' and one "
                        f"'label' in the first row.")
    pairs, skipped = [], 0
    for row in rows[1:]:
        text = " ".join(row[text_col].split()) if len(row) > text_col else ""
        label = " ".join(row[label_col].split()) if len(row) > label_col else ""
        if text and label:
            pairs.append((text, label))
        else:
            skipped += 1
    notes = [f"{skipped} row{'s' if skipped > 1 else ''} without text or label skipped."] if skipped else []
    return _build(pairs, notes, f"in '{name}'")


def to_tsv(data: Dataset) -> str:
    """The dataset as the box's text<TAB>label lines (tabs and newlines inside a text become spaces)."""
    return "\n".join(f"{' '.join(t.split())}\t{data.classes[y]}" for t, y in zip(data.texts, data.labels))


def example_text(name: str) -> str:
    if name not in EXAMPLES:
        raise DataError(f"No example set named '{name}': pick one of {', '.join(EXAMPLES)}.")
    return (EXAMPLE_DIR / EXAMPLES[name][0]).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------- split
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


# ---------------------------------------------------------------------------------------------------- results
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


@dataclass(frozen=True)
class Prediction:
    spec: str
    method: str
    label: str
    classes: tuple[str, ...]
    probabilities: np.ndarray             # (K,) float, in the order of classes
    tokens: list[str]                     # readable pieces, special tokens included
    importance: np.ndarray                # (T,) float in [-1, 1]: gradient x input, toward the predicted label
    importance_method: str = "gradient × input (summed over the embedding; + pushes toward the predicted label)"


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


# ---------------------------------------------------------------------------------------------------- model pieces
def _encode(tokenizer, texts, device):
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items() if k in tokenizer.model_input_names}


def _pool(hidden, batch, pooling: str, cls_id):
    """(B, T, H) -> (B, H): the classification token (where the tokenizer puts it: first for most, last for XLNet's
    <cls>; position 0 when it has none) or the mean over real tokens."""
    import torch
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)                     # (B, T, 1)
    if pooling == MEAN:
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    positions = torch.zeros(hidden.shape[0], dtype=torch.long, device=hidden.device)   # (B,)
    if cls_id is not None:
        is_cls = batch["input_ids"] == cls_id                                            # (B, T)
        positions = torch.where(is_cls.any(1), is_cls.int().argmax(1), positions)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), positions]


def _cls_id(tokenizer):
    return getattr(tokenizer, "cls_token_id", None)


def _readable(tokenizer, ids) -> list[str]:
    from model_zoo.tokenization import readable_token
    return [readable_token(tokenizer, t) for t in tokenizer.convert_ids_to_tokens(ids)]


def features(loaded: loading.LoadedModel, texts, pooling: str, batch_size: int = 32,
             should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """(N, H) float32 pooled last-layer features of the frozen encoder."""
    import torch
    encoder = loaded.model.base_model
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            if should_stop and should_stop():
                raise Cancelled()
            batch = _encode(loaded.tokenizer, texts[start:start + batch_size], loaded.device)
            hidden = encoder(**batch).last_hidden_state                                 # (B, T, H)
            out.append(_pool(hidden.float(), batch, pooling, _cls_id(loaded.tokenizer)).cpu().numpy())
    return np.concatenate(out)


class Cancelled(Exception):
    pass


def _layers(model):
    """The encoder's stack of layers (an nn.ModuleList with one module per layer), or None when its layers share
    weights (ALBERT: one group used num_hidden_layers times)."""
    import torch
    n = config_fields.field(model.config, "layers")
    for module in model.base_model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n:
            return module
    return None


def classifier(loaded: loading.LoadedModel, classes: tuple[str, ...], seed: int = 0):
    """A fresh <Family>ForSequenceClassification on the device, fp32: the loaded encoder's weights (copied, the cached
    model is untouched) and a new, random head. Returns (model, names of weights not in the checkpoint)."""
    import torch
    import transformers
    config = copy.deepcopy(loaded.config)
    config.num_labels = len(classes)
    config.id2label = dict(enumerate(classes))
    config.label2id = {c: i for i, c in enumerate(classes)}
    config.problem_type = "single_label_classification"
    try:
        cls = getattr(transformers, task_class(loaded.checkpoint.family, Capability.SEQUENCE_CLASSIFICATION))
    except KeyError:
        raise loading.UnsupportedModel(f"'{loaded.checkpoint.key}' has no sequence-classification class in this "
                                       f"app, so it cannot be fine-tuned here (feature extraction works).") from None
    with loading.CONSTRUCTION_LOCK, torch.random.fork_rng(devices=[]):   # a seeded head; the global RNG untouched
        torch.manual_seed(seed)
        model = cls(config)
    model = model.float()
    missing, _ = model.base_model.load_state_dict(loaded.model.base_model.state_dict(), strict=False)
    return model.to(loaded.device).eval(), list(missing)


def _predict_logits(model, tokenizer, texts, device, batch_size: int = 32) -> np.ndarray:
    import torch
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = _encode(tokenizer, texts[start:start + batch_size], device)
            out.append(model(**batch).logits.float().cpu().numpy())
    return np.concatenate(out)


def choose_trainable(model, layers: int | None) -> str:
    """Freeze what is not trained: layers None = everything; N = the head (and pooler) plus the top N layers; 0 = the
    head only. Returns a note when the choice could not be honoured."""
    for p in model.parameters():
        p.requires_grad = layers is None
    if layers is None:
        return ""
    base = {id(p) for p in model.base_model.parameters()}
    for name, p in model.named_parameters():
        if id(p) not in base or ".pooler." in f".{name}":
            p.requires_grad = True                     # the head (and a pooler feeding it) always trains
    stack = _layers(model)
    if stack is None:
        if layers:
            for p in model.base_model.parameters():
                p.requires_grad = True
            return "its layers share one set of weights, so 'top N' cannot be separated: all layers were trained"
        return ""
    for layer in list(stack)[len(stack) - min(layers, len(stack)):] if layers else []:
        for p in layer.parameters():
            p.requires_grad = True
    return ""


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3
    layers: int | None = None     # None: all; N: the top N (0: the head only)
    learning_rate: float = 1e-4   # the encoder's; the new head learns 10x faster
    batch_size: int = 16
    seed: int = 0


def train_steps(model, tokenizer, texts, labels, config: TrainConfig, device,
                should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[int, int, float]]:
    """Train `model` in place (AdamW, linear warm-up then decay); yields (step, total steps, loss) after each step.
    Stops early (without raising) when should_stop() turns true."""
    import torch
    base = {id(p) for p in model.base_model.parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if id(p) in base], "lr": config.learning_rate},
              {"params": [p for p in trainable if id(p) not in base], "lr": config.learning_rate * 10}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)
    per_epoch = math.ceil(len(texts) / config.batch_size)
    total = per_epoch * config.epochs
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    generator = torch.Generator().manual_seed(config.seed)
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    model.train()
    step = 0
    # Dropout draws from torch's global generator: seeded here for a repeatable run, restored afterwards (another
    # thread's draws in between make a run under load only nearly repeatable).
    rng = torch.random.fork_rng(devices=[])
    rng.__enter__()
    torch.manual_seed(config.seed)
    try:
        for _ in range(config.epochs):
            order = torch.randperm(len(texts), generator=generator).tolist()
            for start in range(0, len(order), config.batch_size):
                if should_stop and should_stop():
                    return
                chosen = order[start:start + config.batch_size]
                batch = _encode(tokenizer, [texts[i] for i in chosen], device)
                loss = model(**batch, labels=labels_t[chosen].to(device)).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                schedule.step()
                step += 1
                yield step, total, float(loss.detach())
    finally:
        rng.__exit__(None, None, None)
        model.eval()
        for p in model.parameters():
            p.requires_grad = False


# ---------------------------------------------------------------------------------------------------- predictors
class Predictor:
    """A trained model for new text: `predict(text)` -> Prediction, with gradient x input token importances."""

    def __init__(self, spec: str, method: str, classes: tuple[str, ...], tokenizer, encoder, head, pooling: str = "",
                 owns_encoder: bool = False):
        self.spec, self.method, self.classes = spec, method, classes
        self.tokenizer, self.encoder, self.head, self.pooling = tokenizer, encoder, head, pooling
        self.owns_encoder = owns_encoder   # a fine-tuned copy (counted against the session's bounds), not the cache's

    def n_bytes(self) -> int:
        if not self.owns_encoder:
            return 0
        return sum(p.numel() * p.element_size() for p in self.encoder.parameters())

    def free(self) -> None:
        self.encoder = self.head = None

    def _logits(self, embeds, batch):
        """(1, K) logits from input embeddings (so their gradient can be taken)."""
        inputs = {k: v for k, v in batch.items() if k != "input_ids"}
        if self.head is None:                                           # a fine-tuned classifier: end to end
            return self.encoder(inputs_embeds=embeds, **inputs).logits.float()
        hidden = self.encoder.base_model(inputs_embeds=embeds, **inputs).last_hidden_state.float()
        pooled = _pool(hidden, batch, self.pooling, _cls_id(self.tokenizer))        # (1, H)
        mean, scale, weight, bias = self.head
        return ((pooled - mean) / scale) @ weight.T + bias                              # (1, K)

    def predict(self, text: str) -> Prediction:
        import torch
        if self.encoder is None:
            raise DataError("This model was freed; train again.")
        device = self.encoder.device
        batch = _encode(self.tokenizer, [text], device)
        embeddings = self.encoder.get_input_embeddings()
        with torch.enable_grad():
            embeds = embeddings(batch["input_ids"]).detach().float().requires_grad_(True)   # (1, T, E)
            embeds_in = embeds.to(embeddings.weight.dtype)
            logits = self._logits(embeds_in, batch)                                            # (1, K)
            probs = torch.softmax(logits, -1)[0]
            best = int(probs.argmax())
            (grad,) = torch.autograd.grad(torch.log(probs[best]), embeds)
        importance = (grad * embeds).sum(-1)[0].detach().cpu().numpy()                         # (T,)
        peak = float(np.abs(importance).max()) or 1.0
        return Prediction(self.spec, self.method, self.classes[best], self.classes, probs.detach().cpu().numpy().astype(float),
                          _readable(self.tokenizer, batch["input_ids"][0].tolist()), importance / peak)


def _linear_head(scaler, regression, device):
    """StandardScaler + LogisticRegression as torch tensors (mean, scale, weight (K, H), bias (K,))."""
    import torch
    weight, bias = regression.coef_, regression.intercept_
    if weight.shape[0] == 1:                           # binary: sklearn keeps one row; softmax over [-z/2, z/2]
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return tuple(torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)
                 for a in (scaler.mean_, scaler.scale_, weight, bias))


# ---------------------------------------------------------------------------------------------------- running
def _count(model, trainable_only: bool) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


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

    def fraction(part: float) -> float:
        return min(1.0, (done + part) / sum(share.values()))

    encoder_total = sum(p.numel() for p in loaded.model.base_model.parameters())
    if UNTRAINED in methods:
        yield Progress(spec, f"{spec}: {UNTRAINED}…", fraction(0), list(losses), list(results))
        started = time.perf_counter()
        truth, predicted = [], []
        for fold, (train, test) in enumerate(split.folds):
            model, _ = classifier(loaded, data.classes, seed=split.seed + fold)
            logits = _predict_logits(model, loaded.tokenizer, [texts[i] for i in test], loaded.device)
            truth.append(labels[test])
            predicted.append(logits.argmax(1))
            total = _count(model, trainable_only=False)
            del model
        acc, f1, cm = _metrics(k, np.concatenate(truth), np.concatenate(predicted))
        results.append(MethodResult(spec, UNTRAINED, acc, f1, cm, time.perf_counter() - started, 0, total,
                                    note=f"chance is {1 / k:.0%} (or the largest label's share)"))
        done += share[UNTRAINED]
    if FEATURES in methods:
        yield Progress(spec, f"{spec}: feature extraction ({POOLING_LABELS[pooling]} pooling)…", fraction(0), list(losses),
                       list(results))
        started = time.perf_counter()
        try:
            feats = features(loaded, list(texts), pooling, should_stop=stop)        # (N, H): one pass for all folds
            truth, predicted = [], []
            for train, test in split.folds:
                scaler = StandardScaler().fit(feats[train])
                regression = LogisticRegression(max_iter=2000, C=0.5).fit(scaler.transform(feats[train]),
                                                                           labels[train])
                truth.append(labels[test])
                predicted.append(regression.predict(scaler.transform(feats[test])))
            acc, f1, cm = _metrics(k, np.concatenate(truth), np.concatenate(predicted))
            params = int(regression.coef_.size + regression.intercept_.size)
            results.append(MethodResult(spec, FEATURES, acc, f1, cm, time.perf_counter() - started, params,
                                        encoder_total + params,
                                        note=f"{POOLING_LABELS[pooling]} pooling, {feats.shape[1]} features, "
                                             f"logistic regression"))
            if keep:
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
        truth, predicted, model, note, cancelled = [], [], None, "", False
        for fold, (train, test) in enumerate(split.folds):
            model, missing = classifier(loaded, data.classes, seed=split.seed + fold)
            note = choose_trainable(model, config.layers)
            trained, total = _count(model, trainable_only=True), _count(model, trainable_only=False)
            where = f" (fold {fold + 1} of {len(split.folds)})" if len(split.folds) > 1 else ""
            steps = train_steps(model, loaded.tokenizer, [texts[i] for i in train], labels[train], config,
                                loaded.device, stop)
            for step, n_steps, loss in steps:
                losses.append(loss)
                part = share[FINE_TUNING] * (fold + step / n_steps) / len(split.folds)
                yield Progress(spec, f"{spec}: fine-tuning{where}, step {step} of {n_steps}, loss {loss:.3f}",
                               fraction(part), list(losses), list(results))
            if stop():
                cancelled = True
                break
            logits = _predict_logits(model, loaded.tokenizer, [texts[i] for i in test], loaded.device)
            truth.append(labels[test])
            predicted.append(logits.argmax(1))
        layers = "all layers" if config.layers is None else ("the head only" if config.layers == 0
                                                               else f"the top {config.layers} layers")
        notes = [f"{config.epochs} epochs, {layers}, lr {config.learning_rate:g}"] + ([note] if note else [])
        if cancelled:
            results.append(MethodResult(spec, FINE_TUNING, seconds=time.perf_counter() - started,
                                        losses=tuple(losses), cancelled=True, note="cancelled; " + notes[0]))
        else:
            acc, f1, cm = _metrics(k, np.concatenate(truth), np.concatenate(predicted))
            results.append(MethodResult(spec, FINE_TUNING, acc, f1, cm, time.perf_counter() - started, trained,
                                        total, tuple(losses), "; ".join(notes)))
            if keep:
                predictors.append(Predictor(spec, FINE_TUNING, data.classes, loaded.tokenizer, model, None,
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
