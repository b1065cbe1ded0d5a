"""The Fine-tune tab: the user's labelled examples, feature extraction vs fine-tuning vs the tutorial's bug (an
untrained head), per model, on one split (model_zoo.finetune); a live loss curve, results, and Try it on new text.

A run is a chain of events: `start` (light: parse, check, split) then one queued event per model, each a generator
that streams its loss curve and progress; the Cancel button sets the session's flag, read between training steps.
What was trained lives in this user's gr.State only (a `Lab`), never in a module-level structure: another session
cannot see it. It is bounded (MAX_MODELS models a run, MAX_SESSION_BYTES of fine-tuned weights) and freed on a new
run, after SESSION_TTL_S without an update, or when Gradio drops the session (the tab closed: within the hour).
"""
from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import model_labels, share
from components.common import OpenCheckboxGroup, escape, guarded, inform
from components.export import csv_table
from components.markup import join, shade, tag
from components.streaming import stream
from model_zoo import finetune as ft
from model_zoo import loading
from model_zoo.numbers import as_text
from model_zoo.registry import FAMILIES
from model_zoo.text import POOLINGS

TAB_ID = "finetune"
MAX_MODELS = 4                      # models per run
MAX_SESSION_BYTES = 2 * 1024 ** 3   # fine-tuned weights kept per session for Try it (feature extraction keeps ~0)
SESSION_TTL_S = 1800                # a session's models are dropped this long after its last update
MAX_TRY_CHARS = 1_000
UI_EVERY_S = 0.7                    # how often a training step redraws the loss curve
RESULT_HEADERS = ["model", "method", "accuracy", "macro-F1", "seconds", "parameters trained", "of total", "note"]
SPLIT_HEADERS = ["text", "label", "split"]
LAYER_CHOICES = [("all layers", "all"), ("top 2 layers", "2"), ("top 1 layer", "1"), ("the head only", "0")]
LR_CHOICES = ["5e-5", "1e-4", "3e-4", "1e-3"]
METHOD_COLOURS = {ft.FEATURES: "#2563eb", ft.FINE_TUNING: "#16a34a", ft.UNTRAINED: "#dc2626"}


# ---------------------------------------------------------------------------------------------------- session
class Lab:
    """One user's lab: the data, the split, the runs so far (with their predictors), the cancel flag."""

    def __init__(self) -> None:
        self.run_id = 0
        self.cancel = threading.Event()
        self.reset(None, None, [], {})

    def reset(self, data, split, specs, settings) -> None:
        self.free()
        self.run_id += 1
        self.cancel = threading.Event()     # a fresh flag: a stale run keeps (and sees) its own, already set
        self.data, self.split, self.specs, self.settings = data, split, list(specs), dict(settings)
        self.runs: list[ft.ModelRun] = []
        self.errors: dict[str, str] = {}
        self.current: ft.Progress | None = None
        self.notes: list[str] = []
        self.touched = time.time()

    def free(self) -> None:
        """Drop every trained model (a new run, the session's end)."""
        getattr(self, "cancel", threading.Event()).set()
        for run in getattr(self, "runs", []):
            for predictor in run.predictors:
                predictor.free()
            run.predictors.clear()

    def predictors(self) -> list[ft.Predictor]:
        return [p for run in self.runs for p in run.predictors if p.encoder is not None]

    def n_bytes(self) -> int:
        return sum(run.n_bytes() for run in self.runs)

    def add(self, run: ft.ModelRun) -> None:
        """Keep a finished run; a fine-tuned copy past the session's bound is dropped, with a note."""
        kept = []
        for predictor in run.predictors:
            if self.n_bytes() + sum(p.n_bytes() for p in kept) + predictor.n_bytes() > MAX_SESSION_BYTES:
                predictor.free()
                self.notes.append(f"{run.spec}'s fine-tuned model is not kept for Try it: this session holds at most "
                                  f"{MAX_SESSION_BYTES / 1024 ** 3:.0f} GiB of trained weights.")
            else:
                kept.append(predictor)
        run.predictors[:] = kept
        self.runs.append(run)
        self.touched = time.time()


def free_lab(lab) -> None:
    """gr.State's delete_callback: the session ended or its time to live passed."""
    if isinstance(lab, Lab):
        lab.free()


# ---------------------------------------------------------------------------------------------------- choices
def model_options(models_mode: str = "auto") -> tuple[list[tuple[str, str]], list[str]]:
    """(every checkpoint, loadable ones first; the defaults: the real offline encoder and one family's checkpoint that
    loads here)."""
    offered = []
    for family in FAMILIES:
        for checkpoint in loading.model_choices(family, models_mode)[0] + loading.model_choices(family, "hub")[0]:
            if checkpoint not in offered and checkpoint.role != "generator":
                offered.append(checkpoint)
    available = model_labels.availability(offered)
    choices = model_labels.options(offered, with_family=True, available=available)
    real_offline = [c.key for c in offered if c.source_package and available[c.key]]
    first = loading.model_choices(next(iter(FAMILIES)), models_mode)[1]
    defaults = list(dict.fromkeys(real_offline[:1] + ([first.key] if available.get(first.key) else [])))
    return choices, defaults or [choices[0][1]]


# Try it opens on a sentence the bundled set's models get right (the feature working); the pitfall is offered beside it
TRY_TEXT = "The food was delicious and the service was excellent."


def _settings(methods, pooling: str, layers: str, epochs, lr: str) -> dict:
    methods = [m for m in (methods or [])]
    if not methods or any(m not in ft.METHODS for m in methods):
        raise ValueError(f"Pick at least one method among: {', '.join(ft.METHODS)}.")
    if pooling not in ft.POOLINGS:
        raise ValueError(f"Pooling must be one of: {', '.join(ft.POOLINGS)}.")
    if layers not in [v for _, v in LAYER_CHOICES] or lr not in LR_CHOICES:
        raise ValueError("Pick the layers to train and the learning rate from their lists.")
    try:
        epochs = int(epochs)
    except (TypeError, ValueError):
        raise ValueError("Epochs must be a number from 1 to 10.") from None
    if not 1 <= epochs <= 10:
        raise ValueError("Epochs must be a number from 1 to 10.")
    config = ft.TrainConfig(epochs=epochs, layers=None if layers == "all" else int(layers), learning_rate=float(lr))
    return {"methods": [m for m in ft.METHODS if m in methods], "pooling": pooling, "config": config}


# ---------------------------------------------------------------------------------------------------- rendering
def _bar(fraction: float, kind: str = "") -> str:
    """A progress bar (a native <progress>, styled by .ft-bar; kind "overall" for the whole job's)."""
    return tag("progress", value=f"{max(0.0, min(1.0, fraction)):.3f}", max="1", class_=["ft-bar", kind],
               data_fraction=f"{fraction:.3f}")


def split_summary(lab: Lab) -> str:
    data, split = lab.data, lab.split
    counts = ", ".join(f"{c}: {n}" for c, n in zip(data.classes, data.counts()))
    return join([tag("div", tag("b", f"{len(data.texts)} examples"), f" ({counts}). {split.describe(data)}",
                     class_="ft-split"), *(tag("div", n, class_="note") for n in data.notes)])


def _line(lab: Lab, spec: str, done: dict) -> str:
    """One model's line in the progress list: failed, finished, running (with its bar) or waiting."""
    if spec in lab.errors:
        return tag("li", f"{spec}: ", tag("b", "could not run", class_="failed"), f": {lab.errors[spec]}")
    if spec in done:
        cancelled = any(r.cancelled for r in done[spec].results)
        return tag("li", f"{spec}: {'cancelled' if cancelled else 'done'} ",
                   tag("span", f"({done[spec].weights})", class_="note"))
    if lab.current is not None and lab.current.spec == spec:
        return tag("li", lab.current.stage, _bar(lab.current.fraction))
    return tag("li", f"{spec}: {'cancelled' if lab.cancel.is_set() else 'waiting'}")


def status_html(lab: Lab | None, message: str = "") -> str:
    if lab is None or lab.data is None:
        return tag("div", message or "Pick or paste examples, then Train.", id="ft-progress", class_="note")
    done = {run.spec: run for run in reversed(lab.runs)}      # a spec's first run
    finished = len(done) + len(lab.errors)
    total = len(lab.specs)
    overall = (finished + (lab.current.fraction if lab.current and lab.current.spec not in done else 0)) / total
    head = (f"{finished} of {total} models finished" if finished < total or lab.cancel.is_set()
            else f"{total} of {total} models finished")
    if lab.cancel.is_set() and finished < total:
        head += " · cancelled"
    lines = tag("ul", *(_line(lab, spec, done) for spec in lab.specs))
    notes = (tag("div", note, class_="note") for note in ([message] if message else []) + list(lab.notes))
    return join([tag("div", tag("b", head), _bar(overall, "overall"), lines, *notes, id="ft-progress"),
                 split_summary(lab)])


def _label(text: str) -> str:
    """A label for plotly (it decodes &lt; &gt; &amp; and renders some tags): escaped, so it shows as written."""
    return escape(text).replace("&quot;", '"').replace("&#x27;", "'")


def loss_figure(lab: Lab | None) -> go.Figure:
    figure = go.Figure()
    curves = [(run.spec, r.losses) for run in (lab.runs if lab else []) for r in run.results if r.losses]
    if lab is not None and lab.current is not None and lab.current.losses and \
            lab.current.spec not in {run.spec for run in lab.runs}:
        curves.append((lab.current.spec, lab.current.losses))
    for spec, losses in curves:
        figure.add_trace(go.Scatter(x=list(range(1, len(losses) + 1)), y=list(losses), mode="lines",
                                    name=_label(spec)))
    figure.update_layout(title="Fine-tuning: training loss per step (cross-entropy)", xaxis_title="step",
                         yaxis_title="loss", height=300, margin=dict(l=50, r=20, t=50, b=40))
    if not curves:
        figure.add_annotation(text="The loss appears here while a model fine-tunes.", showarrow=False,
                              xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def result_rows(lab: Lab | None) -> list[list]:
    rows = []
    for run in (lab.runs if lab else []):
        for r in run.results:
            counts = ["–", "–"] if r.cancelled else [f"{r.params_trained:,}", f"{r.params_total:,}"]
            rows.append([run.spec, r.method, as_text(r.accuracy), as_text(r.macro_f1), f"{r.seconds:.1f}", *counts,
                         r.note])
    return rows


def results_figure(lab: Lab | None) -> go.Figure:
    figure = go.Figure()
    runs = lab.runs if lab else []
    for method in ft.METHODS:
        xs, ys = [], []
        for run in runs:
            found = [r for r in run.results if r.method == method and not math.isnan(r.accuracy)]
            if found:
                xs.append(_label(run.spec))
                ys.append(found[0].accuracy)
        if xs:
            figure.add_trace(go.Bar(x=xs, y=ys, name=method, marker_color=METHOD_COLOURS[method],
                                    text=[f"{y:.0%}" for y in ys], textposition="outside"))
    title = "Held-out accuracy per model and method"
    if lab is not None and lab.data is not None:
        majority = max(lab.data.counts()) / len(lab.data.texts)
        figure.add_hline(y=majority, line_dash="dash", line_color="#6b7280")
        title += f"<br><sup>dashed: chance, the largest label's share ({majority:.0%})</sup>"
    figure.update_layout(title=title, barmode="group", yaxis_range=[0, 1.1],
                         yaxis_title="accuracy", height=360, margin=dict(l=50, r=20, t=50, b=40))
    return figure


def confusion_figure(lab: Lab | None) -> go.Figure | None:
    results = [r for run in (lab.runs if lab else []) for r in run.results if r.confusion is not None]
    if not results:
        return None
    classes = [_label(c) for c in lab.data.classes]
    columns = min(3, len(results))
    rows = math.ceil(len(results) / columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[_label(f"{r.spec} · {r.method}") for r in results],
                           horizontal_spacing=0.2 if columns > 1 else 0.1, vertical_spacing=0.25 / rows)
    for i, r in enumerate(results):
        figure.add_trace(go.Heatmap(z=r.confusion, x=classes, y=classes, colorscale="Blues", showscale=False,
                                    text=r.confusion, texttemplate="%{text}", hovertemplate=
                                    "true %{y}<br>predicted %{x}<br>%{z} examples<extra></extra>"),
                         row=i // columns + 1, col=i % columns + 1)
    figure.update_yaxes(autorange="reversed")
    figure.update_yaxes(title_text="true", col=1)
    figure.update_xaxes(title_text="predicted", row=rows)
    figure.update_layout(title="Confusion matrices (rows: true label; columns: predicted)", height=300 * rows + 60,
                         margin=dict(l=60, r=20, t=80, b=40))
    figure.update_annotations(font_size=11)
    return figure


def split_rows(lab: Lab | None) -> list[list]:
    if lab is None or lab.data is None:
        return []
    where = lab.split.assignment(len(lab.data.texts))
    return [[t, lab.data.classes[y], w] for t, y, w in zip(lab.data.texts, lab.data.labels, where)]


def _token_span(token: str, weight: float) -> str:
    return tag("span", token, class_=["ft-token", shade(abs(weight), "green" if weight >= 0 else "red")],
               title=f"{weight:+.2f}")


def prediction_html(predictions: list[ft.Prediction]) -> str:
    blocks = []
    for p in predictions:
        order = np.argsort(-p.probabilities)
        bars = [tag("div", tag("span", p.classes[i]), tag("meter", value=f"{float(p.probabilities[i]):.4f}"),
                    tag("span", f"{p.probabilities[i]:.2f}"), class_="ft-prob") for i in order[:6]]
        tokens = join(_token_span(t, float(w)) for t, w in zip(p.tokens, p.importance))
        head = tag("div", tag("b", p.spec), f" · {p.method} → ", tag("b", p.label, class_="ft-label"))
        blocks.append(tag("div", head, *bars, tag("div", tokens, class_="ft-tokens"),
                          tag("div", f"Which tokens mattered: {p.importance_method}; green pushes toward "
                                     f'"{p.label}", red away from it.', class_="note"), class_="ft-prediction"))
    return join(blocks)


# ---------------------------------------------------------------------------------------------------- handlers
def _outputs(lab: Lab | None, message: str = "") -> tuple:
    return (status_html(lab, message), loss_figure(lab), pd.DataFrame(result_rows(lab), columns=RESULT_HEADERS),
            results_figure(lab), confusion_figure(lab))


def load_example(name: str) -> str:
    return ft.example_text(name)


def upload(path) -> str:
    """A CSV (text and label columns) read into the box as text<TAB>label lines; the box is untouched on error."""
    if not path:
        return gr.update()
    file = Path(path if isinstance(path, str) else getattr(path, "name", ""))
    data = ft.parse_csv(file.read_bytes()[: ft.MAX_INPUT_CHARS + 1], file.name)
    inform(f"Read {len(data.texts)} examples from '{file.name}'. " + " ".join(data.notes))
    return ft.to_tsv(data)


def start(lab, data_text: str, models, methods, pooling: str, layers: str, epochs, lr: str):
    """Check everything once, make the split, reset this session's lab (freeing its previous models)."""
    specs = loading.checked_specs(models, MAX_MODELS)
    settings = _settings(methods, pooling, layers, epochs, lr)
    data = ft.parse_tsv(data_text)
    for note in data.notes:
        inform(note)
    lab = lab if isinstance(lab, Lab) else Lab()
    lab.reset(data, ft.make_split(data), specs, settings)
    return (lab, *_outputs(lab), pd.DataFrame(split_rows(lab), columns=SPLIT_HEADERS), "")


def step(index: int):
    """The event handler that runs model `index` of the run, streamed (components/streaming.py); nothing when the
    list is shorter or the run was cancelled; a failure is shown in the model's row and the next model runs."""
    def run_model(lab, progress=gr.Progress()):
        if not isinstance(lab, Lab) or lab.data is None or index >= len(lab.specs) or lab.cancel.is_set():
            yield (gr.skip(),) * 6
            return
        run_id, cancel, spec = lab.run_id, lab.cancel, lab.specs[index]
        shown = 0.0
        for item in ft.run_steps(spec, lab.data, lab.split, lab.settings["methods"], lab.settings["pooling"],
                                 lab.settings["config"], should_stop=lambda: cancel.is_set() or lab.run_id != run_id):
            if lab.run_id != run_id:
                return
            lab.current = item
            progress((index + item.fraction) / len(lab.specs), desc=item.stage)
            if item.run is not None:
                lab.add(item.run)
                lab.current = None
                yield (lab, *_outputs(lab))
                return
            if time.monotonic() - shown > UI_EVERY_S:
                shown = time.monotonic()
                yield (gr.skip(), *_outputs(lab))

    def failed(message: str, lab, *_):
        if not isinstance(lab, Lab) or index >= len(lab.specs):
            return (gr.skip(),) * 6
        lab.errors[lab.specs[index]] = message      # escaped when shown
        lab.current = None
        return (lab, *_outputs(lab))
    run_model.__name__ = f"finetune_model_{index + 1}"
    return stream(run_model, kind="model", on_error=failed)


def cancel(lab):
    if isinstance(lab, Lab) and lab.data is not None:
        lab.cancel.set()
        return status_html(lab, "Cancelling: the run stops after the current step.")
    return status_html(None, "Nothing is running.")


def try_it(lab, text: str):
    if not text.strip():
        raise ValueError("Type a sentence to classify.")
    if len(text) > MAX_TRY_CHARS:
        raise ValueError(f"At most {MAX_TRY_CHARS:,} characters ({len(text):,} given).")
    predictors = lab.predictors() if isinstance(lab, Lab) else []
    if not predictors:
        raise ValueError("No trained model in this session yet: press Train first (feature extraction or "
                         "fine-tuning).")
    lab.touched = time.time()
    return lab, prediction_html([predictor.predict(text) for predictor in predictors])


# ---------------------------------------------------------------------------------------------------- layout
def build(models_mode: str = "auto") -> share.LinkTarget:
    choices, defaults = model_options(models_mode)
    with gr.Tab("Fine-tune", id=TAB_ID):
        gr.Markdown("## Feature extraction vs fine-tuning, on your own examples\nTwo ways to use an encoder for a "
                    "task: keep it **frozen** and fit a logistic regression on its pooled features, or **fine-tune** "
                    "it with a classification head. Next to them, the tutorial's bug: the same model with an "
                    "**untrained head**, which scores at chance. Same data, same split, per model. Trained models "
                    "stay in your session only.")
        with gr.Row():
            data = gr.Textbox(ft.example_text("sentiment"), label="Examples: one per line, text<TAB>label", lines=10,
                              max_lines=16, scale=3, elem_id="ft-data")
            with gr.Column(scale=1):
                example = gr.Dropdown([(f"{k}: {v[1]}", k) for k, v in ft.EXAMPLES.items()], value="sentiment",
                                      label="Example set (fills the box)", elem_id="ft-example")
                # No file_types: gradio's own check would refuse other files with a traceback in the server log;
                # `upload` reads any file and says what is wrong with it.
                upload_box = gr.File(label="Or upload a CSV (columns 'text' and 'label')", type="filepath",
                                     elem_id="ft-upload", height=120)
        with gr.Row():
            models = gr.Dropdown(choices=choices, value=defaults, multiselect=True, allow_custom_value=True, scale=3,
                                 label=f"Models (up to {MAX_MODELS}): pick, or type a Hub id or a local folder",
                                 elem_id="ft-models")
            methods = OpenCheckboxGroup(list(ft.METHODS), value=list(ft.METHODS), label="Methods", scale=2,
                                        elem_id="ft-methods")
        with gr.Row():
            pooling = gr.Radio([(POOLINGS[key], key) for key in ft.POOLINGS], value=ft.CLS, elem_id="ft-pooling",
                               label="Feature pooling")
            layers = gr.Radio(LAYER_CHOICES, value="all", label="Fine-tune", elem_id="ft-layers")
            epochs = gr.Slider(1, 10, value=3, step=1, label="Epochs", elem_id="ft-epochs")
            lr = gr.Dropdown(LR_CHOICES, value="1e-4", label="Learning rate (the head: 10x)", elem_id="ft-lr")
        with gr.Row():
            run = gr.Button("Train", variant="primary", elem_id="ft-run")
            stop = gr.Button("Cancel", variant="stop", elem_id="ft-cancel")
        status = gr.HTML(status_html(None), elem_id="ft-status")
        loss_plot = gr.Plot(label="Loss", elem_id="ft-loss")
        results = csv_table("finetune-results", headers=RESULT_HEADERS, label="Results (held-out, or out-of-fold)",
                            wrap=True, elem_id="ft-results")
        with gr.Row():
            results_plot = gr.Plot(label="Accuracy", elem_id="ft-accuracy")
            confusion_plot = gr.Plot(label="Confusion matrices", elem_id="ft-confusion")
        with gr.Accordion("The split: every example and where it went", open=False):
            split_table = csv_table("finetune-split", headers=SPLIT_HEADERS, label="Examples", wrap=True,
                                    elem_id="ft-split", max_height=400)
        gr.Markdown("### Try it\nType new text: each trained model's prediction, its probabilities, and which tokens "
                    "mattered. A pitfall worth trying: *The room was spotless.* Its tokenizers cut *spotless* into "
                    "*spot* + *less*, and *less* pushes toward negative: words cut into pieces can pull the wrong way.")
        with gr.Row():
            try_text = gr.Textbox(TRY_TEXT, label="New text", scale=4, elem_id="ft-try-text")
            try_button = gr.Button("Classify", elem_id="ft-try-run", scale=1)
        try_out = gr.HTML(elem_id="ft-try-out")
        link_button, link = share.link_box("this tab with its models and settings (press Train there)", "ft",
                                           runs=False)
        lab = gr.State(None, time_to_live=SESSION_TTL_S, delete_callback=free_lab)

    shown = [status, loss_plot, results, results_plot, confusion_plot]
    example.change(guarded(load_example, kind="light"), [example], [data], api_visibility="private")
    upload_box.upload(guarded(upload, kind="light"), [upload_box], [data], api_name="finetune_upload")
    event = run.click(guarded(start, kind="light"), [lab, data, models, methods, pooling, layers, epochs, lr],
                      [lab, *shown, split_table, try_out], api_name="finetune_start")
    for index in range(MAX_MODELS):
        event = event.success(step(index), [lab], [lab, *shown], api_visibility="private",
                              show_progress="minimal", show_progress_on=[status])
    stop.click(guarded(cancel, kind="light"), [lab], [status], api_name="finetune_cancel")
    try_button.click(guarded(try_it), [lab, try_text], [lab, try_out], api_name="finetune_try")
    try_text.submit(guarded(try_it), [lab, try_text], [lab, try_out], api_visibility="private")
    target = share.LinkTarget(tab=TAB_ID, options={"example": example, "models": models, "methods": methods,
                                                   "pooling": pooling, "layers": layers, "epochs": epochs, "lr": lr},
                              checks={"models": share.model_spec})
    share.wire_link(link_button, link, target, "finetune_share_link")
    return target
