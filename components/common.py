"""What every view shares: turning errors into messages, loading with progress, the weights label, escaping."""
from __future__ import annotations

import functools
import html
import inspect
import logging

import gradio as gr

from model_zoo import loading
from model_zoo.tokenization import InputError

log = logging.getLogger("explorer")


def guarded(handler):
    """Wrap an event handler so that every failure reaches the user as a message, never as a traceback."""
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
            return handler(*args, **kwargs)
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
