"""Two users' Compare runs stay separate (#17.2): each session's Stop reaches its own run only, and each request's CSV
is a file of its own. The handlers are driven directly, each run held at its start by an Event while the other acts."""
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from components import app_state, compare_tab, server_files
from model_zoo import profiling

WAIT_S = 20


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling.cache, "CACHE_DIR", tmp_path / "cache")  # the runs save their measurement here


class HeldMeasure:
    """profiling.measure, held at its start until the test releases that session's run."""

    def __init__(self, real):
        self.real = real
        self.entered = {name: threading.Event() for name in ("A", "B")}
        self.release = {name: threading.Event() for name in ("A", "B")}
        self.session = threading.local()

    def __call__(self, specs, lengths, batches, **kwargs):
        name = self.session.name
        self.entered[name].set()
        assert self.release[name].wait(WAIT_S)
        return self.real(specs, lengths, batches, warmup=0, **kwargs)


def run_in_thread(held: HeldMeasure, name: str, spec: str):
    """Session `name` runs a one-size measurement of `spec` in a thread; returns (thread, box with its last output)."""
    box = {}

    def run():
        held.session.name = name
        request = SimpleNamespace(session_hash=f"session-{name}")
        try:
            for output in compare_tab.measure([], spec, [8], [1], progress=lambda *a, **k: None, request=request):
                box["last"] = output
        except Exception as error:  # read by the test
            box["error"] = error
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def test_one_sessions_stop_stops_only_its_own_run_and_each_gets_its_own_csv(tiny_path, monkeypatch):
    held = HeldMeasure(profiling.measure)
    monkeypatch.setattr(compare_tab.profiling, "measure", held)
    a, a_box = run_in_thread(held, "A", tiny_path("bert"))
    b, b_box = run_in_thread(held, "B", tiny_path("bert"))
    try:
        assert held.entered["A"].wait(WAIT_S) and held.entered["B"].wait(WAIT_S)   # both runs under way
        compare_tab.stop_measuring(SimpleNamespace(session_hash="session-B"))       # user B presses Stop
        compare_tab.stop_measuring(SimpleNamespace(session_hash="session-C"))       # a third, with no run: nothing
        compare_tab.stop_measuring(None)                                             # no session at all: nothing
        stops = app_state.current().stops
        assert stops["compare:session-B"].is_set()
        assert not stops["compare:session-A"].is_set()                         # A's run is not stopped
    finally:
        held.release["A"].set()
        held.release["B"].set()
    a.join(WAIT_S)
    b.join(WAIT_S)
    assert "last" in a_box, a_box.get("error")
    a_status, a_table, *_, a_csv = a_box["last"]
    assert "Stopped" not in a_status and len(a_table) == 1          # A measured its one (batch, length)
    b_status, b_table, *_ = b_box["last"]
    assert "Stopped" in b_status and len(b_table) == 0              # B stopped before it measured anything
    assert not {"compare:session-A", "compare:session-B"} & set(app_state.current().stops)  # flags go with runs
    a_path = Path(a_csv)
    assert a_path.exists() and a_path.parent.parent == server_files.EXPORT_ROOT
    other = Path(compare_tab.write_csv([], None))
    assert other.parent != a_path.parent and a_path.exists()         # another request never overwrites A's file
