"""Side by side: one text, every chosen model answers it, each in its own way, aligned on the words of that text.

The words are the user's (one split for every model and view, `text.words`); each tokenizer's pieces are placed
under them by character offsets (`text.place`), so WordPiece, byte-level BPE and SentencePiece line up. Per model (a
`Column`):

- tokens:    the pieces of each word, where the special tokens stand, how many tokens in all;
- guesses:   top-k per mask from `fill_mask` (MLM head; ELECTRA's discriminator via its generator; XLNet via perm_mask +
             target_mapping), the same numbers as the Fill-mask section;
- surprise:  without a mask, how unexpected each word is: pseudo-log-likelihood for a masked LM (the word's pieces
             masked together, -sum log p of them, one batched forward), -log p under the left-to-right order for a
             permutation LM, P(replaced) on the original text for a replaced-token detector;
- attention: the last layer, heads averaged, mapped to words (rows: mean over a word's pieces; columns: sum), and the
             per-head statistics of the Attention section averaged over layers and heads;
- similarity: with a second text, the cosine of the two mean-pooled last-layer vectors (`embeddings`);
- why:       after the answer, integrated gradients of the model's own top-1 at the first mask onto the words
             (`attribution.explain_guess`, WHY_STEPS steps);
- cost:      parameters, and the forward time of this very request.

What a model cannot do is a note in its column, never an error for the view; a model that fails to load is a column
with an error and the others still run. Which path a model takes is read from the capabilities the registry declares
for its checkpoint, never from its family's name.

    >>> for partial in run(["mini-bert", "mini-roberta"], "The doctor told the [MASK] that she was late."):
    ...     pass                                                              # doctest: +SKIP
    >>> partial.columns[0].guesses[0].readable[:3]                            # e.g. ['patient', 'nurse', 'man']
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

from model_zoo import attention as attn
from model_zoo import attribution
from model_zoo import fill_mask as fm
from model_zoo import loading
from model_zoo.facts import max_tokens
from model_zoo import numbers
from model_zoo import text as text_layer
from model_zoo.registry import Capability, FAMILIES, find_checkpoint
from model_zoo.tokenization import MAX_INPUT_CHARS, InputError, TokenizedText, tokenize

MAX_MODELS = 10
MAX_TOKENS = 512              # per model: guesses and attention read the text up to the model's own maximum, at most
#                               this many tokens; a longer text is cut, with a note in the model's column
UNRELATED = "The train to the coast leaves at noon on Sundays."   # a cosine's reference: a sentence about nothing else
SURPRISE_WORDS = 64           # the pseudo-log-likelihood costs a masked copy per word: the first this many are scored
PLL_BATCH = 32                # masked copies per forward for the pseudo-log-likelihood
WHY_STEPS = 32                # integrated-gradient steps of the "why" row
C = Capability


# The words are text.words: the user-facing split every view shares (a placeholder or a token's name whole,
# punctuation at the ends of a run alone, one CJK character alone, an emoji with its modifiers).
split_words = text_layer.words


# ---------------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Alignment:
    """One tokenizer's pieces under the user's words (a piece covering several words sits under each)."""
    pieces: list[list[text_layer.Piece]]  # (W,) per word: its pieces as shown, in order ([] when it has none)
    positions: list[list[int]]       # (W,) per word: the token positions of those pieces
    specials_before: list[str]       # special tokens before the first word ([CLS], <s>)
    specials_after: list[str]        # special tokens after the last word ([SEP], </s>, <sep> <cls>)
    n_tokens: int                    # everything the model sees, special tokens included
    tokenizer_kind: str


@dataclass(frozen=True)
class Surprise:
    scores: np.ndarray               # (W,) float64 per word, NaN for a word not scored (no pieces, a mask)
    unit: str                        # "nats" (higher = more surprising) or "P(replaced)"
    method: str


@dataclass(frozen=True)
class AttentionSummary:
    words: np.ndarray                # (W, W) float32: last layer, heads averaged, mapped to words, rows sum to 1
    layer: int                       # the layer shown (the last)
    entropy: float                   # mean over layers and heads of attn.head_statistics (nats)
    special: float                   # mean share on special tokens
    previous: float                  # mean share on the previous token


@dataclass(frozen=True)
class Column:
    """What one model answers. `error` set: it could not run at all (the other columns are unaffected)."""
    spec: str
    key: str = ""
    family: str = ""                 # the family's display name
    weights: str = ""                # LoadReport.summary(): which weights answered
    origin: str = ""                 # the same in a few words: "mini, bundled", "pretrained", "RANDOM weights", ...
    trained: bool = False
    n_parameters: int = 0
    device: str = ""
    dtype: str = ""
    forward_ms: float = 0.0          # this request's forward passes for this model (loads excluded)
    tokens: Alignment | None = None
    guesses: list[fm.MaskGuess] | None = None
    guess_source: str = ""           # the checkpoint that guessed (ELECTRA: its generator)
    guess_method: str = ""
    guess_trained: bool = False      # False: random weights or a newly initialised head (never read as answers)
    surprise: Surprise | None = None
    attention: AttentionSummary | None = None
    similarity: float | None = None
    unrelated_similarity: float | None = None   # the same model's cosine for the text and UNRELATED: a reference
    why: attribution.Attribution | None = None   # its own top-1 at the first mask, attributed to the words
    notes: dict[str, str] = field(default_factory=dict)  # view -> why it is missing or how it was made
    error: str = ""


@dataclass(frozen=True)
class MaskAgreement:
    mask: int
    top1: dict[str, list[str]]       # top-1 guess (lower-cased) -> models that share it
    overlap: float | None            # mean pairwise Jaccard of the top-k sets (lower-cased), None with < 2 models
    models: list[str]                # the models counted (trained heads only)


@dataclass(frozen=True)
class SideBySide:
    text: str
    pair: str
    k: int
    words: list[text_layer.Word]
    columns: list[Column]            # in the order asked; a column not yet run is absent (streaming)
    pending: list[str]               # specs still to run
    agreement: list[MaskAgreement]

    @property
    def n_masks(self) -> int:
        return sum(w.is_mask for w in self.words)


# ---------------------------------------------------------------------------------------------------- alignment
def align(tokenizer, prepared: text_layer.Prepared, tokens: TokenizedText, words: list[text_layer.Word],
          kind: str) -> Alignment:
    """Every piece under each word its characters cover (text.place), in the user's text; special tokens before the
    first piece and after the last apart."""
    text = prepared.user_text
    mask_id = tokenizer.mask_token_id
    keep = [not tokens.special[i] or tokens.ids[i] == mask_id for i in range(len(tokens))]
    spans = [(text_layer.to_user(prepared, int(a)), text_layer.to_user(prepared, int(b), closing=True)) for a, b in tokens.offsets]
    positions = text_layer.place(spans, keep, text, words)
    first = next((i for i, k in enumerate(keep) if k), len(tokens))
    specials = [i for i, k in enumerate(keep) if not k]
    before = [tokens.readable[i] for i in specials if i < first]
    after = [tokens.readable[i] for i in specials if i > first]
    pieces = [text_layer.shown_pieces(p, tokens.readable, spans, text) for p in positions]
    return Alignment(pieces=pieces, positions=positions, specials_before=before, specials_after=after,
                     n_tokens=len(tokens), tokenizer_kind=kind)


# ---------------------------------------------------------------------------------------------------- surprise
def _word_sums(per_token: np.ndarray, alignment: Alignment, reduce=np.sum) -> np.ndarray:
    return np.asarray([float(reduce(per_token[p])) if p else math.nan for p in alignment.positions], dtype=np.float64)


def pseudo_log_likelihood(loaded, tokens: TokenizedText, alignment: Alignment) -> np.ndarray:
    """(W,) -sum log p(piece) for each of the first SURPRISE_WORDS words with all its pieces masked at once (every
    other word visible; NaN past them); one batch of masked copies per PLL_BATCH words."""
    import torch
    rows = [p for p in alignment.positions[:SURPRISE_WORDS] if p]
    mask_id = loaded.tokenizer.mask_token_id
    nll = np.zeros(len(tokens), dtype=np.float64)
    for start in range(0, len(rows), PLL_BATCH):
        chunk = rows[start:start + PLL_BATCH]
        ids = torch.as_tensor(np.repeat(tokens.ids[None], len(chunk), axis=0), device=loaded.device)  # (B, T)
        for b, positions in enumerate(chunk):
            ids[b, positions] = mask_id
        with torch.inference_mode():
            output = loaded.model(input_ids=ids, attention_mask=torch.ones_like(ids))
            logits = text_layer.head_logits(output)                                             # (B, T, V)
            logprobs = logits.float().log_softmax(-1)                                           # (B, T, V)
        for b, positions in enumerate(chunk):
            nll[positions] = -logprobs[b, positions, tokens.ids[positions]].cpu().numpy()
    scores = _word_sums(nll, alignment)
    scores[SURPRISE_WORDS:] = math.nan
    return scores


def _surprise(column_loaded, guess_loaded, text: str, tokens: TokenizedText, alignment: Alignment
              ) -> tuple[Surprise | None, str]:
    """How unexpected each word is, by what the checkpoint declares it can do; (None, why) when it cannot."""
    caps = column_loaded.checkpoint.capabilities
    if C.REPLACED_TOKEN_DETECTION in caps and column_loaded.report.head_is_trained(C.REPLACED_TOKEN_DETECTION):
        from model_zoo import electra
        probs = electra.discriminate(column_loaded, tokens.ids)                              # (T,)
        return Surprise(_word_sums(probs.astype(np.float64), alignment, np.max), "P(replaced)",
                        "the discriminator's P(replaced) on the original text (a word: its most suspicious piece)"
                        ), ""
    if C.PERMUTATION_LM in caps and column_loaded.report.head_is_trained(C.PERMUTATION_LM):
        from model_zoo import permutation
        order_tokens, types = permutation.sentence(column_loaded, text, cap=len(tokens))
        if not np.array_equal(order_tokens.ids, tokens.ids):
            raise RuntimeError("tokenization mismatch between the alignment and the order view")
        n = int((~order_tokens.special).sum())
        scored = permutation.score_order(column_loaded, order_tokens, types,
                                         permutation.make_order("left-to-right", n), "left-to-right")
        nll = np.zeros(len(tokens), dtype=np.float64)
        nll[np.flatnonzero(~order_tokens.special)] = -scored.logprobs                        # in left-to-right order
        return Surprise(_word_sums(nll, alignment), "nats",
                        "-log p of the word's pieces under the left-to-right order (XLNet's query stream)"), ""
    if guess_loaded is not None and guess_loaded is column_loaded and fm.head_trained(guess_loaded):
        return Surprise(pseudo_log_likelihood(column_loaded, tokens, alignment), "nats",
                        "pseudo-log-likelihood: the word's pieces masked together, -sum of their log p"), ""
    return None, "no head that scores words here (no masked-LM, permutation-LM or detector head with trained weights)"


# ---------------------------------------------------------------------------------------------------- attention
def summarise_attention(result: attn.AttentionResult, alignment: Alignment) -> AttentionSummary:
    """Last layer, heads averaged, mapped to words; statistics as the Attention section computes them."""
    last = result.attention[-1].astype(np.float64).mean(0)                     # (T, T)
    W = len(alignment.positions)
    words = np.zeros((W, W), dtype=np.float64)                                   # (W, W)
    for i, rows in enumerate(alignment.positions):
        if not rows:
            continue
        for j, cols in enumerate(alignment.positions):
            if cols:
                words[i, j] = last[np.ix_(rows, cols)].sum(-1).mean()            # mean over i's pieces of mass on j
    totals = words.sum(-1, keepdims=True)
    words = np.divide(words, totals, out=np.zeros_like(words), where=totals > 0)
    stats = attn.head_statistics(result.attention, result.tokens.special)
    return AttentionSummary(words=words.astype(np.float32), layer=result.n_layers - 1,
                            entropy=float(np.nanmean(stats["entropy"])), special=float(np.nanmean(stats["special"])),
                            previous=float(np.nanmean(stats["previous"])))


def _attention_from(loaded, tokens: TokenizedText, output) -> attn.AttentionResult:
    """An AttentionResult from a forward already run with output_attentions (what attn.compute returns for it)."""
    import torch
    layers = output.attentions
    if not layers or isinstance(layers[0], (tuple, list)):
        raise RuntimeError("expected plain per-layer attention")
    weights = torch.stack([a[0] for a in layers]).float().cpu().numpy()         # (layers, heads, T, T)
    return attn.AttentionResult(tokens=tokens, attention=weights.astype(np.float32), query_attention=None,
                                query_positions=None, truncated=tokens.truncated, cap=MAX_TOKENS,
                                model_key=loaded.checkpoint.key)


# ---------------------------------------------------------------------------------------------------- one model
def _guessing_model(column_loaded) -> tuple[loading.LoadedModel | None, str]:
    """The model that guesses for this column, or (None, why not). A checkpoint without a trained mask head is not
    given a random one: a random head's guesses would mean nothing."""
    checkpoint = column_loaded.checkpoint
    capability = fm.guess_capability(checkpoint.family)
    if capability in checkpoint.capabilities:
        return column_loaded, ""
    target = fm.fill_mask_checkpoint(checkpoint)
    if target.key != checkpoint.key:  # another checkpoint guesses for it (ELECTRA's generator)
        return loading.load(target), (f"{checkpoint.key} has no masked-LM head; its guesses come from "
                                      f"{target.key}")
    return None, f"{checkpoint.key} has no masked-LM head (its class is {checkpoint.model_class}): it cannot guess"


def _cut(loaded, prepared: text_layer.Prepared, tokens: TokenizedText) -> tuple[str, str]:
    """(the user's text up to where this model's tokens end, a note) when the text is longer than the model reads,
    else (the text, "")."""
    if not tokens.truncated:
        return prepared.user_text, ""
    full = len(loaded.tokenizer(prepared.text)["input_ids"])
    end = text_layer.to_user(prepared, int(tokens.offsets[~tokens.special][-1][1]), closing=True)
    return (prepared.user_text[:end],
            f"The text is {full} tokens long for this tokenizer and this model reads at most {len(tokens)}: it read "
            f"the text up to “…{prepared.user_text[max(0, end - 30):end]}”; the words after show no pieces.")


def compare_one(spec: str, text: str, pair: str, k: int, words: list[text_layer.Word]) -> Column:
    """Everything one model answers for the text; never raises for the model's own failures (they become the column's
    error or notes)."""
    try:
        loaded = loading.load(spec)
    except (loading.ModelError, InputError, ValueError, OSError) as error:
        return Column(spec=spec, error=str(error))
    checkpoint, report = loaded.checkpoint, loaded.report
    notes: dict[str, str] = {}
    has_masks = any(w.is_mask for w in words)
    origin = ("RANDOM weights" if not report.trained else "mini, bundled: rough" if checkpoint.bundled else
              "real pretrained weights" if checkpoint.source_package else "pretrained")
    base = dict(spec=spec, key=checkpoint.key, family=loaded.family.name, weights=report.summary(), origin=origin,
                trained=report.trained, n_parameters=report.n_parameters, device=report.device, dtype=report.dtype)
    if has_masks and loaded.tokenizer.mask_token is None:
        return Column(**base, error="its tokenizer has no mask token, so the text's masks cannot be given to it")
    try:
        prepared = text_layer.substitute(loaded.tokenizer, text)
        tokens = tokenize(loaded.tokenizer, prepared.text, max_length=min(MAX_TOKENS, max_tokens(loaded.config)))
    except InputError as error:
        return Column(**base, error=str(error))
    read, cut_note = _cut(loaded, prepared, tokens)
    if cut_note:
        notes["length"] = cut_note
    alignment = align(loaded.tokenizer, prepared, tokens, words, loaded.family.tokenizer_kind.value)
    guesses, guess_source, guess_method, guess_trained, attention_result, surprise = None, "", "", False, None, None
    try:
        guess_loaded, why = _guessing_model(loaded)
    except loading.ModelError as error:
        guess_loaded, why = None, f"its guessing model could not be loaded: {error}"
    if why:
        notes["guesses"] = why
    started = time.perf_counter()
    if has_masks and guess_loaded is not None:
        try:
            if not any(w.is_mask for w in split_words(read)):
                raise InputError("every mask lies past the part of the text this model reads")
            guesses, attention_result = _guess(guess_loaded, loaded, tokens, read, k)
            guess_source, guess_trained = guess_loaded.checkpoint.key, fm.head_trained(guess_loaded)
            guess_method = ("query stream (perm_mask + target_mapping)" if fm.guess_capability(
                guess_loaded.checkpoint.family) is C.PERMUTATION_LM else "masked LM")
            if not guess_trained:
                notes["guesses"] = (f"{guess_source}'s guessing head is not trained (random weights or a newly "
                                    f"initialised head): its guesses are not shown as answers")
        except InputError as error:
            notes["guesses"] = str(error)
    if not has_masks:
        try:
            surprise, why = _surprise(loaded, guess_loaded, prepared.text, tokens, alignment)
            if why:
                notes["surprise"] = why
            elif surprise is not None and surprise.method.startswith("pseudo") and len(words) > SURPRISE_WORDS:
                notes["surprise"] = (f"scored for the first {SURPRISE_WORDS} words (a masked copy of the text per "
                                     f"word); the rest are left blank")
        except InputError as error:
            notes["surprise"] = str(error)
    elif guesses is not None or "guesses" not in notes:
        notes.setdefault("surprise", "scored only for text without masks")
    if attention_result is None:
        attention_result = attn.compute(loaded, prepared.text, None, cap=len(tokens))
    attention = summarise_attention(attention_result, alignment)
    similarity = unrelated = None
    if pair.strip():
        from model_zoo import embeddings
        try:
            vectors = embeddings.sentence_vectors(loaded, [prepared.text, text_layer.native(loaded.tokenizer, pair),
                                                           UNRELATED]).astype(np.float64)       # (3, H)
            unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            similarity, unrelated = float(unit[0] @ unit[1]), float(unit[0] @ unit[2])
        except InputError as error:
            notes["similarity"] = str(error)
    elapsed = time.perf_counter() - started
    return Column(**base, forward_ms=elapsed * 1000, tokens=alignment, guesses=guesses, guess_source=guess_source,
                  guess_method=guess_method, guess_trained=guess_trained, surprise=surprise, attention=attention,
                  similarity=similarity, unrelated_similarity=unrelated, notes=notes)


def explain(column: Column, text: str, steps: int = WHY_STEPS) -> Column:
    """The column with its "why": integrated gradients of its own top-1 at the first mask, computed by the model that
    guessed; or a note saying why there is none. A text without a mask, or a column that failed, is returned as is."""
    if column.error or not any(w.is_mask for w in split_words(text)):
        return column
    if not column.guesses:
        return replace(column, notes={**column.notes, "why": column.notes.get("guesses", "no guess to explain")})
    try:
        found = attribution.explain_guess(loading.load(column.guess_source), text, 0, int(column.guesses[0].ids[0]),
                                          steps)
    except (InputError, loading.ModelError) as error:
        return replace(column, notes={**column.notes, "why": str(error)})
    return replace(column, why=found)


def _guess(guess_loaded, column_loaded, tokens: TokenizedText, text: str, k: int):
    """(guesses, attention or None) for the user's `text`: one forward serves both when the guessing model is the
    column's own and its guess needs no extra inputs (XLNet's needs perm_mask, ELECTRA's comes from another model)."""
    import torch
    _, guess_tokens, positions = fm.prepare(guess_loaded.tokenizer, guess_loaded.config, text)
    inputs = fm.model_inputs(guess_loaded, guess_tokens.ids, positions)
    shared = guess_loaded is column_loaded and set(inputs) == {"input_ids", "attention_mask"} \
        and np.array_equal(guess_tokens.ids, tokens.ids)
    with torch.inference_mode():
        output = guess_loaded.model(**inputs, output_attentions=shared)
        probs = fm.mask_logits(guess_loaded, output, positions).float().softmax(dim=-1)  # (M, V)
    guesses = fm.top_guesses(guess_loaded.tokenizer, probs, positions, max(1, int(k)))
    return guesses, (_attention_from(column_loaded, tokens, output) if shared else None)


# ---------------------------------------------------------------------------------------------------- the view
def agreement(columns: list[Column], n_masks: int) -> list[MaskAgreement]:
    """Per mask: which models share the top-1 guess, and how much their top-k sets overlap (trained heads only)."""
    found = []
    voters = [c for c in columns if c.guesses is not None and c.guess_trained]
    for m in range(n_masks):
        top1: dict[str, list[str]] = {}
        sets = []
        answering = [c for c in voters if m < len(c.guesses)]   # a mask past the part a model reads: no vote
        for column in answering:
            guess = column.guesses[m]
            top1.setdefault(guess.readable[0].lower(), []).append(column.key)
            sets.append({r.lower() for r in guess.readable})
        pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1:]]
        overlap = float(np.mean([len(a & b) / len(a | b) for a, b in pairs])) if pairs else None
        found.append(MaskAgreement(mask=m, top1=dict(sorted(top1.items(), key=lambda kv: -len(kv[1]))),
                                   overlap=overlap, models=[c.key for c in answering]))
    return found


def default_specs(models_mode: str = "auto") -> list[str]:
    """Each family's opening checkpoint (the Hub one when it can be had, else the bundled mini one), and the real
    offline weights when the Hub ones cannot be had."""
    specs = [loading.model_choices(family, models_mode)[1].key for family in FAMILIES]
    if any(find_checkpoint(s).bundled for s in specs):
        specs += [c.key for family in FAMILIES for c in loading.model_choices(family, "hub")[0]
                  if c.source_package and loading.is_available(c)]
    return specs


def check_input(specs: list[str], text: str, pair: str = "") -> tuple[list[str], list[text_layer.Word]]:
    """Validate what applies to every model: the text, the number of masks, the list of models."""
    text, pair = text or "", pair or ""
    if not text.strip():
        raise InputError("The text is empty: type a sentence (with [MASK], <mask> or ___ to see guesses).")
    if len(text) + len(pair) > MAX_INPUT_CHARS:
        raise InputError(f"The text has {len(text) + len(pair):,} characters; the limit is {MAX_INPUT_CHARS:,}.")
    words = split_words(text)
    masks = sum(w.is_mask for w in words)
    if masks > fm.MAX_MASKS:
        raise InputError(f"The text has {masks} masks; at most {fm.MAX_MASKS} are allowed at once.")
    specs = list(dict.fromkeys(s.strip() for s in specs if s and s.strip()))
    if not specs:
        raise InputError("Choose at least one model.")
    if len(specs) > MAX_MODELS:
        raise InputError(f"{len(specs)} models chosen; at most {MAX_MODELS} run side by side.")
    return specs, words


def run(specs: list[str], text: str, pair: str = "", k: int = 5, on_model=None, why_steps: int = 0
        ) -> Iterator[SideBySide]:
    """Run every model on the text, yielding the view after each one (the last yield is complete).
    on_model(index, spec) is called before each model starts (for progress); why_steps > 0 adds each column's "why"
    (`explain`) at that many steps."""
    specs, words = check_input(specs, text, pair)
    k = min(max(1, int(k)), 20)
    columns: list[Column] = []
    for index, spec in enumerate(specs):
        if on_model is not None:
            on_model(index, spec)
        column = compare_one(spec, text, pair or "", k, words)
        columns.append(explain(column, text, why_steps) if why_steps > 0 else column)
        yield SideBySide(text=text, pair=pair or "", k=k, words=words, columns=list(columns),
                         pending=specs[index + 1:], agreement=agreement(columns, sum(w.is_mask for w in words)))


def side_by_side(specs: list[str], text: str, pair: str = "", k: int = 5, why_steps: int = 0) -> SideBySide:
    """The whole view at once."""
    result = None
    for result in run(specs, text, pair, k, why_steps=why_steps):
        pass
    return result


def as_json(view: SideBySide) -> dict:
    """Plain JSON of the view, per model (for API users): tokens, guesses, surprise, attention summary, timings."""
    def column(c: Column) -> dict:
        if c.error:
            return {"spec": c.spec, "model": c.key, "error": c.error}
        return {
            "spec": c.spec, "model": c.key, "family": c.family, "weights": c.weights, "origin": c.origin,
            "trained": c.trained,
            "parameters": c.n_parameters, "device": c.device, "dtype": c.dtype, "forward_ms": round(c.forward_ms, 2),
            "tokens": {"pieces": [[p.text for p in cell] for cell in c.tokens.pieces], "special_before": c.tokens.specials_before,
                       "special_after": c.tokens.specials_after, "count": c.tokens.n_tokens,
                       "tokenizer": c.tokens.tokenizer_kind},
            "guesses": None if c.guesses is None else {
                "source": c.guess_source, "method": c.guess_method, "head_trained": c.guess_trained,
                "masks": [{"guesses": g.readable, "probabilities": [numbers.as_json(p) for p in g.probs]}
                          for g in c.guesses]},
            "surprise": None if c.surprise is None else {
                "unit": c.surprise.unit, "method": c.surprise.method,
                "per_word": [numbers.as_json(v) for v in c.surprise.scores]},
            "attention": None if c.attention is None else {
                "layer": c.attention.layer, "words": np.round(c.attention.words, 4).tolist(),
                "mean_entropy": numbers.as_json(c.attention.entropy),
                "special_share": numbers.as_json(c.attention.special),
                "previous_share": numbers.as_json(c.attention.previous)},
            "why": None if c.why is None else {
                "method": f"integrated gradients, {c.why.steps} steps", "target": c.why.target,
                "per_word": [numbers.as_json(v) for v in c.why.word_scores["ig"]],
                "completeness_gap": numbers.as_json(c.why.gap), "weights": c.why.weights},
            "similarity": numbers.as_json(c.similarity), "notes": c.notes}
    return {"text": view.text, "pair": view.pair, "k": view.k, "words": [w.text for w in view.words],
            "models": [column(c) for c in view.columns],
            "agreement": [{"mask": a.mask + 1, "top1": a.top1, "topk_overlap": numbers.as_json(a.overlap),
                           "models": a.models} for a in view.agreement]}
