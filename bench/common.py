"""What the side-by-side benchmarks share: their command-line options, the offline CPU set-up they run under and
how they write their reports."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def parser(module: str, doc: str, runs: int, text: str) -> argparse.ArgumentParser:
    """`python -m bench.<module>` with --runs, --text, --threads, --out and --note."""
    made = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc.splitlines()[0])
    made.add_argument("--runs", type=int, default=runs)
    made.add_argument("--text", default=text)
    made.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    made.add_argument("--out", default="bench/results/")
    made.add_argument("--note", default="")
    return made


def offline_cpu(threads: int):
    """Offline (no Hub), on the CPU, with `threads` torch threads (0: torch's default); returns torch."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from model_zoo import loading
    if threads:
        torch.set_num_threads(threads)
    loading.configure(loading.Settings(device="cpu", offline=True))
    return torch


def write(report: dict, out: str, name: str, markdown) -> dict:
    """The report as `out`/name.json and, as markdown(report) writes it, `out`/name.md; prints the Markdown."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(report, indent=1))
    (folder / f"{name}.md").write_text(markdown(report))
    print(markdown(report))
    return report
