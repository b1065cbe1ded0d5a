"""mini-DistilBERT records its teacher's checksum and refuses to continue, export or report against another teacher."""
from __future__ import annotations

import pytest

from pretrain import distill, teacher
from pretrain import train as T


def teacher_folder(tmp_path, weights: bytes):
    folder = tmp_path / "bert"
    folder.mkdir(exist_ok=True)
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def bare_objective(teacher_dir) -> distill.DistilObjective:
    """A DistilObjective without its models (the checks read only the teacher's file)."""
    obj = object.__new__(distill.DistilObjective)
    obj.teacher_dir = teacher_dir
    obj.teacher_sha256 = teacher.check_teacher(None, teacher_dir)
    return obj


def test_the_recorded_checksum_is_the_teachers_sha256(tmp_path):
    import hashlib
    folder = teacher_folder(tmp_path, b"teacher weights v1")
    obj = bare_objective(folder)
    assert obj.start_state()["teacher_sha256"] == hashlib.sha256(b"teacher weights v1").hexdigest()


def test_same_teacher_resumes(tmp_path):
    folder = teacher_folder(tmp_path, b"teacher weights v1")
    state = bare_objective(folder).start_state()
    bare_objective(folder).resumed(state)  # no error


def test_a_changed_teacher_is_refused_with_a_clear_message(tmp_path):
    folder = teacher_folder(tmp_path, b"teacher weights v1")
    state = bare_objective(folder).start_state()      # the distillation began with v1
    teacher_folder(tmp_path, b"teacher weights v2")   # then mini-BERT was retrained
    with pytest.raises(teacher.StaleTeacherError) as refused:
        bare_objective(folder).resumed(state)
    message = str(refused.value)
    assert "stale teacher" in message and state["teacher_sha256"][:12] in message
    assert T.file_sha256(folder / "model.safetensors")[:12] in message and "new distillation" in message


def test_the_evaluation_refuses_a_teacher_replaced_during_training(tmp_path):
    folder = teacher_folder(tmp_path, b"teacher weights v1")
    obj = bare_objective(folder)
    teacher_folder(tmp_path, b"teacher weights v2")
    with pytest.raises(teacher.StaleTeacherError):
        obj.evaluate()


def test_a_checkpoint_without_a_recorded_teacher_is_refused(tmp_path):
    folder = teacher_folder(tmp_path, b"teacher weights v1")
    with pytest.raises(teacher.StaleTeacherError, match="no teacher checksum"):
        bare_objective(folder).resumed({"step": 10})
