"""The side-by-side view's "why" row (integrated gradients of each model's top-1, 32 steps) against the view itself.

For the bundled mini checkpoints of the six families and the real MiniLM (the offline side-by-side defaults): the
view's time is `model_zoo.side_by_side.side_by_side` (tokens, guesses, agreement, attention summaries); the why row's
time is `side_by_side.explain` on every column of that view (MiniLM's is a note: it has no MLM head). The two are
timed one after the other in each run, so a change in the machine's load touches both alike. Target: why <= 3 x view.

    python -m bench.attribution --runs 3 --out bench/results/
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time

from bench import common

TARGET = 3.0
TEXT = "The doctor told the [MASK] that she was late for the meeting because her train was delayed again."


def main(argv=None) -> dict:
    parser = common.parser("attribution", __doc__, runs=3, text=TEXT)
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args(argv)
    torch = common.offline_cpu(args.threads)
    from model_zoo import side_by_side as sbs
    specs = sbs.default_specs("mini")
    uptime_before, load_before = _uptime(), os.getloadavg()
    view = sbs.side_by_side(specs, args.text)                     # loads everything: loading is not what is timed
    [sbs.explain(c, args.text, args.steps) for c in view.columns]
    view_s, why_s, per_model = [], [], {c.key: [] for c in view.columns}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        view = sbs.side_by_side(specs, args.text)
        t1 = time.perf_counter()
        for column in view.columns:
            start = time.perf_counter()
            sbs.explain(column, args.text, args.steps)
            per_model[column.key].append(time.perf_counter() - start)
        why_s.append(time.perf_counter() - t1), view_s.append(t1 - t0)
    load_after, uptime_after = os.getloadavg(), _uptime()
    ratios = [w / v for w, v in zip(why_s, view_s)]
    last = [sbs.explain(c, args.text, args.steps) for c in view.columns]
    report = {"models": specs, "text": args.text, "steps": args.steps, "runs": args.runs,
              "threads": torch.get_num_threads(), "cores": os.cpu_count(), "load_before": load_before,
              "load_after": load_after, "uptime_before": uptime_before, "uptime_after": uptime_after,
              "view_ms": [v * 1e3 for v in view_s], "why_ms": [w * 1e3 for w in why_s], "ratios": ratios,
              "ratio_median": statistics.median(ratios), "per_model_median_ms": {
                  k: statistics.median(v) * 1e3 for k, v in per_model.items()},
              "gaps": {c.key: (None if c.why is None else c.why.relative_gap) for c in last},
              "why_notes": {c.key: c.notes["why"] for c in last if "why" in c.notes},
              "tokens": {c.key: c.tokens.n_tokens for c in view.columns if c.tokens},
              "target": TARGET, "meets_target": statistics.median(ratios) <= TARGET, "note": args.note}
    return common.write(report, args.out, "attribution", markdown)


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def markdown(r: dict) -> str:
    busy = max(r["load_before"][0], r["load_after"][0]) > r["cores"]
    gaps = {k: "—" if g is None else f"{100 * g:.2g}%" for k, g in r["gaps"].items()}
    per_model = "\n".join(f"| {k} | {r['tokens'].get(k, '')} | {v:.0f} | {gaps[k]} |"
                          for k, v in r["per_model_median_ms"].items())
    return "\n".join([
        "# Side by side: the why row (integrated gradients) against the view", "",
        f"Command: `python -m bench.attribution --runs {r['runs']} --steps {r['steps']}`. Models: "
        f"{', '.join(r['models'])} (the bundled minis and the real MiniLM). Text: \"{r['text']}\". torch threads: "
        f"{r['threads']} on {r['cores']} cores. Load average before {r['load_before'][0]:.2f}, after "
        f"{r['load_after'][0]:.2f}" + (" (BUSY: above one per core, read with care: rerun it quiet)." if busy
                                       else " (quiet: nothing else ran)."), "",
        f"`uptime` before: `{r['uptime_before']}`", "", f"`uptime` after: `{r['uptime_after']}`", "",
        "| run | view ms | why row ms | why / view |", "|---|---|---|---|",
        *(f"| {i + 1} | {v:.0f} | {w:.0f} | {x:.2f} |" for i, (v, w, x) in enumerate(zip(
            r["view_ms"], r["why_ms"], r["ratios"]))), "",
        f"Ratio why / view: median {r['ratio_median']:.2f}, spread {min(r['ratios']):.2f} to {max(r['ratios']):.2f} "
        f"over {r['runs']} runs (target <= {r['target']:g}: {'met' if r['meets_target'] else 'NOT met'}).", "",
        "| model | tokens | why median ms | completeness gap |", "|---|---|---|---|", per_model, "",
        *(f"{k}: no why row ({v})." for k, v in r["why_notes"].items()),
        *([r["note"]] if r["note"] else []), ""])


if __name__ == "__main__":
    main()
