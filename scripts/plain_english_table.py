"""The README's table of what the offline defaults answer on plain English: top 3 per bundled mini checkpoint, from the
app's own fill-mask (model_zoo.fill_mask), with the sensible answers in bold. Rerun after promoting a checkpoint:

    python scripts/plain_english_table.py            # prints the Markdown table
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_zoo.fill_mask import fill_mask, fill_mask_model  # noqa: E402

# (column heading, sentence with ___, the answers counted as sensible): four of the plain sentences of
# tests/test_mini_zoo.py (PLAIN), with its sets of sensible answers
SENTENCES = [
    ("cup of \\_\\_\\_ every morning", "I drink a cup of ___ every morning.", {"coffee", "tea", "water", "milk"}),
    ("ten \\_\\_\\_ old", "My brother is ten ___ old.", {"years"}),
    ("ate a \\_\\_\\_", "He was hungry, so he ate a ___.",
     {"sandwich", "meal", "banana", "bread", "apple", "cake", "piece"}),
    ("opened the \\_\\_\\_ and walked in", "She opened the ___ and walked into the room.", {"door", "window", "gate"}),
]
MODELS = [("mini-BERT", "mini-bert"), ("mini-RoBERTa", "mini-roberta"), ("mini-ALBERT", "mini-albert"),
          ("mini-DistilBERT", "mini-distilbert"), ("mini-ELECTRA generator", "mini-electra-generator")]


def cell(words: list[str], sensible: set[str]) -> str:
    shown = [w if w.isalnum() else f"`{w}`" for w in words]
    return ", ".join(f"**{s}**" if w.lower() in sensible else s for w, s in zip(words, shown))


def table() -> str:
    lines = ["| | " + " | ".join(h for h, _, _ in SENTENCES) + " |", "|---" * (len(SENTENCES) + 1) + "|"]
    for label, key in MODELS:
        lm = fill_mask_model(key)
        cells = [cell(fill_mask(lm, text, k=3).masks[0].readable[:3], sensible) for _, text, sensible in SENTENCES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
