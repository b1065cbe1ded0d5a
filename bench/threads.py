"""Torch threads per forward pass when the queue runs two passes at once (issue #16: app.py's default): the same
bert-base-size forward passes, two Python threads at a time as the queue runs them, with 1 and then 2 torch threads
each, alternated over rounds. Reports each setting's median latency per pass and throughput, with the machine's load.

    python -m bench.threads --rounds 3 --out bench/results/threads.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path


def _passes(model, ids, n: int, into: list) -> None:
    import torch
    with torch.inference_mode():
        for _ in range(n):
            started = time.perf_counter()
            model(input_ids=ids)
            into.append(time.perf_counter() - started)


def one_setting(model, ids, threads: int, concurrent: int, passes: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    _passes(model, ids, 2, [])                                  # warm-up at this setting
    latencies: list[float] = []
    workers = [threading.Thread(target=_passes, args=(model, ids, passes, latencies)) for _ in range(concurrent)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return {"threads": threads, "median_ms": 1000 * statistics.median(latencies),
            "passes_per_s": len(latencies) / wall}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--passes", type=int, default=10, help="forward passes per Python thread per setting")
    parser.add_argument("--concurrent", type=int, default=2, help="passes at once (the queue's model concurrency)")
    parser.add_argument("--out", default="bench/results/threads.json")
    args = parser.parse_args(argv)
    import torch
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig()).eval()                      # bert-base's shape; latency does not depend on values
    ids = torch.randint(1000, 20000, (1, args.tokens))
    load_before = os.getloadavg()
    rounds = [[one_setting(model, ids, t, args.concurrent, args.passes) for t in (1, 2)] for _ in range(args.rounds)]
    report = {"cores": os.cpu_count(), "concurrent": args.concurrent, "tokens": args.tokens, "passes": args.passes,
              "load_before": load_before, "load_after": os.getloadavg(), "rounds": rounds,
              "summary": {t: {"median_ms": [r[i]["median_ms"] for r in rounds],
                              "passes_per_s": [r[i]["passes_per_s"] for r in rounds]} for i, t in enumerate((1, 2))}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report["summary"], indent=1), "load", report["load_before"][0], "->", report["load_after"][0])
    return report


if __name__ == "__main__":
    main()
