"""Handlers never show tracebacks: bad types, model errors and slow requests all become messages."""
import time

import gradio as gr
import pytest

from components.common import guarded
from model_zoo import loading


def test_wrong_types_and_none_for_text():
    @guarded
    def echo(text: str) -> str:
        return f"[{text}]"
    assert echo(None) == "[]"
    with pytest.raises(gr.Error, match="must be text"):
        echo(42)


def test_model_errors_keep_their_message_and_bugs_are_summarised():
    @guarded
    def unavailable(spec: str):
        raise loading.ModelUnavailable("Model 'x' is not available here")

    @guarded
    def buggy(spec: str):
        return {}["missing"]
    with pytest.raises(gr.Error, match="not available here"):
        unavailable("x")
    with pytest.raises(gr.Error, match=r"Something went wrong \(KeyError\)"):
        buggy("x")


def test_a_request_past_its_time_limit_gets_a_message():
    def slow(text: str):
        time.sleep(2)
        return text
    started = time.perf_counter()
    with pytest.raises(gr.Error, match="longer than"):
        guarded(slow, time_limit_s=0.3)("x")
    assert time.perf_counter() - started < 1.5


HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


@pytest.mark.parametrize("raised", [
    ValueError(f"'{HOSTILE}' is not a model"),             # model_zoo and handlers: ValueError, InputError, ModelError
    loading.ModelUnavailable(f"Model '{HOSTILE}' is not available here"),
    gr.Error(f"'{HOSTILE}' is not a model"),                # a handler's own gr.Error is escaped as well
])
def test_messages_carry_user_text_escaped_once(raised):
    @guarded
    def handler(spec: str):
        raise raised
    with pytest.raises(gr.Error) as caught:
        handler("x")
    message = caught.value.message
    assert "<" not in message and "&lt;img src=x onerror=\"document.title='pwned'\"&gt;" in message
    assert "&amp;lt;" not in message   # not twice: Gradio decodes the entities once (test_browser_messages)
    assert caught.value.print_exception is False


def test_the_apps_own_mask_message_keeps_its_placeholders():
    from components.common import UserError
    assert UserError("write [MASK], <mask> or ___ & more").message == "write [MASK], &lt;mask&gt; or ___ &amp; more"
