"""The one way a long job streams into the UI (components/streaming.py): progress as it comes, each step in a slot of
its kind, an error shown in place with the last good outputs kept, bad input refused before anything runs."""
from __future__ import annotations

import gradio as gr
import pytest

from components.common import WORK_KINDS, UserError, running_work
from components.streaming import stream

KIND = "streaming-test"   # a kind of its own: no other test's work shares its slots


@pytest.fixture(autouse=True)
def own_kind(monkeypatch):
    monkeypatch.setitem(WORK_KINDS, KIND, {"concurrency_limit": 1, "time_limit_s": 30})


def _job(seen: list, fail_at: int | None = None):
    def job(text: str, n: float = 3):
        for i in range(int(n)):
            seen.append(running_work(KIND).running)     # what the step sees while it runs
            if i == fail_at:
                raise ValueError(f"step {i} failed on <{text}>")
            yield (f"{text} {i}", i)
    return job


def test_each_output_is_streamed_and_each_step_runs_in_a_slot_of_its_kind():
    seen: list[int] = []
    assert list(stream(_job(seen), kind=KIND)("x")) == [("x 0", 0), ("x 1", 1), ("x 2", 2)]
    assert seen == [1, 1, 1] and running_work(KIND).running == 0


def test_an_error_is_shown_in_place_after_the_last_good_output():
    seen: list[int] = []
    handler = stream(_job(seen, fail_at=2), kind=KIND,
                     on_error=lambda message, text, *_: (f"error: {message}", gr.skip()))
    out = list(handler("x"))
    assert out[:2] == [("x 0", 0), ("x 1", 1)]
    assert out[2][0] == "error: step 2 failed on <x>" and len(out) == 3   # the message as written, then the end


def test_without_a_place_for_it_the_error_is_a_message_for_the_user():
    outputs = []
    with pytest.raises(UserError, match="step 1 failed on &lt;y&gt;"):
        for item in stream(_job([], fail_at=1), kind=KIND)("y"):
            outputs.append(item)
    assert outputs == [("y 0", 0)]                                     # the good output stays on screen


def test_bad_input_is_refused_before_any_step():
    seen: list[int] = []
    with pytest.raises(UserError, match="must be text"):
        list(stream(_job(seen), kind=KIND)(12345))
    assert seen == []


def test_the_handler_keeps_the_jobs_name_and_waits_in_the_stream_group():
    handler = stream(_job([]), kind=KIND)
    assert handler.__name__ == "job" and handler.work_kind == "stream"
