"""Writing a file whole: the corpus, its tokenised caches and training checkpoints are read by other processes (two
trainings, the test suite's workers) while they may be written, so each is written beside its place and renamed onto it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path):
    """Yield a path beside `path` to write to; when the block ends it is renamed onto `path` (removed if the block
    fails). A reader sees the old file, the new one or none; never half of one."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield aside
        os.replace(aside, path)
    finally:
        aside.unlink(missing_ok=True)
