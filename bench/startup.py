"""Start-up as a user meets it: `python app.py` to the first page (HTTP 200), to the first finished request, a
request issued while the background UMAP warm-up runs against the same request after it, and a share link reopened in
headless Chromium (navigation to the linked result drawn; needs playwright and Debian's chromium, else not measured).

Each run starts a fresh app process on a free port (offline: the bundled mini checkpoints), so nothing is warm.

    python -m bench.startup --runs 3 --out bench/results/
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The capital of France is [MASK]."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_page(url: str, deadline_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"no page within {deadline_s} s")


def _timed_request(client) -> float:
    started = time.perf_counter()
    client.predict("mini-bert", TEXT, 5, api_name="/bert_fill_mask")
    return time.perf_counter() - started


LINK = "?tab=bert&section=fill-mask&model=mini-bert&run=1"
LINK_RESULT = "#bert-fm-bars .js-plotly-plot"


def _time_link(port: int, repeats: int = 3) -> float | None:
    """Median seconds from opening a share link (a fresh browser page each time) to its result drawn."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/{LINK}")
            page.wait_for_selector(LINK_RESULT, timeout=120_000, state="visible")
            times.append(time.perf_counter() - started)
            page.close()
        browser.close()
    return statistics.median(times)


def one_run(extra_args: list[str], log_path: Path) -> dict:
    """Launch, time the page and the first request, then a request during warm-up and one after it."""
    from gradio_client import Client
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--offline", "--port", str(port), *extra_args],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        page_s = _wait_for_page(f"http://127.0.0.1:{port}/", 180)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first_s = _timed_request(client)                      # loads mini-bert, maybe during the warm-up
        during = [_timed_request(client) for _ in range(3)]   # warm model; the warm-up may still be running
        warmed = None
        deadline = time.perf_counter() + 300
        while time.perf_counter() < deadline:                 # the app logs when the warm-up is done
            found = re.search(r"UMAP warmed up in ([\d.]+) s", log_path.read_text())
            if found or "UMAP warm-up failed" in log_path.read_text():
                warmed = float(found.group(1)) if found else -1.0
                break
            time.sleep(0.5)
        after = [_timed_request(client) for _ in range(3)]
        link_s = _time_link(port)
        return {"page_s": page_s, "first_request_s": first_s, "during_warmup_s": statistics.median(during),
                "after_warmup_s": statistics.median(after), "warmup_s": warmed, "share_link_s": link_s,
                "launch_to_first_answer_s": page_s + first_s}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="bench/results/")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    runs = [one_run([], out / "startup-app.log") for _ in range(args.runs)]
    load_after = os.getloadavg()
    (out / "startup-app.log").unlink(missing_ok=True)

    def spread(name: str) -> dict:
        values = [r[name] for r in runs if r[name] is not None]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}
    report = {"runs": runs, "load_before": load_before, "load_after": load_after, "cores": os.cpu_count(),
              "summary": {name: spread(name) for name in ("page_s", "first_request_s", "during_warmup_s",
                                                          "after_warmup_s", "warmup_s", "share_link_s")
                               if any(r[name] is not None for r in runs)}, "note": args.note}
    (out / "startup.json").write_text(json.dumps(report, indent=1))
    (out / "startup.md").write_text(markdown(report))
    print(markdown(report))
    return report


def markdown(r: dict) -> str:
    s = r["summary"]
    busy = max(r["load_before"][0], r["load_after"][0]) > r["cores"]
    rows = [("`python app.py --offline` to the first page (HTTP 200)", "page_s"),
            ("first fill-mask request (mini-BERT loads)", "first_request_s"),
            ("fill-mask request while the UMAP warm-up runs", "during_warmup_s"),
            ("the same request after the warm-up", "after_warmup_s"),
            ("the warm-up itself (background)", "warmup_s"),
            (f"a share link (`/{LINK}`) opened to its result drawn, median of 3 fresh pages", "share_link_s")]
    lines = ["# Start-up", "", f"Command: `python -m bench.startup --runs {len(r['runs'])}`; load average before "
             f"{r['load_before'][0]:.2f}, after {r['load_after'][0]:.2f} on {r['cores']} cores"
             + (" (BUSY: above one per core, read with care)." if busy else "."), "",
             "| | median s | min | max |", "|---|---|---|---|"]
    lines += [f"| {label} | {s[key]['median']:.2f} | {s[key]['min']:.2f} | {s[key]['max']:.2f} |" for label, key in rows
              if key in s]
    return "\n".join(lines + ([r["note"]] if r["note"] else []) + [""])


if __name__ == "__main__":
    main()
