"""Soak on loopback: many users for many minutes, mixed endpoints (forward passes, share links, CSV uploads through
Gradio's upload route, uploads over the limit), with the file sweeper running. Reports per minute: requests, errors
(target 0), p50/p95 latency, the process's resident memory (target: flat after warm-up, growth under 10%) and the
bytes in the temporary folders (target: bounded by the sweep).

    python -m bench.soak --users 32 --minutes 10                  # -> bench/results/soak.json and soak.md
    python -m bench.soak --users 4 --minutes 1 --out /tmp/soak.json   # a quick look
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

UPLOAD_EVERY = 5    # each user's every 5th call uploads a small CSV to the fine-tune tab
OVERSIZE_EVERY = 25  # and every 25th posts a file over the limit straight to the upload route (expects 413)


def _pct(values: list[float], q: int):
    if not values:
        return None
    return round(statistics.quantiles(values, n=100)[q - 1], 3) if len(values) >= 2 else round(values[0], 3)


def small_csv(folder: Path, index: int) -> str:
    path = folder / f"user{index}.csv"
    rows = "".join(f"\"review {k}: the room was {'clean' if k % 2 else 'dirty'}\",{k % 2}\n" for k in range(40))
    path.write_text("text,label\n" + rows)
    return str(path)


def run(url: str, tiny_path, users: int, seconds: float, watched: list[Path]) -> dict:
    import psutil
    import requests
    from gradio_client import Client, handle_file

    from components.server_files import MAX_UPLOAD_BYTES, folder_bytes
    from testkit.load import scenario_calls

    calls = scenario_calls(Client(url, verbose=False), tiny_path)
    started = time.monotonic()
    deadline = started + seconds
    samples: list[tuple[float, str, float, bool]] = []   # (seconds since start, endpoint, latency, ok)
    errors: list[str] = []
    lock = threading.Lock()
    files = Path(tempfile.mkdtemp(prefix="soak-uploads-"))
    oversize = b"x" * (MAX_UPLOAD_BYTES + 10_000)

    def record(endpoint: str, t0: float, ok: bool, error: str = "") -> None:
        with lock:
            samples.append((t0 - started, endpoint, time.monotonic() - t0, ok))
            if not ok:
                errors.append(f"{endpoint}: {error[:200]}")

    def user(index: int) -> None:
        client = Client(url, verbose=False)
        csv_path = small_csv(files, index)
        n = 0
        while time.monotonic() < deadline:
            n += 1
            t0 = time.monotonic()
            try:
                if n % OVERSIZE_EVERY == 0:
                    status = requests.post(f"{url}gradio_api/upload", timeout=60,
                                           files={"files": ("big.csv", oversize, "text/csv")}).status_code
                    record("upload over the limit", t0, status == 413, f"status {status}")
                elif n % UPLOAD_EVERY == 0:
                    client.predict(handle_file(csv_path), api_name="/finetune_upload")
                    record("/finetune_upload", t0, True)
                else:
                    endpoint, args = calls[(index + n) % len(calls)]
                    client.predict(*args, api_name=endpoint)
                    record(endpoint, t0, True)
            except Exception as error:  # counted, never fatal
                record("call", t0, False, f"{type(error).__name__}: {error}")

    process = psutil.Process()
    minutes: list[dict] = []

    def watch() -> None:
        rss, folder = [], []
        next_minute = started + 60
        while time.monotonic() < deadline + 1:
            rss.append(process.memory_info().rss)
            folder.append(folder_bytes(watched))
            if time.monotonic() >= next_minute or time.monotonic() >= deadline:
                minutes.append({"rss_mb": round(max(rss) / 2 ** 20), "temp_mb": round(max(folder) / 2 ** 20, 2)})
                rss, folder = [], []
                next_minute += 60
            time.sleep(2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    watcher.join(timeout=10)

    per_minute = []
    for m, watched_minute in enumerate(minutes):
        inside = [s for s in samples if m * 60 <= s[0] < (m + 1) * 60]
        ok = [s[2] for s in inside if s[3]]
        per_minute.append({"minute": m + 1, "requests": len(inside), "errors": sum(not s[3] for s in inside),
                           "p50_s": _pct(ok, 50), "p95_s": _pct(ok, 95), **watched_minute})
    settled = [m["rss_mb"] for m in per_minute[1:]] or [m["rss_mb"] for m in per_minute]
    return {"users": users, "seconds": seconds, "requests": len(samples), "errors": len(errors),
            "error_samples": errors[:5], "per_minute": per_minute,
            "rss_growth_after_warm_up": round(settled[-1] / settled[0] - 1, 3) if settled else None,
            "uploads": sum(s[1] == "/finetune_upload" for s in samples),
            "refused_oversize_uploads": sum(s[1] == "upload over the limit" and s[3] for s in samples)}


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = [f"# Soak: {result['users']} users for {result['seconds'] / 60:g} minutes on loopback",
             "", f"- command: `{env['command']}`",
             f"- machine: {env['cores']} cores; load (1/5/15 min) before {env['load_before']}, after {env['load_after']}",
             f"- sweeper: files older than {env['max_age_s']} s deleted every {env['sweep_every_s']} s; "
             f"upload limit {env['max_upload_bytes']:,} bytes",
             f"- requests {result['requests']:,}, errors {result['errors']} (target 0); uploads "
             f"{result['uploads']:,}, oversize uploads refused {result['refused_oversize_uploads']:,}",
             f"- resident memory growth after the first minute: {result['rss_growth_after_warm_up']:.1%} "
             "(target under 10%)", "",
             "| minute | requests | errors | p50 s | p95 s | resident MB | temp folders MB |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {m['minute']} | {m['requests']} | {m['errors']} | {m['p50_s']} | {m['p95_s']} | {m['rss_mb']} | "
              f"{m['temp_mb']} |" for m in result["per_minute"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--max-age-s", type=float, default=120, help="the sweep's age (the app's is an hour)")
    parser.add_argument("--sweep-every-s", type=float, default=30)
    parser.add_argument("--weights", choices=("tiny", "mini"), default="tiny")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args(argv)

    import torch

    import app
    from components import server_files
    from testkit.load import launch_app

    gradio_tmp = Path(tempfile.mkdtemp(prefix="soak-gradio-"))
    os.environ["GRADIO_TEMP_DIR"] = str(gradio_tmp)   # the soak's own upload folder, measured alone
    torch.set_num_threads(app.torch_threads())
    load_before = [round(x, 2) for x in os.getloadavg()]
    demo, url, folder_of = launch_app(args.weights)
    watched = [gradio_tmp, server_files.EXPORT_ROOT]
    stop = server_files.start_sweeper(watched, every_s=args.sweep_every_s, max_age_s=args.max_age_s)
    result = run(url, folder_of, args.users, args.minutes * 60, watched)
    stop.set()
    demo.close()
    result["environment"] = {"command": "python -m bench.soak " + " ".join(argv or sys.argv[1:]),
                             "cores": os.cpu_count(), "load_before": load_before,
                             "load_after": [round(x, 2) for x in os.getloadavg()], "max_age_s": args.max_age_s,
                             "sweep_every_s": args.sweep_every_s, "weights": args.weights,
                             "max_upload_bytes": server_files.MAX_UPLOAD_BYTES}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
