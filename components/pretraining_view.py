"""The "Pretraining task" section of a family tab: the objective that sets the family apart, made visible (BERT's
next-sentence prediction, ALBERT's sentence order, RoBERTa's dynamic masking, DistilBERT against its teacher), and a
"Tasks" part with the fine-tuned checkpoints people try first (sentiment, question answering).

Renders model_zoo.sentence_tasks dataclasses; wires `bert_nsp`, `albert_sop`, `roberta_dynamic_masking`,
`distilbert_vs_teacher` and `<family>_task`. A newly initialised head is said next to the output, and its numbers are
never presented as an answer.
"""
from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from components import share
from components.common import escape, guarded, load_with_progress, recorded_quality, weights_badge
from components.markup import Markup, join, tag
from model_zoo import loading
from model_zoo import pretraining_lab as lab
from model_zoo import sentence_tasks as st
from model_zoo.masking import KEEP, MASK, RANDOM
from model_zoo.registry import CHECKPOINTS, FAMILIES, Capability, default_checkpoint

TASK_TEXT = "I loved this film: the acting was superb and the story moving."
QA_QUESTION = "Where is the Eiffel Tower?"
QA_CONTEXT = "The Eiffel Tower is a wrought-iron tower on the Champ de Mars in Paris, France. It was built in 1889."
_KIND = {MASK: "mask", RANDOM: "random", KEEP: "kept"}   # each one's colour: .dm-mask, .dm-random, .dm-kept


def _p(p: float) -> str:
    """A probability readable at any size: 0.412, or 3.1e-05 for the tiny ones of a large vocabulary."""
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def head_warning(trained_weights: bool, head_trained: bool, what: str, missing: tuple[str, ...] = ()) -> str:
    """'' when the head is trained; else a loud note that replaces the answer."""
    if not trained_weights:
        return tag("div", f"RANDOM weights: the {what} head gives noise. No answer is shown as meaningful.",
                   class_="weights-badge bad pt-random")
    if not head_trained:
        names = ", ".join(missing[:6]) or "the head's parameters"
        return tag("div", f"The {what} head of this checkpoint is NEWLY INITIALISED (random): it is not in the "
                   f"checkpoint ({names}), so its output is noise, not an answer. Use a checkpoint fine-tuned for "
                   "this task.", class_="weights-badge bad pt-random")
    return ""


def prob_bars(labels, probs, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[float(p) for p in probs], y=[escape(label) for label in labels], orientation="h",
                           text=[f"{p:.3f}" for p in probs], textposition="auto",
                           marker_color=["#4f46e5", "#94a3b8", "#0891b2", "#d97706"][:len(labels)]))
    fig.update_layout(title=escape(title), height=90 + 40 * len(labels), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[0, 1], title="probability"))
    return fig


# ---------------------------------------------------------------------------------------------------- NSP / SOP
def render_pair(score: st.PairScore, first: str, what: str) -> str:
    warn = head_warning(True, score.head_trained, what)
    if warn:
        return warn
    verdict = score.labels[int(score.probs.argmax())]
    return tag("div", f"{first}: ", tag("b", verdict), f" (p = {float(score.probs.max()):.3f})", class_="pt-result")


def nsp(spec: str, a: str, b: str, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress, load=st.nsp_model)
    score = st.next_sentence(loaded, a, b)
    html = join([head_warning(loaded.report.trained, score.head_trained, "next-sentence",
                              loaded.report.newly_initialized) or render_pair(score, "A then B", "next-sentence"),
                 tag("div", f"Input: [CLS] A [SEP] B [SEP], token types 0 for A and 1 for B ({score.tokens} tokens). "
                     "Pretraining saw B follow A in 50% of pairs and a random sentence otherwise.", class_="note"),
                 Markup(recorded_quality(lab.recorded_out_of_domain(loaded.checkpoint, "nsp")))])
    return weights_badge(loaded.report), html, prob_bars(score.labels, score.probs, "P(B follows A)")


def sop(spec: str, a: str, b: str, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress, load=st.sop_model)
    order = st.sentence_order(loaded, a, b)
    warn = head_warning(loaded.report.trained, order.forward.head_trained, "sentence-order",
                        loaded.report.newly_initialized)
    html = join([warn or join([render_pair(order.forward, "A then B", "sentence-order"),
                               render_pair(order.backward, "B then A", "sentence-order")]),
                 tag("div", "ALBERT's negatives are the same two segments swapped, so topic gives nothing away: only "
                     'the order does. A trained head should call exactly one of the two orders "in order".',
                     class_="note"),
                 Markup(recorded_quality(lab.recorded_out_of_domain(loaded.checkpoint, "sop")))])
    fig = go.Figure()
    for name, score, color in (("A then B", order.forward, "#4f46e5"), ("B then A", order.backward, "#d97706")):
        fig.add_trace(go.Bar(name=name, x=list(score.labels), y=[float(p) for p in score.probs], marker_color=color,
                             text=[f"{p:.3f}" for p in score.probs], textposition="auto"))
    fig.update_layout(barmode="group", height=280, yaxis=dict(range=[0, 1], title="probability"),
                      margin=dict(l=10, r=10, t=40, b=10), title="Sentence-order prediction")
    return weights_badge(loaded.report), html, fig


# ---------------------------------------------------------------------------------------------------- dynamic masking
def render_masking(view: st.MaskingView, stats: st.MaskingStats) -> str:
    """A grid: one row per epoch (BERT's static mask first), one cell per token, coloured by what happened."""
    rows = []
    draws = [("BERT, every epoch (static)", view.static)] + [(f"RoBERTa, epoch {e + 1}", m)
                                                            for e, m in enumerate(view.epochs)]
    for (name, masking), shown in zip(draws, view.shown):
        kinds = dict(zip(masking.positions.tolist(), masking.kinds))
        cells = []
        for i, token in enumerate(shown):
            if view.special[i]:
                cells.append(tag("td", token, class_="dm-special"))
            elif i in kinds:
                label = _KIND[kinds[i]]
                cells.append(tag("td", token, class_=f"dm-{label}", title=f"{label}: {view.tokens[i]} → {token}"))
            else:
                cells.append(tag("td", token))
        rows.append(tag("tr", tag("th", name), *cells))
    header = tag("tr", tag("th", "original"), *(tag("th", t) for t in view.tokens))
    legend = join(tag("span", label, class_=f"dm-key dm-{label}") for label in _KIND.values())
    split = " / ".join(f"{100 * stats.split[k]:.1f}% {_KIND[k]}" for k in (MASK, RANDOM, KEEP))
    return join([tag("div", legend, f" (seed {view.seed}; the same seed gives the same masks)", class_="dm-legend"),
                 tag("div", tag("table", header, *rows, class_="dm-grid"), class_="dm-scroll"),
                 tag("div", f"Over {stats.draws} dynamic draws of this text: {100 * stats.chosen_rate:.1f}% of the "
                     f"tokens chosen (rule: 15%), split {split} (rule: 80/10/10); {100 * stats.coverage:.0f}% of the "
                     "tokens were chosen at least once, while BERT's static mask trains on the same few every epoch.",
                     class_="note")])


def dynamic(spec: str, text: str, epochs: int = 4, seed: int = 0, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress, running="Drawing masks…")
    view = st.masking_view(loaded.tokenizer, text, int(epochs), int(seed or 0))
    stats = st.masking_stats(loaded.tokenizer, text, draws=500, seed=int(seed or 0))
    return weights_badge(loaded.report), render_masking(view, stats)


# ---------------------------------------------------------------------------------------------------- DistilBERT
def render_comparison(c: st.TeacherComparison, student_report, teacher_report) -> str:
    rows = []
    for m, (s, t) in enumerate(zip(c.student.masks, c.teacher.masks)):
        for r in range(len(s.tokens)):
            cells = (tag("td", f"{a.readable[r]} ({_p(a.probs[r])})", class_="agree" if a.tokens[r] in b.tokens
                         else None) for a, b in ((s, t), (t, s)))  # shaded: in the other model's top-k
            rows.append(tag("tr", tag("td", m + 1 if r == 0 else ""), tag("td", r + 1), *cells))
    agree = ", ".join(f"mask {m + 1}: top-1 {'same' if a else 'different'}, top-k overlap {o:.0%}"
                      for m, (a, o) in enumerate(zip(c.top1_agree, c.overlap)))
    warn = (head_warning(r.trained, r.head_is_trained(Capability.FILL_MASK), f"{who} mask-filling")
            for who, r in (("student", student_report), ("teacher", teacher_report)))
    head = tag("tr", *(tag("th", h) for h in ("mask", "rank", "DistilBERT (student)", "BERT (teacher)")))
    return join([*warn, tag("table", head, *rows, class_="pt-compare"),
                 tag("div", f"Agreement: {agree}. Shaded: in the other model's top-k.", class_="note"),
                 tag("div", f"Speed on this machine (median of {c.runs} forwards): student {c.student_ms:.1f} ms, "
                     f"teacher {c.teacher_ms:.1f} ms: the student is ", tag("b", f"{c.speed_ratio:.2f}×"),
                     f" as fast, with {c.student_params / 1e6:.1f}M parameters against "
                     f"{c.teacher_params / 1e6:.1f}M.", class_="note")])


def versus_teacher(spec: str, teacher: str, text: str, k: int = 5, progress=gr.Progress()):
    student = load_with_progress(spec, progress, load=st.fill_mask_model)
    teacher_lm = load_with_progress(teacher, progress, load=st.teacher_model, running="Comparing…")
    comparison = st.student_vs_teacher(student, teacher_lm, text, int(k))
    quality = Markup(recorded_quality(lab.recorded_out_of_domain(student.checkpoint, "distillation")))
    return weights_badge(student.report), join([render_comparison(comparison, student.report, teacher_lm.report),
                                                quality])


# ---------------------------------------------------------------------------------------------------- tasks
FINETUNE_POINTER = ("No fine-tuned checkpoint at hand? Train a classifier on your own labelled examples in the "
                    "Fine-tune tab: it works offline, in about a minute on a CPU.")


def classify(spec: str, text: str, progress=gr.Progress()):
    try:
        loaded = load_with_progress(spec, progress, running="Classifying…",
                                    load=lambda s: st.task_model(s, Capability.SEQUENCE_CLASSIFICATION))
    except loading.ModelUnavailable as error:  # offline without the Hub checkpoint: say where a classifier can be had
        raise loading.ModelUnavailable(f"{error} {FINETUNE_POINTER}") from None
    result = st.classify(loaded, text)
    warn = head_warning(loaded.report.trained, result.head_trained, "classification", result.newly_initialized)
    if warn:  # the numbers of a random head are not an answer: say so instead of showing a verdict
        return weights_badge(loaded.report), join([warn, tag("div", FINETUNE_POINTER, class_="note")]), None
    best = int(result.probs.argmax())
    html = tag("div", "Sentiment: ", tag("b", result.labels[best]), f" (p = {result.probs[best]:.3f})",
               class_="pt-result")
    return weights_badge(loaded.report), html, prob_bars(result.labels, result.probs, "Class probabilities")


def qa(spec: str, question: str, context: str, progress=gr.Progress()):
    loaded = load_with_progress(spec, progress, running="Finding the answer…",
                                load=lambda s: st.task_model(s, Capability.QUESTION_ANSWERING))
    result = st.answer(loaded, question, context)
    warn = head_warning(loaded.report.trained, result.head_trained, "question-answering", result.newly_initialized)
    if warn:
        return weights_badge(loaded.report), warn, None
    if not result.text:
        html = tag("div", "The model finds ", tag("b", "no answer"), " in the context (no-answer score "
                   f"{result.no_answer_score:.3f} ≥ best span {result.score:.3f}).", class_="pt-result")
    else:
        html = join([tag("div", "Answer: ", tag("b", result.text), f" (score {result.score:.3f})", class_="pt-result"),
                     tag("div", context[:result.start], tag("mark", result.text), context[result.end:],
                         class_="note")])
    return weights_badge(loaded.report), html, None


# ---------------------------------------------------------------------------------------------------- layout
def build_tasks(ctx) -> None:
    key = ctx.family.key
    if not ctx.family.task_default:
        return
    task, default = ctx.family.task_default
    gr.Markdown("### Tasks\nA checkpoint fine-tuned for the task (offline it must be in your cache or a folder). "
                "Type a base checkpoint instead and its task head is newly initialised: the app says so and shows no "
                "answer, as tutorials that load a base model into a pipeline should.")
    available = loading.is_available(CHECKPOINTS[default])
    if not available:   # offline and not cached: say so once, here, instead of an error at every press
        gr.HTML(tag("div", f"This machine is offline and the task's checkpoint ({default}) is not downloaded, so "
                    "this section cannot run here. The ", tag("b", "Fine-tune"), " tab trains a classifier on your "
                    "own examples in seconds; or type a folder that holds a fine-tuned checkpoint.",
                    class_="weights-badge warn", id=f"{key}-task-offline"))
    model = gr.Textbox(value=default, label="Task checkpoint (registry key, Hub id or folder)",
                       elem_id=f"{key}-task-model")
    if task == Capability.QUESTION_ANSWERING:
        question = gr.Textbox(value=QA_QUESTION, label="Question", elem_id=f"{key}-task-question")
        context = gr.Textbox(value=QA_CONTEXT, label="Context", lines=3, elem_id=f"{key}-task-context")
        inputs, handler = [model, question, context], qa
    else:
        text = gr.Textbox(value=TASK_TEXT, label="Text to classify", elem_id=f"{key}-task-text")
        inputs, handler = [model, text], classify
    run = gr.Button("Run the task", elem_id=f"{key}-task-run", interactive=available)
    if not available:   # another checkpoint typed (a folder): worth a try
        model.change(lambda spec: gr.update(interactive=bool(spec.strip()) and spec.strip() != default), model, run,
                     api_visibility="private", queue=False)
    out = gr.HTML(elem_id=f"{key}-task-out")
    plot = gr.Plot(label="Probabilities", show_label=False, elem_id=f"{key}-task-plot")
    run.click(guarded(handler), inputs, [ctx.status, out, plot], api_name=f"{key}_task")


# The sentence-pair heads, by the capability a family's checkpoints declare: (introduction, button, handler, endpoint).
PAIR_TASKS = {
    Capability.NEXT_SENTENCE: ("**Next-sentence prediction.** {name} was also trained to tell whether B really "
                               "follows A (its `seq_relationship` head on the [CLS] token).", "Does B follow A?", nsp,
                               "nsp"),
    Capability.SENTENCE_ORDER: ("**Sentence-order prediction.** {name} was trained to tell two consecutive segments "
                                "in order from the same two swapped; both orders are scored.", "Score A-B and B-A",
                                sop, "sop"),
}


def _pair_task(family) -> Capability | None:
    """The sentence-pair task the family was pretrained with, as its default checkpoint's heads declare it."""
    declared = default_checkpoint(family.key).capabilities
    return next((task for task in PAIR_TASKS if task in declared), None)


def build(ctx) -> None:
    key, family = ctx.family.key, ctx.family
    pair_task = _pair_task(family)
    with gr.Tab("Pretraining task", id="pretraining") as tab:
        if pair_task is not None:
            intro, button, handler, api_name = PAIR_TASKS[pair_task]
            api_name = f"{key}_{api_name}"
            gr.Markdown(intro.format(name=family.name) + " Sentence A is the tab's text, B its second sentence.")
            run = gr.Button(button, variant="primary", elem_id=f"{key}-pt-run")
            out, plot = gr.HTML(elem_id=f"{key}-pt-out"), gr.Plot(show_label=False, elem_id=f"{key}-pt-plot")
            run.click(guarded(handler), [ctx.model, ctx.text, ctx.text_pair], [ctx.status, out, plot],
                      api_name=api_name)
            ctx.add_section("pretraining", tab, run)
        elif family.distilled_from:
            teacher_family = FAMILIES[family.distilled_from].name
            gr.Markdown(f"**Distillation.** {family.name} learned to imitate {teacher_family}'s output distribution "
                        "with half the layers. Both guess the masks of the tab's text; agreement and the measured speed "
                        "are shown.")
            with gr.Row():
                teacher = gr.Textbox(value=st.teacher_of(ctx.model.value), label=f"Teacher (a {teacher_family})",
                                     scale=2, elem_id=f"{key}-pt-teacher")
                k = gr.Slider(1, 20, value=5, step=1, label="k", scale=1)
            run = gr.Button("Compare student and teacher", variant="primary", elem_id=f"{key}-pt-run")
            out = gr.HTML(elem_id=f"{key}-pt-out")
            ctx.add_section("pretraining", tab, run, teacher=teacher, k=k,
                            checks={"teacher": share.model_spec})
            run.click(guarded(versus_teacher), [ctx.model, teacher, ctx.text, k], [ctx.status, out],
                      api_name=f"{key}_vs_teacher")
            ctx.model.change(st.teacher_of, [ctx.model], [teacher], api_visibility="private")
        elif family.masking == "dynamic":
            gr.Markdown(f"**Dynamic masking.** BERT masked its data once, so every epoch trains on the same masked "
                        f"positions; {family.name} draws a new mask each time a sequence is seen. Same rule each time: "
                        "15% of tokens chosen; of those 80% become &lt;mask&gt;, 10% a random token, 10% stay. "
                        "Uses the tab's text.")
            with gr.Row():
                epochs = gr.Slider(1, 10, value=4, step=1, label="Epochs to show", elem_id=f"{key}-pt-epochs")
                seed = gr.Number(value=0, precision=0, label="Seed", elem_id=f"{key}-pt-seed")
            run = gr.Button("Draw the masks", variant="primary", elem_id=f"{key}-pt-run")
            out = gr.HTML(elem_id=f"{key}-pt-out")
            ctx.add_section("pretraining", tab, run, epochs=epochs, seed=seed)
            run.click(guarded(dynamic), [ctx.model, ctx.text, epochs, seed], [ctx.status, out],
                      api_name=f"{key}_dynamic_masking")
        else:
            gr.Markdown(family.pretraining_note or "This family has no sentence-level pretraining task.")
            ctx.add_section("pretraining", tab, None)
        build_tasks(ctx)
