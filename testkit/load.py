"""Simultaneous users on loopback against a running app (tests/test_load.py and bench/load_test.py).

`run_load`: N users call the app's model endpoints at once for a bounded time; p50/p95 per endpoint and kind, errors,
peak resident memory. Two scenarios of issue #17.2 on top of it:

- `run_with_slow_load`: the same users twice, without and then with another user's slow custom-checkpoint load in
  flight (a local folder whose load is held in its slow part, as a download would be); each user's first request
  loads a model of its own, which must not wait for the slow one.
- `compare_runs_separate`: two users' Compare runs; one user's Stop must not stop the other's run, and each gets a CSV
  of its own.

The app must run in this process (the slow load is held by patching `model_zoo.loading._fetch_files`).
"""
from __future__ import annotations

import shutil
import statistics
import threading
import time
from pathlib import Path

# Endpoints a user runs, in turn (those the app has; any missing are skipped). Each runs on its family's tiny model.
SCENARIO = ["/bert_fill_mask", "/roberta_attention", "/electra_replace_and_detect", "/xlnet_permutation",
            "/albert_fill_mask", "/distilbert_attention", "/bert_tokenize", "/xlnet_tokenize",
            "/bert_facts", "/bert_share_link"]
LIGHT = {"/bert_facts", "/bert_share_link"}  # cheap work: its own queue group, must not wait behind forward passes
NORMAL_TEXT = "The capital of France is [MASK], and Rome is in Italy."
FRESH_ENDPOINT = "/bert_tokenize"   # a user's first request, on a model of its own: (folder, text, pair)
WAIT_S = 120


def launch_app(weights: str = "tiny"):
    """The real app launched in this process on a free loopback port, offline on CPU, with launch's real bounds:
    (demo, url, folder_of) where folder_of(name) is the model folder users call ("tiny": random fixtures written to a
    temporary folder; "mini": the bundled mini checkpoints, under the same names)."""
    import tempfile

    import app
    from components import app_state
    from model_zoo import loading, tiny
    from testkit.net import free_port
    app_state.use(app_state.AppState(loading=loading.Runtime(loading.Settings(device="cpu", offline=True))))
    folder = Path(tempfile.mkdtemp(prefix="load-tiny-"))
    if weights == "tiny":
        tiny.save_all(folder)
    else:
        folder = Path(app.ASSETS) / "mini"
    demo = app.build_app("auto")
    app.configure_queue(demo)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_kwargs())
    return demo, f"http://127.0.0.1:{port}/", (lambda name: str(folder / name))


def scenario_calls(client, tiny_path, endpoints=SCENARIO) -> list[tuple[str, list]]:
    from testkit.fuzzing import model_fixture
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


def _pct(values, q):
    return round(statistics.quantiles(values, n=100)[q - 1], 3) if len(values) >= 2 else \
        (round(values[0], 3) if values else None)


def run_load(url: str, tiny_path, users: int, seconds: float, max_calls_per_user: int = 1000,
             fresh_models: list[str] | None = None, min_calls_per_user: int = 1) -> dict:
    """`users` clients call the scenario in turn for `seconds`, each at least `min_calls_per_user` times (a busy machine
    can spend the whole window on a fresh load: the run still measures something). With `fresh_models`, user i first
    loads its own model (fresh_models[i], a folder no one loaded yet) through FRESH_ENDPOINT; those latencies are
    `fresh_load_s`."""
    import psutil
    from gradio_client import Client

    calls = scenario_calls(Client(url, verbose=False), tiny_path)
    latencies: dict[str, list[float]] = {endpoint: [] for endpoint, _ in calls}
    fresh: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    peak_rss = [psutil.Process().memory_info().rss]

    def call(client, endpoint, args, into: list) -> None:
        started = time.perf_counter()
        try:
            client.predict(*args, api_name=endpoint)
            with lock:
                into.append(time.perf_counter() - started)
        except Exception as error:  # counted, never fatal
            with lock:
                errors.append(f"{endpoint}: {str(error)[:200]}")

    def user(index: int) -> None:
        client = Client(url, verbose=False)
        if fresh_models:
            call(client, FRESH_ENDPOINT, [fresh_models[index % len(fresh_models)], NORMAL_TEXT, ""], fresh)
        for n in range(max_calls_per_user):
            if n >= min_calls_per_user and time.monotonic() > deadline:
                return
            endpoint, args = calls[(index + n) % len(calls)]
            call(client, endpoint, args, latencies[endpoint])

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
        thread.join(timeout=seconds + WAIT_S)

    every = [v for values in latencies.values() for v in values]
    by_kind = {kind: [v for e, values in latencies.items() if (e in LIGHT) == (kind == "light") for v in values]
               for kind in ("model", "light")}
    result = {"users": users, "seconds": seconds, "requests": len(every), "errors": len(errors),
              "error_samples": errors[:5], "p50_s": _pct(every, 50), "p95_s": _pct(every, 95),
              "per_kind": {k: {"n": len(v), "p50_s": _pct(v, 50), "p95_s": _pct(v, 95)} for k, v in by_kind.items()},
              "per_endpoint": {e: {"n": len(v), "p50_s": _pct(v, 50), "p95_s": _pct(v, 95)}
                               for e, v in latencies.items()},
              "peak_rss_mb": round(peak_rss[0] / 2 ** 20)}
    if fresh_models:
        result["fresh_load_s"] = sorted(round(v, 3) for v in fresh)
    return result


class SlowLoad:
    """While active, the load of `folder` waits in its slow part (loading._fetch_files, outside every global lock, as
    a download does) until `release` is set; `entered` is set when it gets there. Other folders load as usual."""

    def __init__(self, folder: str | Path):
        self.folder = str(folder)
        self.entered, self.release = threading.Event(), threading.Event()
        self._real = None

    def __enter__(self) -> "SlowLoad":
        from model_zoo import loading
        self._real = real = loading._fetch_files

        def fetch(source, *args, **kwargs):
            if str(source) == self.folder:
                self.entered.set()
                self.release.wait(WAIT_S * 5)
            return real(source, *args, **kwargs)
        loading._fetch_files = fetch
        return self

    def __exit__(self, *exc) -> None:
        from model_zoo import loading
        self.release.set()
        loading._fetch_files = self._real


def _copies(source: str, root: Path, prefix: str, n: int) -> list[str]:
    """n copies of a checkpoint folder, each a model no one has loaded yet (the cache is keyed by folder)."""
    out = []
    for i in range(n):
        target = root / f"{prefix}-{i}"
        shutil.copytree(source, target)
        out.append(str(target))
    return out


def run_with_slow_load(url: str, tiny_path, users: int, seconds: float, workdir: str | Path) -> dict:
    """The users twice: without, then with a slow custom load in flight for the whole run (released after it).
    Reports both runs, the slowdown of the others (p50/p95 ratios), whether the slow load was still in flight when the
    others had finished (it must be: nothing waited for it), and its own time once released."""
    from gradio_client import Client
    workdir = Path(workdir)
    warm = Client(url, verbose=False)
    for endpoint, args in scenario_calls(warm, tiny_path):   # every scenario model loaded before either run
        try:
            warm.predict(*args, api_name=endpoint)
        except Exception:  # reported by the runs themselves
            pass
    without = run_load(url, tiny_path, users, seconds, fresh_models=_copies(tiny_path("bert"), workdir, "fresh-a",
                                                                             users))
    slow_folder = _copies(tiny_path("bert"), workdir, "slow-custom", 1)[0]
    with SlowLoad(slow_folder) as slow:
        job = Client(url, verbose=False).submit(slow_folder, NORMAL_TEXT, "", api_name=FRESH_ENDPOINT)
        if not slow.entered.wait(WAIT_S):
            raise RuntimeError("the slow load never reached its slow part")
        with_slow = run_load(url, tiny_path, users, seconds,
                             fresh_models=_copies(tiny_path("bert"), workdir, "fresh-b", users))
        in_flight = not job.done()
        released = time.perf_counter()
        slow.release.set()
        try:
            job.result(timeout=WAIT_S)
            slow_error = None
        except Exception as error:
            slow_error = str(error)[:200]
        slow_after_release_s = round(time.perf_counter() - released, 3)

    def ratio(a, b):
        return round(a / b, 2) if a and b else None
    return {"without_slow_load": without, "with_slow_load": with_slow,
            "slow_load_in_flight_throughout": in_flight, "slow_load_error": slow_error,
            "slow_load_seconds_after_release": slow_after_release_s,
            "others_p50_ratio": ratio(with_slow["p50_s"], without["p50_s"]),
            "others_p95_ratio": ratio(with_slow["p95_s"], without["p95_s"]),
            "per_kind_p50_ratio": {k: ratio(with_slow["per_kind"][k]["p50_s"], without["per_kind"][k]["p50_s"])
                                   for k in ("model", "light")}}


class HoldNextMeasure:
    """While active, the next Compare measurement waits at its start (in components.compare_tab's call of
    profiling.measure, its Stop flag already set up) until `release` is set; `entered` says it got there."""

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()
        self._real = None

    def __enter__(self) -> "HoldNextMeasure":
        from components import compare_tab
        self._real = real = compare_tab.profiling.measure
        armed = [True]

        def measure(*args, **kwargs):
            if armed[0]:
                armed[0] = False
                self.entered.set()
                self.release.wait(WAIT_S)
            return real(*args, **kwargs)
        compare_tab.profiling.measure = measure
        return self

    def __exit__(self, *exc) -> None:
        from components import compare_tab
        self.release.set()
        compare_tab.profiling.measure = self._real


def compare_runs_separate(url: str, tiny_path, lengths=(8, 16), batches=(1,)) -> dict:
    """Two users measure in the Compare tab. A's run is held mid-way while B queues a run of its own and presses Stop:
    A must still measure every size (B's Stop is B's), B's queued run too, and each gets its own CSV. Then B's next
    run, held the same way, is stopped by B's Stop."""
    from gradio_client import Client
    a, b = Client(url, verbose=False), Client(url, verbose=False)
    args = ([], tiny_path("bert"), list(lengths), list(batches))
    with HoldNextMeasure() as hold:
        job_a = a.submit(*args, api_name="/compare_measure")
        if not hold.entered.wait(WAIT_S):
            raise RuntimeError("A's measurement never started")
        job_b = b.submit(*args, api_name="/compare_measure")     # waits: one measurement at a time
        b.predict(api_name="/compare_stop")                      # B presses Stop while A's run is under way
        hold.release.set()
        status_a, table_a, *_, csv_a = job_a.result(timeout=WAIT_S)
        status_b, table_b, *_, csv_b = job_b.result(timeout=WAIT_S)
    with HoldNextMeasure() as hold:
        job_b2 = b.submit(*args, api_name="/compare_measure")
        if not hold.entered.wait(WAIT_S):
            raise RuntimeError("B's second measurement never started")
        b.predict(api_name="/compare_stop")                      # now B's Stop meets B's own run
        hold.release.set()
        try:
            status_b2, table_b2, *_ = job_b2.result(timeout=WAIT_S)
            b2_stopped = "Stopped" in status_b2 and len(table_b2["data"]) == 0
        except Exception as error:  # "Stopped before anything was measured."
            b2_stopped = "Stopped" in str(error)
    return {"sizes": len(lengths) * len(batches),
            "a_measured": len(table_a["data"]), "a_stopped": "Stopped" in status_a,
            "b_measured": len(table_b["data"]), "b_stopped": "Stopped" in status_b,
            "csv_files_distinct": bool(csv_a and csv_b) and csv_a != csv_b, "b_stops_its_own_run": b2_stopped}
