"""The disk budget for custom Hub checkpoints: what visitors' model ids bring into the Hugging Face cache is bounded.

A public Space downloads every new custom id a visitor types; the models in memory are bounded (loading.ModelCache),
and this bounds the disk: a checkpoint larger than the budget is refused before any byte is written (its size read
from the Hub's file metadata first), the least recently used custom checkpoints are deleted from the cache to make
room, and one id downloads once however many requests ask for it at the same time. Only checkpoints this budget
downloaded are ever deleted (its ledger, `explorer-custom-usage.json` in the cache, lists them): never a default
checkpoint, a bundled one or anything else in the cache.

    >>> budget = DiskBudget(Path("~/.cache/huggingface/hub").expanduser(), 4 * 1024 ** 3)   # doctest: +SKIP
    >>> budget.fetch("org/name", size_of=hub_download_size, download=lambda: snapshot_download("org/name"))
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

LEDGER = "explorer-custom-usage.json"


class OverBudget(Exception):
    """The checkpoint is larger than the whole disk budget; the message is written for the user."""


def repo_folder(cache_dir: Path, repo_id: str) -> Path:
    """Where huggingface_hub keeps a model repository in its cache (models--org--name)."""
    return cache_dir / ("models--" + repo_id.replace("/", "--"))


def size_on_disk(folder: Path) -> int:
    """Bytes of the regular files under `folder` (the cache's snapshots are symlinks to its blobs: counted once)."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


class DiskBudget:
    """At most `budget` bytes of custom checkpoints in `cache_dir`, least recently used deleted first."""

    def __init__(self, cache_dir: Path, budget: int, protected: Callable[[str], bool] = lambda repo_id: False):
        self.cache_dir, self.budget, self.protected = Path(cache_dir), int(budget), protected
        self._lock = threading.Lock()                 # guards the ledger and the table of per-id locks
        self._id_locks: dict[str, threading.Lock] = {}

    # ---------------------------------------------------------------------------------------------- the ledger
    def _ledger(self) -> dict[str, float]:
        try:
            return json.loads((self.cache_dir / LEDGER).read_text())
        except (OSError, ValueError):
            return {}

    def _write_ledger(self, ledger: dict[str, float]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        aside = self.cache_dir / (LEDGER + ".tmp")
        aside.write_text(json.dumps(ledger, indent=0))
        aside.replace(self.cache_dir / LEDGER)

    def used(self) -> int:
        """Bytes the custom checkpoints of the ledger take on disk now."""
        return sum(size_on_disk(repo_folder(self.cache_dir, repo_id)) for repo_id in self._ledger())

    def touch(self, repo_id: str) -> None:
        """Mark a custom checkpoint as used now (a load from the cache counts as a use)."""
        with self._lock:
            ledger = self._ledger()
            if repo_id in ledger:
                ledger[repo_id] = time.time()
                self._write_ledger(ledger)

    def _make_room(self, needed: int, keep: str) -> list[str]:
        """Delete the least recently used custom checkpoints (never `keep`, never a protected one) until `needed`
        more bytes fit in the budget; the ids deleted."""
        with self._lock:
            ledger = self._ledger()
            sizes = {r: size_on_disk(repo_folder(self.cache_dir, r)) for r in ledger}
            evicted = []
            for repo_id in sorted(ledger, key=ledger.get):
                if sum(sizes.values()) + needed <= self.budget:
                    break
                if repo_id == keep or self.protected(repo_id):
                    continue
                shutil.rmtree(repo_folder(self.cache_dir, repo_id), ignore_errors=True)
                sizes.pop(repo_id)
                ledger.pop(repo_id)
                evicted.append(repo_id)
            self._write_ledger(ledger)
            return evicted

    # ---------------------------------------------------------------------------------------------- fetching
    def _id_lock(self, repo_id: str) -> threading.Lock:
        with self._lock:
            return self._id_locks.setdefault(repo_id, threading.Lock())

    def fetch(self, repo_id: str, size_of: Callable[[str], int], download: Callable[[], object]):
        """download() a custom checkpoint within the budget; what download() returns (None when it was on disk
        already: nothing is downloaded again). One download per id at a time: a second request for the same id waits
        for the first and then finds it on disk. Raises OverBudget, before any byte is written, when the checkpoint
        alone is larger than the budget."""
        if self.protected(repo_id):
            return download()
        with self._id_lock(repo_id):
            if repo_id in self._ledger() and size_on_disk(repo_folder(self.cache_dir, repo_id)) > 0:
                self.touch(repo_id)            # downloaded whole before (the ledger is written after a download)
                return None
            needed = int(size_of(repo_id))
            if needed > self.budget:
                raise OverBudget(f"'{repo_id}' is {needed / 1e9:.2f} GB, larger than this server's disk budget "
                                 f"for custom models ({self.budget / 1e9:.2f} GB): pick a smaller checkpoint.")
            self._make_room(needed, keep=repo_id)
            result = download()
            with self._lock:
                ledger = self._ledger()
                ledger[repo_id] = time.time()
                self._write_ledger(ledger)
            self._make_room(0, keep=repo_id)   # the real size may differ from the metadata's
            return result


HUB_FILES = ("*.json", "*.txt", "*.model", "*.safetensors")  # what loading downloads: configs, tokenizers, weights


def hub_download_size(repo_id: str) -> int:
    """Bytes of the top-level files loading would download (PyTorch .bin weights only where there are no
    safetensors), from the Hub's file metadata: nothing is downloaded."""
    from fnmatch import fnmatch

    from huggingface_hub import HfApi
    info = HfApi().model_info(repo_id, files_metadata=True)
    files = [(s.rfilename, s.size or 0) for s in info.siblings or [] if "/" not in s.rfilename]
    wanted = [size for name, size in files if any(fnmatch(name, pattern) for pattern in HUB_FILES)]
    if not any(name.endswith(".safetensors") for name, _ in files):
        wanted += [size for name, size in files if fnmatch(name, "pytorch_model*.bin")]
    return sum(wanted)
