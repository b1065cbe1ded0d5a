"""Projection benchmark: seconds per 1,000 points of 768 dims, UMAP and PCA, cold (fresh process) and warm.

Cold runs in a fresh subprocess: once with an EMPTY numba cache (the very first start of an app), once with the cache
that run left behind (later starts). Warm is the median of repeated fits in a process that has already fitted once.
Wall and CPU seconds are both written, with the machine's facts and load, since the machine may be shared.

    python -m bench.projection            # writes bench/results/projection.json and projection.md
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
N_POINTS, DIMS, REPEATS = 1_000, 768, 3

CHILD = r"""
import json, statistics, sys, time
import numpy as np
t0, c0 = time.perf_counter(), time.process_time()
from model_zoo import projection
rng = np.random.default_rng(0)
centres = rng.normal(size=(10, {dims}))
x = (centres[rng.integers(0, 10, {n})] + 0.5 * rng.normal(size=({n}, {dims}))).astype(np.float32)  # (n, dims)

def timed(method):
    w, c = time.perf_counter(), time.process_time()
    found = projection.project(x, method=method, seed=0)
    assert found.coords.shape == ({n}, 2) and found.method == method.upper(), found
    return time.perf_counter() - w, time.process_time() - c

out = {{}}
for method in ("pca", "umap"):
    first = timed(method)
    later = [timed(method) for _ in range({repeats})]
    out[method] = {{"cold_wall_s": first[0], "cold_cpu_s": first[1],
                    "warm_wall_s": statistics.median(w for w, _ in later),
                    "warm_cpu_s": statistics.median(c for _, c in later)}}
out["process_wall_s"] = time.perf_counter() - t0
print("RESULT " + json.dumps(out))
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_child(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(ROOT))
    code = CHILD.format(n=N_POINTS, dims=DIMS, repeats=REPEATS)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> int:
    load_before = os.getloadavg()
    cache_dir = tempfile.mkdtemp(prefix="bench-numba-")
    started = time.perf_counter()
    empty_cache = run_child(cache_dir)     # the first start ever: numba compiles everything
    with_cache = run_child(cache_dir)      # a later start: numba's on-disk cache is there
    round2 = lambda d: {k: round(v, 2) for k, v in d.items()}  # noqa: E731
    result = {
        "points": N_POINTS, "dims": DIMS, "repeats": REPEATS,
        "umap": {"cold_empty_cache": round2({k: v for k, v in empty_cache["umap"].items() if k.startswith("cold")}),
                 "cold_with_cache": round2({k: v for k, v in with_cache["umap"].items() if k.startswith("cold")}),
                 "warm": round2({k: v for k, v in with_cache["umap"].items() if k.startswith("warm")})},
        "pca": {"cold": round2({k: v for k, v in empty_cache["pca"].items() if k.startswith("cold")}),
                "warm": round2({k: v for k, v in with_cache["pca"].items() if k.startswith("warm")})},
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
                    "load_average_before": [round(v, 2) for v in load_before],
                    "load_average_after": [round(v, 2) for v in os.getloadavg()]},
        "note": "seconds per 1,000 points; wall and CPU (process time); the target is about 2 s warm for UMAP. "
                "The machine may be shared: the load averages say how busy it was.",
        "total_seconds": round(time.perf_counter() - started, 1),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "projection.json").write_text(json.dumps(result, indent=1))
    u, p, m = result["umap"], result["pca"], result["machine"]
    line = (f"| {result['date']} | {m['cores']} cores, {m['cpu']} (load {m['load_average_before'][0]}) | "
            f"UMAP warm {u['warm']['warm_wall_s']} s wall / {u['warm']['warm_cpu_s']} s CPU; cold "
            f"{u['cold_empty_cache']['cold_wall_s']} s (empty numba cache), {u['cold_with_cache']['cold_wall_s']} s "
            f"(cached) | PCA warm {p['warm']['warm_wall_s']} s, cold {p['cold']['cold_wall_s']} s |")
    (RESULTS / "projection.md").write_text("| date | machine | UMAP per 1,000 x 768 | PCA per 1,000 x 768 |\n"
                                           "|---|---|---|---|\n" + line + "\n")
    print(json.dumps(result, indent=1))
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
