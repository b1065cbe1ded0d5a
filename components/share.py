"""Links that reproduce a view (a teacher sends one to students):

    ?tab=bert&model=...&text=...&pair=...&section=fill-mask&fill-mask.text=...&fill-mask.k=7&run=1

`link_for` builds the URL from a family tab's inputs, the section on show and that section's options; `apply_link`
reads the query string when the page opens and returns updates for the tabs, the family's inputs, its section and
options (a value that does not fit its component, e.g. a slider out of range, is ignored); `RUN_JS` then presses the
section's button, so the view appears as it was shared. Values are plain strings set as component values, never
rendered as HTML.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import gradio as gr

MAX_LINK_TEXT = 2_000  # characters of text carried in a link


def link_for(family: str, model: str, text: str, pair: str, section: str = "", options: dict | None = None,
             request: gr.Request | None = None) -> str:
    """The URL that reopens this family tab and section with this model, text and options, and runs it."""
    query = {"tab": family, "model": model or "", "text": (text or "")[:MAX_LINK_TEXT]}
    if pair:
        query["pair"] = pair[:MAX_LINK_TEXT]
    if section:
        query["section"] = section
        for name, value in (options or {}).items():
            if name.startswith(f"{section}.") and value not in (None, ""):
                query[name] = str(value)[:MAX_LINK_TEXT]
        query["run"] = "1"
    base = ""
    if request is not None:
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
        scheme = request.headers.get("x-forwarded-proto", "http")
        base = f"{scheme}://{host}/" if host else ""
    return f"{base}?{urlencode(query)}"


def _choices(component) -> list:
    return [c[1] if isinstance(c, (tuple, list)) else c for c in (getattr(component, "choices", None) or [])]


def fitting_value(component, raw: str):
    """The value a link may set on `component`, or None when `raw` does not fit it (wrong type, out of range, not
    one of the choices)."""
    raw = str(raw)[:MAX_LINK_TEXT]
    try:
        if isinstance(component, (gr.Slider, gr.Number)):
            value = float(raw)
            low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
            if value != value or (low is not None and value < low) or (high is not None and value > high):
                return None
            integral = getattr(component, "precision", None) == 0 or (
                isinstance(component, gr.Slider) and float(component.step).is_integer() and float(low).is_integer())
            return int(value) if integral else value
    except (TypeError, ValueError):
        return None
    if isinstance(component, gr.Checkbox):
        return {"true": True, "false": False}.get(raw.lower())
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        return raw if raw in _choices(component) or getattr(component, "allow_custom_value", False) else None
    if isinstance(component, gr.Textbox):
        return raw
    return None


def _set(component, raw):
    value = None if raw is None else fitting_value(component, raw)
    return gr.update() if value is None else gr.update(value=value)


def apply_link(contexts: list, extra_tabs: list[str], request: gr.Request | None = None) -> list:
    """Updates for (tabs, then per family: model, text, pair, section tabs, each option) from the query string."""
    params = dict(request.query_params) if request is not None else {}
    tab = params.get("tab", "")
    family_keys = [ctx.family.key for ctx in contexts]
    updates = [gr.Tabs(selected=tab) if tab in family_keys + extra_tabs else gr.Tabs()]
    for ctx in contexts:
        mine = ctx.family.key == tab
        get = params.get if mine else (lambda name: None)
        section = get("section")
        updates += [_set(ctx.model, get("model") or None), _set(ctx.text, get("text")), _set(ctx.text_pair, get("pair")),
                    gr.Tabs(selected=section) if section in ctx.sections else gr.Tabs()]
        updates += [_set(component, get(name) if section and name.startswith(f"{section}.") else None)
                    for name, component in ctx.options.items()]
    return updates


def link_outputs(tabs, contexts: list) -> list:
    """The components apply_link updates, in its order."""
    return [tabs] + [c for ctx in contexts for c in (ctx.model, ctx.text, ctx.text_pair, ctx.section_tabs,
                                                       *ctx.options.values())]


def link_opener(contexts: list, extra_tabs: list[str]):
    """The page-load handler that applies a link's query string (gradio injects the request)."""
    def open_link(request: gr.Request):
        return apply_link(contexts, extra_tabs, request)
    return open_link


def run_js(contexts: list) -> str:
    """After a link is applied: press the shared section's button when the link asks to run (?run=1)."""
    buttons = {ctx.family.key: {sid: elem for sid, (_, elem) in ctx.sections.items() if elem} for ctx in contexts}
    return ("() => { const p = new URLSearchParams(window.location.search); const buttons = " + json.dumps(buttons)
            + "; const id = p.get('run') === '1' && (buttons[p.get('tab')] || {})[p.get('section')];"
            " if (id) { setTimeout(() => { const b = document.getElementById(id); if (b) b.click(); }, 500); }"
            " return []; }")
