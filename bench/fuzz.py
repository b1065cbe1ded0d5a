"""Full fuzz run: every named endpoint of a freshly launched app x every hostile input; writes bench/results/fuzz.json.

    python -m bench.fuzz
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    import app
    from gradio_client import Client
    from model_zoo import loading, tiny
    from testkit.fuzzing import HOSTILE_TEXTS, fuzz
    from testkit.net import free_port

    loading.configure(loading.Settings(device="cpu", offline=True))
    fixtures = Path(tempfile.mkdtemp(prefix="fuzz-tiny-"))
    tiny.save_all(fixtures)
    demo = app.build_app("auto")
    demo.queue(default_concurrency_limit=2)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    started = time.perf_counter()
    outcomes = fuzz(Client(f"http://127.0.0.1:{port}/", verbose=False), lambda n: str(fixtures / n),
                    list(HOSTILE_TEXTS))
    demo.close()
    failures = [o for o in outcomes if not o.ok]
    result = {"calls": len(outcomes), "endpoints": len({o.endpoint for o in outcomes}), "failures": len(failures),
              "seconds": round(time.perf_counter() - started, 1),
              "failed": [o.__dict__ for o in failures],
              "slowest": sorted(({"endpoint": o.endpoint, "case": o.case, "seconds": round(o.seconds, 2)}
                                 for o in outcomes), key=lambda r: -r["seconds"])[:5]}
    out = ROOT / "bench" / "results" / "fuzz.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "failed"}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
