"""The small pretraining corpus the tests build: tests/fixtures/corpus/ (written by its make.py) holds each source in
its own format, read by the real readers of pretrain.corpus."""
from __future__ import annotations

from pathlib import Path

FIXTURE_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "corpus"
FIXTURE_SOURCES = ("wordnet", "bible", "gnome-help", "debian-handbook", "python-docs", "fortunes", "chitchat")


def build(folder: Path) -> dict:
    """Build the fixture corpus into `folder` (train.jsonl, heldout.jsonl, stats.json); its stats."""
    from pretrain import corpus
    folders = {name: FIXTURE_CORPUS / name for name in FIXTURE_SOURCES}
    return corpus.build(folder, sources=FIXTURE_SOURCES, folders=folders, sample=None)
