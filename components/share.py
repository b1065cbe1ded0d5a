"""Links that reproduce a view: ?tab=bert&model=...&text=...&pair=... (a teacher sends one to students).

`link_for` builds the URL for the current inputs of a family tab; `apply_link` reads the query string when the page
opens and returns updates for the tabs and that family's inputs. Values are plain strings that Gradio components set
as values (never rendered as HTML).
"""
from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr

MAX_LINK_TEXT = 2_000  # characters of text carried in a link


def link_for(family: str, model: str, text: str, pair: str, request: gr.Request | None = None) -> str:
    """The URL that reopens this family tab with this model and text."""
    query = {"tab": family, "model": model or "", "text": (text or "")[:MAX_LINK_TEXT]}
    if pair:
        query["pair"] = pair[:MAX_LINK_TEXT]
    base = ""
    if request is not None:
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
        scheme = request.headers.get("x-forwarded-proto", "http")
        base = f"{scheme}://{host}/" if host else ""
    return f"{base}?{urlencode(query)}"


def apply_link(family_keys: list[str], extra_tabs: list[str], request: gr.Request | None = None):
    """Updates for (tabs, then model/text/pair of each family in order) from the page's query string."""
    params = dict(request.query_params) if request is not None else {}
    tab = params.get("tab", "")
    updates = [gr.Tabs(selected=tab) if tab in family_keys + extra_tabs else gr.Tabs()]
    for key in family_keys:
        if key == tab:
            updates += [gr.Dropdown(value=params["model"]) if params.get("model") else gr.Dropdown(),
                        gr.Textbox(value=params["text"][:MAX_LINK_TEXT]) if "text" in params else gr.Textbox(),
                        gr.Textbox(value=params["pair"][:MAX_LINK_TEXT]) if "pair" in params else gr.Textbox()]
        else:
            updates += [gr.Dropdown(), gr.Textbox(), gr.Textbox()]
    return updates


def link_opener(family_keys: list[str], extra_tabs: list[str]):
    """The page-load handler that applies a link's query string (gradio injects the request)."""
    def open_link(request: gr.Request):
        return apply_link(family_keys, extra_tabs, request)
    return open_link
