"""The "ELECTRA: replaced-token detection" section of the ELECTRA tab: generator corrupts, discriminator detects.

Renders model_zoo.electra's dataclasses as escaped HTML (the corrupted sentence, the P(replaced) heat, the two-row
"100% training signal") and tables; wires the events `electra_replace_and_detect` and `electra_edit_mode`.
"""
from __future__ import annotations

import gradio as gr

from components import share as links
from components.common import guarded, load_with_progress, recorded_quality, weights_badge
from components.export import csv_table
from components.markup import join, shade, tag
from model_zoo.registry import Capability, checkpoints_of
from model_zoo import electra, loading
from model_zoo import pretraining_lab as lab

METRIC_HEADERS = ["measure", "value"]
REPLACEMENT_HEADERS = ["#", "original", "sample", "label", "generator's top alternatives"]


def _pct(value) -> str:
    return "undefined" if value is None else f"{100 * value:.1f}%"


def _prob(p: float) -> str:
    return f"{100 * p:.1f}%" if p >= 0.001 else f"{p:.1e}"


def render_corrupted(result: electra.ReplaceResult) -> str:
    """The corrupted sentence: each replacement shown beside the original it replaced."""
    det = result.detection
    notes = {r.position: r for r in result.replacements}
    chips = []
    for i, token in enumerate(det.tokens):
        if i in notes and not notes[i].same_as_original:
            chips.append(tag("span", token, " ", tag("small", "(was ", tag("s", det.originals[i]), ")"),
                             class_="chip replaced rtd-replaced", title=f"replaced: was {det.originals[i]}"))
        elif i in notes:
            chips.append(tag("span", token, " ", tag("small", "(sampled the original)"),
                             class_="chip sampled-same rtd-same",
                             title="the generator sampled the original token: ELECTRA labels it original"))
        else:
            chips.append(tag("span", token, class_=["chip", "special" if det.special[i] else ""]))
    same = [r for r in result.replacements if r.same_as_original]
    note = tag("div", f'{len(same)} chosen position(s) got the original token back from the generator '
                      f'({", ".join(r.original for r in same)}): ELECTRA labels those "original", not "replaced".',
               class_="note") if same else ""
    return join([tag("div", "The generator saw: ", tag("code", " ".join(result.masked_input)), class_="note"),
                 tag("div", join(chips), class_="rtd-corrupted"), note])


def render_heat(det: electra.Detection, what: str = "replaced", threshold: float = electra.THRESHOLD) -> str:
    """Every token shaded by the discriminator's P(replaced); truly changed tokens outlined."""
    chips = []
    for i, token in enumerate(det.tokens):
        p = float(det.prob_replaced[i])
        truth = f" · truly {what}" + (f" (was {det.originals[i]})" if det.originals[i] else "") if det.replaced[i] \
            else " · original"
        chips.append(tag("span", token, " ✱" if det.replaced[i] else "", tag("sub", f"{p:.2f}"),
                         class_=["chip", "rtd-heat", shade(p), "truly" if det.replaced[i] else ""],
                         data_p=f"{p:.4f}", title=f"P(replaced) = {p:.3f}{truth}"))
    legend = tag("div", "Shade = the discriminator's P(replaced) (white 0 → red 1); ", tag("b", "outlined ✱"),
                 f" = truly {what}. Flagged when P ≥ {threshold:g} (the threshold above); the ranking in the table "
                 f"says what the discriminator knows whatever the threshold.", class_="legend")
    return join([tag("div", join(chips), class_="rtd-heatmap"), legend])


def metrics_rows(m: electra.Metrics, det: electra.Detection | None = None) -> list[list[str]]:
    ranks = electra.replaced_ranks(det) if det is not None else []
    ranked = [["where the replaced tokens rank by P(replaced)",
               "; ".join(f"{token}: {rank} of {m.n_tokens} (P {p:.2f})" for rank, token, p in ranks)]] \
        if ranks else []
    return ranked + [["tokens scored (non-special)", str(m.n_tokens)], ["truly replaced", str(m.n_replaced)],
            [f"flagged (P ≥ {m.threshold})", str(m.n_flagged)], ["precision", _pct(m.precision)],
            ["recall", _pct(m.recall)], ["accuracy", _pct(m.accuracy)],
            ["ROC AUC", "undefined (needs both replaced and original tokens)" if m.auc is None else f"{m.auc:.3f}"]]


def replacement_rows(result: electra.ReplaceResult) -> list[list]:
    return [[r.position, r.original, r.sampled, "original (sampled the same token)" if r.same_as_original
             else "replaced", ", ".join(f"{t} ({_prob(p)})" for t, p in r.alternatives)]
            for r in result.replacements]


def render_signal(det: electra.Detection) -> str:
    """Two rows over the same tokens: where BERT's MLM learns (the chosen ones) vs ELECTRA's discriminator (all)."""
    real = ~det.special
    rows = []
    for label, active in (("BERT's MLM", det.chosen & real), ("ELECTRA's discriminator", real)):
        chips = join(tag("span", det.originals[i] or det.tokens[i],
                         class_=["chip", "signal" if active[i] else "silent"]) for i in range(len(det.tokens)))
        share = f"{int(active.sum())} of {int(real.sum())} tokens ({100 * active.sum() / max(1, real.sum()):.0f}%)"
        rows.append(tag("div", tag("b", label), chips, " ", tag("i", f"learns from {share}"), class_="rtd-signal-row"))
    return join(rows + [tag("div", "Green = the token gives a learning signal. BERT computes its loss only at the "
                                   "masked positions; ELECTRA's discriminator is trained on every token (original or "
                                   "replaced), which is why it learns more per sentence.", class_="note")])


def _badges(*loaded) -> str:
    html = "".join(weights_badge(lm.report) for lm in loaded)
    for lm in loaded:
        if lm.report.trained and lm.report.untrained_capabilities:
            html += tag("div", f"{lm.checkpoint.key}: its {', '.join(lm.report.untrained_capabilities)} head is "
                        "newly initialised (random): its output here means nothing.", class_="weights-badge warn")
    return html


def _recorded(discriminator) -> str:
    return recorded_quality(lab.recorded_out_of_domain(discriminator.checkpoint, "replaced_token_detection"))


def replace_and_detect(generator: str, discriminator: str, text: str, share: float, seed: float,
                       temperature: float, words: str, threshold: float = electra.THRESHOLD, progress=gr.Progress()):
    gen = load_with_progress(generator, progress)
    disc = loading.load(discriminator)
    result = electra.replace_and_detect(gen, disc, text, rate=float(share) / 100, seed=int(seed or 0),
                                        temperature=float(temperature), words=words or "")
    det = result.detection
    metrics = electra.rethreshold(det, float(threshold))
    return (_badges(gen, disc), render_corrupted(result), render_heat(det, threshold=float(threshold))
            + _recorded(disc), metrics_rows(metrics, det), replacement_rows(result), render_signal(det))


def edit_mode(discriminator: str, original: str, edited: str, threshold: float = electra.THRESHOLD,
              progress=gr.Progress()):
    disc = load_with_progress(discriminator, progress)
    det = electra.edit_mode(disc, original, edited)
    metrics = electra.rethreshold(det, float(threshold))
    return (_badges(disc), render_heat(det, "edited", float(threshold)) + _recorded(disc),
            metrics_rows(metrics, det))


def _defaults(ctx) -> tuple[list, str, list, str]:
    offered, _ = loading.model_choices("electra", ctx.models_mode)
    generators = [c for c in offered if c.role == "generator"] or offered
    discriminators = [c for c in offered if c.role == "discriminator"] or offered
    disc_default = ctx.model.value if ctx.model.value else discriminators[0].key
    bundled = any(c.key == disc_default and c.bundled for c in offered)
    gen_default = next((c for c in generators if c.bundled == bundled), generators[0]).key
    return ([(c.key, c.key) for c in generators], gen_default, [(c.key, c.key) for c in discriminators], disc_default)


def build(ctx) -> None:
    if not any(Capability.REPLACED_TOKEN_DETECTION in c.capabilities for c in checkpoints_of(ctx.family.key)):
        return  # the section is offered where a checkpoint declares replaced-token detection
    gen_choices, gen_default, disc_choices, disc_default = _defaults(ctx)
    with gr.Tab("ELECTRA: replaced-token detection", id="electra") as tab:
        gr.Markdown("The **generator** (a small masked LM) fills the chosen positions with tokens it samples; the "
                    "**discriminator** then reads the corrupted sentence and gives every token a probability of "
                    "having been replaced. A sample that equals the original token counts as *original*.")
        with gr.Row():
            generator = gr.Dropdown(choices=gen_choices, value=gen_default, allow_custom_value=True,
                                    label="Generator (ElectraForMaskedLM): pick, or type a Hub id / folder",
                                    elem_id="electra-generator")
            discriminator = gr.Dropdown(choices=disc_choices, value=disc_default, allow_custom_value=True,
                                        label="Discriminator (ElectraForPreTraining): follows the tab's model",
                                        elem_id="electra-discriminator")
        with gr.Row():
            share = gr.Slider(1, 100, value=15, step=1, label="Share of tokens to replace (%)")
            seed = gr.Number(value=0, precision=0, label="Seed")
            temperature = gr.Slider(0, 2, value=1.0, step=0.05, label="Temperature (0 = most likely token)")
            words = gr.Textbox("", label="Or replace these words (comma-separated; overrides the share)",
                               placeholder="e.g. chef, meal", elem_id="electra-words")
            threshold = gr.Slider(0.05, 0.95, value=electra.THRESHOLD, step=0.05, elem_id="electra-threshold",
                                  label="Flag a token when P(replaced) ≥")
        run = gr.Button("Corrupt and detect", variant="primary", elem_id="electra-run")
        corrupted = gr.HTML(elem_id="electra-corrupted")
        heat = gr.HTML(elem_id="electra-heat")
        with gr.Row():
            metrics = csv_table("electra-detection-quality", headers=METRIC_HEADERS, wrap=True,
                                label="Detection quality on this sample", column_widths=["40%", "60%"], scale=1)
            replacements = csv_table("electra-replacements", headers=REPLACEMENT_HEADERS, wrap=True, scale=2,
                                        label="What the generator sampled (probabilities at the chosen temperature)")
        gr.Markdown("### 100% training signal")
        signal = gr.HTML(elem_id="electra-signal")
        gr.Markdown("### Edit mode: make your own replacement and see what the discriminator flags")
        with gr.Row():
            original = gr.Textbox(value="The chef cooked a delicious meal for the guests.", label="Original",
                                  elem_id="electra-original")
            edited = gr.Textbox(value="The chef ate a delicious meal for the guests.", label="Edited",
                                elem_id="electra-edited")
        run_edit = gr.Button("Detect my edit", elem_id="electra-run-edit")
        edit_heat = gr.HTML(elem_id="electra-edit-heat")
        edit_metrics = csv_table("electra-edit-quality", headers=METRIC_HEADERS, wrap=True,
                                 column_widths=["40%", "60%"], label="Detection quality on your edit")
    ctx.add_section("electra", tab, run, generator=generator, share=share, seed=seed, temperature=temperature,
                    words=words, threshold=threshold, checks={"generator": links.model_spec})
    run.click(guarded(replace_and_detect), [generator, discriminator, ctx.text, share, seed, temperature, words,
                                            threshold],
              [ctx.status, corrupted, heat, metrics, replacements, signal], api_name="electra_replace_and_detect")
    run_edit.click(guarded(edit_mode), [discriminator, original, edited, threshold],
                   [ctx.status, edit_heat, edit_metrics],
                   api_name="electra_edit_mode")
    ctx.model.change(lambda spec: spec, [ctx.model], [discriminator], api_visibility="private")
