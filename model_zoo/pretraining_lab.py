"""The mini zoo's committed training records: loss curves per family and held-out quality against each bar.

Reads assets/mini/metrics/<family>.json (written by pretrain); no model is loaded.

    >>> curves = load_curves()            # doctest: +SKIP
    >>> curves[0].family, curves[0].series["mlm"][:3]
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_zoo.registry import FAMILIES
from model_zoo.metrics import interval, pair_interval

METRICS = Path(__file__).resolve().parent.parent / "assets" / "mini" / "metrics"
# The objective terms each family's curve records (the total "loss" is weighted differently per family).
OBJECTIVE_TERMS = {key: family.loss_terms for key, family in FAMILIES.items()}


@dataclass(frozen=True)
class Curve:
    family: str
    cpu_minutes: np.ndarray    # (N,) compute spent, single-threaded CPU minutes
    tokens: np.ndarray         # (N,) tokens seen
    series: dict               # term -> (N,) loss values
    finished: bool             # the run completed its schedule
    warm_start: str = ""       # where its weights started ("assets/mini/bert"), "" when from scratch
    warm_start_minutes: float = 0.0  # the source's CPU minutes when the weights it started from were shipped


@dataclass(frozen=True)
class QualityRow:
    family: str
    measure: str
    measured: str
    bar: str
    met: bool
    about: str = ""   # the evaluation set, as recorded


def load_curves(folder: Path = METRICS) -> list[Curve]:
    records = {family: json.loads((folder / f"{family}.json").read_text()) for family in OBJECTIVE_TERMS
               if (folder / f"{family}.json").exists()}
    points = {family: _effective(record.get("curve", [])) for family, record in records.items()}
    curves = []
    for family, record in records.items():
        terms, mine = OBJECTIVE_TERMS[family], points[family]
        source = Path(record.get("warm_start") or "").name  # the folder assets/mini/<family> it started from
        curves.append(Curve(family=family,
                            cpu_minutes=np.asarray([p["minutes"] for p in mine], dtype=float),
                            tokens=np.asarray([p["tokens"] for p in mine], dtype=float),
                            series={t: np.asarray([p.get(t, np.nan) for p in mine], dtype=float) for t in terms},
                            finished=bool(record.get("finished_schedule")),
                            warm_start=record.get("warm_start") or "",
                            warm_start_minutes=_minutes_when_shipped(records[source], points[source],
                                                                     record.get("warm_start_sha256"))
                            if source in records else 0.0))
    return curves


def _minutes_when_shipped(source: dict, points: list[dict], sha256: str | None) -> float:
    """The source run's CPU minutes (its effective curve `points`) when the weights with `sha256` were shipped: the
    step of the continuation that began from them (its history records their checksum), else (the source's current
    weights, or no record) its last minute."""
    if not points:
        return 0.0
    for event in source.get("history", []):
        if sha256 and sha256 in event.get("sha256", []):
            before = [p["minutes"] for p in points if p["step"] <= event["step"]]
            return float(before[-1]) if before else 0.0
    return float(points[-1]["minutes"])


def _effective(points: list[dict]) -> list[dict]:
    """The curve the weights actually followed. A resumed run restarts from its last checkpoint, so the points the
    first run logged after it are superseded (dropped); and where a resumed run restarted its CPU-minute counter
    (seen once in mini-bert's record), its minutes are shifted to continue from the point before."""
    kept: list[dict] = []
    offset = 0.0
    for raw in points:
        point = dict(raw)
        while kept and kept[-1]["step"] >= point["step"]:
            kept.pop()
        point["minutes"] = point["minutes"] + offset
        if kept and point["minutes"] < kept[-1]["minutes"]:
            shift = kept[-1]["minutes"] - point["minutes"]
            offset += shift
            point["minutes"] += shift
        kept.append(point)
    return kept


def _describe(name: str, value: dict) -> tuple[str, str] | None:
    if "ratio_to_baseline" in value:
        spread = (f" ({interval(value, 'ratio_interval', '.2f', 'x')})"
                  if value.get("ratio_interval") else "")
        return (f"top-1 {value['top1_accuracy']:.1%} = {value['ratio_to_baseline']:.2f}x the most-frequent-token "
                f"baseline{spread}", f">= {value['bar_ratio']:g}x")
    if "roc_auc" in value:
        spread = (f" ({interval(value, 'roc_auc_interval', '.3f')})"
                  if value.get("roc_auc_interval") else "")
        return f"ROC AUC {value['roc_auc']:.3f}{spread}", f">= {value.get('bar', 0.85)}"
    if "accuracy" in value and "bar" in value:
        spread = [pair_interval(value)] if value.get("pairs") else []
        notes = "; ".join(spread + ([f"chance {value['chance']:.0%}"] if "chance" in value else []))
        return (f"{value['accuracy']:.1%} on {value.get('pairs', '?')} pairs{f' ({notes})' if notes else ''}",
                f">= {value['bar']:.0%}")
    if "top1_agreement_with_teacher" in value:  # the speed bar is on the full MLM forward; older records lack it
        speed = (f"full MLM forward {value['full_mlm_speedup']:.2f}x faster (encoder alone {value['speedup']:.2f}x)"
                 if "full_mlm_speedup" in value else f"encoder {value['speedup']:.2f}x faster")
        spread = (f" ({interval(value, 'agreement_interval', '.1%')})"
                  if value.get("agreement_interval") else "")
        return (f"agreement {value['top1_agreement_with_teacher']:.1%}{spread}, {speed}",
                f">= {value['agreement_bar']:.0%}, >= {value['speedup_bar']:g}x")
    if "perplexity" in value:
        return (f"perplexity {value['perplexity']:.0f} = {value['ratio']:.2f} x unigram "
                f"{value['unigram_perplexity']:.0f}", "<= 0.33 x unigram")
    return None


def measure_label(name: str) -> str:
    """'ood_fill_mask' -> 'fill mask (out of domain)'; 'fill_mask' -> 'fill mask (in-domain held-out)';
    'nsp_sentences' -> 'nsp, one sentence each (in-domain held-out)' (pairs of single sentences)."""
    if name.startswith("ood_"):
        return f"{name[4:].replace('_', ' ')} (out of domain)"
    if name.endswith("_sentences"):
        return f"{name.removesuffix('_sentences').replace('_', ' ')}, one sentence each (in-domain held-out)"
    return f"{name.replace('_', ' ')} (in-domain held-out)"


def quality_table(folder: Path = METRICS) -> list[QualityRow]:
    """Every evaluation of every family, out of domain (where the bars apply) and in-domain, with its bar and whether
    it was met (as the model cards state)."""
    rows = []
    for family in OBJECTIVE_TERMS:
        path = folder / f"{family}.json"
        if not path.exists():
            continue
        for name, value in json.loads(path.read_text()).get("evaluation", {}).items():
            row = _row(family, name, value)
            if row:
                rows.append(row)
    return rows


def _row(family: str, name: str, value) -> QualityRow | None:
    """One recorded evaluation as a row, or None when it has no bar."""
    described = _describe(name, value) if isinstance(value, dict) else None
    if not described or "meets_bar" not in value:
        return None
    return QualityRow(family, measure_label(name), described[0], described[1], bool(value["meets_bar"]),
                      value.get("set", ""))


def recorded_out_of_domain(checkpoint, measure: str, folder: Path = METRICS) -> QualityRow | None:
    """How a bundled mini checkpoint did out of domain on `measure` (its evaluation's name without "ood_": "nsp",
    "sop", "distillation", "replaced_token_detection"), as its card states; None for any other checkpoint."""
    path = folder / f"{checkpoint.family}.json"
    if not checkpoint.bundled or not path.exists():
        return None
    return _row(checkpoint.family, f"ood_{measure}",
                json.loads(path.read_text()).get("evaluation", {}).get(f"ood_{measure}"))
