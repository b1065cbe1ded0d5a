"""Links that reproduce a view (a teacher sends one to students):

    ?tab=bert&model=...&text=...&pair=...&section=fill-mask&fill-mask.text=...&fill-mask.k=7&run=1

Each top-level tab describes itself as a LinkTarget (its inputs and options, its sections, the button that runs it).
`link_for` builds the URL from the current values, the section on show and that section's options; `apply_link`
reads the query string when the page opens and returns updates for the tabs, the section and the options; `run_js`
then presses the view's button, so it appears as it was shared. Values are plain strings set as component values,
never rendered as HTML.

A link is written by anyone, so every value is checked before it is used: against its component (a number in range,
one of the choices) and, where the target says so, against what the option means (`checks`: a model box takes a
registry key, a Hub id or an existing folder, `model_spec`; a layers box takes numbers, `numbers`). A value that does
not fit is dropped, and the user gets a note naming the option, never repeating the value (in the tab's link note,
above its "Share a link" box; a toast where a tab has none):

    ?tab=bert&model=<a href=...>x</a>  ->  the model box keeps its value; "A value in the link did not fit and was
                                           ignored: model"
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from components.common import inform
from components.markup import tag
from model_zoo import loading

MAX_LINK_TEXT = 2_000  # characters of text carried in a link
LINK_NOTE = "link-note"  # the class of the note `link_box` puts in each tab, where an opened link's note shows


# What an option's value means, beyond what its component accepts: a check per value (per item of a list).
def model_spec(value: str) -> bool:
    """A model box: a registry key, a Hub id (or its shape) or an existing folder."""
    return loading.is_model_spec(value)


def model_list(value: str) -> bool:
    """A text box of comma-separated models (Compare's "Also")."""
    return all(loading.is_model_spec(item) for item in loading.parse_specs(value))


def numbers(value: str) -> bool:
    """Numbers, ranges and separators ("0-3, 11", "2 3"), or all/auto: layers, token positions, orders."""
    return re.fullmatch(r"[\d\s,;-]*|all|auto", value.strip(), re.IGNORECASE) is not None


@dataclass
class LinkTarget:
    """What a link can reproduce in one top-level tab: its inputs and options, its sections, the button to press."""
    tab: str                                      # the tab's id (?tab=...)
    options: dict                                 # link parameter -> component: "model", "text", or "section.name"
    section_tabs: object | None = None            # a family's inner gr.Tabs
    section_state: object | None = None           # a gr.State holding the id of the section on show
    sections: dict = field(default_factory=dict)  # section id -> elem_id of the button a link presses (or None)
    then: dict = field(default_factory=dict)      # section id -> (elem_id, options): pressed next when a link has one
    run: str | None = None                        # a tab without sections: the button a link presses (or None)
    checks: dict = field(default_factory=dict)    # link parameter -> what its value must be (model_spec, numbers…)
    note: object | None = None                    # a gr.HTML for the note on dropped values (found by link_outputs)

    def carries(self, name: str, section: str | None) -> bool:
        """Whether a link to `section` carries option `name` (tab-wide options always; a section's only its own)."""
        return "." not in name or bool(section) and name.startswith(f"{section}.")


def _text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def link_for(target: LinkTarget, section: str, values: dict, request: gr.Request | None = None) -> str:
    """The URL that reopens `target`'s tab (and section) with these values, and runs it where a button is known."""
    query = {"tab": target.tab}
    if section:
        query["section"] = section
    for name, value in values.items():
        if target.carries(name, section) and value not in (None, "", []):
            query[name] = _text(value)[:MAX_LINK_TEXT]
    if (target.sections.get(section) if section else target.run):
        query["run"] = "1"
    base = ""
    if request is not None:
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
        scheme = request.headers.get("x-forwarded-proto", "http")
        base = f"{scheme}://{host}/" if host else ""
    return f"{base}?{urlencode(query)}"


def link_box(what: str, elem_prefix: str, runs: bool = True) -> tuple[gr.Button, gr.Textbox]:
    """The "Share a link" accordion: a button and the read-only link with a copy button; above it, hidden until a
    link that opened the page had values that did not fit, the note saying so."""
    gr.HTML(visible=False, elem_id=f"{elem_prefix}-link-note", elem_classes=[LINK_NOTE])
    with gr.Accordion("Share a link to this view", open=False):
        button = gr.Button("Make link", size="sm", elem_id=f"{elem_prefix}-make-link")
        box = gr.Textbox(label=f"Link (opens {what}{' and runs it' if runs else ''})", buttons=["copy"],
                         interactive=False, elem_id=f"{elem_prefix}-link")
    return button, box


def wire_link(button: gr.Button, box: gr.Textbox, target: LinkTarget, api_name: str) -> None:
    """Clicking `button` writes the link for the current values of `target` (and the section on show) into `box`."""
    names = list(target.options)
    section_state = target.section_state
    has_section = section_state is not None

    def make_link(request: gr.Request, *values):
        section = values[0] if has_section else ""
        return link_for(target, section, dict(zip(names, values[1:] if has_section else values)), request)
    inputs = ([section_state] if has_section else []) + list(target.options.values())
    button.click(make_link, inputs, box, api_name=api_name)


def _choices(component) -> list:
    return [c[1] if isinstance(c, (tuple, list)) else c for c in (getattr(component, "choices", None) or [])]


def fitting_value(component, raw: str, check=None):
    """The value a link may set on `component`, or None when `raw` does not fit it (wrong type, out of range, not
    one of the choices) or fails `check` (every item of a list must pass it)."""
    value = _component_value(component, str(raw)[:MAX_LINK_TEXT])
    if value is None or check is None:
        return value
    items = value if isinstance(value, list) else [value]
    return value if all(check(str(item)) for item in items) else None


def _component_value(component, raw: str):
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
    if isinstance(component, gr.CheckboxGroup) or getattr(component, "multiselect", False):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        choices = [str(c) for c in _choices(component)]
        fits = all(item in choices for item in items) or getattr(component, "allow_custom_value", False)
        if not items or not fits:
            return None
        return [_choices(component)[choices.index(item)] if item in choices else item for item in items]
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        return raw if raw in _choices(component) or getattr(component, "allow_custom_value", False) else None
    if isinstance(component, gr.Textbox):
        return raw
    return None


def read_link(targets: list[LinkTarget], params: dict) -> tuple[list, list[str]]:
    """(updates for the top-level tabs, then per target its section tabs, section state and each option; the names
    of the parameters whose values did not fit and were dropped). Only our own names are returned, never a value."""
    tab = params.get("tab", "")
    known = {t.tab for t in targets}
    dropped = ["tab"] if tab and tab not in known else []
    updates = [gr.Tabs(selected=tab) if tab in known else gr.Tabs()]
    for target in targets:
        mine = target.tab == tab
        section = params.get("section") if mine and params.get("section") in target.sections else None
        if mine and params.get("section") and section is None:
            dropped.append("section")
        if target.section_tabs is not None:
            updates.append(gr.Tabs(selected=section) if section else gr.Tabs())
        if target.section_state is not None:  # selecting a tab from code fires no select event: set it here
            updates.append(section if section else gr.update())
        for name, component in target.options.items():
            raw = params.get(name) if mine and target.carries(name, section) else None
            value = None if raw is None else fitting_value(component, raw, target.checks.get(name))
            if raw is not None and value is None:
                dropped.append(name)
            updates.append(gr.update() if value is None else gr.update(value=value))
        if target.note is not None:
            note = mine and [name for name in dropped if name != "tab"]
            updates.append(gr.update(value=tag("div", dropped_note(note), class_="note"), visible=True)
                           if note else gr.update())
    return updates, dropped


def dropped_note(dropped: list[str]) -> str:
    """The neutral note for values a link carried that did not fit: it names the options, not what they held."""
    if len(dropped) == 1:
        return f"A value in the link did not fit and was ignored: {dropped[0]}."
    return f"Values in the link did not fit and were ignored: {', '.join(dropped)}."


def apply_link(targets: list[LinkTarget], request: gr.Request | None = None) -> list:
    """The updates `read_link` makes from the page's query string. The opened tab's link note says what was dropped;
    a toast does where there is no such tab or note (a toast needs the queue: the app applies links without it)."""
    params = dict(request.query_params) if request is not None else {}
    updates, dropped = read_link(targets, params)
    opened = next((t for t in targets if t.tab == params.get("tab")), None)
    if dropped and (opened is None or opened.note is None):
        inform(dropped_note(dropped))
    return updates


def _note_in(block, tab_id: str | None = None):
    """The link note inside `block` (inside its tab `tab_id` when given), or None."""
    for child in getattr(block, "children", None) or []:
        if tab_id is not None:
            if isinstance(child, gr.Tab) and child.id == tab_id:
                return _note_in(child)
            continue
        if LINK_NOTE in (getattr(child, "elem_classes", None) or []):
            return child
        if (found := _note_in(child)) is not None:
            return found
    return None


def link_outputs(tabs, targets: list[LinkTarget]) -> list:
    """The components apply_link updates, in its order. A target without a note gets its tab's (from `link_box`)."""
    out = [tabs]
    for target in targets:
        if target.note is None:
            target.note = _note_in(tabs, target.tab)
        out += [c for c in (target.section_tabs, target.section_state) if c is not None] + list(target.options.values())
        out += [target.note] if target.note is not None else []
    return out


def link_opener(targets: list[LinkTarget]):
    """The page-load handler that applies a link's query string (gradio injects the request)."""
    def open_link(request: gr.Request):
        return apply_link(targets, request)
    return open_link


def run_js(targets: list[LinkTarget]) -> str:
    """After a link is applied: press the shared view's button when the link asks to run (?run=1)."""
    buttons = {t.tab: {**{sid: elem for sid, elem in t.sections.items() if elem}, **({"": t.run} if t.run else {})}
               for t in targets}
    then = {t.tab: {sid: [elem, [f"{sid}.{name}" for name in names]] for sid, (elem, names) in t.then.items()}
            for t in targets}
    return ("() => { const p = new URLSearchParams(window.location.search); const buttons = " + json.dumps(buttons)
            + "; const then = " + json.dumps(then) + "; const section = p.get('section') || '';"
            " const id = p.get('run') === '1' && (buttons[p.get('tab')] || {})[section];"
            " const next = p.get('run') === '1' && (then[p.get('tab')] || {})[section];"
            " const press = (elem) => { const b = document.getElementById(elem); if (b) b.click(); };"
            " if (id) setTimeout(() => press(id), 500);"
            " if (next && next[1].some((name) => p.get(name))) setTimeout(() => press(next[0]), 700);"
            " return []; }")
