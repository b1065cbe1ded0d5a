"""Load test on loopback: N simulated users call the app's model endpoints at once for a bounded time.

Reports p50/p95 latency per endpoint, errors (target: none), peak resident memory, and how many times each model was
loaded (target: once); then (#17.2) the same users without and with another user's slow custom-checkpoint load in
flight (their latency side by side, and their own first loads, which must not wait for it), and two users' Compare
runs that must stay separate. The runners live in testkit.load; the suite runs a short version (tests/test_load.py);
the full one:

    python -m bench.load_test --users 16 --seconds 60
    python -m bench.load_test --weights mini --threads 1 --isolation-seconds 0 --out bench/results/load_test-threads1.json
        # and --threads 2: the torch thread count the app should set for its queue (README, "Threads")
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--isolation-users", type=int, default=4,
                        help="users in the slow-load scenario (each run: --isolation-seconds)")
    parser.add_argument("--isolation-seconds", type=float, default=20)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load_test.json"))
    parser.add_argument("--weights", choices=("tiny", "mini"), default="tiny",
                        help="the models every user calls: the tiny random fixtures, or the bundled mini checkpoints "
                             "(assets/mini/, what the app runs offline)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads per forward pass (0: what app.py would set: cores / model concurrency)")
    args = parser.parse_args(argv)

    import app
    from model_zoo import loading
    from testkit.load import compare_runs_separate, launch_app, run_load, run_with_slow_load

    import torch
    threads = args.threads or app.torch_threads()
    torch.set_num_threads(threads)
    load_before = os.getloadavg()
    demo, url, tiny_path = launch_app(args.weights)
    result = run_load(url, tiny_path, args.users, args.seconds)
    keys = loading.cache().keys()
    result["model_loads"] = loading.cache().loads
    result["distinct_models"] = len({k[:3] for k in keys})
    isolation = {}
    if args.isolation_seconds > 0:
        isolation["slow_custom_load"] = run_with_slow_load(url, tiny_path, args.isolation_users,
                                                           args.isolation_seconds, tempfile.mkdtemp(prefix="slow-"))
        isolation["compare_runs"] = compare_runs_separate(url, tiny_path)
    demo.close()
    result["isolation"] = isolation
    result["environment"] = {"torch_threads": threads, "cores": os.cpu_count(), "load_before": load_before,
                             "load_after": os.getloadavg(), "users": args.users, "seconds": args.seconds,
                             "weights": args.weights}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    slow, compare = isolation.get("slow_custom_load", {}), isolation.get("compare_runs", {})
    failed = result["errors"] or (slow and (slow["with_slow_load"]["errors"] or slow["slow_load_error"]
                                            or not slow["slow_load_in_flight_throughout"])) \
        or (compare and (compare["a_stopped"] or compare["a_measured"] != compare["sizes"] or compare["b_stopped"]
                         or not compare["csv_files_distinct"] or not compare["b_stops_its_own_run"]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
