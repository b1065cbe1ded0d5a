"""Probing the six bundled minis and MiniLM on a bundled set, every layer, one task: total seconds, split into forward
passes (word vectors, cache cleared before each repeat) and probe fitting; machine load before and after.

    python -m bench.probing --data grammar --task upos --repeats 3      # writes bench/results/probing.md
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

SPECS = ["mini-bert", "mini-roberta", "mini-albert", "mini-distilbert", "mini-electra-discriminator", "mini-xlnet",
         "minilm-l6"]
RESULTS = Path(__file__).resolve().parent / "results" / "probing.md"


def one_run(data, task: str) -> dict:
    from model_zoo import loading, probing
    loading.runtime().derived.clear()
    forward = fit = 0.0
    started = time.perf_counter()
    for spec in SPECS:
        loading.load(spec)                                       # loading is not what is measured (cached models)
        result = probing.probe_model(spec, data, task)
        forward += result.seconds_forward
        fit += result.probe.seconds
    return {"total": time.perf_counter() - started, "forward": forward, "fit": fit}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="grammar", choices=["grammar", "natural"])
    parser.add_argument("--task", default="upos")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from model_zoo import labelled_data, loading
    torch.set_num_threads(args.threads)
    loading.configure(loading.Settings(device="cpu", offline=True))
    data = labelled_data.bundled(args.data)
    for spec in SPECS:
        loading.load(spec)
    load_before = os.getloadavg()
    runs = [one_run(data, args.task) for _ in range(args.repeats)]
    load_after = os.getloadavg()

    def spread(key: str) -> str:
        values = [r[key] for r in runs]
        return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"
    lines = [f"# Probing benchmark ({args.data} set, {args.task}, {len(SPECS)} models, every layer)", "",
             f"{len(data.sentences)} sentences, {data.n_words(args.task):,} labelled words; models: "
             f"{', '.join(SPECS)}; torch threads {args.threads}; {args.repeats} repeats, word-vector cache cleared "
             f"before each; models already loaded.", "",
             "| seconds | median (min, max) |", "|---|---|",
             f"| total | {spread('total')} |", f"| forward passes (word vectors) | {spread('forward')} |",
             f"| probe fitting (task + control, every layer) | {spread('fit')} |", "",
             f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
             f"{', '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores"
             + (": busy (above one per core) before it started, so these are upper bounds." if load_before[0]
                > (os.cpu_count() or 1) else ": quiet before it started (the run's own threads are in the after "
                "figure)."), ""]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
