"""Time limits that really bound concurrency (#17.2): work abandoned at its time limit keeps running (Python cannot stop
a thread), so it keeps its kind's slot until it ends; the next request of that kind waits for a slot, not beside it.

Each test uses a kind of its own (added to WORK_KINDS for the test), so the app's own slots are untouched.
"""
import threading

import gradio as gr
import pytest

from components.common import WORK_KINDS, guarded, running_work

WAIT_S = 20  # an upper bound on any wait; each test takes about a second


class Work:
    """Handlers that record how much of their kind runs at once; `slow` waits for its own release Event."""

    def __init__(self, n_slow: int):
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.seen_by_quick: list[int] = []
        self.entered = [threading.Event() for _ in range(n_slow)]
        self.release = [threading.Event() for _ in range(n_slow)]

    def slow(self, index: str):
        i = int(index)
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        self.entered[i].set()
        try:
            assert self.release[i].wait(WAIT_S)
        finally:
            with self.lock:
                self.running -= 1
        return index

    def quick(self, text: str):
        with self.lock:
            self.seen_by_quick.append(self.running)
            self.peak = max(self.peak, self.running + 1)
        return text.upper()


@pytest.fixture()
def kind(monkeypatch, request):
    name = f"test-{request.node.name}"
    monkeypatch.setitem(WORK_KINDS, name, {"concurrency_limit": 2, "time_limit_s": 5})
    return name


def abandon_two(work: Work, kind: str) -> None:
    """Two slow requests that each run past a 0.2 s limit: their users get a message, the work goes on."""
    slow = guarded(work.slow, time_limit_s=0.2, kind=kind)
    for index in ("0", "1"):
        with pytest.raises(gr.Error, match="longer than"):
            slow(index)
    assert all(event.is_set() for event in work.entered) and work.running == 2
    assert running_work(kind).running == 2        # both still hold their slots


def test_a_request_finds_no_slot_while_abandoned_work_fills_its_kind(kind):
    work = Work(2)
    try:
        abandon_two(work, kind)
        with pytest.raises(gr.Error, match="still busy"):
            guarded(work.quick, time_limit_s=0.3, kind=kind)("x")   # waits its whole limit for a slot
        assert work.seen_by_quick == []               # it never ran beside the abandoned work
    finally:
        for event in work.release:
            event.set()
    assert running_work(kind).wait_idle(WAIT_S)      # slots come back when the work really ends
    assert guarded(work.quick, kind=kind)("y") == "Y" and work.seen_by_quick == [0]
    assert work.peak == 2                             # never more than the limit at once


def test_a_waiting_request_starts_when_one_abandoned_piece_of_work_ends(kind):
    work = Work(2)
    result = {}
    waiting = threading.Thread(target=lambda: result.setdefault("value", guarded(work.quick, kind=kind)("z")),
                               daemon=True)
    try:
        abandon_two(work, kind)
        waiting.start()                               # limit 5 s: it waits for a slot
        work.release[0].set()                         # one abandoned piece ends: its slot goes to the waiting one
        waiting.join(WAIT_S)
        assert result == {"value": "Z"}
        assert work.seen_by_quick == [1]              # it ran beside the one abandoned piece still running
        assert work.peak == 2
    finally:
        for event in work.release:
            event.set()
    assert running_work(kind).wait_idle(WAIT_S)


def test_a_failing_handler_gives_its_slot_back(kind):
    def broken(text: str):
        raise ValueError("bad input")
    for _ in range(3):                                # more than the limit: each failure released its slot
        with pytest.raises(gr.Error, match="bad input"):
            guarded(broken, kind=kind)("x")
    assert running_work(kind).running == 0
