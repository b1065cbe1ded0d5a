"""The bertviz head view and model view as one self-contained, bounded HTML document for an <iframe srcdoc>.

bertviz's Python side writes the whole attention as nested lists of full-precision floats, repeated for every
sentence-pair filter, and loads require.js, d3 and jQuery from a CDN (~26 MB at 64 tokens for a 12 x 12 model, and
nothing works offline). Here the seam is the same (a JSON payload handed to bertviz's own, unmodified head_view.js and
model_view.js) but:

- the weights travel once, quantised to uint8 (steps of 1/255, error <= 0.002) and base64-encoded; the page decodes
  them and builds the sentence-pair filters (A->A, B->B, ...) itself;
- only the layers the user picked are sent, and the model view (one SVG line per token pair per head per layer) is
  drawn only on request and only within a line budget, so a long text never freezes the browser;
- require.js, d3 5.7 and jQuery are the vendored copies in assets/js/, served by the app (`/gradio_api/file=`), so the
  iframe sends no request to a third party;
- every string from the user reaches the page as JSON inside a <script type="application/json"> (with <, > and &
  escaped) and is drawn by bertviz with d3's .text(); the whole document is attribute-escaped into `srcdoc`, and the
  iframe is sandboxed (scripts only, an opaque origin: it cannot touch the app's page).

    >>> doc = build_document(result, layers=[0, 1])      # doctest: +SKIP
    >>> html = iframe(doc)                                # ready for gr.HTML
"""
from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from components.markup import join, tag
from model_zoo.attention import AttentionResult, quantize

JS_DIR = Path(__file__).resolve().parent.parent / "assets" / "js"
LEVELS = 255                 # quantisation steps of the weights in the payload
HEAD_VIEW_LINES = 50_000     # the head view draws heads x Q x T lines (one layer at a time): above this, fewer tokens
MODEL_VIEW_LINES = 100_000   # the model view draws layers x heads x Q x T lines: above this, fewer layers
_CDN_CONFIG = re.compile(r"require\.config\(\{.*?\}\);", re.S)


@dataclass(frozen=True)
class Payload:
    document: str            # the full HTML document (not yet escaped for srcdoc)
    layers: tuple[int, ...]  # the layers sent
    model_view_layers: tuple[int, ...]  # the layers the model view may draw (within MODEL_VIEW_LINES)
    note: str                # what was left out and why, for the user (plain text)


def served_url(path: Path) -> str:
    """Where Gradio serves a file under assets/ (the app launches with allowed_paths=[assets]); relative to the
    page, so it also works when the app is mounted under a prefix. A srcdoc iframe resolves it against the page."""
    return f"gradio_api/file={path.resolve().as_posix()}"


@lru_cache(maxsize=2)
def _bertviz_js(name: str) -> str:
    """bertviz's own view script with its CDN require.config removed and its PYTHON_PARAMS marker filled by us."""
    source = (JS_DIR / "bertviz" / f"{name}.js").read_text(encoding="utf-8")
    stripped, found = _CDN_CONFIG.subn("", source, count=1)
    if found != 1 or "PYTHON_PARAMS" not in stripped:
        raise RuntimeError(f"assets/js/bertviz/{name}.js is not the expected bertviz script")
    return stripped.replace("PYTHON_PARAMS", f'explorerParams("{name}")')


def parse_layers(spec: str, n_layers: int) -> list[int] | None:
    """'0-3, 11' -> [0, 1, 2, 3, 11]; '' -> None (automatic). Raises ValueError with a message for the user."""
    spec = (spec or "").strip()
    if not spec or spec.lower() in ("all", "auto"):
        return None
    chosen: set[int] = set()
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
        if not match:
            raise ValueError(f"Cannot read the layers '{spec}': write numbers and ranges such as 0-3, 11.")
        low, high = int(match[1]), int(match[2] or match[1])
        if low > high or high >= n_layers:
            raise ValueError(f"Layers run from 0 to {n_layers - 1} in this model; '{part}' is outside.")
        chosen.update(range(low, high + 1))
    return sorted(chosen)


def _json_for_script(data) -> str:
    """JSON safe inside a <script> element: no '</script>', no '<!--', no entity surprises."""
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def build_document(result: AttentionResult, layers: list[int] | None = None, stream: str = "content") -> Payload:
    """The bertviz document for `result`: the chosen layers (None: all, within the head view's budget)."""
    weights = result.attention if stream == "content" else result.query_attention  # (layers, heads, Q, T)
    if weights is None:
        raise ValueError("The query stream needs a permutation (a target mapping); none was given.")
    n_layers, n_heads, q, t = weights.shape
    labels = result.labels
    left = labels if stream == "content" else [labels[i] for i in result.query_positions]
    notes = []
    b_start = result.sentence_b_start if stream == "content" else None
    keep = _tokens_within(HEAD_VIEW_LINES // n_heads, q, t, stream == "content")
    if keep < t:  # bertviz draws every line, visible or not: beyond this the page would hang for seconds
        notes.append(f"bertviz's views show the first {keep} of the {t} tokens (they draw one line per head and "
                     f"token pair; more would freeze the page); the maps below show all {t}.")
        row_index = np.arange(keep) if stream == "content" else np.flatnonzero(result.query_positions < keep)
        weights = weights[:, :, row_index][..., :keep]
        left = [left[i] for i in row_index]
        labels = labels[:keep]
        q, t = weights.shape[2:]
        b_start = b_start if b_start is not None and b_start < keep else None
    if layers is None:
        layers = list(range(n_layers))
    lines_per_layer = n_heads * q * t
    fit = max(1, MODEL_VIEW_LINES // lines_per_layer)
    model_layers = layers[:fit]
    if len(model_layers) < len(layers):
        notes.append(f"The model view draws {len(model_layers)} of the {len(layers)} chosen layers "
                     f"({', '.join(map(str, model_layers))}) so the page stays responsive; pick layers to see others.")
    data = {
        "left": left, "right": labels, "layers": layers, "modelLayers": model_layers, "heads": n_heads,
        "rows": q, "cols": t, "levels": LEVELS, "bStart": b_start,
        "weights": base64.b64encode(quantize(weights[layers], LEVELS).tobytes()).decode("ascii"),
    }
    base = served_url(JS_DIR)
    filters = ""
    if b_start is not None:
        names = ["All", "Sentence A -> Sentence A", "Sentence B -> Sentence B", "Sentence A -> Sentence B",
                 "Sentence B -> Sentence A"]
        filters = join(["Attention: ", tag("select", *(tag("option", n, value=i) for i, n in enumerate(names)),
                                           id="filter")])
    if stream != "content":
        notes.append("Query stream: each row is a predicted position, which sees only the tokens before it in the "
                     "factorisation order, never its own content.")
    document = _TEMPLATE.format(
        base=html.escape(base, quote=True), filters=filters, data=_json_for_script(data),
        head_js=_bertviz_js("head_view"), model_js=_bertviz_js("model_view"),
        summary=html.escape(f"{len(labels)} tokens · {n_heads} heads · layers {_ranges(layers)} · "
                            f"weights quantised to 1/{LEVELS}"))
    return Payload(document=document, layers=tuple(layers), model_view_layers=tuple(model_layers),
                   note=" ".join(notes))


def _tokens_within(lines: int, q: int, t: int, square: bool) -> int:
    """How many leading tokens fit in `lines` lines per head (rows x columns)."""
    if q * t <= lines:
        return t
    if square:
        return max(2, int(lines ** 0.5))
    return max(2, int(lines / max(q, 1)))  # query stream: P rows (at most T) against the kept columns


def iframe(document: str, height: int = 760, title: str = "bertviz attention views") -> str:
    """The document inside a sandboxed iframe (scripts run there; gr.HTML itself never runs scripts)."""
    return tag("iframe", class_="bertviz-frame", title=title, sandbox="allow-scripts", height=int(height),
               srcdoc=document)


def _ranges(values: list[int]) -> str:
    out, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            out.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ", ".join(out)


_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8">
<style>
 body {{ font-family: 'Helvetica Neue', Helvetica, Arial, sans-serif; margin: 8px; color: #111; }}
 .bar {{ display: flex; gap: 6px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }}
 .bar button {{ border: 1px solid #c7d2fe; background: #eef2ff; border-radius: 6px; padding: 3px 10px; cursor: pointer; }}
 .bar button.active {{ background: #6366f1; color: #fff; border-color: #4f46e5; }}
 .bar .summary {{ color: #4b5563; font-size: 12px; }}
 .hint {{ color: #4b5563; font-size: 12px; margin: 4px 0; }}
 #status {{ color: #b91c1c; font-size: 13px; }}
 .controls {{ user-select: none; }}
</style>
<script src="{base}/require.js"></script>
</head><body>
<div class="bar">
 <button id="show-head" class="active" type="button">Head view</button>
 <button id="show-model" type="button">Model view</button>
 <span class="summary">{summary}</span> <span id="status"></span>
</div>
<div id="pane-head">
 <div class="hint">Lines join each token (left) to the tokens it attends to (right), one colour per head; click a
 colour square to hide a head, double-click to show it alone; hover a token to focus on it.</div>
 <div id="bv-head"><span class="controls">Layer: <select id="layer"></select> {filters}</span>
 <div id="vis"></div></div>
</div>
<div id="pane-model" hidden>
 <div class="hint">Every head of every chosen layer; click a thumbnail to enlarge it.</div>
 <div id="bv-model"><span class="controls">{filters}</span><div id="vis"></div></div>
</div>
<script type="application/json" id="explorer-data">{data}</script>
<script>
require.config({{ paths: {{ d3: "{base}/d3.min", jquery: "{base}/jquery.min" }} }});
requirejs.onError = function (err) {{
  document.getElementById("status").textContent = "Could not load the view scripts (" + err.requireType + ").";
}};
var DATA = JSON.parse(document.getElementById("explorer-data").textContent);
var ATTN = null;
function decoded() {{  // nested [layer][head][row][col] arrays of weights, as bertviz expects them
  if (ATTN) return ATTN;
  var raw = atob(DATA.weights), L = DATA.layers.length, H = DATA.heads, Q = DATA.rows, T = DATA.cols, k = 0;
  ATTN = [];
  for (var l = 0; l < L; l++) {{ var layer = [];
    for (var h = 0; h < H; h++) {{ var head = [];
      for (var i = 0; i < Q; i++) {{ var row = new Array(T);
        for (var j = 0; j < T; j++) row[j] = raw.charCodeAt(k++) / DATA.levels;
        head.push(row); }}
      layer.push(head); }}
    ATTN.push(layer); }}
  return ATTN;
}}
function slice(attn, rows, cols) {{
  return attn.map(function (layer) {{ return layer.map(function (head) {{
    return head.slice(rows[0], rows[1]).map(function (row) {{ return row.slice(cols[0], cols[1]); }}); }}); }});
}}
function filters(attn) {{  // the same filters bertviz's Python builds, cut here instead of sent five times
  var all = {{ name: null, attn: attn, left_text: DATA.left, right_text: DATA.right }};
  if (DATA.bStart === null) return [all];
  var T = DATA.cols, a = [0, DATA.bStart], b = [DATA.bStart, T];
  function part(name, r, c) {{ return {{ name: name, attn: slice(attn, r, c),
    left_text: DATA.left.slice(r[0], r[1]), right_text: DATA.right.slice(c[0], c[1]) }}; }}
  all.name = "All";
  return [all, part("Sentence A -> Sentence A", a, a), part("Sentence B -> Sentence B", b, b),
          part("Sentence A -> Sentence B", a, b), part("Sentence B -> Sentence A", b, a)];
}}
function explorerParams(kind) {{
  var attn = decoded();
  if (kind === "head_view") {{
    return {{ attention: filters(attn), default_filter: "0", root_div_id: "bv-head", layer: null, heads: null,
             include_layers: DATA.layers }};
  }}
  var keep = DATA.modelLayers.map(function (l) {{ return DATA.layers.indexOf(l); }});
  var heads = []; for (var h = 0; h < DATA.heads; h++) heads.push(h);
  return {{ attention: filters(keep.map(function (i) {{ return attn[i]; }})), default_filter: "0",
           display_mode: "light", root_div_id: "bv-model", include_layers: DATA.modelLayers,
           include_heads: heads, total_heads: DATA.heads }};
}}
function runHeadView() {{
{head_js}
}}
function runModelView() {{
{model_js}
}}
var modelDrawn = false;
function show(which) {{
  document.getElementById("pane-head").hidden = which !== "head";
  document.getElementById("pane-model").hidden = which !== "model";
  document.getElementById("show-head").className = which === "head" ? "active" : "";
  document.getElementById("show-model").className = which === "model" ? "active" : "";
  if (which === "model" && !modelDrawn) {{ modelDrawn = true; runModelView(); }}
}}
document.getElementById("show-head").addEventListener("click", function () {{ show("head"); }});
document.getElementById("show-model").addEventListener("click", function () {{ show("model"); }});
runHeadView();
// Inside the app's iframe: tell the page how tall the views are, so the frame fits them (no blank space below).
// No scrollbar inside (the frame is made to fit), so a resize never changes the width and the height with it.
if (window.parent !== window && window.ResizeObserver) {{
  document.documentElement.style.overflow = "hidden";
  var sentHeight = 0;
  new ResizeObserver(function () {{
    // the body's own extent: the document's scrollHeight is never below the frame's current height, so it could
    // only grow the frame, never shrink it to the views
    var height = Math.ceil(document.body.getBoundingClientRect().bottom + window.scrollY + 8);
    if (Math.abs(height - sentHeight) > 8) {{
      sentHeight = height;
      window.parent.postMessage({{bertvizHeight: height}}, "*");
    }}
  }}).observe(document.body);
}}
</script>
</body></html>
"""


def standalone(document: str) -> str:
    """The same document with every script inlined, to download and open offline anywhere (no app, no CDN).

    d3 and jQuery load as plain scripts first (setting window.d3 / window.jQuery), require.js after them, and the
    two are registered as named modules, so bertviz's `requirejs(['jquery', 'd3'], ...)` needs no file."""
    scripts = "".join(f"<script>{(JS_DIR / name).read_text(encoding='utf-8')}</script>"
                      for name in ("d3.min.js", "jquery.min.js", "require.js"))
    scripts += ("<script>define('d3', [], function () { return window.d3; });"
                "define('jquery', [], function () { return window.jQuery; });</script>")
    head, found, rest = document.partition(f'<script src="{html.escape(served_url(JS_DIR), quote=True)}/require.js">'
                                           f'</script>')
    rest, configs = re.subn(r"require\.config\(\{ paths: \{[^}]*\} \}\);\n", "", rest, count=1)
    if not found or configs != 1:
        raise RuntimeError("the bertviz document no longer loads require.js where standalone() expects it")
    return head + scripts + rest
