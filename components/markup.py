"""Markup for every view, escaped by default: `tag` builds an element whose text and attribute values are escaped
unless they are already `Markup`; `shade` names the class of a value's shade. Colours and layout live in
assets/style.css, never in a style attribute.

    >>> tag("span", "<b>", class_="chip", title='say "hi"')
    '<span class="chip" title="say &quot;hi&quot;">&lt;b&gt;</span>'
    >>> tag("td", tag("b", "bold"), class_=["cell", None, "warm"])
    '<td class="cell warm"><b>bold</b></td>'
"""
from __future__ import annotations

import html

VOID = {"br", "hr", "img", "input", "meta", "wbr"}
SHADES = 10   # a value in [0, 1] is drawn in one of SHADES + 1 steps (classes shade-0 ... shade-10)


class Markup(str):
    """Text that is already HTML: `tag` puts it in as it is."""


def text(value) -> Markup:
    """Any value as escaped HTML text (Markup stays as it is)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def join(parts, separator: str = "") -> Markup:
    """Several pieces of markup (or texts, escaped) as one."""
    return Markup(text(separator).join(text(p) for p in parts))


def _attribute(name: str, value) -> str:
    name = name.rstrip("_").replace("_", "-")
    if value is True:
        return f" {name}"
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v)
    return f' {name}="{html.escape(str(value), quote=True)}"'


def tag(name: str, *children, **attributes) -> Markup:
    """<name attributes>children</name>. `class_` may be a list (empty entries left out); an attribute whose value is
    None or False is left out; data_p=0.5 is written data-p="0.5"."""
    attrs = "".join(_attribute(k, v) for k, v in attributes.items() if v is not None and v is not False and v != [])
    if name in VOID:
        return Markup(f"<{name}{attrs}>")
    return Markup(f"<{name}{attrs}>{join(children)}</{name}>")


def shade(value: float, scale: str = "red") -> str:
    """The classes that shade an element by `value` in [0, 1] on a colour scale of the stylesheet ("red", "green")."""
    step = round(max(0.0, min(1.0, float(value))) * SHADES) if value == value else 0   # NaN: unshaded
    return f"shade {scale} shade-{step}"
