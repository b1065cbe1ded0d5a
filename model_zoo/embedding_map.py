"""The Embeddings tab's work, as plain data: for every model, load it, clamp the asked layer to what it has, extract
token or sentence vectors (model_zoo.embeddings) and project them (model_zoo.projection); then the CSV rows and each
model's nearest neighbours of one word or sentence. No gradio: progress is a plain `report(fraction, message)`.

    >>> maps = compute(["minilm-l6"], ["The bank by the river.", "A bank loan."], "tokens", -1, "mean", "pca", 0)
    >>> neighbour_rows(maps, sentence=0, word=1, k=3)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo import embeddings as emb
from model_zoo import loading, projection
from model_zoo.progress import Report, ignore

CSV_HEADER = ["model", "trained_weights", "level", "layer", "projection", "point", "x", "y", "sentence", "word_index",
              "token", "word", "sentence_text"]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class ModelMap:
    """One panel: the model's report, its vectors, their projection, and notes for the user."""
    report: loading.LoadReport
    found: emb.Embeddings
    projected: projection.Projection | None
    notes: tuple[str, ...]


def compute(specs: list[str], sentences: list[str], level: str, layer: int, pooling: str,
            method: str | None, seed: int, report: Report = ignore) -> list[ModelMap]:
    """Vectors (and, when `method` is given, their projection) for every model, in order. `layer` < 0: the last.
    `report(fraction, message)` (model_zoo.progress) hears what is happening."""
    for spec in specs:  # refuse a model that is not one before any work (resolving reads a config at most)
        loading.resolve(spec)
    maps = []
    for i, spec in enumerate(specs):
        report(i / len(specs), f"{spec}: loading (first use only) and running…")
        loaded = loading.load(spec)
        n_layers = emb.n_layers_of(loaded.config)
        notes = []
        chosen = None if layer is None or int(layer) < 0 else int(layer)
        if chosen is not None and chosen > n_layers:
            notes.append(f"layer {chosen} asked, but this model has {n_layers}: its last layer is shown.")
            chosen = n_layers
        found = emb.extract(loaded, sentences, level=level, layer=chosen, pooling=pooling)
        what = "embeddings layer" if found.layer == 0 else f"layer {found.layer} of {found.n_layers}"
        notes.insert(0, f"{len(found)} {level} · {what}" + (f" · {found.pooling} pooling" if found.pooling else ""))
        if found.truncated:
            notes.append("cut at the model's maximum length: sentence "
                         + ", ".join(str(s + 1) for s in found.truncated))
        projected = None
        if method:
            compiling = method == "umap" and not projection.is_warm()
            report((i + 0.6) / len(specs), f"{spec}: projecting {len(found)} points"
                                            f"{' (UMAP compiles on first use)' if compiling else ''}…")
            projected = projection.project(found.vectors, method=method, seed=seed)
            notes.append(f"{projected.method} in {projected.seconds:.1f} s (seed {projected.seed})")
            notes.extend(n for n in (projected.reason, projected.message) if n)
        maps.append(ModelMap(loaded.report, found, projected, tuple(notes)))
    return maps


def csv_rows(maps: list[ModelMap]) -> list[list]:
    rows = []
    for m in maps:
        found, proj = m.found, m.projected
        for point, i in enumerate(proj.indices):
            s = int(found.sentence_index[i])
            rows.append([found.checkpoint, m.report.trained, found.level, found.layer, proj.method, point,
                         float(proj.coords[point, 0]), float(proj.coords[point, 1]), s + 1, int(found.word_index[i]),
                         found.tokens[i], found.words[i], found.sentences[s]])
    return rows


def neighbour_rows(maps: list[ModelMap], sentence: int, word: int, k: int = 5) -> list[list]:
    """For each model, the k points nearest (cosine, original space) to one word occurrence or one sentence."""
    rows = []
    for m in maps:
        found = m.found
        if found.level == "sentences":
            own = np.flatnonzero(found.sentence_index == sentence)
            query = found.vectors[own[0]]
        else:
            own = found.rows_of_word(sentence, word)
            query = emb.word_vector(found, sentence, word)
        indices, similarity = projection.cosine_neighbours(found.vectors, query, k=k, exclude=own)
        label = found.checkpoint + ("" if m.report.trained else " (RANDOM weights)")
        typical = round(typical_cosine(found.vectors), 4)
        for rank, (i, sim) in enumerate(zip(indices, similarity), start=1):
            s = int(found.sentence_index[i])
            rows.append([label, rank, found.tokens[i] or "—", found.words[i] or "—",
                         f"#{s + 1} {_short(found.sentences[s], 80)}", round(float(sim), 4), typical])
    return rows


def typical_cosine(vectors: np.ndarray) -> float:
    """The median cosine between two different points of one model's space: what "alike" must beat there (some
    spaces are anisotropic: every pair of vectors sits at 0.6 or more)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)  # (N, D)
    pairs = unit @ unit.T                                                                # (N, N)
    return float(np.median(pairs[~np.eye(len(unit), dtype=bool)])) if len(unit) > 1 else float("nan")
