"""Promoting a candidate (pretrain/promote.py) on fake folders: better figures ship, worse ones do not, and
a distilled student follows its teacher: refused when distilled from another mini-BERT than the shipped one, and
shipped over a student whose own teacher is no longer the shipped mini-BERT (its agreement was against another)."""
from __future__ import annotations

import json

import pytest

from pretrain import promote as P
from pretrain import train as T
from pretrain.teacher import StaleTeacherError


def _metrics(agreement: float, teacher: str, fill: float = 3.5) -> dict:
    return {"teacher_sha256": teacher, "evaluation": {
        "ood_distillation": {"top1_agreement_with_teacher": agreement, "meets_bar": False},
        "ood_fill_mask": {"ratio_to_baseline": fill, "meets_bar": True}}}


@pytest.fixture
def folders(tmp_path):
    mini, candidates = tmp_path / "mini", tmp_path / "candidates"
    for root, marker in ((mini, "shipped"), (candidates, "candidate")):
        (root / "distilbert").mkdir(parents=True)
        (root / "distilbert" / "model.safetensors").write_text(marker)
        (root / "metrics").mkdir()
    (mini / "bert").mkdir()
    (mini / "bert" / "model.safetensors").write_text("teacher v6")
    return mini, candidates, T.file_sha256(mini / "bert" / "model.safetensors")


def _run(mini, candidates, shipped: dict, candidate: dict) -> tuple[bool, list[str]]:
    (mini / "metrics" / "distilbert.json").write_text(json.dumps(shipped))
    (candidates / "metrics" / "distilbert.json").write_text(json.dumps(candidate))
    said = []
    done = P.promote("distilbert", log=said.append, candidates=candidates, mini=mini)
    return done, said


def _shipped_weights(mini) -> str:
    return (mini / "distilbert" / "model.safetensors").read_text()


def test_same_teacher_ships_only_when_better(folders):
    mini, candidates, teacher = folders
    done, said = _run(mini, candidates, _metrics(0.55, teacher), _metrics(0.53, teacher))
    assert not done and _shipped_weights(mini) == "shipped" and "NOT better" in said[-2]
    done, _ = _run(mini, candidates, _metrics(0.55, teacher), _metrics(0.57, teacher))
    assert done and _shipped_weights(mini) == "candidate"
    assert json.loads((mini / "metrics" / "distilbert.json").read_text())["evaluation"]["ood_distillation"][
        "top1_agreement_with_teacher"] == 0.57


def test_a_stale_shipped_student_is_replaced_even_with_a_lower_figure(folders):
    mini, candidates, teacher = folders
    done, said = _run(mini, candidates, _metrics(0.55, "v5-teacher"), _metrics(0.53, teacher))
    assert done and _shipped_weights(mini) == "candidate"
    assert any("distilled from another mini-BERT" in line for line in said)


def test_a_candidate_from_another_teacher_is_refused(folders):
    mini, candidates, teacher = folders
    with pytest.raises(StaleTeacherError):
        _run(mini, candidates, _metrics(0.50, teacher), _metrics(0.60, "v5-teacher"))
    assert _shipped_weights(mini) == "shipped"
