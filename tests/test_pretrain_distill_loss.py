"""mini-DistilBERT's loss: the teacher's soft targets and hidden states, not the corpus's hard labels (the hard-label
term pulls the student away from its teacher, and agreement with it is the bar)."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("tokenizers")
pytestmark = pytest.mark.usefixtures("small_corpus")  # tests/fixtures/corpus, not .mini_work
from pretrain import distill  # noqa: E402


def test_the_student_is_pulled_toward_its_teacher_not_toward_the_hard_labels():
    obj = distill.DistilObjective(0, "cpu")
    batch = obj.batch(3)
    with torch.no_grad():
        total, parts = obj.loss(batch)
        relabelled = dict(batch, labels=batch["labels"].clone())
        where = relabelled["labels"] != -100
        relabelled["labels"][where] = (relabelled["labels"][where] + 1) % len(obj.tok)   # every hard label wrong
        total_wrong, parts_wrong = obj.loss(relabelled)
    assert parts["kl"] > 0 and parts["cos"] > 0
    assert float(total) == pytest.approx(distill.ALPHA_CE * parts["kl"] + distill.ALPHA_COS * parts["cos"], rel=1e-5)
    assert parts_wrong["mlm"] > parts["mlm"] + 1.0                # the hard-label cross-entropy saw the change ...
    assert float(total_wrong) == pytest.approx(float(total), rel=1e-6)   # ... and the loss that trains does not
