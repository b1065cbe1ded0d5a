"""The "Fill-mask" section of a family tab: top-k guesses per mask (a bar chart each), the sentence with the top guesses
filled in, clicking a word to mask it, and the guess forming layer by layer (logit lens: a table and a plot).

Renders model_zoo.fill_mask / model_zoo.logit_lens dataclasses; wires `<family>_fill_mask`, `<family>_logit_lens`
and `<family>_mask_word`.
"""
from __future__ import annotations

import math

import gradio as gr
import plotly.graph_objects as go

from components.common import escape, guarded, load_with_progress, weights_badge
from components.export import csv_table
from components.markup import join, tag
from model_zoo import fill_mask as fm
from model_zoo import loading
from model_zoo.logit_lens import LensResult, logit_lens
from model_zoo.registry import Capability, checkpoints_of
from model_zoo.text import words

_ZWSP = "\u200b"
LENS_HEADERS = ["mask", "layer", "top guesses (probability)", "P(final answer)"]
_COLORS = ["#4f46e5", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#65a30d", "#475569",
           "#b45309"]


def offered(family) -> bool:
    return any({Capability.FILL_MASK, Capability.PERMUTATION_LM} & c.capabilities for c in checkpoints_of(family.key))


# ---------------------------------------------------------------------------------------------------- renderers
def render_warning(loaded: loading.LoadedModel, asked: str) -> str:
    """Which model guessed, and a loud note when its guesses mean nothing (random weights or a new head)."""
    notes = []
    if loaded.checkpoint.key != (asked or "").strip() and loaded.checkpoint.hub_id != (asked or "").strip():
        notes.append(tag("div", "Guesses come from ", tag("b", loaded.checkpoint.key),
                         f" ({loaded.checkpoint.model_class}): the model picked above has no mask-guessing head of "
                         "its own.", class_="note"))
    if not loaded.report.trained:
        notes.append(tag("div", "RANDOM weights: these guesses mean nothing; they only show the mechanics.",
                         class_="fm-warning weights-badge bad"))
    elif not fm.head_trained(loaded):
        notes.append(tag("div", "The mask-guessing head of this checkpoint is NEWLY INITIALISED (random): it was not "
                         "in the checkpoint, so the guesses below are noise, not the model's answer. Pick a checkpoint "
                         "trained with masked language modelling.", class_="fm-warning weights-badge bad"))
    if loaded.family.two_streams:  # `code` spans: the odd pieces of the split are code
        pieces = fm.XLNET_NOTE.split("`")
        notes.append(tag("div", *(tag("code", p) if i % 2 else p for i, p in enumerate(pieces)),
                         class_="note fm-xlnet-note"))
    return join(notes)


def render_filled(result: fm.FillMaskResult) -> str:
    """The user's sentence with each mask replaced by its top guess (highlighted; probability on hover)."""
    pieces = [text if m < 0 else tag("mark", text, tag("sub", str(m + 1)), class_="fm-guess",
                                     title=f"mask {m + 1}: p = {result.masks[m].probs[0]:.3f}")
              for text, m in result.filled_parts]
    caveat = "" if result.head_trained else join([" ", tag("span", "(guesses of an untrained head)",
                                                           class_="fm-caveat")])
    return join([tag("div", *pieces, class_="fm-filled"),
                 tag("div", "The model read: ", tag("code", result.model_text), f" · {result.method}", caveat,
                     class_="note")])


def bars_figure(result: fm.FillMaskResult) -> go.Figure:
    """One horizontal bar chart per mask: the top-k tokens and their probabilities, best on top.
    The grid is laid out by hand (make_subplots costs ~10 ms a figure, a tenth of a BERT-base forward pass)."""
    n = len(result.masks)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    h_gap, v_gap = 0.12, 0.3 / rows
    width, height = (1 - h_gap * (cols - 1)) / cols, (1 - v_gap * (rows - 1)) / rows
    traces, layout = [], {"annotations": []}
    for m, guess in enumerate(result.masks):
        row, col = divmod(m, cols)
        suffix = "" if m == 0 else str(m + 1)
        x0, y1 = col * (width + h_gap), 1 - row * (height + v_gap)
        layout[f"xaxis{suffix}"] = dict(domain=[x0, x0 + width], anchor=f"y{suffix}", title_text="probability",
                                        rangemode="tozero")
        layout[f"yaxis{suffix}"] = dict(domain=[y1 - height, y1], anchor=f"x{suffix}")
        layout["annotations"].append(dict(text=f"mask {m + 1} (token #{guess.position})", x=x0 + width / 2, y=y1,
                                          xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                                          showarrow=False, font=dict(size=14)))
        labels = [f"{escape(t)} " for t in guess.readable][::-1]
        labels = [label + _ZWSP * i for i, label in enumerate(labels)]  # equal strings stay separate bars
        traces.append(go.Bar(x=guess.probs[::-1].tolist(), y=labels, orientation="h", xaxis=f"x{suffix}",
                             yaxis=f"y{suffix}", marker_color=_COLORS[m % len(_COLORS)],
                             text=[f"{p:.3g}" for p in guess.probs[::-1]], textposition="auto",
                             hovertemplate="%{y}: %{x:.4f}<extra></extra>", showlegend=False))
    layout.update(height=max(260, 40 + rows * (60 + 26 * len(result.masks[0].probs))),
                  margin=dict(l=10, r=10, t=40, b=10))
    return go.Figure(data=traces, layout=layout)


def lens_figure(lens: LensResult) -> go.Figure:
    """Probability of each mask's final answer after every layer; the top-1 guess of the layer on each point."""
    fig = go.Figure()
    for m in range(len(lens.positions)):
        top1 = [escape(layer[0]) for layer in lens.top_tokens[m]]
        fig.add_trace(go.Scatter(x=lens.layers, y=lens.final_prob[m].tolist(), mode="lines+markers+text",
                                 name=f"mask {m + 1} → {escape(lens.final_tokens[m])}", text=top1,
                                 textposition="top center", line=dict(color=_COLORS[m % len(_COLORS)]),
                                 customdata=top1,
                                 hovertemplate="%{x}: P(final answer) = %{y:.4f}<br>top-1 here: %{customdata}"
                                               "<extra></extra>"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10),
                      title=f"P(final answer) per layer ({lens.stream}); labels: each layer's own top guess",
                      yaxis=dict(title="probability", range=[0, 1.2 * float(lens.final_prob.max()) + 1e-6]),
                      legend=dict(orientation="h", y=-0.2))  # headroom above the points for their labels
    return fig


def lens_rows(lens: LensResult) -> list[list]:
    rows = []
    for m in range(len(lens.positions)):
        for layer, name in enumerate(lens.layers):
            guesses = ", ".join(f"{t} ({p:.3g})" for t, p in zip(lens.top_tokens[m][layer], lens.top_probs[m, layer]))
            rows.append([f"{m + 1} → {lens.final_tokens[m]}", name, guesses,
                         float(f"{lens.final_prob[m, layer]:.4g}")])
    return rows


def word_choices(text: str) -> list[tuple[str, int]]:
    """The words a user can click (text.words: the same split for every family, no model needed)."""
    return [(("▣ " if w.is_mask else "") + w.text, w.index) for w in words(text or "")]


def offer_words(text: str):
    """The clickable words as soon as there is text, before any run (and after a click changed the text)."""
    return gr.update(choices=word_choices(text), value=None)


# ---------------------------------------------------------------------------------------------------- handlers
def guess(spec: str, text: str, k: int = 5, progress=gr.Progress()):
    """Top-k guesses per mask: badge, warnings, filled sentence, clickable words, bar charts."""
    loaded = load_with_progress(fm.fill_mask_checkpoint(spec), progress, running="Guessing…")
    result = fm.fill_mask(loaded, text, int(k))
    return (weights_badge(loaded.report), render_warning(loaded, spec), render_filled(result),
            gr.update(choices=word_choices(text), value=None), bars_figure(result))


def lens(spec: str, text: str, k: int = 5, progress=gr.Progress()):
    """Layer by layer: the plot of P(final answer) and the table of each layer's top guesses."""
    loaded = load_with_progress(fm.fill_mask_checkpoint(spec), progress, running="Reading every layer…")
    found = logit_lens(loaded, text, min(int(k), 5))
    return lens_figure(found), lens_rows(found)


def click_word(spec: str, text: str, index):
    """Mask the clicked word of the tokenized text (word `index`), returning the new text."""
    if index is None or index == "":
        return text
    loaded = loading.load(fm.fill_mask_checkpoint(spec))
    return fm.mask_word(loaded.tokenizer, text, int(index))


def mask_word_api(spec: str, text: str, index: int) -> str:
    """The text with word `index` (0-based, the tokenizer's own word split) replaced by the model's mask token."""
    return click_word(spec, text, index)


def build(ctx) -> None:
    if not offered(ctx.family):
        return
    key = ctx.family.key
    with gr.Tab("Fill-mask", id="fill-mask") as tab:
        gr.Markdown("Hide a word and let the model guess. Write **[MASK]**, **&lt;mask&gt;** or **___** (any of them, "
                    "whatever the family: the app maps it to the model's own mask token), up to "
                    f"{fm.MAX_MASKS} masks, or click a word below to mask it."
                    + (f" Guesses come from {ctx.family.name}'s **generator** (the discriminator cannot guess)."
                       if any(c.role == "generator" for c in checkpoints_of(key)) else "")
                    + (f" {ctx.family.name} predicts each mask from the non-masked tokens with its query stream "
                       "(`perm_mask` + `target_mapping`), explained below the results."
                       if ctx.family.two_streams else ""))
        text = ctx.text
        k = gr.Slider(1, 20, value=5, step=1, label="k (guesses per mask)", elem_id=f"{key}-fm-k")
        run = gr.Button("Guess the masked words", variant="primary", elem_id=f"{key}-fm-run")
        warning = gr.HTML(elem_id=f"{key}-fm-warning")
        filled = gr.HTML(elem_id=f"{key}-fm-filled")
        words = gr.Radio(choices=word_choices(text.value), label="Click a word to mask it (▣ = already masked)",
                         elem_id=f"{key}-fm-words")
        bars = gr.Plot(label="Top guesses per mask", elem_id=f"{key}-fm-bars")
        gr.Markdown("### Layer by layer (logit lens)\nThe model's own MLM head applied to the hidden state after "
                    "every layer: how early does the final answer appear, and what did earlier layers guess? The last "
                    "layer is exactly the prediction above." +
                    (f" For {ctx.family.name} the head reads the query stream." if ctx.family.two_streams else ""))
        lens_plot = gr.Plot(label="P(final answer) per layer", elem_id=f"{key}-fm-lens-plot")
        lens_table = csv_table(f"{key}-logit-lens", headers=LENS_HEADERS, label="Each layer's top guesses",
                                  wrap=True, elem_id=f"{key}-fm-lens-table")
        # the click, for API users: index -> new text
        gr.api(guarded(mask_word_api, kind="light"), api_name=f"{key}_mask_word")
    ctx.add_section("fill-mask", tab, run, k=k)
    inputs = [ctx.model, text, k]
    outputs = [ctx.status, warning, filled, words, bars]
    run.click(guarded(guess), inputs, outputs, api_name=f"{key}_fill_mask").success(
        guarded(lens), inputs, [lens_plot, lens_table], api_name=f"{key}_logit_lens")
    text.change(guarded(offer_words, kind="light"), [text], [words], api_visibility="private")
    words.input(guarded(click_word, kind="light"), [ctx.model, text, words], [text], api_visibility="private").success(
        guarded(guess), inputs, outputs, api_visibility="private").success(
        guarded(lens), inputs, [lens_plot, lens_table], api_visibility="private")
