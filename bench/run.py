"""The Compare tab's measurements as a command: parameters, latency, memory, GFLOP/s, claims and the app's overhead.

Writes `<out>/bench-<device>.json` and `<out>/bench-<device>.md`, so results can be compared across machines and
commits. The overhead is the end-to-end time of a request through one of the app's handlers against a bare
tokenize + forward pass of the same model and text, interleaved in one run.

    python -m bench.run --models bert-base-uncased distilbert-base-uncased --lengths 8 32 128 --batches 1 \
        --out bench/results/
    python -m bench.run --handler tokens --overhead-model minilm-l6          # the handler under test, by name
    python -m bench.run --handler components.fill_mask_view:fill_mask       # or as module:function
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import shlex
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

# Handlers the overhead can be measured through: name -> "module:function". A handler takes (spec, text) and may take
# a `progress` argument (passed None here).
HANDLERS = {"tokens": "components.tokens_view:tokenize_and_describe"}
DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog, and Paris is the capital of France."
OVERHEAD_TARGET = 0.10


def parse_args(argv=None) -> argparse.Namespace:
    from model_zoo import profiling
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=profiling.default_keys(),
                        help="registry keys, Hub ids or local folders (default: the default checkpoints)")
    parser.add_argument("--lengths", nargs="+", type=int, default=list(profiling.DEFAULT_LENGTHS))
    parser.add_argument("--batches", nargs="+", type=int, default=list(profiling.DEFAULT_BATCHES))
    parser.add_argument("--out", default="bench/results/", help="folder for the JSON and Markdown files")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--max-runs", type=int, default=30)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed runs per point (after min-runs)")
    parser.add_argument("--handler", default="tokens", help=f"{', '.join(HANDLERS)}, module:function, or 'none'")
    parser.add_argument("--overhead-model", default="minilm-l6", help="a model whose weights load here")
    parser.add_argument("--overhead-runs", type=int, default=15)
    parser.add_argument("--text", default=DEFAULT_TEXT, help="the request's text for the overhead measurement")
    parser.add_argument("--note", default="", help="a line for the report (e.g. what else was running)")
    parser.add_argument("--tag", default="", help="a suffix for the output files (bench-<device>[-<tag>].json)")
    return parser.parse_args(argv)


def resolve_handler(name: str):
    target = HANDLERS.get(name, name)
    if ":" not in target:
        raise SystemExit(f"unknown handler {name!r}: use one of {sorted(HANDLERS)} or module:function")
    module, function = target.split(":", 1)
    return getattr(importlib.import_module(module), function), target


def measure_overhead(handler_name: str, spec: str, text: str, runs: int) -> dict:
    """Median end-to-end time of the handler against a bare tokenize + forward of the same model, interleaved."""
    import torch

    from model_zoo import loading
    handler, target = resolve_handler(handler_name)
    kwargs = {"progress": lambda *a, **k: None} if "progress" in inspect.signature(handler).parameters else {}
    handler(spec, text, **kwargs)  # loads the model into the app's cache: loading is not what we time
    loaded = loading.load(spec)

    def tokenize():
        return loaded.tokenizer(text, return_tensors="pt").to(loaded.model.device)

    def bare():
        with torch.inference_mode():
            loaded.model(**tokenize())
    bare()
    handler_s, bare_s, tokenize_s = [], [], []
    for _ in range(runs):  # interleaved, so that a change in the machine's load touches all three alike
        for fn, times in ((lambda: handler(spec, text, **kwargs), handler_s), (bare, bare_s), (tokenize, tokenize_s)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    handler_ms, bare_ms = statistics.median(handler_s) * 1e3, statistics.median(bare_s) * 1e3
    overhead = handler_ms / bare_ms - 1
    return {"handler": target, "model": spec, "weights": loaded.report.weights, "text": text,
            "tokens": int(loaded.tokenizer(text, return_tensors="pt")["input_ids"].shape[1]), "runs": runs,
            "handler_median_ms": handler_ms, "bare_median_ms": bare_ms, "overhead": overhead,
            "bare_tokenize_median_ms": statistics.median(tokenize_s) * 1e3,
            "target": OVERHEAD_TARGET, "meets_target": overhead < OVERHEAD_TARGET}


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [f"# Benchmark: {env['device']}", "",
             f"- command: `{report['command']}`",
             f"- torch {env['torch']} ({env['threads']} threads), transformers {env['transformers']}, "
             f"Python {env['python']}, {env['machine']}; attention: {env['attention']}",
             f"- finished {report['finished']}, {report['seconds']:.0f} s"]
    load = report.get("load_average")
    if load:
        lines.append(f"- machine load (1/5/15-minute averages, {load['cpus']} CPUs): before "
                     f"{'/'.join(f'{x:.1f}' for x in load['before'])}, after "
                     f"{'/'.join(f'{x:.1f}' for x in load['after'])}")
    if report.get("note"):
        lines.append(f"- note: {report['note']}")
    lines += [f"- {n}" for n in report["notes"]]
    if env.get("cores") and max(env.get("load_before", -1), env.get("load_after", -1)) > env["cores"]:
        lines.append(f"- **BUSY**: load average up to {max(env['load_before'], env['load_after']):.1f} on "
                     f"{env['cores']} cores while measuring: these latencies are noise; rerun on a quiet machine")
    lines += ["", "## Parameters (exact, from each config on the meta device)", "",
              "| model | class | total | embeddings | encoder layers | pooler | heads | applied per forward "
              "| fp32 MB |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in report["parameters"]:
        embeddings = sum(v for k, v in p["parts"].items() if "emb" in k)
        lines.append(f"| {p['key']} | {p['model_class']} | {p['total']:,} | {embeddings:,} | "
                     f"{p['parts']['encoder layers']:,} | {p['parts']['pooler']:,} | {p['parts']['heads']:,} | "
                     f"{p['per_forward']:,} | {p['total'] * 4 / 2**20:.1f} |")
    lines += ["", "## Latency, memory, efficiency", "",
              "| model | weights timed | dtype | batch | tokens | runs | median ms | IQR ms | p90 ms | tokens/s | GFLOPs | "
              "GFLOP/s | peak growth MB |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in report["measurements"]:
        lines.append(f"| {m['key']} | {m['weights']} | {m['dtype']} | {m['batch']} | {m['length']} | {m['runs']} | "
                     f"{m['median_ms']:.1f} | {m.get('q1_ms', 0):.1f}-{m.get('q3_ms', 0):.1f} | {m['p90_ms']:.1f} | {m['tokens_per_s']:.0f} | {m['flops'] / 1e9:.2f} | "
                     f"{m['gflops_per_s']:.2f} | {m['peak_memory_mb']:.1f} |")
    lines += ["", "## Claims check", "", "| claim | source | measured here | verdict |", "|---|---|---|---|"]
    lines += [f"| {c['claim']} | {c['source']} | {c['measured']} | {c['verdict']} |" for c in report["claims"]]
    overhead = report.get("overhead")
    if overhead:
        verdict = {True: "met", False: "NOT met", None: "not comparable, see below"}[overhead["meets_target"]]
        lines += ["", "## The app's own overhead", "",
                  f"Handler `{overhead['handler']}` on `{overhead['model']}` ({overhead['weights']}), "
                  f"{overhead['tokens']} tokens, {overhead['runs']} interleaved runs: "
                  f"{overhead['handler_median_ms']:.1f} ms end to end against {overhead['bare_median_ms']:.1f} ms "
                  f"for a bare tokenize + forward ({overhead['bare_tokenize_median_ms']:.1f} ms of it tokenizing): "
                  f"ratio {overhead['overhead']:+.0%} (target: an overhead under {overhead['target']:.0%}; "
                  f"{verdict})."]
        if overhead.get("caveat"):
            lines.append(overhead["caveat"])
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = parse_args(argv)
    import torch

    from model_zoo import loading, profiling
    if args.threads:
        torch.set_num_threads(args.threads)
    loading.configure(loading.Settings(device=args.device))
    started = time.perf_counter()
    load_before = os.getloadavg()  # other processes on the machine skew every figure: say how busy it was

    def progress(fraction, message):
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
    result = profiling.measure(args.models, args.lengths, args.batches, warmup=args.warmup, min_runs=args.min_runs,
                               max_runs=args.max_runs, budget_s=args.budget, progress=progress)
    params = {}
    for spec in dict.fromkeys(profiling.default_keys() + args.models):
        params[spec] = profiling.parameter_breakdown(loading.resolve(spec))
    claims = profiling.claims_check({p.key: p for p in params.values()}, result)
    overhead = None
    if args.handler != "none":
        print(f"[    ] overhead of the {args.handler} handler on {args.overhead_model}…", file=sys.stderr)
        overhead = measure_overhead(args.handler, args.overhead_model, args.text, args.overhead_runs)
        if args.handler == "tokens":
            overhead["meets_target"] = None  # no forward pass in this handler: the ratio is not an overhead
            overhead["caveat"] = ("The tokens handler runs no forward pass: it reads the config, counts parameters on "
                                  "the meta device, tokenizes and renders HTML. Plug in the fill-mask handler with "
                                  "--handler module:function for a like-for-like request.")
    report = {"command": shlex.join(["python", "-m", "bench.run", *(argv if argv is not None else sys.argv[1:])]),
              "note": args.note, **profiling.result_to_json(result),
              "parameters": [{**asdict(p), "bytes_fp32": p.bytes_fp32, "bytes_fp16": p.bytes_fp16}
                             for p in params.values()],
              "claims": [asdict(c) for c in claims], "overhead": overhead,
              "wall_seconds": time.perf_counter() - started,
              "load_average": {"before": load_before, "after": os.getloadavg(), "cpus": os.cpu_count()}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"bench-{result.environment.device_key}{'-' + args.tag if args.tag else ''}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    stem.with_suffix(".md").write_text(markdown(report))
    print(f"wrote {stem}.json and {stem}.md", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
