"""One way to stream a long job into the UI: a generator of output tuples becomes an event handler with one contract.

- progress: each output tuple the job yields is shown as it comes (a column, a measured row, a loss point);
- slots: each step (the work between two yields) runs through `guarded`, in a running-work slot of its kind and
  under that kind's time limit, so a job of seven models takes the cores one model at a time and other users'
  forward passes interleave with it; the event itself waits in the queue's "stream" group, never in the model one;
- errors: a failing step ends the job; `on_error(message, *inputs)` gives the outputs that show the message in
  place (the other outputs keep their last good values: gr.skip()), or, without it, the message is a toast and
  every output keeps its last good value;
- cancel: the job checks its own stop flag between steps (its Stop button sets it); an event cancelled by gradio
  stops between yields.

    >>> run.click(stream(measure, kind="model"), inputs, outputs)        # doctest: +SKIP
"""
from __future__ import annotations

import functools
import html

import gradio as gr

from components.common import guarded

_DONE = object()


def stream(job, kind: str = "model", on_error=None):
    """An event handler that runs `job(*args)` (a generator of output tuples) step by step, as the module says."""
    start = guarded(job, kind="light")   # checks the arguments as every handler does; a generator starts in no time

    @functools.wraps(job)
    def handler(*args, **kwargs):
        try:
            steps = start(*args, **kwargs)
        except gr.Error as error:
            if on_error is None:
                raise
            yield on_error(html.unescape(error.message), *args)
            return
        advance = guarded(lambda: next(steps, _DONE), kind=kind)
        while True:
            try:
                item = advance()
            except gr.Error as error:
                if on_error is None:
                    raise
                yield on_error(html.unescape(error.message), *args)   # escaped again where it is shown
                return
            if item is _DONE:
                return
            yield item
    handler.work_kind = "stream"
    return handler
