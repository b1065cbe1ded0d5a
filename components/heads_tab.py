"""The "Heads" tab: which attention heads matter for one guess, in several models side by side.

Per model (model_zoo.head_ablation.head_importance): the drop in the guess's log-probability when each head alone is
switched off, next to Michel et al. 2019's one-backward estimate, and the rank correlation of the two. The run is
streamed (components/streaming.py), one model a step; its Stop button is read between models and between the scan's
batches. A model that cannot guess, or fails, says so in its row; the others still run.
"""
from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import app_state, share
from components.common import escape, guarded, message_html
from components.export import csv_table
from components.markup import tag
from components.streaming import stream
from model_zoo import head_ablation as ha
from model_zoo import loading
from model_zoo import side_by_side as sbs
from model_zoo.text import words
from model_zoo.tokenization import InputError

TAB_ID = "heads"
EXAMPLE = "She opened the [MASK] and walked into the room."
MAX_MODELS = 8
SUMMARY_HEADERS = ["model", "guess scored", "log p (every head on)", "Spearman |drop| vs estimate", "heads scanned",
                   "seconds", "note", "weights"]
HEAD_HEADERS = ["model", "layer", "head", "drop in log p when off", "gradient estimate |dL/dξ|"]


# ------------------------------------------------------------------------------------------------- rendering
def figure(results: list) -> go.Figure | None:
    """One row per model that answered: its drop heatmap | its estimate heatmap (each on its own scale)."""
    done = [(spec, r) for spec, r in results if isinstance(r, ha.HeadImportance)]
    if not done:
        return None
    titles = []
    for spec, r in done:
        name = escape(spec if len(spec) <= 40 else "…" + spec[-39:])
        titles += [f"<b>{name}</b>: drop in log p(“{escape(r.target)}”) when the head is off",
                   f"<b>{name}</b>: estimate |∂L/∂ξ| (Spearman {r.spearman:.2f})"]
    fig = make_subplots(rows=len(done), cols=2, subplot_titles=titles, horizontal_spacing=0.12,
                        vertical_spacing=min(0.3 / len(done), 0.12))
    for row, (spec, r) in enumerate(done, start=1):
        layers, heads = r.drop.shape
        x, y = [str(h) for h in range(heads)], [str(l) for l in range(layers)]
        bound = float(np.nanmax(np.abs(r.drop))) if not np.isnan(r.drop).all() else 1.0
        for col, (z, scale, what) in enumerate(((r.drop, "RdBu_r", "drop"), (r.estimate, "Blues", "estimate")), 1):
            fig.add_trace(go.Heatmap(
                z=z, x=x, y=y, colorscale=scale, zmid=0 if what == "drop" else None,
                zmin=-bound if what == "drop" else 0, zmax=bound if what == "drop" else None,
                colorbar=dict(len=0.9 / len(done), y=1 - (row - 0.5) / len(done), x=0.44 if col == 1 else 1.0,
                              thickness=10),
                hovertemplate=f"layer %{{y}}, head %{{x}}<br>{what}: %{{z:.5f}}<extra>{escape(spec[-40:])}</extra>"),
                row=row, col=col)
            fig.update_xaxes(title_text="head", type="category", row=row, col=col)
            fig.update_yaxes(title_text="layer", type="category", autorange="reversed", row=row, col=col)
    fig.update_layout(height=int(max(320, 300 * len(done))), margin=dict(l=10, r=10, t=50, b=10),
                      font=dict(size=11))
    fig.update_annotations(font_size=12)
    return fig


def _number(value: float, digits: int = 6):
    """A table cell: the value rounded, or empty where it is undefined (NaN: a head not scanned, no correlation)."""
    return None if np.isnan(value) else round(float(value), digits)


def summary_rows(results: list) -> list[list]:
    rows = []
    for spec, r in results:
        if isinstance(r, ha.HeadImportance):
            scanned = int((~np.isnan(r.drop)).sum())
            untrained = "" if r.head_trained else "RANDOM weights or mask head: the numbers mean nothing"
            note = "; ".join(n for n in ("stopped before every head" if r.stopped else "", r.note, untrained) if n)
            rows.append([spec, r.target, _number(r.log_prob, 4), _number(r.spearman, 3), scanned,
                         round(r.seconds, 2), note, r.weights])
        else:
            rows.append([spec, "", None, None, 0, None, r, ""])
    return rows


def head_rows(results: list) -> list[list]:
    return [[spec, layer, head, _number(r.drop[layer, head]), _number(r.estimate[layer, head])]
            for spec, r in results if isinstance(r, ha.HeadImportance)
            for layer in range(r.drop.shape[0]) for head in range(r.drop.shape[1])]


def status_html(results: list, specs: list[str], running: str = "") -> str:
    failed = sum(not isinstance(r, ha.HeadImportance) for _, r in results)
    text = f"{len(results)} of {len(specs)} models done"
    text += f" ({failed} could not run: see the table)" if failed else ""
    text += f"; now {running} (loading on first use, then scanning)…" if running else "."
    return tag("div", f"{text} Drop: log p(guess) with every head on minus with that head alone off (red: the head "
                      "helped the guess). Estimate: Michel et al. 2019, |∂L/∂ξ| for a gate ξ on the head, one backward "
                      "pass; Spearman compares its ranking with |drop|.", class_="note heads-status")


def _outputs(results: list, specs: list[str], running: str = "") -> tuple:
    fig = figure(results)
    return (status_html(results, specs, running), gr.update(value=fig, visible=fig is not None),
            pd.DataFrame(summary_rows(results), columns=SUMMARY_HEADERS),
            pd.DataFrame(head_rows(results), columns=HEAD_HEADERS))


# ------------------------------------------------------------------------------------------------- handlers
def check_input(models: str, text: str, mask: float) -> tuple[list[str], int]:
    specs = loading.parse_specs(models) or sbs.default_specs()
    if len(specs) > MAX_MODELS:
        raise InputError(f"{len(specs)} models were given; at most {MAX_MODELS} are scanned at once.")
    if not (text or "").strip():
        raise InputError("The text is empty: type a sentence with [MASK] (or <mask>, or ___) where a word is guessed.")
    count = sum(w.is_mask for w in words(text))
    if count == 0:
        raise InputError("No mask in the text: write [MASK], <mask> or ___ where the word to explain should be.")
    try:
        index = int(float(mask if mask not in (None, "") else 1))
    except (TypeError, ValueError):
        raise InputError(f"The mask number must be a number, not {mask!r}.") from None
    if not 1 <= index <= count:
        raise InputError(f"There is no mask {index}: the text has {count}.")
    return specs, index - 1


def scan(models: str, text: str, mask: float = 1, candidate: str = "", request: gr.Request = None,
         progress=gr.Progress()):
    """Every model's head scan for the guess at mask `mask` (1 = the first), streamed one model at a time."""
    specs, index = check_input(models, text, mask)
    results: list = []
    with app_state.current().stop_flag("heads", request) as stop:       # only its own Stop stops it
        yield _outputs(results, specs, specs[0])
        for number, spec in enumerate(specs):
            if stop.is_set():
                break

            def report(fraction, message, number=number):
                progress((number + fraction) / len(specs), desc=message)
            try:
                report(0.0, f"Loading {spec} (first use only)…")
                results.append((spec, ha.head_importance(loading.load(spec), text, index, candidate.strip() or None,
                                                         report=report, stop=stop.is_set)))
            except (InputError, loading.ModelError) as error:
                results.append((spec, str(error)))
            upcoming = specs[number + 1] if number + 1 < len(specs) and not stop.is_set() else ""
            yield _outputs(results, specs, upcoming)


def show_error(message: str, *inputs) -> tuple:
    return message_html(message), gr.skip(), gr.skip(), gr.skip()


def stop_scan(request: gr.Request = None) -> str:
    app_state.current().stop("heads", request)
    return tag("div", "Stopping after the current batch…", class_="note heads-status")


# ------------------------------------------------------------------------------------------------- layout
def build(models_mode: str = "auto") -> share.LinkTarget:
    with gr.Tab("Heads", id=TAB_ID):
        gr.Markdown("## Which heads matter for this guess?\nEach model guesses the masked word; then every attention "
                    "head is switched off alone (all layers x heads, batched) and the drop in the guess's "
                    "log-probability is measured, next to the one-backward-pass estimate of Michel et al. (2019). "
                    "Does the cheap estimate find the heads that matter?")
        with gr.Row():
            text = gr.Textbox(EXAMPLE, label="Sentence with a mask", lines=2, scale=3, elem_id="heads-text")
            with gr.Column(scale=1):
                mask = gr.Number(1, precision=0, minimum=1, label="Mask (1 = the first)", elem_id="heads-mask")
                candidate = gr.Textbox("", label="Guess to explain (empty: each model's top-1)",
                                       elem_id="heads-candidate")
        models = gr.Textbox(", ".join(sbs.default_specs(models_mode)), label=f"Models (comma-separated, up to "
                            f"{MAX_MODELS}: registry keys, Hub ids or folders)", elem_id="heads-models")
        with gr.Row():
            run = gr.Button("Scan every head", variant="primary", elem_id="heads-run", scale=3)
            stop = gr.Button("Stop", variant="stop", elem_id="heads-stop", scale=1)
        status = gr.HTML(elem_id="heads-status")
        plot = gr.Plot(label="Per model: drop when off | gradient estimate", elem_id="heads-plot", visible=False)
        summary = csv_table("heads-summary", headers=SUMMARY_HEADERS, label="Per model", wrap=True,
                            elem_id="heads-summary", column_widths=["12%", "9%", "8%", "9%", "7%", "6%", "25%", "24%"])
        with gr.Accordion("Every head (CSV)", open=False):
            every = csv_table("heads-every-head", headers=HEAD_HEADERS, label="Every head of every model",
                              elem_id="heads-every")
        link_button, link = share.link_box("this scan with these models and text", "heads")
    outputs = [status, plot, summary, every]
    run.click(stream(scan, kind="model", on_error=show_error), [models, text, mask, candidate], outputs,
              show_progress="minimal", api_name="heads_scan")
    stop.click(guarded(stop_scan, kind="light"), None, [status], api_name="heads_stop")
    target = share.LinkTarget(tab=TAB_ID, options={"models": models, "text": text, "mask": mask,
                                                   "candidate": candidate},
                              run=run.elem_id, checks={"models": share.model_list})
    share.wire_link(link_button, link, target, "heads_share_link")
    return target
