"""What every view shares: turning errors into messages, loading with progress, the weights label, escaping."""
from __future__ import annotations

import functools
import html
import inspect
import contextvars
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import gradio as gr
import plotly.io as pio

from model_zoo import loading
from model_zoo.tokenization import InputError

log = logging.getLogger("explorer")
# One look for every plot; set once here, since naming a template per figure rebuilds it each time (~10 ms a figure).
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
_workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="explorer-handler")


def _with_time_limit(run, name: str, limit_s: float):
    """Run in a worker thread (keeping gradio's context, for progress bars); past the limit the user gets a message.
    Python cannot kill the thread: the work finishes in the background, its result dropped."""
    @functools.wraps(run)
    def limited(*args, **kwargs):
        context = contextvars.copy_context()
        future = _workers.submit(context.run, run, *args, **kwargs)
        try:
            return future.result(timeout=limit_s)
        except FutureTimeout:
            log.warning("handler %s exceeded its %.0f s limit", name, limit_s)
            raise gr.Error(f"This request took longer than {limit_s:.0f} s and was abandoned. Try a shorter text "
                           f"or a smaller model.", print_exception=False) from None
    return limited


def guarded(handler, time_limit_s: float | None = None):
    """Wrap an event handler so that every failure reaches the user as a message, never as a traceback, and a request
    never holds its user past a time limit. On ZeroGPU the handler also gets a GPU for its duration."""
    run = _with_time_limit(gpu_if_available(handler), handler.__name__, time_limit_s or TIME_LIMIT_S)
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
                    raise gr.Error(f"'{name}' must be text, not {type(args[index]).__name__}.", print_exception=False)
        try:
            return run(*args, **kwargs)
        except gr.Error:
            raise
        except (loading.ModelError, InputError, ValueError) as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception as error:  # an unexpected bug: log it for us, tell the user briefly
            log.exception("handler %s failed", handler.__name__)
            raise gr.Error(f"Something went wrong ({type(error).__name__}). The app keeps running; try another "
                           f"input or model.", print_exception=False) from None
    return wrapper


def load_with_progress(spec: str, progress: gr.Progress | None = None) -> loading.LoadedModel:
    if progress is not None:
        progress(0.05, desc=f"Loading {spec} (first use only; cached afterwards)…")
    loaded = loading.load(spec)
    if progress is not None:
        progress(0.5, desc="Running the model…")
    return loaded


def weights_badge(report: loading.LoadReport) -> str:
    """A one-line HTML badge saying which weights answered. Red when they are random, amber when a head is."""
    level = "bad" if not report.trained else ("warn" if report.untrained_capabilities else "ok")
    return f'<div class="weights-badge {level}">{html.escape(report.summary())}</div>'


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
