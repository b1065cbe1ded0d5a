"""The user's labelled examples for the fine-tune lab: pasted text<TAB>label lines, a CSV, or a bundled set, validated
into a `Dataset` (every refusal a `DataError` written for the user)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np


EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "assets" / "finetune"
EXAMPLES = {  # name -> (file, one line for the picker)
    "sentiment": ("sentiment.tsv", "200 short sentences, positive or negative"),
    "topic": ("topic.tsv", "200 short sentences about sport, food, technology or weather"),
}
MAX_EXAMPLES = 1_000        # examples used per run (more are sampled down, with a note): training stays near a minute
MAX_INPUT_CHARS = 2_000_000  # the pasted text or uploaded file, before parsing
MAX_CLASSES = 20
MAX_LABEL_CHARS = 60
MIN_PER_CLASS = 4


class DataError(ValueError):
    """The examples cannot be used; the message is written for the user (and quotes their text literally)."""


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
