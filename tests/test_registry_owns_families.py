"""The registry owns each family's facts: outside it, no code asks for a family by its name (issue 17).

A view is offered because a checkpoint declares a capability, and a family's behaviour (its MLM class, token types,
position offset, precision, two streams, example texts, colour) is read from its registry entry. The files that still
name families say why, below; the list shrinks, it never grows."""
import re
from pathlib import Path

from model_zoo.registry import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
NAMES = "|".join(FAMILIES)
ASKS_BY_NAME = re.compile(rf"""(==|!=)\s*["']({NAMES})["']|["']({NAMES})["']\s*(==|!=)|in\s*\(["']({NAMES})["']"""
                          rf"""|\{{\s*["']({NAMES})["']\s*:""")
STILL_NAMED = {  # file -> why it still names families (debt, not design)
    "model_zoo/registry.py": "the registry itself",
}


def test_no_code_outside_the_registry_asks_for_a_family_by_name():
    offenders = {}
    for path in sorted([*ROOT.glob("components/*.py"), *ROOT.glob("model_zoo/*.py"), *ROOT.glob("model_zoo/*/*.py"),
                        *ROOT.glob("pretrain/*.py"),
                        ROOT / "app.py"]):
        relative = str(path.relative_to(ROOT))
        if relative in STILL_NAMED:
            continue
        hits = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
                if ASKS_BY_NAME.search(line)]
        if hits:
            offenders[relative] = hits
    assert not offenders, offenders


def test_the_exceptions_still_need_their_exception():
    """An exception that no longer names a family must leave the list."""
    for relative in STILL_NAMED:
        assert ASKS_BY_NAME.search((ROOT / relative).read_text()), f"{relative} no longer names a family"


def test_every_checkpoints_capabilities_follow_from_its_class():
    from model_zoo.registry import CHECKPOINTS, capabilities_of
    for checkpoint in CHECKPOINTS.values():
        assert checkpoint.capabilities == capabilities_of(checkpoint.model_class), checkpoint.key


def test_every_family_declares_what_the_views_read():
    for family in FAMILIES.values():
        assert family.mlm_class and family.mask_example and family.colour.startswith("#")
        assert family.guess.value in ("fill-mask", "permutation LM")
