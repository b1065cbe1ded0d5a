"""Word-labelled sentences for the layer probes: one format for every source, the readers of users' files, and the
bundled sets (the grammar's, model_zoo.grammar; the natural sentences written for this project, assets/layers/).

A `Sentence` holds its words, where each stands in its text (character spans), and any number of label columns
(a label of None: the word takes no part in that task). Readers:

- CoNLL-U (read with the `conllu` package after a line-by-line check, so that a bad line is named): columns upos,
  xpos, deprel, depth (from the head column: the root's depth is 0) and one per morphological feature (feat:Number);
- `word<TAB>label` lines, a blank line between sentences.

    >>> data = read_text("The\\tDET\\ndog\\tNOUN\\nbarks\\tVERB\\n", "mine.tsv")
    >>> data.sentences[0].text, data.columns
    ('The dog barks', ('label',))
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from model_zoo.tokenization import InputError

LAYERS_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "layers"
MAX_BYTES = 2_000_000     # an uploaded file larger than this is refused before it is read
MAX_LINES = 60_000
MAX_SENTENCES = 2_000     # each sentence costs a forward pass per model
MAX_WORD_CHARS = 100
CONLLU_COLUMNS = 10
_ID = re.compile(r"^(\d+)$|^(\d+)-(\d+)$|^(\d+)\.(\d+)$")  # a word, a multiword token's range, an empty node


@dataclass(frozen=True)
class Sentence:
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]       # (W,) character span of each word in `text`
    text: str
    labels: dict                             # column -> (W,) tuple of str or None

    def __hash__(self) -> int:
        return hash((self.text, self.words))


@dataclass(frozen=True)
class Dataset:
    name: str
    sentences: tuple[Sentence, ...]
    columns: tuple[str, ...]                 # label columns a probe can learn
    digest: str                              # sha256 of words and labels: the word-vector cache's key

    def n_words(self, column: str | None = None) -> int:
        return sum(sum(label is not None for label in s.labels[column]) if column else len(s.words)
                   for s in self.sentences)


def sentence(words: list[str], space_after: list[bool], labels: dict) -> Sentence:
    """A Sentence from its words (each followed by a space or not) and its label columns."""
    text, spans = "", []
    for word, space in zip(words, space_after):
        spans.append((len(text), len(text) + len(word)))
        text += word + (" " if space else "")
    return Sentence(tuple(words), tuple(spans), text.rstrip(" "), {k: tuple(v) for k, v in labels.items()})


def dataset(name: str, sentences: list[Sentence]) -> Dataset:
    if not sentences:
        raise InputError(f"'{name}' holds no sentences.")
    if len(sentences) > MAX_SENTENCES:
        raise InputError(f"'{name}' holds {len(sentences):,} sentences; the limit is {MAX_SENTENCES:,}.")
    columns = tuple(dict.fromkeys(c for s in sentences for c in s.labels))
    for s in sentences:  # a column some sentences lack (a feature): None there
        for column in columns:
            s.labels.setdefault(column, (None,) * len(s.words))
    digest = hashlib.sha256(repr([(s.words, s.text, sorted(s.labels.items())) for s in sentences]).encode()).hexdigest()
    return Dataset(name, tuple(sentences), columns, digest)


# ---------------------------------------------------------------------------------------------------- checks
def _check_size(raw: str | bytes, name: str) -> str:
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_BYTES:
        raise InputError(f"'{name}' is {size:,} bytes; the limit is {MAX_BYTES:,}.")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(f"'{name}' is not UTF-8 text (byte {error.start:,}).") from None
    if raw.count("\n") + 1 > MAX_LINES:
        raise InputError(f"'{name}' has {raw.count(chr(10)) + 1:,} lines; the limit is {MAX_LINES:,}.")
    if not raw.strip():
        raise InputError(f"'{name}' is empty.")
    return raw


def _word(form: str, number: int, name: str) -> str:
    if not form.strip() or any(c.isspace() for c in form):
        raise InputError(f"'{name}', line {number}: the word must be one non-empty token without spaces.")
    if len(form) > MAX_WORD_CHARS:
        raise InputError(f"'{name}', line {number}: a word of {len(form):,} characters (the limit is "
                         f"{MAX_WORD_CHARS}).")
    return form


def _check_conllu_lines(text: str, name: str) -> None:
    """Every token line has 10 tab-separated columns and a valid id, ids run 1, 2, 3... in each sentence, and a head
    is a word of its sentence; a bad line raises InputError naming it."""
    expected, n_words, heads = 1, 0, []

    def close() -> None:
        for number, head in heads:
            if head > n_words:
                raise InputError(f"'{name}', line {number}: head {head} is not a word of this sentence "
                                 f"(it has {n_words}).")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            close()
            expected, n_words, heads = 1, 0, []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != CONLLU_COLUMNS:
            raise InputError(f"'{name}', line {number}: {len(fields)} tab-separated columns; CoNLL-U has "
                             f"{CONLLU_COLUMNS} (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC).")
        match = _ID.match(fields[0])
        if not match:
            raise InputError(f"'{name}', line {number}: '{fields[0][:20]}' is not a word id (1, 2, ... or 1-2 "
                             f"or 1.1).")
        if match.group(1):
            if int(match.group(1)) != expected:
                raise InputError(f"'{name}', line {number}: word id {match.group(1)} where {expected} was "
                                 f"expected.")
            _word(fields[1], number, name)
            if fields[6] != "_":
                if not fields[6].isdigit():
                    raise InputError(f"'{name}', line {number}: head '{fields[6][:20]}' is not a number.")
                heads.append((number, int(fields[6])))
            expected, n_words = expected + 1, n_words + 1
    close()


# ---------------------------------------------------------------------------------------------------- readers
def _depths(heads: list[int | None]) -> list[str | None]:
    """Each word's depth in the dependency tree (root 0), None where a head is missing or a cycle is met."""
    found: list[str | None] = []
    for i in range(len(heads)):
        depth, at, seen = 0, i, set()
        while heads[at] not in (0, None) and at not in seen:
            seen.add(at)
            at, depth = heads[at] - 1, depth + 1
        found.append(str(depth) if heads[at] == 0 and at not in seen else None)
    return found


def read_conllu(text: str, name: str = "upload.conllu") -> Dataset:
    import conllu
    _check_conllu_lines(text, name)
    sentences = []
    for parsed in conllu.parse(text):
        tokens = [t for t in parsed if isinstance(t["id"], int)]
        if not tokens:
            continue
        feats = sorted({k for t in tokens for k in (t["feats"] or {})})
        labels = {"upos": [t["upos"] if t["upos"] not in (None, "_") else None for t in tokens],
                  "xpos": [t["xpos"] for t in tokens],
                  "deprel": [t["deprel"] for t in tokens],
                  "depth": _depths([t["head"] for t in tokens])}
        labels.update({f"feat:{k}": [(t["feats"] or {}).get(k) for t in tokens] for k in feats})
        space = [(t["misc"] or {}).get("SpaceAfter") != "No" for t in tokens]
        sentences.append(sentence([t["form"] for t in tokens], space, labels))
    data = dataset(name, sentences)
    useful = tuple(c for c in data.columns if any(v is not None for s in data.sentences for v in s.labels[c]))
    return Dataset(data.name, data.sentences, useful, data.digest)


def read_tsv(text: str, name: str = "upload.tsv") -> Dataset:
    sentences, words, labels = [], [], []
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if words:
                sentences.append(sentence(words, [True] * len(words), {"label": labels}))
            words, labels = [], []
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise InputError(f"'{name}', line {number}: {len(fields)} tab-separated columns; each line must be "
                             f"word<TAB>label (a blank line between sentences).")
        words.append(_word(fields[0], number, name))
        labels.append(fields[1].strip() or None)
    return dataset(name, sentences)


def is_conllu(text: str) -> bool:
    """CoNLL-U when a token line has more than two tab-separated columns."""
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    return first.count("\t") > 1


def read_text(raw: str | bytes, name: str = "upload") -> Dataset:
    """A user's labelled file, CoNLL-U or word<TAB>label, read and checked; InputError naming the line otherwise."""
    text = _check_size(raw, name)
    return read_conllu(text, name) if name.endswith(".conllu") or is_conllu(text) else read_tsv(text, name)


def read_file(path: str | Path) -> Dataset:
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"'{path.name}' is {path.stat().st_size:,} bytes; the limit is {MAX_BYTES:,}.")
    return read_text(path.read_bytes(), path.name)


# ---------------------------------------------------------------------------------------------------- bundled
def lexicon() -> dict[str, set[str]]:
    """assets/layers/lexicon.txt: each line `TAG: word word ...`; a word may be listed under several tags."""
    allowed: dict[str, set[str]] = {}
    for line in (LAYERS_ASSETS / "lexicon.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            tag, _, listed = line.partition(":")
            for word in listed.split():
                allowed.setdefault(word, set()).add(tag.strip())
    return allowed


@lru_cache(maxsize=1)
def natural() -> Dataset:
    """The natural sentences written for this project (assets/layers/natural.txt): `text<TAB>UPOS tags`, the words
    being text.words of the text."""
    from model_zoo.text import words
    sentences = []
    for number, line in enumerate((LAYERS_ASSETS / "natural.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        text, _, tags = line.partition("\t")
        found, tags = words(text), tags.split()
        if len(found) != len(tags):
            raise ValueError(f"natural.txt line {number}: {len(found)} words, {len(tags)} tags")
        sentences.append(Sentence(tuple(w.text for w in found), tuple((w.start, w.end) for w in found), text,
                                  {"upos": tuple(tags)}))
    return dataset("natural", sentences)


def bundled(name: str) -> Dataset:
    """'grammar' (generated, every label known by construction) or 'natural' (written here, part of speech)."""
    if name == "grammar":
        from model_zoo import grammar
        return grammar.dataset()
    if name == "natural":
        return natural()
    raise InputError(f"Unknown data set {name!r}: choose grammar, natural or upload a file.")
