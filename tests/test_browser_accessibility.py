"""Readable by everyone: axe-core (the engine of the accessibility checkers, as PyPI's axe-playwright-python ships it)
run in headless Chromium on every tab finds no violation of WCAG 2.1 A/AA, nor of heading order or alt text that
repeats the text next to it, beyond what a bare Gradio page of the same version and components has (Gradio's own
markup: its empty-value boxes, its footer)."""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pytest

from testkit.net import free_port

RULES = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
TABS = ["Side by side", "BERT", "RoBERTa", "ALBERT", "DistilBERT", "ELECTRA", "XLNet", "Embeddings", "Compare",
        "Pretraining lab", "Fine-tune"]


def _axe_script() -> str:
    import axe_playwright_python
    return str(Path(axe_playwright_python.__file__).parent / "axe.min.js")


def _violations(page) -> set[tuple[str, str]]:
    """(rule, the element's opening tag) of every violation on the page as it is."""
    page.add_script_tag(path=_axe_script())
    found = page.evaluate("async rules => (await axe.run(document, rules)).violations", RULES)
    return {(v["id"], re.sub(r">.*", ">", node["html"], flags=re.S)) for v in found for node in v["nodes"]}


@pytest.fixture(scope="module")
def bare_url():
    """A bare Gradio page of the same version, with the kinds of components the app uses."""
    with gr.Blocks() as bare:
        gr.Markdown("# A page")
        gr.Textbox(label="Text")
        gr.Slider(0, 10, label="k")
        gr.Plot()
        gr.File()
        gr.Dataframe()
    port = free_port()
    bare.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    bare.close()


def test_every_tab_is_as_readable_as_a_bare_gradio_page(page, app_url, bare_url):
    page.goto(bare_url)
    page.get_by_label("Text").wait_for()
    allowed = _violations(page)
    page.goto(app_url)
    extra = {}
    for name in TABS:
        tab = page.get_by_role("tab", name=name, exact=True).first
        tab.click()
        page.wait_for_function("name => [...document.querySelectorAll('[role=tab]')].some("
                               "t => t.textContent.trim() === name && t.getAttribute('aria-selected') === 'true')",
                               arg=name, timeout=30_000)
        found = _violations(page) - allowed
        for _ in range(2):          # a tab still settling (a busy machine) can show a passing state: what stays counts
            if not found:
                break
            page.wait_for_timeout(1000)
            found &= _violations(page) - allowed
        if found:
            extra[name] = sorted(found)
    assert extra == {}, extra
