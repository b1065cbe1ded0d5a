"""The "Tokens & facts" section of a family tab: how the tokenizer cuts the text, and the model's facts."""
from __future__ import annotations

import gradio as gr

from components.common import guarded, load_with_progress, message_html, weights_badge
from components.export import csv_table
from components.markup import join, tag
from model_zoo import facts as model_facts
from model_zoo import loading
from model_zoo.facts import max_tokens
from model_zoo.tokenization import TokenizedText, tokenize


def render_tokens(tokens: TokenizedText) -> str:
    """Token chips: special tokens marked, subword continuations joined to their word, ids on hover."""
    chips = []
    for i, (raw, readable) in enumerate(zip(tokens.tokens, tokens.readable)):
        kind = "special" if tokens.special[i] else ("cont" if tokens.continuation[i] else "word")
        segment = f"seg{tokens.segment[i]}" if tokens.segment[i] >= 0 else ""
        chips.append(tag("span", readable, tag("sub", int(tokens.ids[i])), class_=["tok", kind, segment],
                         title=f"#{i} · id {int(tokens.ids[i])} · {raw}"))
    note = tag("div", f"The text was longer than the model takes and was cut at {len(tokens)} tokens.", class_="note")
    legend = tag("div", tag("span", "special", class_="tok special"), " ", tag("span", "word start", class_="tok word"),
                 " ", tag("span", "continues the previous piece", class_="tok cont"), class_="legend")
    return join([tag("div", *chips, class_="tokens"), note if tokens.truncated else "", legend])


def token_rows(tokens: TokenizedText) -> list[list]:
    return [[i, tok, readable, int(tokens.ids[i]), bool(tokens.special[i]), bool(tokens.continuation[i]),
             "" if tokens.special[i] else int(tokens.segment[i])]  # a special token belongs to no text
            for i, (tok, readable) in enumerate(zip(tokens.tokens, tokens.readable))]


TOKEN_HEADERS = ["#", "token", "reads as", "id", "special", "continues word", "segment"]


def facts_rows(spec: str) -> tuple[list[list[str]], str]:
    """Facts from the config alone, so they show even when the weights cannot be loaded."""
    checkpoint = loading.resolve(spec)
    found = model_facts.facts(checkpoint)
    return [list(row) for row in found.rows()], found.description


def tokenize_and_describe(spec: str, text: str, text_pair: str = "", progress=gr.Progress()):
    """Tokens (chips and table), the model's facts and the weights badge for one model and text."""
    rows, description = facts_rows(spec)
    loaded = load_with_progress(spec, progress)
    tokens = tokenize(loaded.tokenizer, text, text_pair if loaded.family.pair_input else None,
                      max_length=max_tokens(loaded.config))
    summary = (f"{len(tokens)} tokens · {int(tokens.special.sum())} special · "
               f"{int(tokens.continuation.sum())} continuation pieces · {loaded.family.tokenizer_kind.value} tokenizer")
    return (weights_badge(loaded.report), join([render_tokens(tokens), tag("div", summary, class_="note")]),
            token_rows(tokens), rows)


def describe_only(spec: str):
    """The facts table alone (used when a model is picked, before any weights load)."""
    rows, _ = facts_rows(spec)
    return rows


def facts_api(spec: str) -> dict:
    """The facts table of a model, as the table component sends it ({"headers", "data"}); refuses a bad id."""
    return {"headers": ["fact", "value"], "data": describe_only(spec)}


def describe_on_change(spec: str):
    """When a model is picked: its facts, and in the status next to the box either that it loads on first use or why
    it cannot be used (said there, once, and not again as a toast: the action that then fails says it itself)."""
    try:
        rows, _ = facts_rows(spec)
        checkpoint = loading.resolve(spec)
    except (loading.ModelError, ValueError) as error:
        return [], message_html(error)
    if not loading.is_available(checkpoint):
        return rows, tag("div", f"Not available offline: {checkpoint.key} is not downloaded and this machine cannot "
                         f"reach the Hub. Use {loading.offline_alternative(checkpoint.key)}, which works offline.",
                         class_="weights-badge bad")
    return rows, tag("div", "Picked: it loads on first use (cached afterwards); the badge then says which weights "
                     "answered.", class_="weights-badge")


def build(ctx) -> None:
    with gr.Tab("Tokens & facts", id="tokens") as tab:
        run = gr.Button("Tokenize", variant="primary", elem_id=f"{ctx.family.key}-tokens-run")
        gr.api(guarded(facts_api, kind="light"), api_name=f"{ctx.family.key}_facts")  # the facts alone, by API
        tokens_html = gr.HTML()
        with gr.Row():
            table = csv_table(f"{ctx.family.key}-tokens", headers=TOKEN_HEADERS, label="Tokens", wrap=True)
            facts_table = csv_table(f"{ctx.family.key}-facts", headers=["fact", "value"],
                                    label="Model facts (from its config)",
                                    interactive=False, wrap=True, column_widths=["30%", "70%"])
    inputs = [ctx.model, ctx.text, ctx.text_pair]
    outputs = [ctx.status, tokens_html, table, facts_table]
    ctx.add_section("tokens", tab, run)
    run.click(guarded(tokenize_and_describe), inputs, outputs, api_name=f"{ctx.family.key}_tokenize")
    ctx.model.change(guarded(describe_on_change, kind="light"), [ctx.model], [facts_table, ctx.status],
                     api_visibility="private")
    ctx.on_load.append((guarded(describe_only, kind="light"), [ctx.model], [facts_table]))
