"""The "Pretraining lab" tab: how the mini zoo's families trained (loss against compute) and what they reached."""
from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from components import corruption_view, share
from components.common import guarded, reporter
from components.export import csv_table
from model_zoo import corruption
from model_zoo import pretraining_lab as lab
from model_zoo.registry import FAMILIES

_DASH = {0: "solid", 1: "dot", 2: "dash"}


def curves_figure(curves: list[lab.Curve], x_axis: str = "CPU minutes") -> go.Figure:
    """Small multiples: one panel per family, its objective's terms against compute (one CPU core) or tokens seen,
    each panel on its own log scale and the same x axis, so that no curve hides another."""
    from plotly.subplots import make_subplots
    columns = 3
    rows = max(1, -(-len(curves) // columns))
    titles = [FAMILIES[c.family].name + (" (from mini-BERT's weights)" if c.warm_start else "") for c in curves]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, shared_xaxes="all",
                        horizontal_spacing=0.07, vertical_spacing=0.16)
    for n, curve in enumerate(curves):
        x = curve.cpu_minutes if x_axis == "CPU minutes" else curve.tokens
        row, col = n // columns + 1, n % columns + 1
        for i, (term, values) in enumerate(curve.series.items()):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines", name=f"{FAMILIES[curve.family].name} · {term}",
                                     legendgroup=curve.family, showlegend=False,
                                     hovertemplate=f"{term}: %{{y:.3g}}<extra>{FAMILIES[curve.family].name}</extra>",
                                     line=dict(color=FAMILIES[curve.family].colour, dash=_DASH.get(i, "solid"),
                                               width=2)), row=row, col=col)
            fig.add_annotation(x=x[-1], y=values[-1], text=term, showarrow=False, xanchor="left", yanchor="middle",
                               font=dict(size=10, color=FAMILIES[curve.family].colour), row=row, col=col)
        fig.update_yaxes(type="log", row=row, col=col)
    fig.update_xaxes(title_text=x_axis if x_axis == "CPU minutes" else "tokens seen", row=rows)
    fig.update_yaxes(title_text="loss (log)", col=1)
    fig.update_layout(height=300 * rows + 60, margin=dict(l=10, r=30, t=60, b=10),
                      title="Training losses of the mini checkpoints: one panel per family, each term labelled")
    return fig


def electra_vs_bert_figure(curves: list[lab.Curve]) -> go.Figure:
    """ELECTRA against BERT at equal compute: the MLM loss of BERT and of ELECTRA's generator, and the
    discriminator's loss (which learns from every token), all against the same CPU minutes. A run that started from
    mini-BERT's weights is drawn from the BERT minute at which those weights were shipped (BERT may have trained on
    since): its compute includes BERT's up to there."""
    fig = go.Figure()
    by_family = {c.family: c for c in curves}
    title = "ELECTRA against BERT at equal compute"
    compared = [(f.compute_baseline, ("mlm",)) for f in FAMILIES.values() if f.compute_baseline] + \
        [(f.key, f.loss_terms) for f in FAMILIES.values() if f.compute_baseline]   # the baseline's MLM, the other's
    for family, terms in compared:
        if family in by_family:
            curve = by_family[family]
            after = 0.0
            if curve.warm_start and curve.warm_start_minutes:
                after = curve.warm_start_minutes
                title = (f"ELECTRA against BERT: ELECTRA started from mini-BERT's weights as shipped at BERT's "
                         f"minute {after:.0f}, so its minutes follow from there")
            for term in terms:
                label = {"mlm": "masked-LM loss", "rtd": "replaced-token detection loss"}[term]
                fig.add_trace(go.Scatter(x=curve.cpu_minutes + after, y=curve.series[term], mode="lines",
                                         name=f"{FAMILIES[family].name}: {label}",
                                         line=dict(color=FAMILIES[family].colour, dash="solid" if term == "mlm" else "dot")))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=50, b=10), title=title,
                      xaxis_title="CPU minutes (one core)", yaxis_title="loss", yaxis_type="log")
    return fig


def show_lab(x_axis: str = "CPU minutes"):
    curves = lab.load_curves()
    if not curves:
        raise ValueError("No mini checkpoint has been trained yet (python -m pretrain --family bert).")
    rows = [[FAMILIES[r.family].name, r.measure, r.measured, r.bar, "met" if r.met else "NOT met"]
            for r in lab.quality_table()]
    return curves_figure(curves, x_axis), electra_vs_bert_figure(curves), rows


# plain English of the kind a user types, in no training corpus (the minis' answers are not recalled text)
CORRUPTION_EXAMPLE = "My brother is ten years old. After school he plays football with his friends in the park."


def show_corruptions(text: str, seed: float = 0, progress=gr.Progress()):
    """Every family's objective on the same text: what it sees, what it must predict, what its mini model said."""
    rows, skipped = corruption.corruptions(text, int(seed or 0), reporter(progress))
    return corruption_view.render(rows, skipped)


def build(models_mode: str = "auto") -> share.LinkTarget:
    with gr.Tab("Pretraining lab", id="lab") as tab:
        gr.Markdown("## Pretraining lab\nThe project's own mini checkpoints were pretrained here, on one CPU core "
                    "for minutes to hours, each with its family's real objective (MLM + NSP, dynamic-masking MLM, MLM + SOP, "
                    "distillation, replaced-token detection, permutation LM); mini-RoBERTa and mini-ELECTRA start "
                    "from mini-BERT's weights (from scratch, at this scale, they never got past guessing \"the\"; "
                    "their cards say so). Below: their losses against the same "
                    "compute, and what each reached against the bar we set, on plain English written for the project "
                    "(out of domain, where the bars apply) and on held-out text of its corpus. They are toys, and the "
                    "table says plainly where a bar was not met. Each family tab's *Pretraining task* section shows "
                    "what its objective sees.")
        gr.Markdown("### Each family's corruption of the same input\nType a sentence or two: masked LM with "
                    "static and dynamic masking, next-sentence and sentence-order prediction, replaced-token "
                    "detection and permutation LM each turn it into their own training example. Each row shows what "
                    "the model sees, where the loss is, and what the family's mini checkpoint answers.")
        with gr.Row():
            corruption_text = gr.Textbox(CORRUPTION_EXAMPLE, label="Text", lines=2, scale=4, elem_id="lab-text",
                                         max_length=corruption.MAX_CHARS)
            corruption_seed = gr.Number(0, label="Seed (masks, samples, orders)", precision=0, minimum=0, scale=1)
        corrupt = gr.Button("Corrupt it with every objective", variant="primary", elem_id="lab-corrupt")
        link_button, link = share.link_box("the lab with this text and seed", "lab")
        corrupted = gr.HTML(elem_id="lab-corruptions")
        gr.Markdown("### Training records")
        x_axis = gr.Radio(["CPU minutes", "tokens seen"], value="CPU minutes", label="x axis")
        run = gr.Button("Show the training records", variant="primary", elem_id="lab-run")
        curves = gr.Plot(show_label=False, elem_id="lab-curves")
        electra = gr.Plot(show_label=False, elem_id="lab-electra")
        table = csv_table("mini-zoo-quality", headers=["family", "measure (set)", "measured", "bar", "verdict"],
                          wrap=True, column_widths=["11%", "27%", "40%", "10%", "12%"],  # the verdict in view
                          label="Quality against the bars", elem_id="lab-quality")
    corrupt.click(guarded(show_corruptions), [corruption_text, corruption_seed], [corrupted],
                  api_name="pretraining_corruptions")
    corruption_text.submit(guarded(show_corruptions), [corruption_text, corruption_seed], [corrupted],
                           api_visibility="private")
    run.click(guarded(show_lab, kind="light"), [x_axis], [curves, electra, table], api_name="pretraining_lab")
    tab.select(guarded(show_lab, kind="light"), [x_axis], [curves, electra, table], api_visibility="private")
    x_axis.change(guarded(show_lab, kind="light"), [x_axis], [curves, electra, table], api_visibility="private")
    link_target = share.LinkTarget(tab="lab", options={"text": corruption_text, "seed": corruption_seed},
                                   run="lab-corrupt")
    share.wire_link(link_button, link, link_target, "lab_share_link")
    return link_target
