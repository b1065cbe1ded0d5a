"""The table in assets/mini/ANSWERS.md of what the offline defaults answer on plain English: top 3 per bundled
checkpoint that can fill a mask (the registry's), from the app's own fill-mask (model_zoo.fill_mask), sensible answers
in bold. The sentences and their sensible answers are the tests' (testkit.plain_english). Rerun after promoting a checkpoint:

    python scripts/plain_english_table.py            # prints the Markdown table
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_zoo.fill_mask import fill_mask, fill_mask_model  # noqa: E402
from model_zoo.registry import CHECKPOINTS, Capability  # noqa: E402
from testkit.plain_english import PLAIN  # noqa: E402

COLUMNS = (0, 2, 5, 1)  # which of PLAIN: cup of ___, ten ___ old, ate a ___, opened the ___


def cell(words: list[str], sensible: set[str]) -> str:
    shown = [w if w.isalnum() else f"`{w}`" for w in words]
    return ", ".join(f"**{s}**" if w.lower() in sensible else s for w, s in zip(words, shown))


def table() -> str:
    chosen = [PLAIN[i] for i in COLUMNS]
    heads = [text.replace("[MASK]", "\\_\\_\\_") for text, _ in chosen]
    lines = ["| | " + " | ".join(heads) + " |", "|---" * (len(chosen) + 1) + "|"]
    for checkpoint in CHECKPOINTS.values():
        if checkpoint.bundled and Capability.FILL_MASK in checkpoint.capabilities:
            lm = fill_mask_model(checkpoint)
            cells = [cell(fill_mask(lm, text, k=3).masks[0].readable[:3], sensible) for text, sensible in chosen]
            lines.append(f"| {checkpoint.key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
