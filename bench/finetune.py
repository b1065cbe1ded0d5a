"""The Fine-tune tab's speed targets and its figures: per model and bundled example set (200 examples, the held-out
split of 160 / 40), the time and held-out accuracy of feature extraction (first-token and mean pooling), fine-tuning
(all layers, 3 epochs) and the tutorial's bug (the same model with an untrained head).

Targets (issue 15), on 2 CPU cores: feature extraction <= 15 s, fine-tuning 3 epochs <= 60 s. The times include
tokenizing and every fold's work; the first load of each model is excluded (it is timed on its own). The machine's
load average is recorded before and after every model: on a shared machine other processes take cores too, and the
report says how busy it was.

    python -m bench.finetune --threads 2 --out bench/results/
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

MODELS = ["minilm-l6", "mini-bert", "mini-roberta", "mini-albert", "mini-distilbert", "mini-electra-discriminator",
          "mini-xlnet"]
SETS = ["sentiment", "topic"]
TARGETS = {"feature extraction": 15.0, "fine-tuning": 60.0}


def measure(spec: str, name: str, epochs: int) -> list[dict]:
    from model_zoo import finetune as ft
    data = ft.parse_tsv(ft.example_text(name))
    split = ft.make_split(data)
    rows = []
    before = os.getloadavg()
    plans = [([ft.UNTRAINED], ft.CLS, "untrained head (the tutorial's bug)"),
             ([ft.FEATURES], ft.CLS, "feature extraction, first token"),
             ([ft.FEATURES], ft.MEAN, "feature extraction, mean"),
             ([ft.FINE_TUNING], ft.CLS, f"fine-tuning, all layers, {epochs} epochs")]
    for methods, pooling, label in plans:
        started = time.perf_counter()
        run = ft.run(spec, data, split, methods, pooling, ft.TrainConfig(epochs=epochs), keep=False)
        wall = time.perf_counter() - started
        result = run.results[0]
        target = TARGETS.get(result.method)
        rows.append({"model": spec, "set": name, "method": label, "accuracy": round(result.accuracy, 4),
                     "macro_f1": round(result.macro_f1, 4), "seconds": round(wall, 2),
                     "target_s": target, "meets_target": None if target is None else wall <= target,
                     "params_trained": result.params_trained, "first_loss": result.losses[0] if result.losses else None,
                     "last_loss": result.losses[-1] if result.losses else None})
        print(f"{spec:28s} {name:9s} {label:38s} acc {result.accuracy:.3f}  {wall:6.1f} s", flush=True)
    after = os.getloadavg()
    for row in rows:
        row["loadavg_before"], row["loadavg_after"] = [round(x, 2) for x in before], [round(x, 2) for x in after]
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the issue's target: 2 CPU cores)")
    parser.add_argument("--out", default="bench/results/")
    parser.add_argument("--name", default="finetune")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from model_zoo import loading
    torch.set_num_threads(args.threads)
    loading.configure(loading.Settings(device="cpu", offline=True))
    environment = {"cpu_count": os.cpu_count(), "torch_threads": args.threads, "torch": torch.__version__,
                   "python": platform.python_version(), "machine": platform.machine(),
                   "loadavg_start": [round(x, 2) for x in os.getloadavg()], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "note": "shared machine: other engineers' training and test runs were using the same cores; "
                           "loadavg_* (1, 5, 15 min) say how busy it was"}
    loads, rows = {}, []
    for spec in args.models.split(","):
        started = time.perf_counter()
        loading.load(spec)
        loads[spec] = round(time.perf_counter() - started, 2)
        for name in args.sets.split(","):
            rows.extend(measure(spec, name, args.epochs))
    environment["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps({"environment": environment, "load_seconds": loads,
                                                       "rows": rows}, indent=1))
    lines = [f"# Fine-tune tab: speed and accuracy ({environment['started']})", "",
             f"`python -m bench.finetune --threads {args.threads}` · {environment['cpu_count']} CPU cores, torch "
             f"threads {args.threads}, torch {environment['torch']} · load average (1/5/15 min) at start "
             f"{environment['loadavg_start']}, at end {environment['loadavg_end']}: {environment['note']}.", "",
             "Held-out split of each bundled set (160 train / 40 test); seconds include tokenizing, exclude the "
             "first load. Targets: feature extraction <= 15 s, fine-tuning 3 epochs <= 60 s.", "",
             "| model | set | method | accuracy | macro-F1 | seconds | target met | load before -> after (1 min) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        met = "" if r["meets_target"] is None else ("yes" if r["meets_target"] else "**no**")
        lines.append(f"| {r['model']} | {r['set']} | {r['method']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                     f"{r['seconds']:.1f} | {met} | {r['loadavg_before'][0]} -> {r['loadavg_after'][0]} |")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
