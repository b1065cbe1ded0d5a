"""The "Why did it guess that?" section of a family tab, and the coloured words the side-by-side "why" row reuses.

Renders model_zoo.attribution.Attribution as escaped HTML: the user's words coloured blue (pushes the score up) or red
(pushes it down), one row per method (integrated gradients, gradient x input, attention rollout) so their
disagreement shows, the numbers on hover, the baseline and the completeness gap stated, which weights answered.
Wires `<family>_why_guess`, `<family>_why_similarity` and, where a checkpoint detects replaced tokens,
`<family>_why_replaced`.
"""
from __future__ import annotations

import math

import gradio as gr
import numpy as np

from components.common import guarded, load_with_progress, weights_badge
from components.export import csv_table
from components.markup import join, shade, tag
from model_zoo import attribution as at
from model_zoo.registry import Capability, checkpoints_of
from model_zoo.text import POOLINGS, words

HEADERS = ["#", "word", *at.METHODS.values()]
LEGEND = tag("div", tag("span", "pushes up", class_="why-word why-pos shade blue shade-8"), " ",
             tag("span", "pushes down", class_="why-word why-neg shade red shade-8"), " · shade: the share of the "
             "row's largest score; hover a word for its number. Rollout is a share of attention flow (never "
             "negative): it says where the token's attention comes from, not what drove the score.",
             class_="why-legend")


# ---------------------------------------------------------------------------------------------------- renderers
def scored_words(texts: list[str], scores: np.ndarray, unit: str = "") -> str:
    """The words in a row, each shaded by |score| / max |score| of the row, blue when positive, red when negative."""
    finite = np.abs(scores[np.isfinite(scores)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    cells = []
    for text, score in zip(texts, scores):
        if not math.isfinite(score):
            cells.append(tag("span", text, class_="why-word why-none", title="not read by the model"))
            continue
        sign, scale = ("why-pos", "blue") if score >= 0 else ("why-neg", "red")
        cells.append(tag("span", text, class_=["why-word", sign, shade(abs(score) / top, scale)],
                         title=f"{score:+.4g} {unit}".strip()))
    return tag("span", join(cells, " "), class_="why-words")


def render(found: at.Attribution) -> str:
    """Target and probability, the three rows, the completeness line, the baseline, the notes."""
    what = {"guess": "P", "replaced": "P(replaced)", "similarity": "cosine"}[found.kind]
    rows = (tag("tr", tag("th", label), tag("td", scored_words(found.words, found.word_scores[key])))
            for key, label in at.METHODS.items())
    gap = (f'Completeness: the integrated gradients sum to {found.token_scores["ig"].sum():.4g}; f(input) − '
           f'f(baseline) = {found.f_input:.4g} − {found.f_baseline:.4g} = {found.f_input - found.f_baseline:.4g}; '
           f'gap {found.gap:.2g} ({100 * min(found.relative_gap, 9.99):.2g}%) at {found.steps} steps.')
    hint = tag("div", found.hint, class_="why-hint") if found.hint else ""
    return tag("div", tag("div", "Explained: ", tag("b", found.target), f" · {what} = {found.probability:.3g} · by ",
                          tag("code", found.model), f" ({found.weights})", class_="why-target"),
               tag("table", *rows, class_="why-rows"), LEGEND, tag("div", gap, class_="why-gap"), hint,
               tag("div", f"Baseline: {found.baseline}.", class_="note"),
               *(tag("div", n, class_="note") for n in found.notes), class_="why-view")


def table(found: at.Attribution) -> list[list]:
    return [[w + 1, text, *(None if not math.isfinite(found.word_scores[k][w]) else round(float(
        found.word_scores[k][w]), 6) for k in at.METHODS)] for w, text in enumerate(found.words)]


# ---------------------------------------------------------------------------------------------------- handlers
def _outputs(loaded, found: at.Attribution):
    return weights_badge(loaded.report), render(found), table(found)


def explain_guess(spec: str, text: str, mask: float = 1, candidate: str = "", steps: float = 64,
                  progress=gr.Progress()):
    """Attributions of a guess (the top-1, or `candidate`) at mask number `mask` (1 = the first)."""
    loaded = load_with_progress(spec, progress, running="Integrating gradients…")
    if loaded.checkpoint.generator:  # ELECTRA's discriminator: its generator guesses, as in Fill-mask
        loaded = load_with_progress(loaded.checkpoint.generator, progress, running="Integrating gradients…")
    found = at.explain_guess(loaded, text, int(mask or 1) - 1, (candidate or "").strip() or None, int(steps))
    choices = [(f"{t} ({p:.3f})", t) for t, p in found.alternatives]
    return (*_outputs(loaded, found), gr.update(choices=choices, value=(candidate or "").strip() or None))


def explain_similarity(spec: str, text: str, other: str, steps: float = 64, pooling: str = "mean",
                       progress=gr.Progress()):
    """Attributions of cosine(text, other) onto the text's words."""
    loaded = load_with_progress(spec, progress, running="Integrating gradients…")
    return _outputs(loaded, at.explain_similarity(loaded, text, other, int(steps), pooling or "mean"))


def explain_replaced(spec: str, text: str, word: float = 0, steps: float = 64, progress=gr.Progress()):
    """Attributions of the discriminator's 'replaced' logit at word number `word` (0 = the first word)."""
    loaded = load_with_progress(spec, progress, running="Integrating gradients…")
    return _outputs(loaded, at.explain_replaced(loaded, text, int(word or 0), int(steps)))


def word_options(text: str) -> list[tuple[str, int]]:
    return [(f"{w.index + 1}: {w.text}", w.index) for w in words(text or "")]


def offer_words(text: str):
    return gr.update(choices=word_options(text), value=None)


def build(ctx) -> None:
    key = ctx.family.key
    caps = set().union(*(c.capabilities for c in checkpoints_of(key)))
    if not caps & {Capability.FILL_MASK, Capability.PERMUTATION_LM}:
        return
    detects = Capability.REPLACED_TOKEN_DETECTION in caps
    with gr.Tab("Why did it guess that?", id="why") as tab:
        gr.Markdown("Which of your words pushed a guess up or down: **integrated gradients** from a baseline (the "
                    "mask token at every word) to your text, **gradient × input** at your text, and **attention "
                    "rollout** of the guessed position beside them, so you see where attention and attribution "
                    "disagree." + (" Guesses come from the generator." if detects else ""))
        text = ctx.text
        with gr.Row():
            steps = gr.Slider(8, 256, value=64, step=8, label="Steps of the integral", scale=2,
                              elem_id=f"{key}-why-steps")
            mask = gr.Number(value=1, precision=0, minimum=1, label="Mask number", scale=1, elem_id=f"{key}-why-mask")
            candidate = gr.Dropdown(choices=[], value=None, allow_custom_value=True, scale=3,
                                    label="Candidate (empty: the top guess; pick another guess or type a token)",
                                    elem_id=f"{key}-why-candidate")
        run = gr.Button("Explain the guess", variant="primary", elem_id=f"{key}-why-run")
        with gr.Accordion("Similarity to a second sentence", open=False):
            with gr.Row():
                other = gr.Textbox("", label="Compare the text with", scale=3, elem_id=f"{key}-why-other")
                pooling = gr.Dropdown([(label, k) for k, label in POOLINGS.items()], value="mean", scale=1,
                                      label="Pooling")
            run_similarity = gr.Button("Explain the similarity", elem_id=f"{key}-why-run-similarity")
        if detects:
            with gr.Accordion("ELECTRA's discriminator: why is a word 'replaced'?", open=False):
                word = gr.Dropdown(word_options(text.value), label="Word (of the text above)",
                                   elem_id=f"{key}-why-word")
                run_replaced = gr.Button("Explain P(replaced) at the word", elem_id=f"{key}-why-run-replaced")
        view = gr.HTML(elem_id=f"{key}-why-view")
        rows = csv_table(f"{key}-why", headers=HEADERS, label="Scores per word", wrap=True,
                         elem_id=f"{key}-why-table")
    ctx.add_section("why", tab, run, steps=steps, mask=mask)
    outputs = [ctx.status, view, rows]
    run.click(guarded(explain_guess), [ctx.model, text, mask, candidate, steps], [*outputs, candidate],
              api_name=f"{key}_why_guess")
    run_similarity.click(guarded(explain_similarity), [ctx.model, text, other, steps, pooling], outputs,
                         api_name=f"{key}_why_similarity")
    if detects:
        text.change(guarded(offer_words, kind="light"), [text], [word], api_visibility="private")
        run_replaced.click(guarded(explain_replaced), [ctx.model, text, word, steps], outputs,
                           api_name=f"{key}_why_replaced")
