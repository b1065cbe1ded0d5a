"""Two-dimensional maps of vectors (UMAP, or PCA as option and fallback), cosine neighbours, and CSV export.

UMAP (umap-learn) compiles with numba on its first fit (~10 s): numba needs a writable cache folder, which this module
sets (NUMBA_CACHE_DIR, unless already set) before umap is ever imported, and `warm_up()` fits a tiny map once so that
the app can pay that cost in a background thread after start-up. Where UMAP cannot serve (fewer than 5 points, or umap
not importable) PCA answers instead and the reason says why. Neighbours are always found in the ORIGINAL space.

    >>> found = project(vectors, method="umap", seed=0)        # doctest: +SKIP
    >>> found.coords.shape, found.method, found.reason         # ((N, 2), 'UMAP', '')
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_zoo import csv_export

log = logging.getLogger("explorer")

METHODS = ("umap", "pca")
MIN_UMAP_POINTS = 5        # below this UMAP's spectral layout breaks: PCA answers
MAX_POINTS = 5_000         # above this the points are subsampled (seeded) before projecting
UMAP_NEIGHBOURS = 15
UMAP_EPOCHS = 200          # umap-learn's own choice for large data; its 500 for small data costs 2.5x for little gain
_warm = threading.Event()  # set once a UMAP fit has completed in this process


@dataclass(frozen=True)
class Projection:
    coords: np.ndarray     # (n, 2) float32, one row per kept point
    indices: np.ndarray    # (n,) int: the rows of the input that were kept (all of them unless subsampled)
    method: str            # what actually ran: "UMAP" | "PCA"
    requested: str         # what was asked: "umap" | "pca"
    reason: str            # why the method differs from the request ("" when it does not)
    message: str           # a note for the user about subsampling ("" when none)
    seed: int
    seconds: float

    def __len__(self) -> int:
        return len(self.coords)


def _use_numba_cache() -> None:
    """Give numba a cache folder before umap (and numba) are first imported, unless one is set: its compiled code is
    then kept across processes."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        cache_dir = Path(tempfile.gettempdir()) / "explorer-numba-cache"
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(cache_dir)


def umap_available() -> bool:
    _use_numba_cache()
    try:
        import umap  # noqa: F401  (importable is all we ask)
        return True
    except Exception:
        return False


def pca(vectors: np.ndarray, n_components: int = 2, seed: int = 0) -> np.ndarray:
    """Principal components, each axis's sign fixed (largest loading positive). (N, D) -> (N, n_components)

    A full SVD of 1,000 x 768 costs ~12 GFLOP; only the top components are needed, so above a small size they come
    from a seeded randomized range finder with power iterations (Halko et al., 2011), exact to float precision here.
    """
    x = np.asarray(vectors, dtype=np.float64)
    out = np.zeros((len(x), n_components), dtype=np.float32)
    if len(x) < 2:
        return out
    x = x - x.mean(axis=0, keepdims=True)                          # (N, D)
    rank = min(x.shape)
    if rank <= 4 * (n_components + 10):
        u, s, vt = np.linalg.svd(x, full_matrices=False)            # u (N, r), s (r,), vt (r, D)
    else:
        width = n_components + 10
        y = x @ np.random.default_rng(seed).normal(size=(x.shape[1], width))  # (N, width)
        for _ in range(6):                                            # power iterations sharpen the top of the spectrum
            q, _ = np.linalg.qr(y)                                    # (N, width)
            y = x @ (x.T @ q)                                         # (N, width)
        q, _ = np.linalg.qr(y)                                        # (N, width)
        ub, s, vt = np.linalg.svd(q.T @ x, full_matrices=False)      # ub (width, width), vt (width, D)
        u = q @ ub                                                    # (N, width)
    k = min(n_components, len(s))
    signs = np.sign(vt[np.arange(k), np.abs(vt[:k]).argmax(axis=1)])  # (k,)
    signs[signs == 0] = 1
    out[:, :k] = (u[:, :k] * s[:k] * signs).astype(np.float32)    # (N, k)
    return out


def _umap(vectors: np.ndarray, seed: int) -> np.ndarray:
    _use_numba_cache()
    import umap
    n = len(vectors)
    reducer = umap.UMAP(n_components=2, n_neighbors=max(2, min(UMAP_NEIGHBOURS, n - 1)), metric="cosine",
                        random_state=int(seed), init="spectral" if n > 10 else "random", n_jobs=1,
                        n_epochs=UMAP_EPOCHS)
    coords = reducer.fit_transform(np.asarray(vectors, dtype=np.float32))  # (N, 2)
    _warm.set()
    return np.asarray(coords, dtype=np.float32)


def subsample(n: int, max_points: int, seed: int) -> tuple[np.ndarray, str]:
    """Indices to keep (sorted) and a message, when n exceeds the bound."""
    if n <= max_points:
        return np.arange(n), ""
    kept = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    return kept, f"{n:,} points are more than the bound of {max_points:,}: a random {max_points:,} (seed {seed}) " \
                 f"are drawn."


def project(vectors: np.ndarray, method: str = "umap", seed: int = 0, max_points: int = MAX_POINTS) -> Projection:
    """Project (N, D) vectors to 2-D with a fixed seed; PCA where UMAP cannot serve, saying why."""
    method = (method or "umap").lower()
    if method not in METHODS:
        raise ValueError(f"Unknown projection {method!r}: choose UMAP or PCA.")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) == 0:
        raise ValueError(f"Nothing to project: expected (points, dims) vectors, got shape {vectors.shape}.")
    if not 0 <= int(seed) < 2 ** 32:
        raise ValueError(f"The seed must be a whole number from 0 to {2 ** 32 - 1:,}; got {seed}.")
    started = time.perf_counter()
    indices, message = subsample(len(vectors), max_points, seed)
    kept = vectors[indices]
    reason = ""
    if method == "umap" and len(kept) < MIN_UMAP_POINTS:
        reason = f"UMAP needs at least {MIN_UMAP_POINTS} points and there are {len(kept)}: PCA is shown instead."
    elif method == "umap" and not umap_available():
        reason = "umap-learn cannot be imported here: PCA is shown instead."
    if method == "umap" and not reason:
        coords, used = _umap(kept, seed), "UMAP"
    else:
        coords, used = pca(kept, seed=seed), "PCA"
    return Projection(coords=coords, indices=indices, method=used, requested=method, reason=reason,
                      message=message, seed=int(seed), seconds=time.perf_counter() - started)


def cosine_neighbours(vectors: np.ndarray, query: np.ndarray, k: int = 5,
                      exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest to `query` by cosine similarity in the original space: (indices (k,), similarities (k,))."""
    x = np.asarray(vectors, dtype=np.float64)                                  # (N, D)
    q = np.asarray(query, dtype=np.float64).reshape(-1)                        # (D,)
    norms = np.linalg.norm(x, axis=1) * np.linalg.norm(q)                      # (N,)
    similarity = np.divide(x @ q, norms, out=np.zeros(len(x)), where=norms > 0)  # (N,)
    candidates = np.ones(len(x), dtype=bool)
    if exclude is not None and len(exclude):
        candidates[np.asarray(exclude, dtype=np.int64)] = False
    order = np.flatnonzero(candidates)[np.argsort(-similarity[candidates], kind="stable")][:k]
    return order, similarity[order].astype(np.float32)


def to_csv(header: list[str], rows: list[list]) -> str:
    """CSV text (header + rows); floats written exactly, formula-like text defused (model_zoo.csv_export)."""
    return csv_export.to_csv(header, rows)


def write_csv(header: list[str], rows: list[list], folder: str | None = None, name: str = "embedding_map.csv") -> str:
    """Write the CSV into a fresh temporary folder (or `folder`) and return its path."""
    return str(csv_export.write_csv(Path(folder or tempfile.mkdtemp(prefix="explorer-embeddings-")) / name, header,
                                    rows))


def warm_up() -> float:
    """Fit a tiny UMAP once so numba compiles now (meant for a background thread); returns seconds, -1 on failure."""
    started = time.perf_counter()
    try:
        rng = np.random.default_rng(0)
        _umap(rng.normal(size=(40, 8)).astype(np.float32), seed=0)
    except Exception:  # never let the warm-up take the app down; the first user pays the cost instead
        log.exception("UMAP warm-up failed")
        return -1.0
    seconds = time.perf_counter() - started
    log.info("UMAP warmed up in %.1f s", seconds)
    return seconds


def is_warm() -> bool:
    return _warm.is_set()
