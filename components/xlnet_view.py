"""The "XLNet: permutation orders" section of the XLNet tab: orders, the permutation mask, two-stream predictions,
per-order sentence scores, and Transformer-XL memory. Renders model_zoo.permutation's dataclasses (plotly / HTML);
wires `xlnet_permutation`, `xlnet_score_orders` and `xlnet_memory`.
"""
from __future__ import annotations

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from components import share
from components.common import escape, guarded, load_with_progress, weights_badge
from components.export import csv_table
from components.markup import join, tag
from model_zoo import permutation
from model_zoo.registry import Capability, checkpoints_of

# what a reader compares first (step, then how well the true token did) before the long columns
PREDICTION_HEADERS = ["target #", "token", "step in order", "rank of true token", "P(true token)", "top predictions",
                      "may see"]
SCORE_HEADERS = ["order", "sequence (token numbers)", "log p(sentence)", "mean log p per token", "perplexity"]
# the opening targets: "auto", two whole words of the text from its second word on (permutation.whole_word_targets)
DEFAULT_TARGETS = "auto"
MEMORY_HEADERS = ["segment", "tokens", "log p without memory", "log p with memory", "gain from memory"]
LONG_TEXT = ("Marie Curie was born in Warsaw in 1867. She moved to Paris to study physics and mathematics at the "
             "Sorbonne. There she met Pierre Curie, and together they discovered two new elements, polonium and "
             "radium. Curie was the first woman to win a Nobel Prize, and the only person to win Nobel Prizes in two "
             "different sciences. Her notebooks are still radioactive today.")

STREAMS = """**Two streams.** XLNet runs two copies of every layer. The **content stream** of a token sees the tokens
before it in the order *and itself* (it is the context later tokens read). The **query stream** of a target sees the
tokens before it in the order and its own *position*, never its own token: it starts from a learned vector and asks
"which token belongs here?". The heatmap is the query stream's mask; the content stream's adds the diagonal
(amber). Special tokens (`<sep>`, `<cls>`) are always visible and are never predicted; they come first in every order.

**Why BERT cannot do this.** BERT predicts masked tokens independently of each other from a corrupted input
(`[MASK]` tokens it never sees at fine-tuning time), so it gives no probability for a whole sentence: the masked
tokens' joint probability is not defined by its outputs. XLNet factorises the sentence, p(x) = Π p(x_t | x_before t
in the order), so every order gives an exact sentence log-probability and all of them train the same model,
which sees context on both sides without ever corrupting the input."""


def _labels(view: permutation.OrderView) -> list[str]:
    labels = []
    numbers = {int(p): k + 1 for k, p in enumerate(view.content)}
    for i, token in enumerate(view.tokens):
        where = f"#{numbers[i]}·step {view.step_of(numbers[i])}" if i in numbers else "special"
        labels.append(escape(f"{token} ({where})"))
    return labels


def mask_figure(view: permutation.OrderView) -> go.Figure:
    """Which token may see which: 1 = visible to both streams, 0.5 = itself (content stream only), 0 = hidden."""
    visible = 1.0 - view.perm_mask                                       # (T, T)
    real = np.flatnonzero(~view.special)
    visible[real, real] = 0.5
    labels = _labels(view)
    hover = [[f"{labels[i]} → {labels[j]}: " + {1.0: "may see", 0.5: "itself: content stream only",
                                                0.0: "hidden (later in the order)"}[float(visible[i, j])]
              for j in range(len(labels))] for i in range(len(labels))]
    figure = go.Figure(go.Heatmap(z=visible, x=labels, y=labels, zmin=0, zmax=1, text=hover, hoverinfo="text",
                                  colorscale=[[0, "#f1f5f9"], [0.5, "#f59e0b"], [1, "#2563eb"]], showscale=False,
                                  xgap=1, ygap=1))
    figure.update_layout(title=f"Permutation mask ({escape(view.name)}): row = the token predicting, column = what it "
                               f"may see (blue; amber = itself, content stream only)",
                         yaxis=dict(autorange="reversed"), height=420 + 12 * len(labels),
                         margin=dict(l=10, r=10, t=50, b=10), xaxis=dict(tickangle=-45))
    return figure


def render_order(view: permutation.OrderView, targets=()) -> str:
    """The sentence numbered, then the order as a sequence of steps (targets outlined)."""
    steps = join((tag("span", tag("sup", step), token, tag("sub", f"#{number}"),
                      class_=["chip", "step", "target" if number in targets else ""], title=f"token #{number}")
                  for step, number, token in view.sequence()), " → ")
    number_of = {int(p): k + 1 for k, p in enumerate(view.content)}
    numbered = join((tag("span", tok, "" if view.special[i] else tag("sub", f"#{number_of[i]}"),
                         class_=["chip", "special" if view.special[i] else ""])
                     for i, tok in enumerate(view.tokens)), " ")
    return join([tag("div", "The sentence, numbered (special tokens are not numbered):", class_="note"),
                 tag("div", numbered),
                 tag("div", f"Factorization order ({view.name}): superscript = step, #n = token number"
                            f"{', outlined = target' if len(targets) else ''}", class_="note"),
                 tag("div", steps, class_="xlnet-order")])


def prediction_rows(result: permutation.PermutationResult) -> list[list]:
    return [[p.number, p.token, f"{p.step} of {result.view.n}", p.true_rank, f"{100 * p.true_prob:.2f}%",
             ", ".join(f"{t} ({100 * q:.1f}%)" for t, q in zip(p.top_tokens, p.top_probs)),
             " ".join(p.visible) or "(only the special tokens)"] for p in result.predictions]


def score_rows(scores: list[permutation.OrderScore]) -> list[list]:
    return [[s.name, " ".join(map(str, s.order)), round(s.total, 3), round(float(s.logprobs.mean()), 3),
             round(s.perplexity, 2)] for s in scores]


def score_figure(scores: list[permutation.OrderScore]) -> go.Figure:
    figure = go.Figure()
    for s in scores:
        figure.add_trace(go.Scatter(x=list(range(1, len(s.logprobs) + 1)), y=np.cumsum(s.logprobs),
                                    mode="lines+markers",
                                    name=escape(f"{s.name}: {s.total:.2f}"),
                                    text=[escape(t) for t in s.tokens], hovertemplate="step %{x}: %{text}<br>"
                                    "cumulative log p %{y:.2f}<extra></extra>"))
    figure.update_layout(title="Cumulative log-probability of the sentence, step by step, per order",
                         xaxis_title="step in the order", yaxis_title="cumulative log p", height=420,
                         margin=dict(l=10, r=10, t=50, b=10))
    return figure


def memory_rows(result: permutation.MemoryResult) -> list[list]:
    rows = []
    for k, (text, with_m, without_m) in enumerate(zip(result.texts, result.with_memory, result.without_memory)):
        shown = text if len(text) <= 80 else text[:80].rsplit(" ", 1)[0] + " …"
        rows.append([k + 1, shown, round(float(without_m.sum()), 3),
                     round(float(with_m.sum()), 3), round(float(with_m.sum() - without_m.sum()), 3)])
    total_with, total_without = result.totals()
    rows.append(["all", f"{sum(map(len, result.segments))} tokens", round(total_without, 3), round(total_with, 3),
                 round(total_with - total_without, 3)])
    return rows


def memory_figure(result: permutation.MemoryResult) -> go.Figure:
    tokens = [escape(t) for seg in result.segments for t in seg]
    x = list(range(1, len(tokens) + 1))
    figure = go.Figure([go.Scatter(x=x, y=np.concatenate(result.without_memory), name="without memory",
                                   mode="lines+markers", text=tokens),
                        go.Scatter(x=x, y=np.concatenate(result.with_memory), name="with memory (mems)",
                                   mode="lines+markers", text=tokens)])
    for k in range(1, len(result.segments)):
        figure.add_vline(x=k * result.segment_len + 0.5, line_dash="dot", line_color="#999")
    figure.update_layout(title=f"log p(token | earlier tokens), segments of {result.segment_len} tokens (dotted)",
                         xaxis_title="token", yaxis_title="log p", height=380, margin=dict(l=10, r=10, t=50, b=10))
    return figure


def _badge(loaded) -> str:
    html = weights_badge(loaded.report)
    if loaded.report.trained and not loaded.report.head_is_trained(Capability.PERMUTATION_LM):
        html += tag("div", "The LM head of this checkpoint is newly initialised (random): its predictions and "
                    "scores mean nothing.", class_="weights-badge warn")
    return html


def show_order(spec: str, text: str, kind: str, seed: float, typed: str, targets: str, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress)
    result = permutation.predict_targets(loaded, text, kind, int(seed or 0), typed or "", targets or "")
    targets_shown = {p.number for p in result.predictions}
    return _badge(loaded), render_order(result.view, targets_shown), mask_figure(result.view), prediction_rows(result)


def score_orders(spec: str, text: str, random_orders: float, seed: float, typed: str, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress)
    scores = permutation.score_orders(loaded, text, int(random_orders), int(seed or 0), typed or "")
    return _badge(loaded), score_rows(scores), score_figure(scores)


def memory(spec: str, text: str, segment_len: float, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress)
    result = permutation.memory_demo(loaded, text, int(segment_len))
    return _badge(loaded), memory_rows(result), memory_figure(result)


def build(ctx) -> None:
    if not any(Capability.PERMUTATION_LM in c.capabilities for c in checkpoints_of(ctx.family.key)):
        return  # the section is offered where a checkpoint declares permutation LM
    with gr.Tab("XLNet: permutation orders", id="permutation") as tab:
        gr.Markdown("The first text box's tokens are numbered 1..n (special tokens excluded); pick an order in "
                    f"which XLNet predicts them, and see what each target may look at. At most "
                    f"{permutation.MAX_ORDER_TOKENS} tokens.")
        with gr.Row():
            kind = gr.Radio(list(permutation.ORDER_KINDS), value="random", label="Factorization order",
                            elem_id="xlnet-order-kind")
            seed = gr.Number(value=0, precision=0, label="Seed (random order)")
            typed = gr.Textbox("", label="Typed order (1-based token numbers)", placeholder="e.g. 3 1 4 2",
                               elem_id="xlnet-typed-order")
            targets = gr.Textbox(value=DEFAULT_TARGETS, label="Targets (token numbers, or auto: two whole words)",
                                 elem_id="xlnet-targets")
        run = gr.Button("Show the order and predict the targets", variant="primary", elem_id="xlnet-run")
        order_html = gr.HTML(elem_id="xlnet-order")
        mask_plot = gr.Plot(label="Permutation mask", elem_id="xlnet-mask")
        predictions = csv_table("xlnet-order-predictions", headers=PREDICTION_HEADERS,
                                label="Predictions for the targets under this order "
                                   "(query stream)", interactive=False, wrap=True,
                                column_widths=["7%", "9%", "8%", "8%", "9%", "31%", "28%"])
        gr.Markdown(STREAMS)
        gr.Markdown("### Score the whole sentence under several orders")
        with gr.Row():
            random_orders = gr.Slider(0, 8, value=3, step=1, label="Random orders (seeds from the seed above)")
            score = gr.Button("Score the orders", elem_id="xlnet-score")
        score_table = csv_table("xlnet-order-scores", headers=SCORE_HEADERS, label="Sentence log-probability per order",
                                   interactive=False, wrap=True)
        score_plot = gr.Plot(label="Per-order scores", elem_id="xlnet-score-plot")
        gr.Markdown("### Transformer-XL memory: a text longer than one segment\nThe text is cut into segments and "
                    "scored left to right. *Without memory* each segment starts from nothing; *with memory* each "
                    "segment also attends to the cached hidden states (`mems`) of the segment before.")
        with gr.Row():
            long_text = gr.Textbox(value=LONG_TEXT, label="Long text", lines=4, scale=3, elem_id="xlnet-long-text")
            segment_len = gr.Slider(4, 128, value=16, step=1, label="Segment length (tokens)", scale=1)
        run_memory = gr.Button("Score with and without memory", elem_id="xlnet-memory")
        memory_table = csv_table("xlnet-memory", headers=MEMORY_HEADERS, label="With and without memory",
                                    wrap=True)
        memory_plot = gr.Plot(label="Per-token log-probability", elem_id="xlnet-memory-plot")
    ctx.add_section("permutation", tab, run, order=kind, seed=seed, typed=typed, targets=targets,
                    checks={"typed": share.numbers, "targets": share.numbers})
    run.click(guarded(show_order), [ctx.model, ctx.text, kind, seed, typed, targets],
              [ctx.status, order_html, mask_plot, predictions], api_name="xlnet_permutation")
    score.click(guarded(score_orders), [ctx.model, ctx.text, random_orders, seed, typed],
                [ctx.status, score_table, score_plot], api_name="xlnet_score_orders")
    run_memory.click(guarded(memory), [ctx.model, long_text, segment_len], [ctx.status, memory_table, memory_plot],
                     api_name="xlnet_memory")
