"""Shipping a trained candidate: copy .mini_work/candidates/<folder> into assets/mini/ only when it is better out of
domain (the set the bars use) than what is shipped, never worse.

    python -m pretrain --family bert --promote     # compares, prints both, copies or refuses

A candidate is better when its family's primary out-of-domain figure improves and no out-of-domain bar that the
shipped checkpoint meets is lost. mini-DistilBERT is promoted only if its recorded teacher is the shipped mini-BERT,
and then always when the shipped student's teacher is not (a stale student's figures are against another teacher).
"""
from __future__ import annotations

import json
import shutil

from pretrain import train as T
from model_zoo.registry import FAMILIES

FIGURE = ("ratio_to_baseline", "accuracy", "roc_auc", "ratio", "top1_agreement_with_teacher")


def ood_figures(evaluation: dict) -> dict[str, tuple[float | None, bool]]:
    """{entry: (its headline figure, meets_bar)} for every out-of-domain entry."""
    out = {}
    for name, value in evaluation.items():
        if name.startswith("ood_") and isinstance(value, dict):
            figure = next((value[k] for k in FIGURE if k in value), None)
            out[name] = (figure, bool(value.get("meets_bar")))
    return out


def compare(family: str, shipped: dict, candidate: dict) -> tuple[bool, list[str]]:
    """(better?, lines of the comparison)."""
    from pretrain import OBJECTIVES
    entry, figure, sign = OBJECTIVES[family].primary
    old, new = ood_figures(shipped.get("evaluation", {})), ood_figures(candidate["evaluation"])
    lines = [f"{name:32s} shipped {old.get(name, (None, False))[0]!s:>8} -> candidate {new[name][0]!s:>8}"
             f"  (bar {'met' if new[name][1] else 'NOT met'})" for name in new]
    if entry not in new:
        return False, lines + [f"the candidate has no {entry}: evaluate it first"]
    if entry not in old:
        return True, lines + [f"the shipped checkpoint has no {entry}: the candidate is the first measured"]
    better = sign * (new[entry][0] - old[entry][0]) > 0
    lost = [name for name, (_, met) in old.items() if met and not new.get(name, (None, False))[1]]
    if lost:
        lines.append(f"loses bars the shipped checkpoint meets: {', '.join(lost)}")
    lines.append(f"primary {entry}.{figure}: {old[entry][0]} -> {new[entry][0]}: {'better' if better else 'NOT better'}")
    return better and not lost, lines


def promote(family: str, force: bool = False, log=print, candidates=T.CANDIDATES, mini=T.MINI) -> bool:
    from pretrain import OBJECTIVES
    cls = OBJECTIVES[family]
    cand_path = candidates / "metrics" / f"{family}.json"
    if not cand_path.exists():
        raise FileNotFoundError(f"no evaluated candidate: {cand_path} (train, or --export-only, first)")
    candidate = json.loads(cand_path.read_text())
    ship_path = mini / "metrics" / f"{family}.json"
    shipped = json.loads(ship_path.read_text()) if ship_path.exists() else {}
    teacher = FAMILIES[family].distilled_from
    if teacher:
        from pretrain.teacher import check_teacher
        if not candidate.get("teacher_sha256"):
            raise ValueError(f"the candidate records no teacher checksum: it cannot be shipped as distilled from "
                             f"the shipped mini-{teacher}")
        check_teacher(candidate["teacher_sha256"], mini / teacher)
    better, lines = compare(family, shipped, candidate)
    if "teacher_sha256" in candidate and shipped and shipped.get("teacher_sha256") != candidate["teacher_sha256"]:
        # a distilled student (the candidate passed the teacher check above) over one whose agreement was measured
        # against another teacher: the figures do not compare, and the stale one cannot stay
        better = True
        lines.append("the shipped student was distilled from another mini-BERT (its figures are against that "
                     "teacher): the candidate, distilled from the shipped mini-BERT, replaces it")
    for line in lines:
        log(line)
    if not (better or force):
        log(f"{family}: not promoted; assets/mini/ unchanged")
        return False
    for folder in cls.folders:
        shutil.copytree(candidates / folder, mini / folder, dirs_exist_ok=True)
    shutil.copy(cand_path, ship_path)
    log(f"{family}: promoted {', '.join(cls.folders)} to {mini}")
    for student in (f.key for f in FAMILIES.values() if f.distilled_from == family):
        record = mini / "metrics" / f"{student}.json"
        if record.exists() and json.loads(record.read_text()).get("teacher_sha256") != T.file_sha256(
                mini / family / "model.safetensors"):
            log(f"mini-{student} was not distilled from this mini-{family}: re-distil it (--family {student}) and "
                f"re-evaluate it (python -m pretrain.evaluate --shipped {student})")
    return True
