"""What every view shares: turning errors into messages, loading with progress, the weights label, escaping."""
from __future__ import annotations

import functools
import html
import inspect
import contextvars
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import gradio as gr
import plotly.io as pio

from components import app_state
from components.app_state import RunningWork
from components.markup import tag
from model_zoo import loading
from model_zoo.tokenization import InputError

log = logging.getLogger("explorer")


def use_plot_style() -> None:
    """One look for every plot, set once by the app (app.build_app): naming a template per figure rebuilds it each
    time (~10 ms a figure)."""
    pio.templates.default = "plotly_white"


def on_zero_gpu() -> bool:
    """Running on a Hugging Face ZeroGPU Space (a GPU is attached only inside @spaces.GPU functions)."""
    return bool(os.environ.get("SPACES_ZERO_GPU"))


def gpu_if_available(handler, duration: int = 60):
    """On ZeroGPU, run the handler with a GPU attached (spaces.GPU); elsewhere return it unchanged."""
    if not on_zero_gpu():
        return handler
    import spaces  # imported before torch by app.py on ZeroGPU, as its docs require
    return spaces.GPU(duration=duration)(handler)


TIME_LIMIT_S = float(os.environ.get("EXPLORER_TIME_LIMIT_S", 180))
# Kinds of work, each one queue group (gradio's concurrency_id) with its own concurrency and time limit:
#   model  forward passes: they share the cores (or the GPU), so only a few run at once; the rest wait in the queue;
#   light  rendering from state, configs, tokenizers, links: never waits behind a forward pass.
#   compare-measure  the Compare tab's timings: one at a time, apart from the forward passes of others.
#   stream  a long job streamed step by step (side by side, fine-tuning): see the entry below.
# A kind's limit counts its work while it really runs (RunningWork): work abandoned at its time limit keeps its slot
# until it ends, since Python cannot stop a thread; gradio's queue alone would let the next request start beside it.
WORK_KINDS = {
    "model": {"concurrency_limit": int(os.environ.get("EXPLORER_MODEL_CONCURRENCY", 2)), "time_limit_s": TIME_LIMIT_S,
              "gpu": True},
    "light": {"concurrency_limit": int(os.environ.get("EXPLORER_LIGHT_CONCURRENCY", 8)),
              "time_limit_s": min(TIME_LIMIT_S, 60.0)},
    "compare-measure": {"concurrency_limit": 1, "time_limit_s": TIME_LIMIT_S, "gpu": True},
    # long jobs streamed into the UI (components/streaming.py): the event waits here, each of its steps takes a slot
    # of its own kind (a model's forward passes: "model"), so a job never holds the model group between its steps
    "stream": {"concurrency_limit": int(os.environ.get("EXPLORER_STREAM_CONCURRENCY", 8)),
               "time_limit_s": TIME_LIMIT_S},
}
def _executor() -> ThreadPoolExecutor:
    """The handlers' worker threads: enough for every kind at its limit (running work never exceeds it), plus room."""
    return app_state.current().executor(sum(k["concurrency_limit"] for k in WORK_KINDS.values()) + 6)


def running_work(kind: str) -> RunningWork:
    """The running-work counter of a WORK_KINDS kind (in the app's state; made on first use)."""
    return app_state.current().running_work(kind, WORK_KINDS[kind]["concurrency_limit"])


# ---------------------------------------------------------------------------------------------------- messages
# Gradio renders a toast's text (gr.Error, gr.Warning, gr.Info) as sanitised HTML: user text in a message could draw
# an <img> or a link, and the app's own "<mask>" would vanish as a tag. Every message goes through `message_text`:
# escaped once, Gradio 6.31 shows it literally (tests/test_browser_messages.py checks what the browser shows).
# API clients receive the same escaped text.
def message_text(message) -> str:
    """A message as a toast must receive it to show it as written: `<mask>` -> `&lt;mask&gt;`, `&` -> `&amp;`."""
    return html.escape(str(message), quote=False)


class UserError(gr.Error):
    """gr.Error for the UI with its text shown literally (escaped once) and no traceback in the server log.

    >>> UserError("No mask: write <mask>").message
    'No mask: write &lt;mask&gt;'
    """
    def __init__(self, message, duration: float | None = 10, title: str = "Error"):
        super().__init__(message_text(message), duration=duration, title=title, print_exception=False)


def inform(message, duration: float | None = 10) -> None:
    """gr.Info with its text shown literally (the one path to an info toast)."""
    gr.Info(message_text(message), duration=duration)


class OpenCheckboxGroup(gr.CheckboxGroup):
    """A gr.CheckboxGroup (drawn as one: a template of it) that leaves checking its values to the handler. Gradio's
    own check refuses a value outside the choices with an error that prints a traceback in the server log, for what
    is only bad input from an API caller; the handler refuses it with a message instead."""
    is_template = True

    def preprocess(self, payload):
        return payload


def _with_time_limit(run, name: str, limit_s: float, slots: RunningWork):
    """Run in a worker thread (keeping gradio's context, for progress bars) once a slot of its kind is free; past the
    limit (waiting included) the user gets a message. Python cannot kill the thread: the work finishes in the
    background, its result dropped, and keeps its slot until then."""
    @functools.wraps(run)
    def limited(*args, **kwargs):
        deadline = time.monotonic() + limit_s
        if not slots.acquire(timeout=limit_s):
            log.warning("handler %s found no free slot within %.0f s", name, limit_s)
            raise UserError(f"The server is still busy with earlier requests (it waited {limit_s:.0f} s for them). "
                             f"Try again in a minute.")
        context = contextvars.copy_context()

        def work():
            try:
                return context.run(run, *args, **kwargs)
            finally:
                slots.release()   # when the work really ends, even long after its request gave up on it
        try:
            future = _executor().submit(work)
        except BaseException:
            slots.release()
            raise
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            log.warning("handler %s exceeded its %.0f s limit", name, limit_s)
            raise UserError(f"This request took longer than {limit_s:.0f} s and was abandoned. Try a shorter text "
                             f"or a smaller model.") from None
    return limited


def guarded(handler, time_limit_s: float | None = None, kind: str = "model"):
    """Wrap an event handler so that every failure reaches the user as a message, never as a traceback, and a request
    never holds its user past a time limit. Messages show their text literally, user input included (`UserError`);
    a handler's own gr.Error is escaped here too. `kind` (a WORK_KINDS key) picks its queue group, default time
    limit and the running-work slots it takes (running_work); on ZeroGPU model work also gets a GPU for its
    duration."""
    limit = time_limit_s or WORK_KINDS[kind]["time_limit_s"]
    run = _with_time_limit(gpu_if_available(handler) if WORK_KINDS[kind].get("gpu") else handler, handler.__name__,
                           limit, running_work(kind))
    text_params = [name for name, p in inspect.signature(handler).parameters.items() if p.annotation in ("str", str)]
    positions = list(inspect.signature(handler).parameters)

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        args = list(args)
        for index, name in enumerate(positions[:len(args)]):  # API callers may send anything: check text inputs
            if name in text_params:
                if args[index] is None:
                    args[index] = ""
                elif not isinstance(args[index], str):
                    raise UserError(f"'{name}' must be text, not {type(args[index]).__name__}.")
        try:
            return run(*args, **kwargs)
        except UserError:
            raise
        except gr.Error as error:  # raised by a handler with its own text: escaped like every other message
            raise UserError(error.message, duration=error.duration, title=error.title) from None
        except (loading.ModelError, InputError, ValueError) as error:
            raise UserError(error) from None
        except Exception as error:  # an unexpected bug: log it for us, tell the user briefly
            log.exception("handler %s failed", handler.__name__)
            raise UserError(f"Something went wrong ({type(error).__name__}). The app keeps running; try another "
                             f"input or model.") from None
    wrapper.work_kind = kind
    return wrapper


def work_kind(fn) -> str:
    """The kind of work an event handler does: what `guarded` marked, else light (unguarded handlers are trivial)."""
    return getattr(fn, "work_kind", "light")


def assign_queue_groups(demo) -> dict[str, int]:
    """Put every event of `demo` that did not choose its own group into its kind's group; {group: events}."""
    counts: dict[str, int] = {}
    for block_fn in demo.fns.values():
        if block_fn.concurrency_id == str(id(block_fn.fn)):  # gradio's default: a group of its own
            kind = work_kind(block_fn.fn)
            block_fn.concurrency_id = kind
            block_fn.concurrency_limit = WORK_KINDS[kind]["concurrency_limit"]
        counts[block_fn.concurrency_id] = counts.get(block_fn.concurrency_id, 0) + 1
    return counts


def reporter(progress: gr.Progress | None):
    """gradio's Progress as model_zoo's one protocol, report(fraction, message) (model_zoo.progress)."""
    if progress is None:
        return lambda fraction, message: None
    return lambda fraction, message: progress(fraction, desc=message)


def load_with_progress(spec, progress: gr.Progress | None = None, load=None,
                       running: str = "Running the model…") -> loading.LoadedModel:
    """The one way a view loads with progress: "Loading <model>…", then `running`. `spec`: a key, Hub id, folder or
    Checkpoint; `load`: how to load it (default loading.load; e.g. sentence_tasks.nsp_model for a task head)."""
    if progress is not None:
        name = getattr(spec, "key", spec)
        progress(0.05, desc=f"Loading {name} (first use only; cached afterwards)…")
    loaded = (load or loading.load)(spec)
    if progress is not None:
        progress(0.5, desc=running)
    return loaded


def weights_badge(report: loading.LoadReport) -> str:
    """A one-line HTML badge saying which weights answered. Red when they are random, amber when a head is."""
    level = "bad" if not report.trained else ("warn" if report.untrained_capabilities else "ok")
    return tag("div", report.summary(), class_=["weights-badge", level])


def recorded_quality(row) -> str:
    """A bundled mini's recorded out-of-domain figure for what the view shows (from
    model_zoo.pretraining_lab.recorded_out_of_domain), so one answer is read against it; '' when there is none."""
    return "" if row is None else tag(
        "div", "How good is this checkpoint at this? Measured for its card, out of its training domain (",
        row.about.removeprefix("out-of-domain: "), "): ", tag("b", row.measured), f"; bar {row.bar}: ",
        tag("b", "met" if row.met else "NOT met"), ".", class_="note recorded-quality")


def message_html(error, prefix: str = "") -> str:
    """An error for the user in place: its first line, and the rest (a developer's detail) folded below it."""
    first, _, rest = str(error).partition("\n")
    detail = tag("details", tag("summary", "More"), rest) if rest.strip() else ""
    return tag("div", prefix + first, detail, class_="weights-badge bad")


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
