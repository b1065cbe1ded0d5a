"""The "Embeddings" tab: UMAP (or PCA) maps of several models' token or sentence vectors side by side, and neighbours.

Data flows one way: sentences + models -> model_zoo.embedding_map.compute (load, clamp the layer, extract, project,
per model) -> `render_map` (a plotly figure, one panel per model), `embedding_map.csv_rows` (the download) and
`embedding_map.neighbour_rows` (the table). This module parses the inputs and renders; it computes nothing.
Every user string that reaches plotly's hover/legend/titles (which render a subset of HTML) is escaped.
"""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from components.common import escape, guarded, reporter, weights_badge
from components import server_files, share
from components.export import csv_table
from components.markup import Markup, join, tag
from model_zoo import embeddings as emb
from model_zoo import loading, projection
from model_zoo.embedding_map import CSV_HEADER, ModelMap, compute, csv_rows, neighbour_rows
from model_zoo.registry import CHECKPOINTS, Capability
from model_zoo.text import POOLINGS, pooling_key
from model_zoo.tokenization import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "examples"
LEVELS = {  # label -> (level, colour by)
    "tokens · colour by word": ("tokens", "word"),
    "tokens · colour by sentence": ("tokens", "sentence"),
    "tokens · highlight a target word": ("tokens", "target"),
    "sentences": ("sentences", "sentence"),
}
PROJECTIONS = {"UMAP": "umap", "PCA": "pca"}
MAX_MODELS = 6
PANELS_PER_ROW = 3
PALETTE = qualitative.Dark24 + qualitative.Light24
NEIGHBOUR_HEADERS = ["model", "rank", "token", "word", "sentence", "cosine (-1 to 1)",
                     "typical cosine here (median of all pairs)"]


# ------------------------------------------------------------------------------------------------- inputs
def example_sets() -> dict[str, str]:
    """Title (the file's first '# ' line) -> its sentences, one per line."""
    sets = {}
    for path in sorted(EXAMPLES.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        title = lines[0][1:].strip() if lines and lines[0].startswith("#") else path.stem
        sets[title] = "\n".join(line for line in lines if line.strip() and not line.startswith("#"))
    return sets


def _origin(checkpoint) -> str:
    if checkpoint.bundled:
        return "mini, bundled"
    return "real weights, offline" if checkpoint.source_package else checkpoint.hub_id


def model_options(models_mode: str = "auto") -> tuple[list[tuple[str, str]], list[str]]:
    """Every registry checkpoint with attention (dropdown choices), and up to two that can load here as the default."""
    offered = [c for c in CHECKPOINTS.values() if Capability.ATTENTION in c.capabilities
               and not (models_mode == "hub" and c.bundled) and not (models_mode == "mini" and c.default)]
    choices = [(f"{c.key} ({_origin(c)})", c.key) for c in offered]
    preference = [c for c in offered if c.default and c.role != "generator"] + \
        [c for c in offered if c.source_package] + [c for c in offered if c.bundled]  # real weights first
    default = []
    for checkpoint in preference:
        if len(default) == 2:
            break
        if checkpoint.key not in default and loading.is_available(checkpoint):
            default.append(checkpoint.key)
    return choices, default or ["minilm-l6"]


def query_choices(sentences_text: str, level_label: str) -> list[tuple[str, str]]:
    """What the neighbours table can be asked about: every word occurrence ("s:w"), or every sentence ("s")."""
    try:
        sentences = emb.clean_sentences(sentences_text)
    except InputError:
        return []
    if LEVELS.get(level_label, ("tokens",))[0] == "sentences":
        return [(f"#{s + 1} · {_short(text, 60)}", str(s)) for s, text in enumerate(sentences)]
    choices = []
    for s, text in enumerate(sentences):
        for w, word in enumerate(emb.split_words(text)):
            if re.match(r"\w", word):
                choices.append((f"#{s + 1} · {word}", f"{s}:{w}"))
    return choices[:3000]


def parse_query(query: str, sentences: list[str], level: str) -> tuple[int, int]:
    """(sentence, word) from "s:w", "s", a label "#s · word", or a plain word (its first occurrence); word -1 for
    sentences."""
    query = (query or "").strip()
    if not query:
        raise InputError("Pick a token or sentence to find its neighbours.")
    match = re.fullmatch(r"(\d+)(?::(\d+))?", query)
    if match:
        s, w = int(match.group(1)), int(match.group(2) or -1)
    elif (label := re.fullmatch(r"#(\d+) · (.*)", query)) is not None:
        s = int(label.group(1)) - 1
        words = emb.split_words(sentences[s]) if 0 <= s < len(sentences) else []
        w = words.index(label.group(2).lower()) if label.group(2).lower() in words else -1
    else:
        target = query.lower()
        hits = [(s, ws.index(target)) for s, text in enumerate(sentences) if target in (ws := emb.split_words(text))]
        if not hits:
            raise InputError(f"'{query}' is not a word of the sentences.")
        s, w = hits[0]
    if not 0 <= s < len(sentences):
        raise InputError(f"There is no sentence {s + 1}: there are {len(sentences)}.")
    if level == "tokens" and not 0 <= w < len(emb.split_words(sentences[s])):
        raise InputError(f"Sentence {s + 1} has no word {w + 1}.")
    return s, (w if level == "tokens" else -1)


def _models(models) -> list[str]:
    if isinstance(models, str):
        models = [models]
    if models is not None and not isinstance(models, (list, tuple)):
        raise InputError("Models must be a list of model names, Hub ids or folders.")
    specs = list(dict.fromkeys(str(m).strip() for m in (models or []) if m and str(m).strip()))
    if not specs:
        raise InputError("Pick at least one model.")
    if len(specs) > MAX_MODELS:
        raise InputError(f"{len(specs)} models were picked; the limit is {MAX_MODELS} at once.")
    return specs


# ------------------------------------------------------------------------------------------------- rendering
def _number(value, default: int, name: str) -> int:
    """An integer from a slider/number input (API callers may send None or text)."""
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}.") from None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _wrap(text: str, width: int = 60) -> str:
    """Escaped text broken into hover lines."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(escape(part) for part in lines[:6])


def deepest(models) -> int:
    """The most layers among the chosen models (the layer slider's end); 12 when none can be read."""
    from model_zoo import facts
    depths = []
    for spec in loading.parse_specs(models):
        try:
            depths.append(facts.facts(loading.resolve(spec)).layers)
        except (loading.ModelError, ValueError, KeyError):
            continue
    return max(depths, default=12)


def layer_range(models, layer: float = -1):
    """The layer slider runs to the deepest chosen model's last layer (a layer past a shallower model's depth is its
    last layer, said in its panel)."""
    top = deepest(models)
    return gr.update(maximum=top, value=min(int(layer if layer is not None else -1), top))


def _in_context(found: emb.Embeddings, row: int) -> str:
    """A token's label on the map, with the word that best tells its use apart: 'bank (river)', 'bank (money)' (the
    longest other word within three words of it), so that the points of one word do not all read the same."""
    words = emb.split_words(found.sentences[found.sentence_index[row]])
    w = int(found.word_index[row])
    near = [x for k, x in enumerate(words) if k != w and abs(k - w) <= 3 and x.isalpha() and x != found.words[row]]
    return f"{found.tokens[row]} ({max(near, key=len)})" if near else found.tokens[row]


def _groups(found: emb.Embeddings, colour_by: str, target: str) -> tuple[np.ndarray, list[str]]:
    """A group id per point (N,) and the group names (already escaped)."""
    if colour_by == "target" and found.level == "tokens":
        hit = np.zeros(len(found), dtype=np.int64)
        hit[found.rows_of_target(target)] = 1
        return hit, ["other tokens", f"“{escape(target.strip())}”"]
    if colour_by == "word" and found.level == "tokens":
        names = list(dict.fromkeys(found.words))
        index = {w: i for i, w in enumerate(names)}
        return np.asarray([index[w] for w in found.words], dtype=np.int64), [escape(w) for w in names]
    names = [f"#{s + 1} {escape(_short(text, 40))}" for s, text in enumerate(found.sentences)]
    return found.sentence_index.copy(), names


def render_map(maps: list[ModelMap], colour_by: str = "word", target: str = "") -> go.Figure:
    """One scatter panel per model (up to three a row), hover with token, word and sentence, the target ringed."""
    cols = min(PANELS_PER_ROW, len(maps))
    rows = -(-len(maps) // cols)
    titles = []
    for m in maps:
        flag = " · RANDOM weights" if not m.report.trained else ""
        titles.append(f"<b>{escape(_short(m.found.checkpoint, 30))}</b>{flag}<br>"
                      f"<i>{escape(m.projected.method)} · layer {m.found.layer}</i>")
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.04,
                           vertical_spacing=0.12)
    shown_groups: set[str] = set()
    for panel, m in enumerate(maps):
        row, col = panel // cols + 1, panel % cols + 1
        found, proj = m.found, m.projected
        groups, names = _groups(found, colour_by, target)
        kept = proj.indices                                              # (n,) rows of `found` on the map
        many = len(names) > 30
        custom = np.asarray([[escape(found.tokens[i]) if found.level == "tokens" else f"sentence {s + 1}",
                              escape(found.words[i]), _wrap(found.sentences[s]), s + 1,
                              escape(_in_context(found, i)) if found.level == "tokens" else ""]
                             for i, s in zip(kept, found.sentence_index[kept].tolist())], dtype=object)
        template = ("<b>%{customdata[0]}</b>" + (" <i>(word: %{customdata[1]})</i>" if found.level == "tokens" else "")
                    + "<br>#%{customdata[3]}: %{customdata[2]}<extra>" + escape(_short(found.checkpoint, 30))
                    + "</extra>")
        for g, name in enumerate(names):
            mask = groups[kept] == g
            if not mask.any():
                continue
            colour = ("#b0b7c3" if g == 0 else "#dc2626") if colour_by == "target" and found.level == "tokens" \
                else PALETTE[g % len(PALETTE)]
            is_target = colour_by == "target" and g == 1
            figure.add_trace(go.Scatter(
                x=proj.coords[mask, 0], y=proj.coords[mask, 1], customdata=custom[mask], hovertemplate=template,
                mode="markers+text" if (found.level == "sentences" or is_target) else "markers",
                text=[f"#{c[3]}" if found.level == "sentences" else c[4] for c in custom[mask]],
                textposition="top center", textfont=dict(size=10),
                marker=dict(size=13 if is_target else 8, color=colour, opacity=0.9,
                            line=dict(width=1, color="#111827" if is_target else "white")),
                name=name, legendgroup=name, showlegend=(not many and name not in shown_groups)),
                row=row, col=col)
            shown_groups.add(name)
        highlighted = np.flatnonzero(np.isin(kept, found.rows_of_target(target))) if target.strip() else []
        if len(highlighted) and colour_by != "target":
            figure.add_trace(go.Scatter(
                x=proj.coords[highlighted, 0], y=proj.coords[highlighted, 1], mode="markers", hoverinfo="skip",
                marker=dict(size=17, symbol="circle-open", color="#111827", line=dict(width=2.5)),
                name=f"“{escape(target.strip())}”", legendgroup="target",
                showlegend="target" not in shown_groups), row=row, col=col)
            shown_groups.add("target")
        axis = "PC" if proj.method == "PCA" else "UMAP "
        figure.update_xaxes(title_text=f"{axis}1", showticklabels=False, row=row, col=col)
        figure.update_yaxes(title_text=f"{axis}2", showticklabels=False, row=row, col=col)
    figure.update_layout(height=480 * rows, margin=dict(l=30, r=10, t=70, b=30),
                         legend=dict(font=dict(size=11)), hoverlabel=dict(align="left"))
    return figure


def render_notes(maps: list[ModelMap]) -> str:
    """Per model: its name, the weights badge (HTML from components.common, escaped there) and its notes."""
    return join(tag("div", tag("b", m.found.checkpoint), Markup(weights_badge(m.report)),
                    tag("ul", *(tag("li", n) for n in m.notes), class_="note"), class_="emb-model") for m in maps)


# ------------------------------------------------------------------------------------------------- handlers
def embeddings_map(sentences: str, models, level: str, layer: float, pooling: str, method: str, seed: float,
                   target: str = "", progress=gr.Progress()):
    """The map (figure), per-model notes with the weights label, the CSV file, and the neighbours' query choices."""
    specs = _models(models)
    kept = emb.clean_sentences(sentences)
    level_name, colour_by = LEVELS.get(level, (level, "word"))
    if level_name not in emb.LEVELS:
        raise InputError(f"Unknown level {level!r}: choose one of {', '.join(LEVELS)}.")
    if colour_by == "target" and not (target or "").strip():
        raise InputError("Type the target word to highlight (for instance: bank).")
    method_name = PROJECTIONS.get(method, str(method).lower())
    maps = compute(specs, kept, level_name, _number(layer, -1, "Layer"), pooling_key(pooling), method_name,
                   _number(seed, 0, "Seed"), report=reporter(progress))
    if progress is not None:
        progress(0.95, desc="Drawing…")
    figure = render_map(maps, colour_by, target or "")
    path = projection.write_csv(CSV_HEADER, csv_rows(maps), folder=str(server_files.new_folder("embeddings-")))
    choices = query_choices(sentences, level)
    value = _default_query(choices, kept, level_name, target or "")
    return figure, render_notes(maps), path, gr.update(choices=choices, value=value)


def _default_query(choices, sentences: list[str], level: str, target: str):
    if target.strip():
        try:
            s, w = parse_query(target, sentences, level)
            return str(s) if level == "sentences" else f"{s}:{w}"
        except InputError:
            pass
    return choices[0][1] if choices else None


def embeddings_neighbours(sentences: str, models, level: str, layer: float, pooling: str, query: str, k: float = 5,
                          progress=gr.Progress()):
    """Nearest neighbours by cosine in each model's original space (no projection involved)."""
    specs = _models(models)
    kept = emb.clean_sentences(sentences)
    level_name, _ = LEVELS.get(level, (level, "word"))
    if level_name not in emb.LEVELS:
        raise InputError(f"Unknown level {level!r}: choose one of {', '.join(LEVELS)}.")
    s, w = parse_query(query, kept, level_name)
    maps = compute(specs, kept, level_name, _number(layer, -1, "Layer"), pooling_key(pooling), None, 0,
                   report=reporter(progress))
    return neighbour_rows(maps, s, w, max(1, min(_number(k, 5, "Neighbours"), 50)))


def update_queries(sentences: str, level: str):
    choices = query_choices(sentences, level)
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


# ------------------------------------------------------------------------------------------------- layout
def build(models_mode: str = "auto") -> share.LinkTarget:
    sets = example_sets()
    first_set = next(iter(sets), "")
    choices, default_models = model_options(models_mode)
    with gr.Tab("Embeddings", id="embeddings"):
        gr.Markdown("## Embedding map\nWhere does each model put your words and sentences? Each panel is one model's "
                    "vectors at the chosen layer, projected to 2-D (UMAP or PCA); nearby points are vectors the model "
                    "finds alike. Neighbours below are measured in the original space, not on the map.")
        with gr.Row():
            with gr.Column(scale=3):
                example = gr.Dropdown(choices=list(sets), value=first_set, label="Example set", elem_id="emb-example")
                sentences = gr.Textbox(value=sets.get(first_set, ""), lines=8, max_lines=20,
                                       label="Sentences (one per line)", elem_id="emb-sentences")
            with gr.Column(scale=2):
                models = gr.Dropdown(choices=choices, value=default_models, multiselect=True, allow_custom_value=True,
                                     label="Models (several: one panel each; or type a Hub id / local folder)",
                                     elem_id="emb-models")
                level = gr.Radio(list(LEVELS), value="tokens · highlight a target word", label="Level",
                                 elem_id="emb-level")
                target = gr.Textbox(value="bank", label="Target word (highlighted)", elem_id="emb-target")
                with gr.Row():
                    layer = gr.Slider(-1, deepest(default_models), value=-1, step=1, elem_id="emb-layer",
                                      label="Layer (0 = embeddings, -1 = last)")
                    pooling = gr.Dropdown(list(POOLINGS.values()), value=POOLINGS["mean"], label="Sentence pooling")
                with gr.Row():
                    method = gr.Radio(list(PROJECTIONS), value="UMAP", label="Projection")
                    seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
                run = gr.Button("Draw the map", variant="primary", elem_id="emb-run")
                link_button, link = share.link_box("this map with these sentences, models and options", "emb")
        plot = gr.Plot(label="Embedding map", elem_id="emb-plot")
        notes = gr.HTML(elem_id="emb-notes")
        csv_file = gr.File(label="Coordinates (CSV)", elem_id="emb-csv")
        gr.Markdown("### Nearest neighbours (cosine similarity in each model's own space)")
        with gr.Row():
            query = gr.Dropdown(choices=query_choices(sets.get(first_set, ""), "tokens · highlight a target word"),
                                allow_custom_value=True, label="Token (word occurrence) or sentence", scale=3,
                                elem_id="emb-query")
            k = gr.Slider(1, 20, value=5, step=1, label="Neighbours", scale=1)
            find = gr.Button("Find neighbours", scale=1, elem_id="emb-find")
        table = csv_table("embedding-neighbours", headers=NEIGHBOUR_HEADERS, wrap=True, elem_id="emb-neighbours",
                             column_widths=["20%", "6%", "9%", "9%", "36%", "9%", "11%"])

    example.change(lambda name: sets.get(name, ""), [example], [sentences], api_visibility="private")
    models.change(guarded(layer_range, kind="light"), [models, layer], [layer], api_visibility="private")
    for source in (sentences.blur, level.change):
        source(guarded(update_queries, kind="light"), [sentences, level], [query], api_visibility="private")
    run.click(guarded(embeddings_map), [sentences, models, level, layer, pooling, method, seed, target],
              [plot, notes, csv_file, query], api_name="embeddings_map")
    find.click(guarded(embeddings_neighbours), [sentences, models, level, layer, pooling, query, k], [table],
               api_name="embeddings_neighbours")
    link_target = share.LinkTarget(tab="embeddings", run="emb-run",
                                   options={"sentences": sentences, "models": models, "level": level, "target": target,
                                            "layer": layer, "pooling": pooling, "method": method, "seed": seed},
                                   checks={"models": share.model_spec})
    share.wire_link(link_button, link, link_target, "embeddings_share_link")
    return link_target
