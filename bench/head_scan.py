"""Which heads matter, at bert-base's size: the full scan (144 single-head ablations, batched, plus the one backward
of the gradient estimate) against 144 bare forward passes of the same model on the same 16 tokens. Target: <= 2x.

The model is BertForMaskedLM built from transformers' default BertConfig (12 layers x 12 heads, hidden 768, vocab
30522: bert-base's architecture) with RANDOM weights, eager attention, fp32 on CPU; the tokenizer is bert-base-uncased's
WordPiece. Latency does not depend on the weights' values. Each repeat times the scan and then the bare passes; the
load average (os.getloadavg) is recorded before and after, since other work may share the cores.

    python -m bench.head_scan --repeats 3 --threads 2 --out bench/results/head_scan.md
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

TEXT = "The quick brown fox jumps over the lazy [MASK] and runs into woods."  # 16 tokens, specials in


def bert_base_random():
    """A LoadedModel of BertForMaskedLM(BertConfig()) with random weights, labelled as such."""
    import transformers

    from model_zoo import loading, tiny
    from model_zoo.registry import CHECKPOINTS
    config = transformers.BertConfig()
    config._attn_implementation = "eager"
    model = transformers.BertForMaskedLM(config).eval()
    report = loading.LoadReport(source="transformers.BertConfig()", device="cpu", dtype="float32",
                                weights="RANDOM weights: BertForMaskedLM(BertConfig()), bert-base's architecture",
                                trained=False, n_parameters=sum(p.numel() for p in model.parameters()))
    checkpoint = loading.with_class(CHECKPOINTS["bert-base-uncased"], "BertForMaskedLM")
    return loading.LoadedModel(checkpoint, model, tiny.wordpiece_tokenizer(), report)


def bare_passes(loaded, inputs, count: int) -> float:
    import torch
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(count):
            loaded.model(**inputs)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="bench/results/head_scan.md")
    args = parser.parse_args(argv)
    import torch

    from model_zoo import fill_mask as fm
    from model_zoo import head_ablation as ha
    torch.set_num_threads(args.threads)
    loaded = bert_base_random()
    _, tokens, positions = fm.prepare(loaded.tokenizer, loaded.config, TEXT)
    inputs = fm.model_inputs(loaded, tokens.ids, positions)
    layers, heads = ha.shape(loaded)
    load_before = os.getloadavg()
    bare_passes(loaded, inputs, 3)  # warm-up
    runs = []
    for repeat in range(args.repeats):
        scan = ha.head_importance(loaded, TEXT)
        bare = bare_passes(loaded, inputs, layers * heads)
        runs.append((scan.seconds, scan.seconds_gradient, scan.seconds_scan, bare))
        print(f"repeat {repeat + 1}: scan {scan.seconds:.2f} s (estimate {scan.seconds_gradient:.2f} s, ablations "
              f"{scan.seconds_scan:.2f} s, {scan.rows_per_forward} rows a forward), {layers * heads} bare passes "
              f"{bare:.2f} s, ratio {scan.seconds / bare:.2f}", flush=True)
    load_after = os.getloadavg()
    busy = (": busy (above one per core), rerun it quiet for figures to quote"
            if load_before[0] > (os.cpu_count() or 1) else ": quiet before it started")
    ratios = [total / bare for total, _, _, bare in runs]
    rows = "\n".join(f"| {i + 1} | {t:.2f} | {g:.2f} | {s:.2f} | {b:.2f} | {t / b:.2f} |"
                     for i, (t, g, s, b) in enumerate(runs))
    verdict = "met" if statistics.median(ratios) <= 2 else "NOT met"
    text = f"""# Head scan: every head of bert-base switched off, one at a time, against 144 bare forward passes

Command: `python -m bench.head_scan --repeats {args.repeats} --threads {args.threads}`. Model: BertForMaskedLM built from
transformers' default BertConfig ({layers} layers x {heads} heads, hidden 768, vocab 30522: bert-base's architecture)
with RANDOM weights (latency does not depend on the values), eager attention, fp32, CPU, torch threads
{args.threads} on {os.cpu_count()} cores. Text: "{TEXT}" ({len(tokens)} tokens). The scan is
`model_zoo.head_ablation.head_importance`: one forward + backward for the gradient estimate of every head, then
{layers * heads} single-head ablations, {scan.rows_per_forward} batch rows a forward; bare: {layers * heads} forward
passes of the unchanged model, batch 1.

Load average (1, 5, 15 min) before {load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f}; after
{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f}{busy}.

| repeat | scan, s | of which the estimate, s | of which the ablations, s | {layers * heads} bare passes, s | ratio |
|---|---|---|---|---|---|
{rows}

Ratio scan / bare: median {statistics.median(ratios):.2f}, spread {min(ratios):.2f} to {max(ratios):.2f} over
{args.repeats} repeats (target <= 2x: {verdict}).
"""
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
