"""The Side by side tab: one text, every chosen model answers it next to the others (model_zoo.side_by_side).

The run is streamed (components/streaming.py), one model per step: each step takes a model slot of its own, so a
comparison of seven models comes in column by column and other users' forward passes interleave with it. The view's
state (the columns so far) lives in a gr.State, per browser session.
"""
from __future__ import annotations

import gradio as gr
import pandas as pd

from components import model_labels, share
from components import side_by_side_render as render
from components.common import guarded
from components.export import csv_table
from components.streaming import stream
from model_zoo import loading
from model_zoo import side_by_side as sbs
from model_zoo.registry import Capability, FAMILIES

TAB_ID = "side-by-side"
# The opening text: plain English every bundled mini answers sensibly offline, where they still differ (door; or room,
# copied from later in the sentence, which only a model that reads both sides can do). The doctor sentence, the classic
# bias probe, drew "doctor" from four minis: it stays an example, for real weights (tests/test_mini_zoo.py).
EXAMPLE = "She opened the [MASK] and walked into the room."
# (label, text, second text): what each example shows, and which weights can show it
EXAMPLES = [("Fill a gap (the offline minis answer it)", EXAMPLE, ""),
            ("Surprise per word, no mask (offline too)", "The children play football in the park after school.", ""),
            ("Similarity of two sentences (MiniLM's real weights, offline)", "A man is playing a guitar on stage.",
             "Someone is performing music for an audience."),
            ("Subword pieces of unusual words", "Unbelievably, the café's crème brûlée was the best I have ever eaten.",
             ""),
            ("A bias probe (needs real weights: the minis answer 'doctor')",
             "The doctor told the [MASK] that she was late.", ""),
            ("A fact (needs real weights: the minis answer nonsense)", "Paris is the capital of [MASK].", "")]
_ANSWERS = {Capability.FILL_MASK, Capability.PERMUTATION_LM, Capability.REPLACED_TOKEN_DETECTION}


def model_options(models_mode: str = "auto") -> list[tuple[str, str]]:
    """Checkpoints worth comparing (they guess, score words or are real offline weights), loadable ones first."""
    seen, offered = set(), []
    for family in FAMILIES:
        for checkpoint in loading.model_choices(family, models_mode)[0] + loading.model_choices(family, "hub")[0]:
            if checkpoint.key in seen or not (checkpoint.capabilities & _ANSWERS or checkpoint.source_package):
                continue
            seen.add(checkpoint.key)
            offered.append(checkpoint)
    return model_labels.options(offered, with_family=True)


def _outputs(view: sbs.SideBySide, running: str = "") -> tuple:
    headers, rows = render.word_rows(view)
    figure = render.attention_figure(view)                      # shown once a model has answered: no empty plot
    return (render.status_html(view, running), render.grid_html(view), gr.update(value=figure,
                                                                                 visible=figure is not None),
            pd.DataFrame(rows, columns=headers),
            pd.DataFrame(render.guess_rows(view), columns=render.GUESS_HEADERS),
            pd.DataFrame(render.model_rows(view), columns=render.MODEL_HEADERS))


def compare(models: list, text: str, pair: str = "", k: float = 5, progress=gr.Progress()):
    """Check the input once for every model and lay out the columns, all waiting; then run the models one by one,
    a column at a time (each step of this generator runs in a model slot of its own)."""
    specs, words = sbs.check_input(loading.parse_specs(models), text, pair)
    state = {"specs": specs, "text": text, "pair": pair or "", "k": int(k), "words": words, "columns": []}
    yield (state, *_outputs(_view(state), running=specs[0]))
    for index, spec in enumerate(specs):
        progress(index / len(specs), desc=f"Model {index + 1} of {len(specs)}: {spec} (loading on first use, then "
                                          f"running)…")
        column = sbs.compare_one(spec, state["text"], state["pair"], state["k"], state["words"])
        state = {**state, "columns": [*state["columns"], column]}
        upcoming = specs[index + 1] if index + 1 < len(specs) else ""
        if column.guesses:                  # its answer first, then why (integrated gradients of its top-1)
            yield (state, *_outputs(_view(state), running=f"attributions for {column.key}"))
            progress((index + 0.5) / len(specs), desc=f"Model {index + 1} of {len(specs)}: {spec}, attributions…")
        state = {**state, "columns": [*state["columns"][:-1], sbs.explain(column, state["text"])]}
        yield (state, *_outputs(_view(state), running=upcoming))


def _view(state: dict) -> sbs.SideBySide:
    columns = state["columns"]
    return sbs.SideBySide(text=state["text"], pair=state["pair"], k=state["k"], words=state["words"],
                          columns=list(columns), pending=state["specs"][len(columns):],
                          agreement=sbs.agreement(columns, sum(w.is_mask for w in state["words"])))


def side_by_side_api(text: str, pair: str = "", models: str = "", k: float = 5, why_steps: float = 0) -> dict:
    """Every model on one text, as plain JSON per model. `models`: comma-separated registry keys, Hub ids or
    folders (empty: each family's default); why_steps > 0 adds each model's "why" (integrated gradients of its
    top-1 at the first mask, that many steps)."""
    return sbs.as_json(sbs.side_by_side(loading.parse_specs(models) or sbs.default_specs(), text, pair, int(k),
                                        why_steps=int(why_steps or 0)))


def build(models_mode: str = "auto") -> share.LinkTarget:
    with gr.Tab("Side by side", id=TAB_ID):
        gr.Markdown("## Every family on the same text\nType one sentence; each model answers it in its own way, in "
                    "columns aligned on your words. Write **[MASK]**, **&lt;mask&gt;** or **___** to see every "
                    "model's guesses; without a mask each word is coloured by how surprising it is to each model. "
                    "The text is shared with every family tab.")
        with gr.Row():
            text = gr.Textbox(value=EXAMPLE, label="Text (shared with every tab)", lines=2, max_lines=6, scale=3,
                              elem_id="sbs-text")
            pair = gr.Textbox("", label="Second sentence (optional: each model's similarity)", lines=2, scale=2,
                              elem_id="sbs-pair")
        with gr.Row():
            models = gr.Dropdown(choices=model_options(models_mode), value=sbs.default_specs(models_mode),
                                 multiselect=True, allow_custom_value=True, scale=4, elem_id="sbs-models",
                                 label=f"Models (up to {sbs.MAX_MODELS}): pick, or type a Hub id or a local folder")
            k = gr.Slider(1, 10, value=5, step=1, label="k (guesses per mask)", scale=1, elem_id="sbs-k")
        run = gr.Button("Compare side by side", variant="primary", elem_id="sbs-run")
        gr.Examples([[t, p] for _, t, p in EXAMPLES], [text, pair], label="Examples (click, then Compare)",
                    example_labels=[label for label, _, _ in EXAMPLES])
        status = gr.HTML(elem_id="sbs-status")
        grid = gr.HTML(elem_id="sbs-grid")
        plot = gr.Plot(label="Attention between the words, one panel per model", elem_id="sbs-attention",
                       visible=False)
        with gr.Accordion("Tables (CSV)", open=False):
            words_table = csv_table("side-by-side-words", label="Words: pieces and surprise per model", wrap=True,
                                    elem_id="sbs-words-table")
            guesses_table = csv_table("side-by-side-guesses", headers=render.GUESS_HEADERS, label="Guesses",
                                      wrap=True, elem_id="sbs-guesses-table")
            models_table = csv_table("side-by-side-models", headers=render.MODEL_HEADERS,
                                     label="Per model: weights, cost, attention figures, similarity", wrap=True,
                                     elem_id="sbs-models-table")
        gr.api(guarded(side_by_side_api), api_name="side_by_side")
        link_button, link = share.link_box("this comparison", "sbs")
        state = gr.State(None)  # inside the tab: a component directly in gr.Tabs shifts the tab buttons' labels
    outputs = [state, status, grid, plot, words_table, guesses_table, models_table]
    target = share.LinkTarget(tab=TAB_ID, options={"text": text, "pair": pair, "models": models, "k": k},
                              run=run.elem_id, checks={"models": share.model_spec})
    for trigger, api in ((run.click, "side_by_side_start"), (text.submit, None)):
        trigger(stream(compare, kind="model"), [models, text, pair, k], outputs, show_progress="minimal",
                **({"api_name": api} if api else {"api_visibility": "private"}))
    share.wire_link(link_button, link, target, "side_by_side_share_link")
    return target
