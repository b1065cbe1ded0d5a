"""Load test on loopback: N simulated users call the app's model endpoints at once for a bounded time.

Reports p50/p95 latency per endpoint, errors (target: none), peak resident memory, and how many times each model was
loaded (target: once). The suite runs a short version (tests/test_load.py); the full one:

    python -m bench.load_test --users 16 --seconds 60
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Endpoints a user runs, in turn (those the app has; any missing are skipped). Each runs on its family's tiny model.
SCENARIO = ["/bert_fill_mask", "/roberta_attention", "/electra_replace_and_detect", "/xlnet_permutation",
            "/albert_fill_mask", "/distilbert_attention", "/bert_tokenize", "/xlnet_tokenize",
            "/bert_facts", "/bert_share_link"]
LIGHT = {"/bert_facts", "/bert_share_link"}  # cheap work: its own queue group, must not wait behind forward passes
NORMAL_TEXT = "The capital of France is [MASK], and Rome is in Italy."


def scenario_calls(client, tiny_path, endpoints=SCENARIO) -> list[tuple[str, list]]:
    from tests.fuzzing import model_fixture
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    calls = []
    for endpoint in endpoints:
        if endpoint not in api:
            continue
        args = []
        for parameter in api[endpoint]["parameters"]:
            fixture = model_fixture(endpoint, parameter)
            if fixture:
                args.append(tiny_path(fixture))
            elif parameter.get("component") == "Textbox" and parameter.get("label", "").startswith("Text"):
                args.append(NORMAL_TEXT)
            else:
                args.append(parameter.get("parameter_default"))
        calls.append((endpoint, args))
    return calls


def run_load(url: str, tiny_path, users: int, seconds: float, max_calls_per_user: int = 1000) -> dict:
    import psutil
    from gradio_client import Client

    calls = scenario_calls(Client(url, verbose=False), tiny_path)
    latencies: dict[str, list[float]] = {endpoint: [] for endpoint, _ in calls}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    peak_rss = [psutil.Process().memory_info().rss]

    def user(index: int) -> None:
        client = Client(url, verbose=False)
        for n in range(max_calls_per_user):
            if time.monotonic() > deadline:
                return
            endpoint, args = calls[(index + n) % len(calls)]
            started = time.perf_counter()
            try:
                client.predict(*args, api_name=endpoint)
                with lock:
                    latencies[endpoint].append(time.perf_counter() - started)
            except Exception as error:  # counted, never fatal
                with lock:
                    errors.append(f"{endpoint}: {str(error)[:200]}")

    def watch_memory() -> None:
        while time.monotonic() < deadline + 5:
            peak_rss[0] = max(peak_rss[0], psutil.Process().memory_info().rss)
            time.sleep(0.2)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)

    def pct(values, q):
        return round(statistics.quantiles(values, n=100)[q - 1], 3) if len(values) >= 2 else \
            (round(values[0], 3) if values else None)
    every = [v for values in latencies.values() for v in values]
    by_kind = {kind: [v for e, values in latencies.items() if (e in LIGHT) == (kind == "light") for v in values]
               for kind in ("model", "light")}
    return {"users": users, "seconds": seconds, "requests": len(every), "errors": len(errors),
            "error_samples": errors[:5], "p50_s": pct(every, 50), "p95_s": pct(every, 95),
            "per_kind": {k: {"n": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95)} for k, v in by_kind.items()},
            "per_endpoint": {e: {"n": len(v), "p50_s": pct(v, 50), "p95_s": pct(v, 95)} for e, v in latencies.items()},
            "peak_rss_mb": round(peak_rss[0] / 2 ** 20)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load_test.json"))
    args = parser.parse_args(argv)

    import app
    from model_zoo import loading, tiny
    from tests.conftest import free_port

    loading.configure(loading.Settings(device="cpu", offline=True))
    fixtures = Path(tempfile.mkdtemp(prefix="load-tiny-"))
    tiny.save_all(fixtures)
    demo = app.build_app("auto")
    app.configure_queue(demo)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    result = run_load(f"http://127.0.0.1:{port}/", lambda n: str(fixtures / n), args.users, args.seconds)
    keys = loading.cache().keys()
    result["model_loads"] = loading.cache().loads
    result["distinct_models"] = len({k[:3] for k in keys})
    demo.close()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
