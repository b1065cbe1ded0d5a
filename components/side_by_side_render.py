"""Rendering of the side-by-side view (model_zoo.side_by_side.SideBySide): one column per model, rows aligned on the
user's words; the attention small multiples; the tables behind them. Pure functions from data to HTML, figures and
rows; every string that came from the user or a model is escaped here (components.markup.tag)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.common import message_html
from components.markup import Markup, shade, tag
from components.why_view import scored_words
from model_zoo.numbers import as_json, as_text
from model_zoo.side_by_side import UNRELATED, WHY_STEPS, Column, SideBySide

GUESS_HEADERS = ["mask", "model", "guessed by", "rank", "guess", "probability", "head trained"]
MODEL_HEADERS = ["model", "family", "weights", "parameters", "device", "dtype", "forward ms (this request)",
                 "tokens", "mean attention entropy (nats)", "share on special tokens", "share on previous token",
                 "cosine(text, second)", "notes"]


def _params(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n / 1e3:.0f}k"


def _level(column: Column) -> str:
    return "bad" if column.error or not column.trained else "ok"


def _specials(tokens: list[str]) -> str:
    return tag("td", *(tag("span", t, class_="tok special") for t in tokens))


TIME_NOTE = ("what this view's passes took for this model here, not a speed comparison: the passes differ by family "
             "and a model's first use includes its warm-up (the Compare tab times models against each other)")


def header_cell(column: Column) -> str:
    """Model name, family, which weights, parameters and this request's forward time."""
    if column.error:
        return tag("th", tag("div", column.key or column.spec, class_="sbs-key"),
                   message_html(column.error, prefix="Could not run: "), class_="sbs-model")
    # not a benchmark: the passes differ by family (a guessing model, one pass per word for surprise) and a model's
    # first use pays its warm-up; the Compare tab times models against each other
    timing = tag("span", f"{column.forward_ms:.0f} ms for this view", title=TIME_NOTE)
    cost = tag("div", f"{_params(column.n_parameters)} params · ", timing, f" · {column.device} · {column.dtype}",
               class_="sbs-cost")
    return tag("th", tag("div", column.family, class_="sbs-family"), tag("div", column.key, class_="sbs-key"),
               tag("div", column.origin, class_=["weights-badge", _level(column), "sbs-weights"], title=column.weights),
               cost, tag("div", column.notes["length"], class_="sbs-why sbs-cut") if "length" in column.notes else "",
               class_="sbs-model")


def _short_method(surprise) -> str:
    """A few words for the surprise row (the full method on hover and in the CSV)."""
    return {"P(replaced)": "P(replaced), original text"}.get(surprise.unit, surprise.method.split(":")[0].split(
        " (")[0] + f" ({surprise.unit})")


# What each number and term is, said where it is shown (on hover)
PROBABILITY = "probability of this token at the mask: the model's softmax over its whole vocabulary (0 to 1)"
JACCARD = ("Jaccard overlap of two models' top-k sets: shared guesses / guesses in either (1 = the same set, 0 = none "
           "shared), averaged over every pair of models")
ENTROPY = ("how spread a head's attention is, in nats: 0 = all on one token, log(n) = even over n tokens; averaged "
           "over every layer and head")
COSINE_REFERENCE = (f"the same model's cosine between your text and an unrelated sentence (“{UNRELATED}”): "
                    f"a cosine means more against this reference than alone")


def _note(text: str) -> str:
    return tag("div", text, class_="sbs-why")


def guess_cell(column: Column, mask: int, winners: set[str]) -> str:
    if column.error:
        return tag("td", class_="sbs-empty")
    if column.guesses is None:
        return tag("td", _note(column.notes.get("guesses", "no guesses")))
    if mask >= len(column.guesses):
        return tag("td", _note("this mask lies past the part of the text this model reads"))
    guess = column.guesses[mask]
    rows = []
    for word, prob in zip(guess.readable, guess.probs):
        shared = "sbs-shared" if word.lower() in winners and column.guess_trained else ""
        width = max(1, round(20 * float(prob))) * 5              # the bar's share, in steps of 5%
        rows.append(tag("li", tag("span", class_=["sbs-bar", f"w-{width}"]), tag("span", word, class_="sbs-word"), " ",
                        tag("span", f"{float(prob):.3f}", class_="sbs-p", title=PROBABILITY),
                        class_=["sbs-guess", shared]))
    source = _note(f"guessed by {column.guess_source}") if column.guess_source and column.guess_source != column.key \
        else ""
    untrained = "" if column.guess_trained else _note("RANDOM head: these guesses mean nothing")
    return tag("td", tag("ol", *rows, class_="sbs-guesses"), source, untrained,
               class_=None if column.guess_trained else "sbs-random")


def why_cell(column: Column) -> str:
    """The user's words coloured by the column's integrated gradients for its own top-1, or why there are none."""
    if column.error:
        return tag("td", class_="sbs-empty")
    if column.why is None:
        return tag("td", _note(column.notes.get("why", "explaining…")))
    why = column.why
    title = (f"{why.target} by {why.model}: integrated gradients, {why.steps} steps; completeness gap "
             f"{100 * min(why.relative_gap, 9.99):.2g}%")
    return tag("td", Markup(scored_words(why.words, why.word_scores["ig"])), class_="sbs-why-row", title=title)


def surprise_ranks(view: SideBySide) -> dict[str, np.ndarray]:
    """Per column: each word's surprise as a rank in [0, 1] within that model (units differ between models, ranks
    compare); NaN where not scored."""
    ranks = {}
    for column in view.columns:
        if column.surprise is None:
            continue
        scores = column.surprise.scores
        ok = ~np.isnan(scores)
        r = np.full(len(scores), np.nan)
        if ok.sum() > 1:
            order = scores[ok].argsort().argsort()
            r[ok] = order / (ok.sum() - 1)
        elif ok.any():
            r[ok] = 0.5
        ranks[column.key] = r
    return ranks


def disagreement(ranks: dict[str, np.ndarray], n_words: int) -> np.ndarray:
    """(W,) spread of a word's surprise ranks across models (standard deviation), NaN with fewer than two models."""
    if len(ranks) < 2:
        return np.full(n_words, np.nan)
    stacked = np.vstack(list(ranks.values()))  # (models, W)
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(stacked, axis=0)
    spread[(~np.isnan(stacked)).sum(0) < 2] = np.nan
    return spread


def word_cell(column: Column, word: int, rank: float | None) -> str:
    if column.error or column.tokens is None:
        return tag("td", class_="sbs-empty")
    chips = [tag("span", p.text, class_=["tok", "cont" if i else "word"], title=p.raw)
             for i, p in enumerate(column.tokens.pieces[word])] or [tag("span", "(no piece)", class_="sbs-why")]
    heat, value = None, ""
    if column.surprise is not None and rank is not None and not math.isnan(rank):   # 0: its least surprising word
        heat = ["sbs-heat", shade(0.1 + 0.9 * rank)]
        value = tag("span", f"{column.surprise.scores[word]:.2f}", class_="sbs-score", title=column.surprise.unit)
    return tag("td", tag("span", *chips, class_="tokens sbs-pieces"), value, class_=heat)


def grid_html(view: SideBySide) -> str:
    """The whole comparison as one table: a column per model, a row per mask, per word and per summary figure."""
    columns = view.columns
    if not columns and not view.pending:
        return ""
    waiting = [tag("th", tag("div", s, class_="sbs-key"), _note("waiting…"), class_="sbs-model sbs-waiting")
               for s in view.pending]
    head = tag("tr", tag("th"), *(header_cell(c) for c in columns), *waiting)
    span = 1 + len(columns) + len(view.pending)
    blank = [tag("td")] * len(view.pending)
    body = []

    def section(title: str, note: str = "") -> None:
        body.append(tag("tr", tag("th", title, *([" ", tag("span", note, class_="sbs-why")] if note else []),
                                  colspan=span), class_="sbs-section"))

    def row(head, cells, head_class: str | None = None, class_: str | None = None) -> None:
        body.append(tag("tr", tag("th", head, class_=head_class), *cells, *blank, class_=class_))

    if view.n_masks:
        section("Guesses", f"top-{view.k} per mask, in each model's own way, with its probability (over the whole "
                           f"vocabulary, 0 to 1); shaded: shared with another model's top-1")
        for agreement in view.agreement:
            winners = {word for word, models in agreement.top1.items() if len(models) > 1}
            shared = "; ".join(f"“{word}”: {', '.join(models)}"
                               for word, models in agreement.top1.items() if len(models) > 1)
            overlap = [f" · mean top-{view.k} overlap ", tag("abbr", "(Jaccard)", title=JACCARD),
                       f" {agreement.overlap:.2f}"] if agreement.overlap is not None else []
            body.append(tag("tr", tag("th", f"Mask {agreement.mask + 1}: " + (
                f"top-1 shared — {shared}" if shared else "no two models share the top-1"), *overlap,
                f" · over {len(agreement.models)} trained head(s)", colspan=span), class_="sbs-agree"))
            row(f"mask {agreement.mask + 1}", (guess_cell(c, agreement.mask, winners) for c in columns))
        section("Why", f"which of your words pushed each model's own top-1 at mask 1 up (blue) or down (red): "
                       f"integrated gradients, {WHY_STEPS} steps, from the mask token at every word; shade within "
                       f"the model")
        row("why", (why_cell(c) for c in columns))
    ranks = surprise_ranks(view)
    spread = disagreement(ranks, len(view.words))
    units = sorted({c.surprise.unit for c in columns if c.surprise is not None})
    section("Words: each tokenizer's pieces" + (" and surprise" if ranks else ""),
            ("colour: how surprising the word is to that model, ranked within the model (" + ", ".join(units)
             + " shown); ⚡ marks the words where the models disagree most") if ranks else
            ("surprise is scored for text without masks" if view.n_masks else ""))
    row("start", (_specials(c.tokens.specials_before) if c.tokens else tag("td") for c in columns),
        class_="sbs-specials")
    top = set(np.argsort(-np.nan_to_num(spread, nan=-1))[:max(1, len(view.words) // 5)]) if ranks else set()
    for w, word in enumerate(view.words):
        flag = " ⚡" if w in top and not math.isnan(spread[w]) else ""
        row(word.text + flag, (word_cell(c, w, ranks[c.key][w] if c.key in ranks else None) for c in columns),
            head_class="sbs-wordhead")
    row("end", (_specials(c.tokens.specials_after) if c.tokens else tag("td") for c in columns), class_="sbs-specials")
    row("tokens in all", (tag("td", f"{c.tokens.n_tokens} · {c.tokens.tokenizer_kind}") if c.tokens else tag("td")
                          for c in columns))
    if any(c.surprise is None and not c.error and "surprise" in c.notes and not view.n_masks for c in columns):
        row("surprise", (tag("td", _note(c.notes["surprise"])) if c.surprise is None and "surprise" in c.notes else
                         tag("td", _short_method(c.surprise), class_="sbs-why", title=c.surprise.method)
                         if c.surprise else tag("td") for c in columns))
    section("Attention", "every layer and head of this input (the small multiples below show the last layer by words)")
    for label, attr, digits in ((tag("abbr", "mean entropy (nats)", title=ENTROPY), "entropy", 2),
                                ("share on special tokens (0 to 1)", "special", 2),
                                ("share on the previous token (0 to 1)", "previous", 2)):
        row(label, (tag("td", as_text(getattr(c.attention, attr), digits)) if c.attention else tag("td")
                    for c in columns))
    if view.pair.strip():
        section("Similarity", "cosine between the two texts' mean-pooled last-layer vectors (special tokens left out)")
        row("cosine (-1 to 1)", (tag("td", tag("b", as_text(c.similarity, 3))) if c.similarity is not None else
                                 tag("td", _note(c.notes.get("similarity", ""))) for c in columns))
        row(tag("abbr", "for an unrelated sentence", title=COSINE_REFERENCE),
            (tag("td", as_text(c.unrelated_similarity, 3) if c.unrelated_similarity is not None else "")
             for c in columns))
    return tag("div", tag("table", tag("thead", head), tag("tbody", *body), class_="sbs-grid"), class_="sbs-scroll")


def status_html(view: SideBySide | None, running: str = "") -> str:
    if view is None:
        return ""
    done = len(view.columns)
    total = done + len(view.pending)
    failed = [c.key or c.spec for c in view.columns if c.error]
    text = f"{done} of {total} models done, {done - len(failed)} answered" + (f" · running {running}…" if running
                                                                               else "")
    if failed:
        text += f" · could not run: {', '.join(failed)}"
    cut = [c.key for c in view.columns if "length" in c.notes]
    if cut:
        text += f" · text cut at the model's maximum length: {', '.join(cut)}"
    random = [c.key for c in view.columns if not c.error and not c.trained]
    if random:
        text += f" · RANDOM weights (not meaningful): {', '.join(random)}"
    return tag("div", text, class_=["weights-badge", "warn" if failed or random else "ok"], id="sbs-progress")


def attention_figure(view: SideBySide) -> go.Figure | None:
    """Small multiples: each model's last-layer attention (heads averaged) between the words, same axes and scale."""
    shown = [c for c in view.columns if c.attention is not None]
    if not shown:
        return None
    labels = [f"{w.index + 1}:{w.text}" for w in view.words]
    per_row = min(4, len(shown))
    rows = math.ceil(len(shown) / per_row)
    figure = make_subplots(rows=rows, cols=per_row, subplot_titles=[c.key for c in shown],
                           horizontal_spacing=0.06, vertical_spacing=0.2 / rows)
    for i, column in enumerate(shown):
        figure.add_trace(go.Heatmap(z=column.attention.words, x=labels, y=labels, zmin=0, zmax=1,
                                    colorscale="Blues", showscale=i == 0, colorbar=dict(title="share"),
                                    hovertemplate="%{y} → %{x}: %{z:.3f}<extra>" + column.key.replace("<", "&lt;")
                                    + "</extra>"), row=i // per_row + 1, col=i % per_row + 1)
    figure.update_yaxes(autorange="reversed", tickfont=dict(size=9))
    figure.update_xaxes(tickfont=dict(size=9), tickangle=-60)
    figure.update_layout(height=330 * rows + 60, margin=dict(l=40, r=20, t=50, b=40),
                         title=dict(text="Last layer, heads averaged: row word → column word (rows sum to 1 over "
                                         "the words)", font=dict(size=13)))
    return figure


def word_rows(view: SideBySide) -> tuple[list[str], list[list]]:
    """(headers, rows): per word, each model's pieces and surprise."""
    headers = ["#", "word"]
    for c in view.columns:
        if not c.error:
            headers += [f"{c.key} pieces"] + ([f"{c.key} surprise ({c.surprise.unit})"] if c.surprise else []) \
                + ([f"{c.key} why (integrated gradients of {c.why.target})"] if c.why else [])
    rows = []
    for w, word in enumerate(view.words):
        row = [w + 1, word.text]
        for c in view.columns:
            if not c.error:
                row.append(" ".join(p.text for p in c.tokens.pieces[w]))
                if c.surprise:
                    value = c.surprise.scores[w]
                    row.append(as_json(value, 4))
                if c.why:
                    row.append(as_json(c.why.word_scores["ig"][w], 4))
        rows.append(row)
    return headers, rows


def guess_rows(view: SideBySide) -> list[list]:
    rows = []
    for c in view.columns:
        for m, guess in enumerate(c.guesses or []):
            for rank, (word, prob) in enumerate(zip(guess.readable, guess.probs), start=1):
                rows.append([m + 1, c.key, c.guess_source, rank, word, round(float(prob), 5), c.guess_trained])
    return rows


def model_rows(view: SideBySide) -> list[list]:
    rows = []
    for c in view.columns:
        if c.error:
            rows.append([c.spec, *[""] * (len(MODEL_HEADERS) - 2), f"could not run: {c.error}"])
            continue
        a = c.attention
        rows.append([c.key, c.family, c.weights, c.n_parameters, c.device, c.dtype, round(c.forward_ms, 1),
                     c.tokens.n_tokens if c.tokens else "", *(round(v, 4) for v in (a.entropy, a.special, a.previous)),
                     "" if c.similarity is None else round(c.similarity, 4),
                     " · ".join(f"{k}: {v}" for k, v in c.notes.items())])
    return rows
