"""The "Attention" section of a family tab: bertviz's head and model views, a heatmap, head statistics and rollout,
and switching heads off (model_zoo.head_ablation): the guesses with every head on and with the chosen heads off.

bertviz runs in a sandboxed <iframe srcdoc> (gr.HTML never runs scripts) with the JavaScript the app serves itself;
the plotly figures are ours. Renderers here are pure functions of `model_zoo.attention.AttentionResult`, so other
views (the XLNet permutation view) can call `compute` with a permutation and reuse `render_all`.
"""
from __future__ import annotations

import html

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import server_files, share
from components.common import OpenCheckboxGroup, guarded, load_with_progress, message_html, weights_badge
from components.markup import join, tag
from model_zoo import attention as attn
from model_zoo import facts, head_ablation, loading
from model_zoo.tokenization import InputError
from components import bertviz_payload

STREAMS = {"content": "content stream (what each token's representation attends to)",
           "query": "query stream (natural-order permutation: each position predicted from the ones before it)"}


def axis_labels(result: attn.AttentionResult, positions=None) -> list[str]:
    """Unique, escaped labels "3 · cat" (plotly merges equal category names, and renders some HTML tags);
    special tokens in bold, where they really are (XLNet's <sep> <cls> at the end)."""
    positions = range(len(result.labels)) if positions is None else positions
    out = []
    for i in positions:
        token = html.escape(result.labels[i], quote=False)  # plotly decodes &lt; &gt; &amp;, not &quot;
        out.append(f"{i} · <b>{token}</b>" if result.tokens.special[i] else f"{i} · {token}")
    return out


def _stream_weights(result: attn.AttentionResult, stream: str):
    if stream == "query":
        if result.query_attention is None:
            raise ValueError("The query stream needs a permutation (a target mapping); choose the content stream.")
        return result.query_attention, axis_labels(result, result.query_positions)
    return result.attention, axis_labels(result)


def _map(z: np.ndarray, rows: list[str], cols: list[str], title: str, hover_value: str) -> go.Figure:
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale="Blues", zmin=0, zmax=float(max(z.max(), 1e-6)),
        hovertemplate="from %{y}<br>to %{x}<br>" + hover_value + ": %{z:.3f}<extra></extra>"))
    height = int(min(1500, max(460, 14 * len(rows) + 260)))
    fig.update_layout(title=dict(text=title, y=0.005, yanchor="bottom", font=dict(size=13)), height=height,
                      margin=dict(l=10, r=10, t=40, b=40),
                      xaxis=dict(side="top", tickangle=-60, type="category", automargin=True),
                      yaxis=dict(autorange="reversed", type="category", automargin=True))
    return fig


def heatmap_figure(result: attn.AttentionResult, layer: int, head: int, stream: str = "content") -> go.Figure:
    weights, rows = _stream_weights(result, stream)
    layer = int(np.clip(layer, 0, result.n_layers - 1))
    head = int(np.clip(head, 0, result.n_heads - 1))
    return _map(weights[layer, head], rows, axis_labels(result),
                f"Layer {layer}, head {head}" + (f" ({stream} stream)" if result.query_attention is not None else "")
                + ": row = attending token, column = attended token",
                "weight")


def rollout_figure(result: attn.AttentionResult) -> go.Figure:
    labels = axis_labels(result)
    return _map(attn.rollout(result.attention), labels, labels,
                "Attention rollout across all layers (Abnar & Zuidema, 2020; residual-corrected): "
                "how much each input token flows into each final representation", "rollout")


def statistics_figure(result: attn.AttentionResult, stream: str = "content") -> go.Figure:
    weights, _ = _stream_weights(result, stream)
    positions = result.query_positions if stream == "query" else None
    stats = attn.head_statistics(weights, result.tokens.special, positions)
    names = list(attn.STATISTICS)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[
        "entropy (nats)", "on special tokens", "on previous token", "on next token", "on itself"],
        horizontal_spacing=0.03, shared_yaxes=True)
    heads = [str(h) for h in range(result.n_heads)]
    layers = [str(l) for l in range(result.n_layers)]
    show_text = result.n_heads <= 8  # values in the cells when they fit; hover always
    for k, name in enumerate(names):
        z = stats[name]
        zmax = float(np.log(max(weights.shape[-1], 2))) if name == "entropy" else 1.0
        fig.add_trace(go.Heatmap(
            z=z, x=heads, y=layers, zmin=0, zmax=zmax, showscale=False,
            colorscale="Viridis" if name == "entropy" else "Oranges",
            texttemplate="%{z:.2f}" if show_text else None, textfont=dict(size=9),
            hovertemplate=f"layer %{{y}}, head %{{x}}<br>{attn.STATISTICS[name]}: %{{z:.3f}}<extra></extra>"),
            row=1, col=k + 1)
        fig.update_xaxes(title_text="head", row=1, col=k + 1, type="category")
    fig.update_yaxes(title_text="layer", autorange="reversed", type="category", row=1, col=1)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=int(max(260, 28 * result.n_layers + 140)), margin=dict(l=10, r=10, t=60, b=10),
                      title="Head statistics (layers x heads), averaged over the attending tokens · click a head to switch "
                            "it off below")
    return fig


def note_html(result: attn.AttentionResult, loaded, payload: bertviz_payload.Payload) -> str:
    size = len(payload.document.encode("utf-8"))
    return join([
        "" if loaded.report.trained else tag("div", "These weights are RANDOM: the attention patterns below mean "
                                         "nothing; they show only the shapes and how the views work.",
                                         class_="weights-badge bad"),
        tag("div", f"The text is longer than {result.cap} tokens (the limit for the interactive views): only its "
                   f"first {len(result.labels)} tokens are shown.", class_="note") if result.truncated else "",
        tag("div", payload.note, class_="note") if payload.note else "",
        tag("div", f"{len(result.labels)} tokens · {result.n_layers} layers x {result.n_heads} heads · bertviz "
                   f"payload {size / 1024:.0f} KB (weights quantised to 1/{bertviz_payload.LEVELS}).", class_="note")])


def render_all(result: attn.AttentionResult, loaded, layers_spec: str = "", layer: int = 0, head: int = 0,
               stream: str = "content"):
    """(note HTML, bertviz iframe HTML, heatmap, statistics, rollout) for a computed result."""
    layers = bertviz_payload.parse_layers(layers_spec, result.n_layers)
    payload = bertviz_payload.build_document(result, layers, stream)
    return (note_html(result, loaded, payload), bertviz_payload.iframe(payload.document),
            heatmap_figure(result, layer, head, stream), statistics_figure(result, stream), rollout_figure(result))


def show_attention(spec: str, text: str, text_pair: str = "", layers_spec: str = "", layer: float = 0,
                   head: float = 0, stream: str = "content", progress=gr.Progress()):
    """Everything the section shows for one model and text; the result is kept for layer/head changes."""
    loaded = load_with_progress(spec, progress)
    stream = stream if stream in STREAMS else "content"
    pair = text_pair if loaded.family.pair_input else None
    result = attn.compute(loaded, text, pair)
    if stream == "query":
        if not loaded.family.two_streams:
            raise ValueError("Only XLNet has a query stream.")
        perm_mask, target_mapping = attn.natural_order_permutation(result.tokens)
        result = attn.compute(loaded, text, pair, perm_mask=perm_mask, target_mapping=target_mapping)
    layer = int(np.clip(layer or 0, 0, result.n_layers - 1))
    head = int(np.clip(head or 0, 0, result.n_heads - 1))
    progress(0.8, desc="Drawing…")
    note, frame, heatmap, stats, roll = render_all(result, loaded, layers_spec, layer, head, stream)
    return (weights_badge(loaded.report), note, frame, heatmap, stats, roll,
            gr.update(maximum=result.n_layers - 1, value=layer), gr.update(maximum=result.n_heads - 1, value=head),
            (result, stream))


def change_head(state, layer: float, head: float):
    """Redraw the heatmap for another layer or head, from the result already computed (no model run)."""
    if not state:
        raise ValueError("Press “Show attention” first.")
    result, stream = state
    return heatmap_figure(result, int(layer or 0), int(head or 0), stream)


def download_views(state, layers_spec: str = ""):
    """The bertviz views of the last result as one standalone HTML file (every script inlined: works offline)."""
    if not state:
        raise ValueError("Press “Show attention” first.")
    result, stream = state
    payload = bertviz_payload.build_document(result, bertviz_payload.parse_layers(layers_spec, result.n_layers), stream)
    path = server_files.new_folder("attention-") / "attention_views.html"
    path.write_text(bertviz_payload.standalone(payload.document), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------------------------------- heads off
def head_grid(spec: str):
    """Choices for the model in the box: whole layers "L3", single heads "L3 H7" (a grid of `heads` columns)."""
    try:
        found = facts.facts(loading.resolve(spec))
        layers, heads = found.layers, found.heads
    except (loading.ModelError, ValueError, KeyError, OSError):   # a model box being typed: the usual grid
        layers, heads = 12, 12
    return ([f"L{i}" for i in range(layers)], [f"L{i} H{j}" for i in range(layers) for j in range(heads)],
            ["heads-grid", f"heads-cols-{heads}"])


def update_head_grid(spec: str):
    layer_choices, head_choices, classes = head_grid(spec)
    return (gr.update(choices=layer_choices, value=[]),
            gr.update(choices=head_choices, value=[], elem_classes=classes))


def _labels(value) -> list[str]:
    """Checkbox values, or a comma-separated string from an API caller."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)):
        raise InputError("Heads must be a list such as [\"L0 H3\", \"L2\"].")
    return [str(item) for item in value]


def switched_off(heads: list[tuple[int, int]], n_heads: int) -> str:
    """"L0 H3, L2 (all heads)" for the heads that are off."""
    parts = []
    for layer in sorted({layer for layer, _ in heads}):
        mine = [h for l, h in heads if l == layer]
        parts.append(f"L{layer} (all heads)" if len(mine) == n_heads else ", ".join(f"L{layer} H{h}" for h in mine))
    return ", ".join(parts) or "none"


def _change(before: float, after: float) -> str:
    kind = "heads-up" if after > before else "heads-down" if after < before else "heads-same"
    return tag("td", f"{after:.4f} ({after - before:+.4f})", class_=kind)


HEADS_COLUMNS = ("#", "every head on", "p", "its p with the heads off (change)", "with the heads off", "p")


def heads_html(result: head_ablation.HeadsOff) -> str:
    """Per mask: the top-k with every head on and with the heads off, side by side, and how each first guess moved."""
    parts = [tag("div", f"Switched off: {switched_off(result.heads, result.n_heads)} of {result.layers} layers x "
                        f"{result.n_heads} heads · {result.method} · {result.seconds:.2f} s", class_="note")]
    if not result.heads:
        parts.append(tag("div", "No head is off: pick heads (or whole layers), then press the button.", class_="note"))
    if not result.head_trained:
        parts.append(tag("div", "These weights (or this mask head) are RANDOM: the guesses mean nothing; they show "
                                "only how switching heads off works.", class_="weights-badge bad"))
    header = tag("thead", tag("tr", *(tag("th", column) for column in HEADS_COLUMNS)))
    for m, (before, after) in enumerate(zip(result.before, result.after)):
        rows = (tag("tr", tag("td", r + 1), tag("td", before.readable[r]), tag("td", f"{before.probs[r]:.4f}"),
                    _change(float(before.probs[r]), float(result.before_after[m, r])),
                    tag("td", after.readable[r]), tag("td", f"{after.probs[r]:.4f}"))
                for r in range(len(before.readable)))
        parts.append(tag("table", tag("caption", f"Mask {m + 1}"), header, tag("tbody", *rows), class_="heads-table"))
    return tag("div", *parts, class_="heads-result")


def heads_off(spec: str, text: str, layers=None, heads=None, k: float = 5, progress=gr.Progress()):
    """The guesses at every mask with every head on and with the chosen heads (and whole layers) off."""
    loaded = load_with_progress(spec, progress, running="Guessing with every head on, then with the heads off…")
    try:
        head_ablation.require_guess(loaded)
        layer_count, head_count = head_ablation.shape(loaded)
        chosen = head_ablation.parse_heads(_labels(layers) + _labels(heads), layer_count, head_count)
        result = head_ablation.guesses_with_heads_off(loaded, text, chosen, int(k or 5))
    except InputError as error:
        return weights_badge(loaded.report), message_html(error)
    return weights_badge(loaded.report), heads_html(result)


def reset_heads():
    return [], [], ""


def build(ctx) -> None:
    key = ctx.family.key
    with gr.Tab("Attention", id="attention") as tab:
        with gr.Row():
            run = gr.Button("Show attention", variant="primary", scale=1, elem_id=f"{key}-attention-run")
            layers_box = gr.Textbox("", label="Layers for the bertviz views (e.g. 0-3, 11; empty: all)", scale=2,
                                    elem_id=f"{key}-attention-layers")
            stream = gr.Radio(list(STREAMS), value="content", label=f"{ctx.family.name} stream", visible=ctx.family.two_streams,
                              info="The query stream uses a natural-order permutation: each word after the first "
                                   "is predicted from the words before it.", scale=2)
        note = gr.HTML(elem_id=f"{key}-attention-note")
        frame = gr.HTML(elem_id=f"{key}-bertviz")
        with gr.Row():
            layer = gr.Slider(0, 11, value=0, step=1, label="Layer (heatmap)", elem_id=f"{key}-attention-layer")
            head = gr.Slider(0, 11, value=0, step=1, label="Head (heatmap)", elem_id=f"{key}-attention-head")
        heatmap = gr.Plot(label="Attention of one head", show_label=False, elem_id=f"{key}-attention-heatmap")
        stats = gr.Plot(label="Head statistics", show_label=False, elem_id=f"{key}-attention-stats")
        roll = gr.Plot(label="Attention rollout", show_label=False, elem_id=f"{key}-attention-rollout")
        state = gr.State(None)
        with gr.Row():
            export = gr.Button("Download the head and model views as a standalone HTML file", size="sm", scale=1,
                               elem_id=f"{key}-attention-export")
            exported = gr.File(label="Attention views (HTML, opens offline)", scale=2,
                               elem_id=f"{key}-attention-file")
        off_layers, off_heads, off_k, off_run, off_reset, off_result = _heads_off_section(ctx)
    ctx.add_section("attention", tab, run, layers=layers_box, layer=layer, head=head, stream=stream,
                    heads_layers=off_layers, heads=off_heads, heads_k=off_k,
                    checks={"layers": share.numbers}, then=(off_run, ("heads", "heads_layers")))
    off_run.click(guarded(heads_off), [ctx.model, ctx.text, off_layers, off_heads, off_k], [ctx.status, off_result],
                  api_name=f"{key}_heads_off")
    off_reset.click(reset_heads, None, [off_layers, off_heads, off_result], api_visibility="private")
    ctx.model.change(guarded(update_head_grid, kind="light"), [ctx.model], [off_layers, off_heads],
                     api_visibility="private")
    export.click(guarded(download_views, kind="light"), [state, layers_box], [exported], api_visibility="private")
    inputs = [ctx.model, ctx.text, ctx.text_pair, layers_box, layer, head, stream]
    outputs = [ctx.status, note, frame, heatmap, stats, roll, layer, head, state]
    run.click(guarded(show_attention), inputs, outputs, api_name=f"{key}_attention")
    stream.change(guarded(show_attention), inputs, outputs, api_visibility="private")
    for slider in (layer, head):
        slider.release(guarded(change_head, kind="light"), [state, layer, head], [heatmap], api_visibility="private")


def _heads_off_section(ctx):
    """The "Switch heads off" block (on the tab's text, which needs a mask): whole layers, a grid of heads, k, run
    and reset."""
    key = ctx.family.key
    layer_choices, head_choices, classes = head_grid(ctx.model.value)
    gr.Markdown("### Switch heads off\nZero the chosen heads' outputs before each layer's output projection and see "
                "the guesses change at the masks of the text above (on this server only for your request: other "
                "users see the model unchanged).")
    k = gr.Slider(1, 10, value=5, step=1, label="Guesses per mask", elem_id=f"{key}-heads-k")
    layers = OpenCheckboxGroup(layer_choices, label="Whole layers off", elem_id=f"{key}-heads-layers",
                               elem_classes=["heads-layers"])
    heads = OpenCheckboxGroup(head_choices, label="Heads off (L = layer, H = head, from 0)",
                              elem_id=f"{key}-heads-grid", elem_classes=classes)
    with gr.Row():
        run = gr.Button("Guess with these heads off", variant="primary", elem_id=f"{key}-heads-run", scale=2)
        reset = gr.Button("Reset: every head on", elem_id=f"{key}-heads-reset", scale=1)
    result = gr.HTML(elem_id=f"{key}-heads-result")
    return layers, heads, k, run, reset, result
