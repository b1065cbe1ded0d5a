"""The Compare tab: parameters, latency, memory and efficiency of the family side by side, measured on this machine.

Parameters show at once and are exact even offline (configs on the meta device); "Measure" times each model with a
progress bar and can be stopped; the last measurement on this device is cached, so the tab opens with it next time.
"""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from components.common import OpenCheckboxGroup, guarded
from components import app_state, server_files, share
from components.export import csv_table
from components.markup import join, tag
from components.streaming import stream
from model_zoo import csv_export, loading, profiling
from model_zoo.registry import CHECKPOINTS, FAMILIES

LENGTH_CHOICES = [8, 16, 32, 64, 128, 256, 512]
BATCH_CHOICES = [1, 8]
PART_COLOURS = dict(zip(profiling.PARTS, ["#4c78a8", "#72b7b2", "#9ecae9", "#f58518", "#bab0ac", "#54a24b",
                                         "#e45756", "#b279a2"]))
PARAMETER_HEADERS = ["model", "family", "class", "total", "token emb.", "position emb.", "type emb.", "emb. projection",
                     "emb. norm/other", "encoder layers", "pooler", "heads", "applied per forward", "fp32 MB",
                     "fp16 MB"]
MEASUREMENT_HEADERS = ["model", "weights", "dtype", "batch", "tokens", "runs", "median ms", "p90 ms",
                       "tokens/s", "GFLOPs", "GFLOP/s", "weights MB", "peak growth MB"]
CLAIM_HEADERS = ["claim", "verdict", "measured here", "source"]



# ---------------------------------------------------------------------------------------------------- choosing
def model_choices(models_mode: str = "auto") -> tuple[list[str], list[str]]:
    """(every model offered, the ones ticked at first): the defaults, the bundled minis, the offline MiniLM."""
    defaults = profiling.default_keys()
    extra = [c.key for c in CHECKPOINTS.values() if c.bundled and models_mode != "hub"]
    extra += [c.key for c in CHECKPOINTS.values() if c.source_package]
    return defaults + extra, defaults


def _listed(values, what: str) -> list:
    """The checked values of a checkbox group as a list (an API caller may send one value, or something else)."""
    if values is None:
        return []
    if isinstance(values, (str, int, float)):
        return [values]
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{what} must be a list, not {type(values).__name__}.")
    return list(values)


def chosen_specs(models: list[str] | None, custom: str = "") -> list[str]:
    """The ticked models and the typed ones. Any spec may come here (the group takes what an API caller sends, and
    "Also" takes anything): each is resolved later, which refuses what is not a model with a message."""
    ticked = _listed(models, "Models")
    if not all(isinstance(m, str) for m in ticked):
        raise ValueError("Models must be model names, Hub ids or folders.")
    specs = loading.parse_specs([*ticked, *loading.parse_specs(custom or "")])
    if not specs:
        raise ValueError("No model is ticked: pick at least one, or type a Hub id or folder.")
    return specs


def chosen_sizes(values, allowed: list[int], what: str) -> list[int]:
    """Sequence lengths or batch sizes from their checkbox group, each one of `allowed`, sorted."""
    sizes = []
    for value in _listed(values, what):
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isdigit():
            number = int(value)
        if number not in allowed:
            raise ValueError(f"{what} are chosen from {', '.join(map(str, allowed))}; '{value}' is not one of them.")
        sizes.append(number)
    return sorted(set(sizes))


def _display_name(key: str) -> str:
    return Path(key).name if "/" in key and Path(key).exists() else key


# ---------------------------------------------------------------------------------------------------- rendering
def parameter_frame(breakdowns: list[profiling.ParameterBreakdown]) -> pd.DataFrame:
    rows = []
    for p in breakdowns:
        rows.append([_display_name(p.key), FAMILIES[p.family].name, p.model_class, f"{p.total:,}",
                     *(f"{p.parts[part]:,}" for part in profiling.PARTS),
                     f"{p.per_forward:,}" + (" (shared layer)" if p.shared_layers else ""),
                     f"{p.bytes_fp32 / 2**20:.1f}", f"{p.bytes_fp16 / 2**20:.1f}"])
    return pd.DataFrame(rows, columns=PARAMETER_HEADERS)


def parameter_figure(breakdowns: list[profiling.ParameterBreakdown]) -> go.Figure:
    """Stacked bars of where each model's parameters sit; a diamond where more are applied than stored (ALBERT)."""
    names = [_display_name(p.key) for p in breakdowns]
    figure = go.Figure()
    for part in profiling.PARTS:
        values = [p.parts[part] / 1e6 for p in breakdowns]
        if any(values):
            figure.add_bar(name=part, x=names, y=values, marker_color=PART_COLOURS[part],
                           hovertemplate="%{x}<br>" + part + ": %{y:.2f}M<extra></extra>")
    shared = [p for p in breakdowns if p.per_forward != p.total]
    if shared:
        figure.add_scatter(name="applied per forward pass", x=[_display_name(p.key) for p in shared],
                           y=[p.per_forward / 1e6 for p in shared], mode="markers",
                           marker=dict(symbol="diamond", size=12, color="black"),
                           hovertemplate="%{x}: %{y:.1f}M applied per forward pass<extra></extra>")
    figure.update_layout(barmode="stack", title="Parameters (millions), by part", yaxis_title="parameters (M)",
                         height=420, margin=dict(l=50, r=20, t=50, b=80), legend=dict(orientation="h", y=-0.25))
    return figure


def short_weights(weights: str) -> str:
    """A few words for the table's weights column (the full sentence is in the legend above it)."""
    if weights == profiling.RANDOM_SAME_CONFIG:
        return "random, same config"
    lowered = weights.lower()
    for word, label in (("random", "RANDOM"), ("mini", "mini, bundled"), ("pretrained", "pretrained")):
        if word in lowered:
            return label
    return weights[:24]


def measurement_frame(result: profiling.CompareResult | None) -> pd.DataFrame:
    rows = [] if result is None else [
        [_display_name(m.key), short_weights(m.weights), m.dtype, m.batch, m.length, m.runs, round(m.median_ms, 2),
         round(m.p90_ms, 2), round(m.tokens_per_s, 1), round(m.flops / 1e9, 3), round(m.gflops_per_s, 2),
         round(m.weights_mb, 1), round(m.peak_memory_mb, 2)] for m in result.measurements]
    return pd.DataFrame(rows, columns=MEASUREMENT_HEADERS)


def _series(result: profiling.CompareResult):
    groups: dict[tuple[str, int], list[profiling.Measurement]] = {}
    for m in result.measurements:
        groups.setdefault((m.key, m.batch), []).append(m)
    return {k: sorted(v, key=lambda m: m.length) for k, v in groups.items()}


def _add_lines(figure: go.Figure, result, value, hover: str, error=None) -> None:
    """One line per (model, batch) of `value` against sequence length (dashed for batches above 1)."""
    if result is None:
        return
    for (key, batch), points in _series(result).items():
        extra = {}
        if error is not None:
            extra["error_y"] = dict(type="data", symmetric=False, thickness=1, arrayminus=[0] * len(points),
                                    array=[error(m) for m in points])
        figure.add_scatter(x=[m.length for m in points], y=[value(m) for m in points], mode="lines+markers",
                           name=f"{_display_name(key)} · batch {batch}",
                           line=dict(dash="solid" if batch == 1 else "dash"),
                           hovertemplate=hover + "<extra></extra>", **extra)


def latency_figure(result: profiling.CompareResult | None) -> go.Figure:
    figure = go.Figure()
    _add_lines(figure, result, lambda m: m.median_ms, "%{x} tokens: %{y:.1f} ms (median; bar to p90)",
               error=lambda m: m.p90_ms - m.median_ms)
    figure.update_layout(title="Latency against sequence length (median, bar to p90)", height=420,
                         xaxis=dict(type="log", title="tokens per sequence"),
                         yaxis=dict(type="log", title="ms per forward pass"), margin=dict(l=60, r=20, t=50, b=50))
    return _empty(figure)


def memory_figure(result: profiling.CompareResult | None) -> go.Figure:
    """Weights held (exact) and the largest growth measured during a forward pass, per model."""
    figure = go.Figure()
    if result is not None and result.measurements:
        keys = list(dict.fromkeys(m.key for m in result.measurements))
        largest = {k: max((m for m in result.measurements if m.key == k), key=lambda m: m.batch * m.length)
                   for k in keys}
        names = [_display_name(k) for k in keys]
        figure.add_bar(name="weights", x=names, y=[largest[k].weights_mb for k in keys], marker_color="#4c78a8")
        figure.add_bar(name=f"growth during the forward ({result.memory_kind})", x=names,
                       y=[largest[k].peak_memory_mb for k in keys], marker_color="#f58518",
                       customdata=[f"batch {largest[k].batch}, {largest[k].length} tokens" for k in keys],
                       hovertemplate="%{x}: %{y:.1f} MB at %{customdata}<extra></extra>")
    figure.update_layout(barmode="stack", title="Memory (MB) at the largest input measured", height=440,
                         yaxis_title="MB", margin=dict(l=50, r=20, t=80, b=20),
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    figure.update_xaxes(automargin=True, tickangle=-30)
    return _empty(figure)


def gflops_figure(result: profiling.CompareResult | None) -> go.Figure:
    figure = go.Figure()
    _add_lines(figure, result, lambda m: m.gflops_per_s, "%{x} tokens: %{y:.2f} GFLOP/s")
    figure.update_layout(title="Achieved GFLOP/s (analytic FLOPs / median time)", height=380,
                         xaxis=dict(type="log", title="tokens per sequence"), yaxis_title="GFLOP/s",
                         margin=dict(l=60, r=20, t=50, b=50))
    return _empty(figure)


def claims_html(claims: list[profiling.Claim]) -> str:
    """The claims check as a table: each claim, its verdict here, what was measured, where the claim comes from.
    A verdict's colour is its class (.verdict.holds, .verdict.does-not-hold, ...)."""
    rows = [tag("tr", tag("td", c.claim), tag("td", tag("b", c.verdict, class_=["verdict", _slug(c.verdict)])),
                tag("td", c.measured), tag("td", c.source), class_="claim") for c in claims]
    return tag("div", tag("b", "Claims check"), ": what the papers and tutorials say, against these configs and this "
               "machine", tag("table", tag("thead", tag("tr", *(tag("th", h) for h in CLAIM_HEADERS))),
                              tag("tbody", *rows)), class_="claims")


def _slug(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")


def _empty(figure: go.Figure, message: str = "Press Measure to fill this plot") -> go.Figure:
    if not figure.data:
        figure.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                              font=dict(size=14, color="#57606a"))
        figure.update_xaxes(showticklabels=False)
        figure.update_yaxes(showticklabels=False)
    return figure


def status_html(result: profiling.CompareResult | None, cached: bool = False, running: str = "",
                problems: list[str] = ()) -> str:
    skipped = [tag("div", f"Not measured: {p}", class_="weights-badge bad") for p in problems]
    if running:
        return join([tag("div", running, class_="note"), *skipped])
    if result is None:
        return tag("div", "Not measured on this device yet: press ", tag("b", "Measure"), " (the six defaults at 8, 32 "
                   "and 128 tokens take about a minute on a quiet 2-core CPU, longer when it is busy).", class_="note")
    env = result.environment
    weights = sorted({m.weights for m in result.measurements})
    head = "Cached result from " if cached else "Measured "
    text = (f"{head}{result.finished} on {env.device} · torch {env.torch} with {env.threads} threads · "
            f"attention: {env.attention} · {result.seconds:.0f} s")
    lines = [tag("b", text), *(f"Weights timed: {w} (“{short_weights(w)}” in the table)" for w in weights),
             *(n for n in (*result.notes, env.busy_note) if n)]
    level = "warn" if result.stopped or result.environment.busy else "ok"
    return join([tag("div", join(lines, tag("br")), class_=["weights-badge", level]), *skipped])


def write_csv(breakdowns: list[profiling.ParameterBreakdown], result: profiling.CompareResult | None) -> str:
    """The measurement table (with each model's parameters) as CSV; only the parameters before any measurement."""
    params = {p.key: p for p in breakdowns}
    folder = server_files.new_folder("compare-")  # one folder per request: never another's file
    path = folder / ("compare.csv" if result is None else f"compare-{result.environment.device_key}.csv")
    if result is None or not result.measurements:
        header = ["model", "class", "total", *profiling.PARTS, "per_forward", "bytes_fp32", "bytes_fp16"]
        rows = [[p.key, p.model_class, p.total, *(p.parts[x] for x in profiling.PARTS), p.per_forward, p.bytes_fp32,
                 p.bytes_fp16] for p in breakdowns]
    else:
        header = ["model", "device", "threads", "weights", "dtype", "batch", "length", "runs", "median_ms", "p90_ms",
                  "tokens_per_s", "flops", "gflops_per_s", "weights_mb", "peak_memory_mb", "parameters",
                  "parameters_per_forward"]
        rows = []
        for m in result.measurements:
            p = params.get(m.key)
            rows.append([m.key, result.environment.device, result.environment.threads, m.weights, m.dtype, m.batch,
                         m.length, m.runs, f"{m.median_ms:.3f}", f"{m.p90_ms:.3f}", f"{m.tokens_per_s:.1f}", m.flops,
                         f"{m.gflops_per_s:.3f}", f"{m.weights_mb:.1f}", f"{m.peak_memory_mb:.2f}",
                         p.total if p else "", p.per_forward if p else ""])
    csv_export.write_csv(path, header, rows)  # a model id typed by a user is text a spreadsheet must not run
    return str(path)


# ---------------------------------------------------------------------------------------------------- handlers
def usable(specs: list[str]) -> tuple[list[str], list[str]]:
    """(the specs that resolve, a message for each that does not): one bad id never stops the others."""
    good, problems = [], []
    for spec in specs:  # resolving reads a config at most
        try:
            loading.resolve(spec)
            good.append(spec)
        except (loading.ModelError, ValueError, OSError) as error:
            problems.append(f"“{spec}”: {error}")
    return good, problems


def _breakdowns(specs: list[str]) -> list[profiling.ParameterBreakdown]:
    good, problems = usable(specs)
    if problems and not good:
        raise ValueError("None of the models can be used. " + " ".join(problems))
    return profiling.parameter_breakdowns(good)


def _claims(breakdowns, result) -> str:
    every = {p.key: p for p in profiling.parameter_breakdowns(profiling.default_keys())}
    every.update({p.key: p for p in breakdowns})
    return claims_html(profiling.claims_check(every, result))


def show_parameters(models: list[str], custom: str = ""):
    """The parameter table and bars (exact, offline); empty while nothing is ticked."""
    if not models and not (custom or "").strip():
        return parameter_frame([]), _empty(parameter_figure([]), "Tick a model to see its parameters")
    breakdowns = _breakdowns(chosen_specs(models, custom))
    return parameter_frame(breakdowns), parameter_figure(breakdowns)


def show_cached(models: list[str], custom: str = ""):
    """The last measurement on this device (if any), with the claims table and the CSV; a bad id is named."""
    good, problems = usable(chosen_specs(models, custom)) if models or (custom or "").strip() else ([], [])
    if problems and not good:
        raise ValueError("None of the models can be used. " + " ".join(problems))
    breakdowns = _breakdowns(good) if good else []
    result = profiling.load_cached()
    return (status_html(result, cached=True, problems=problems), measurement_frame(result), latency_figure(result),
            memory_figure(result), gflops_figure(result), _claims(breakdowns, result), write_csv(breakdowns, result))


def measure(models: list[str], custom: str, lengths: list, batches: list, progress=gr.Progress(),
            request: gr.Request = None):
    """Time each chosen model at each (batch, length), streaming the tables and plots after every model."""
    specs = chosen_specs(models, custom)
    lengths = chosen_sizes(lengths, LENGTH_CHOICES, "Sequence lengths")
    batches = chosen_sizes(batches, BATCH_CHOICES, "Batch sizes")
    if not lengths or not batches:
        raise ValueError("Pick at least one sequence length and one batch size.")
    specs, problems = usable(specs)  # a bad id is reported and skipped; the others are measured
    if not specs:
        raise ValueError("None of the models can be used. " + " ".join(problems))
    breakdowns = _breakdowns(specs)
    with app_state.current().stop_flag("compare", request) as stop:   # only its own Stop stops it
        results: list[profiling.CompareResult] = []
        for index, spec in enumerate(specs):
            if stop.is_set():
                break

            def report(fraction, message, index=index):
                progress((index + fraction) / len(specs), desc=message)
            report(0.0, f"Preparing {spec}…")
            results.append(profiling.measure([spec], lengths, batches, progress=report, should_stop=stop.is_set))
            partial = profiling.combine(results)
            yield (status_html(None, running=f"Measured {index + 1} of {len(specs)} models…", problems=problems),
                   measurement_frame(partial), latency_figure(partial), memory_figure(partial),
                   gflops_figure(partial), _claims(breakdowns, partial), gr.skip())
            if partial.stopped:
                break
    if not results:
        raise ValueError("Stopped before anything was measured.")
    final = profiling.combine(results)
    if stop.is_set() and not final.stopped:
        final = profiling.CompareResult(final.environment, final.measurements,
                                        final.notes + ("Stopped before the end.",), final.memory_kind,
                                        final.finished, True, final.seconds)
    if final.measurements:
        profiling.save_cached(final)
    yield (status_html(final, problems=problems), measurement_frame(final), latency_figure(final), memory_figure(final),
           gflops_figure(final), _claims(breakdowns, final), write_csv(breakdowns, final))


def stop_measuring(request: gr.Request = None) -> str:
    app_state.current().stop("compare", request)
    return tag("div", "Stopping after the current run…", class_="note")


def loaded_choices(models_mode: str):
    """The checkbox choices, with every model this app has loaded so far added."""
    choices, _ = model_choices(models_mode)
    loaded = [key[0] for key in loading.cache().keys()]
    return gr.update(choices=list(dict.fromkeys(choices + loaded)))


# ---------------------------------------------------------------------------------------------------- layout
def build(models_mode: str = "auto") -> share.LinkTarget:
    choices, ticked = model_choices(models_mode)
    with gr.Tab("Compare", id="compare") as tab:
        gr.Markdown("## Compare the family on this machine\nParameters are exact and need no weights (each config "
                    "is built on PyTorch's meta device). **Measure** times each model here: where the weights cannot "
                    "be had, a model of the same config with random weights is timed and labelled so (latency does "
                    "not depend on the values). FLOPs are analytic (matrix products, 2 per multiply-add).")
        with gr.Row():
            models = OpenCheckboxGroup(choices, value=ticked, label="Models", elem_id="compare-models", scale=3)
            custom = gr.Textbox(label="Also (Hub ids or local folders, comma-separated)", elem_id="compare-custom",
                                placeholder="e.g. ./my-bert, prajjwal1/bert-tiny", scale=2)
        param_table = csv_table("parameters", headers=PARAMETER_HEADERS, label="Parameters (exact, from each config)",
                                wrap=True, elem_id="compare-params")
        param_plot = gr.Plot(label="Where the parameters sit", elem_id="compare-param-plot")
        with gr.Row():
            lengths = OpenCheckboxGroup(LENGTH_CHOICES, value=list(profiling.DEFAULT_LENGTHS),
                                       label="Sequence lengths (tokens)", elem_id="compare-lengths", scale=3)
            batches = OpenCheckboxGroup(BATCH_CHOICES, value=list(profiling.DEFAULT_BATCHES), label="Batch sizes",
                                       elem_id="compare-batches", scale=1)
            run = gr.Button("Measure", variant="primary", elem_id="compare-measure", scale=1)
            stop = gr.Button("Stop", variant="stop", elem_id="compare-stop", scale=1)
        status = gr.HTML(status_html(None), elem_id="compare-status")
        results_table = csv_table("measurements", headers=MEASUREMENT_HEADERS, label="Measurements", wrap=True,
                                  elem_id="compare-results")
        with gr.Row():
            latency_plot = gr.Plot(label="Latency", elem_id="compare-latency")
            memory_plot = gr.Plot(label="Memory", elem_id="compare-memory")
        gflops_plot = gr.Plot(label="Efficiency", elem_id="compare-gflops")
        claims_table = gr.HTML(elem_id="compare-claims")
        download = gr.File(label="Download the table (CSV)", elem_id="compare-csv", interactive=False)
        link_button, link = share.link_box("this comparison's models and settings; press Measure there: timings are "
                                           "taken on the machine that serves it", "compare", runs=False)

    measured = [status, results_table, latency_plot, memory_plot, gflops_plot, claims_table, download]
    selection = [models, custom]
    tab.select(guarded(lambda: loaded_choices(models_mode), kind="light"), None, [models], api_visibility="private") \
        .then(guarded(show_parameters, kind="light"), selection, [param_table, param_plot],
              api_name="compare_parameters") \
        .then(guarded(show_cached, kind="light"), selection, measured, api_name="compare_cached")
    models.input(guarded(show_parameters, kind="light"), selection, [param_table, param_plot], api_visibility="private")
    custom.submit(guarded(show_parameters, kind="light"), selection, [param_table, param_plot],
                  api_visibility="private")
    run.click(stream(measure, kind="compare-measure"), [models, custom, lengths, batches], measured,
              api_name="compare_measure", concurrency_limit=1, concurrency_id="compare-measure")
    # The Stop flag is read between timed runs, so what was measured until then is kept, shown and cached.
    stop.click(guarded(stop_measuring, kind="light"), None, [status], api_name="compare_stop")
    link_target = share.LinkTarget(tab="compare", options={"models": models, "custom": custom, "lengths": lengths,
                                                           "batches": batches},
                                   checks={"models": share.model_spec, "custom": share.model_list})
    share.wire_link(link_button, link, link_target, "compare_share_link")
    return link_target
