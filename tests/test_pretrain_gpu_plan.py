"""scripts/pretrain_gpu.sh (issue #14 item 5) trains every family once, in an order that lets each family start from
what will be shipped: it promotes each candidate on the GPU machine right after training it, so a family that distils
from or warm-starts from another must come after it. Read from the script itself; nothing is run."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pretrain import FAMILIES, OBJECTIVES
from pretrain.warm_start import FromMiniBert
from model_zoo.registry import FAMILIES as REGISTRY

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pretrain_gpu.sh"


def plan() -> list[tuple[str, float, int, float, str]]:
    """(family, share of the minutes, batch, peak learning rate, "shipped" or "") in the order they train."""
    default = re.search(r'^PLAN="\$\{PLAN:-([^}]*)\}"', SCRIPT.read_text(), re.M).group(1).replace("\\\n", " ")
    fields = [(item.split(":") + [""])[:5] for item in default.split()]
    return [(f, float(share), int(batch), float(lr), start) for f, share, batch, lr, start in fields]


def test_every_family_trains_once_and_the_minutes_are_shared_out():
    families = [f for f, *_ in plan()]
    assert sorted(families) == sorted(FAMILIES) and len(set(families)) == len(families)
    assert sum(share for _, share, *_ in plan()) == pytest.approx(1.0)


def test_a_family_trains_after_the_family_it_starts_from():
    order = [f for f, *_ in plan()]
    for family in order:
        sources = {REGISTRY[family].distilled_from} - {""}
        if issubclass(OBJECTIVES[family], FromMiniBert):
            sources.add(OBJECTIVES[family].WARM_START)
        for source in sources:
            assert order.index(source) < order.index(family), (family, source, order)


def test_each_candidate_is_promoted_on_the_machine_before_the_next_family_trains():
    text = SCRIPT.read_text()
    loop = text[text.index("for item in $PLAN"):text.index("done\n", text.index("for item in $PLAN"))]
    assert loop.index("--wall-minutes") < loop.index('--family "$family" --promote')


def test_families_with_weights_of_their_own_continue_them_and_the_student_starts_from_its_teacher():
    """A minute from scratch cannot catch up with hundreds of CPU-minutes: every family continues its shipped weights,
    except a distilled one, which starts from its teacher's layers (the teacher may be promoted just before)."""
    for family, _, _, _, start in plan():
        assert start == ("" if REGISTRY[family].distilled_from else "shipped"), family
