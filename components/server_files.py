"""Files the server keeps for its users, bounded: the largest upload it accepts, the one folder every file it writes
for a user goes in, and the sweep that deletes uploaded and written files after a set age. The numbers live here.

A public Space runs for days and anyone may post to it: Gradio refuses an upload over MAX_UPLOAD_BYTES before writing
it (launch's max_file_size), and a daemon thread (start_sweeper, started by app.py) deletes every file older than
MAX_AGE_S from Gradio's upload folder and from EXPORT_ROOT, so repeated uploads and exports cannot fill the disk.

    >>> folder = new_folder("compare-")                 # doctest: +SKIP   (a fresh folder under EXPORT_ROOT)
    >>> sweep([EXPORT_ROOT], max_age_s=3600)             # doctest: +SKIP   -> files deleted
"""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from model_zoo.disk_budget import size_on_disk
from model_zoo.finetune import MAX_INPUT_CHARS

MAX_UPLOAD_BYTES = MAX_INPUT_CHARS + 1  # the largest file any handler reads (the fine-tune CSV), plus the byte that
#                                         lets it say "too long" itself; Gradio refuses anything larger unwritten
MAX_AGE_S = 60 * 60                     # uploaded and written files are deleted an hour after they were written
SWEEP_EVERY_S = 5 * 60
EXPORT_ROOT = Path(tempfile.gettempdir()) / "bert-family-explorer"   # every file the app writes for a user

log = logging.getLogger(__name__)


def new_folder(prefix: str) -> Path:
    """A fresh folder of its own under EXPORT_ROOT for one request's files (never another request's folder)."""
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=EXPORT_ROOT))


def upload_folder() -> Path:
    """Where Gradio writes uploads and the files it serves (its own rule: GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    from gradio.utils import get_upload_folder
    return Path(get_upload_folder())


def sweep(roots: list[Path], max_age_s: float = MAX_AGE_S, now: float | None = None) -> int:
    """Delete every file under `roots` last written more than max_age_s ago, then the folders left empty; the number
    of files deleted. The roots themselves stay."""
    now = time.time() if now is None else now
    deleted, emptied = 0, set()
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):   # children first
            try:
                if path.is_symlink() or path.is_file():
                    if now - path.lstat().st_mtime > max_age_s:
                        path.unlink()
                        deleted += 1
                        emptied.add(path.parent)
                elif path.is_dir() and not any(path.iterdir()) and (path in emptied
                                                                     or now - path.stat().st_mtime > max_age_s):
                    path.rmdir()   # a folder whose old files went, or an old empty one (never a request's new one)
                    emptied.add(path.parent)
            except OSError:   # taken by another sweep or request meanwhile
                continue
    return deleted


def folder_bytes(roots: list[Path]) -> int:
    """Bytes of the files under `roots` (the soak benchmark watches it)."""
    return sum(size_on_disk(root) for root in roots)


def start_sweeper(roots: list[Path] | None = None, every_s: float = SWEEP_EVERY_S,
                  max_age_s: float = MAX_AGE_S) -> threading.Event:
    """Sweep `roots` (default: Gradio's upload folder and EXPORT_ROOT) every `every_s` in a daemon thread; set the
    returned Event to stop it."""
    roots = roots or [upload_folder(), EXPORT_ROOT]
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                n = sweep(roots, max_age_s)
                if n:
                    log.info("swept %d files older than %.0f s", n, max_age_s)
            except Exception:   # a sweep must never take the server down
                log.exception("sweep failed")
    threading.Thread(target=loop, name="file-sweeper", daemon=True).start()
    return stop
