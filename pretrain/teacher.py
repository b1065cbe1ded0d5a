"""The teacher a distilled student learns from, pinned by its checksum: continuing, exporting, evaluating or promoting a
student against another teacher than the one it was distilled from is refused (distill, evaluate and promote use it)."""
from __future__ import annotations

from pathlib import Path

from pretrain import train as T


class StaleTeacherError(RuntimeError):
    """The teacher's weights are not the ones the student was (or is being) distilled from."""


def check_teacher(recorded_sha256: str | None, teacher_dir: Path) -> str:
    """The teacher's current sha256; raises StaleTeacherError if it differs from the one the distillation recorded."""
    current = T.file_sha256(teacher_dir / "model.safetensors")
    if recorded_sha256 is not None and recorded_sha256 != current:
        raise StaleTeacherError(
            f"stale teacher: this distillation began from the teacher with sha256 {recorded_sha256[:12]}..., but "
            f"{teacher_dir}/model.safetensors is now {current[:12]}... (mini-BERT was retrained or replaced). "
            f"Distilling further, or reporting agreement, against a different teacher would mix two teachers. "
            f"Start a new distillation from the current teacher: delete {T.CKPT_DIR / 'distilbert.pt'} and rerun "
            f"`python -m pretrain --family distilbert ...`, or restore the old teacher.")
    return current
