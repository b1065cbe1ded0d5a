"""Why did it guess that? Word attributions of one score f of a model, for every family: a mask guess's log P, ELECTRA's
P(replaced) at a word, a cosine similarity to a second text.

Three methods side by side, so the user sees where attention and attribution disagree:

- integrated gradients along the straight line from a baseline to the input in the space of the word embeddings,
  with Captum's default rule (Gauss-Legendre points; the tests check the two agree to 1e-5); the baseline is the input
  with the mask token's id at every position but the special tokens, so position and segment embeddings (added after
  the word embeddings) cancel. Completeness: the attributions sum to f(input) - f(baseline) up to the integral's
  error, reported as the gap;
- gradient x input: one backward at the input, (df/de) . e summed over the embedding axis;
- attention rollout (`attention.rollout`) of the scored row: where the attention flow of that token comes from.

The integral runs on `inputs_embeds` (the model's own forward, fed the word-embedding activations), which is the
integral Captum's LayerIntegratedGradients takes on the word-embedding layer, without the forward hooks that layer
method puts on the module: a cached model is shared by every user, and a hook on it would reach their passes too.
It is written here rather than called from Captum because one batch of rows (the input, the baseline, the points)
then gives everything in one forward and one backward: the integral, gradient x input, f at both ends, the scores at
the input and its attention; Captum's IntegratedGradients returns the integral alone. Gradients are taken with
torch.autograd.grad w.r.t. those activations only: no parameter, .grad or requires_grad flag of the cached model is
touched.

    >>> found = explain_guess(load("mini-bert"), "She opened the [MASK] and walked in.")   # doctest: +SKIP
    >>> found.target, dict(zip(found.words, found.word_scores["ig"].round(2)))          # 'log P(door) at mask 1', ...
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model_zoo import fill_mask as fm
from model_zoo import text as text_layer
from model_zoo.attention import rollout
from model_zoo.facts import max_tokens
from model_zoo.loading import LoadedModel, ModelError
from model_zoo.logit_lens import mlm_head
from model_zoo.registry import Capability
from model_zoo.tokenization import InputError, TokenizedText, tokenize

METHODS = {"ig": "integrated gradients", "gxi": "gradient × input", "rollout": "attention rollout"}
GAP_HINT = 0.05          # a relative completeness gap above this: the view suggests more steps
MAX_STEPS = 512
BATCH_TOKENS = 4096      # Captum's internal batch: interpolation steps per forward x tokens stays near this on CPU
ALTERNATIVES = 10        # the top guesses offered as other candidates


@dataclass(frozen=True)
class Attribution:
    """Scores of every method per token and per word of the user's text. A piece under several words (text.place:
    WordPiece's one [UNK] for a run of CJK characters) gives each of them an equal share of its score, so the word
    scores of a method sum to its token scores; a word the model did not read (past a cut) is NaN."""
    kind: str                               # "guess" | "replaced" | "similarity"
    words: list[str]                        # (W,) the user's words (text.words)
    word_scores: dict[str, np.ndarray]      # METHODS key -> (W,) float64
    tokens: list[str]                       # (T,) readable pieces the model read
    token_scores: dict[str, np.ndarray]     # METHODS key -> (T,) float64
    target: str                             # what f is, readable: "log P(door) at mask 1"
    probability: float                      # P(candidate) at the mask / P(replaced) at the word / the cosine itself
    f_input: float                          # f(input)
    f_baseline: float                       # f(baseline)
    gap: float                              # sum of IG attributions - (f_input - f_baseline)
    relative_gap: float                     # |gap| / |f_input - f_baseline| (0 / 0 = 0: the input is the baseline)
    steps: int
    baseline: str                           # the baseline in words
    model: str                              # the checkpoint that answered
    weights: str                            # loaded.report.weights
    trained: bool                           # loaded.report.trained
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # guess: top guesses (readable, P)
    notes: list[str] = field(default_factory=list)

    @property
    def hint(self) -> str:
        if self.relative_gap <= GAP_HINT:
            return ""
        return (f"The attributions miss f(input) - f(baseline) by {100 * min(self.relative_gap, 9.99):.0f}%: add "
                f"steps (now {self.steps}) for a closer integral.")


# ---------------------------------------------------------------------------------------------------- inputs
def _tokens(loaded: LoadedModel, text: str) -> tuple[TokenizedText, list[str]]:
    """The text as the model reads it (native masks, cut at the model's maximum) and the notes that go with it."""
    limit = max_tokens(loaded.config)
    tokens = tokenize(loaded.tokenizer, text, max_length=limit)
    notes = []
    if tokens.truncated:
        end = int(tokens.offsets[~tokens.special][-1][1]) if (~tokens.special).any() else 0
        notes.append(f"The text is longer than this model reads ({limit} tokens): only the text up to "
                     f"“…{text[max(0, end - 30):end]}” is explained; the words after it have no score.")
    return tokens, notes


def _baseline_ids(loaded: LoadedModel, tokens: TokenizedText) -> tuple[np.ndarray, str]:
    """(T,) the baseline's ids and what it is, in words."""
    tok = loaded.tokenizer
    filler, name = (tok.mask_token_id, tok.mask_token) if tok.mask_token_id is not None else (tok.pad_token_id,
                                                                                             tok.pad_token)
    ids = np.where(tokens.special, tokens.ids, filler)
    return ids, (f"every token but the special ones replaced by {name} (its word embedding; position and segment "
                 f"embeddings are the input's)")


def word_scores(token_scores: np.ndarray, tokens: TokenizedText, text: str, mask_id) -> np.ndarray:
    """(W,) per word of `text`: the sum of its pieces' scores, a piece under k words giving each 1/k (NaN: no piece)."""
    found = text_layer.words(text)
    keep = [not tokens.special[i] or tokens.ids[i] == mask_id for i in range(len(tokens))]
    under = text_layer.place([tuple(o) for o in tokens.offsets], keep, text, found)
    shares = np.zeros(len(tokens))
    for positions in under:
        shares[positions] += 1
    return np.asarray([sum(token_scores[p] / shares[p] for p in positions) if positions else np.nan
                       for positions in under], dtype=np.float64)


def clip_steps(steps) -> int:
    return int(np.clip(int(steps), 2, MAX_STEPS))


# ---------------------------------------------------------------------------------------------------- the integral
@dataclass(frozen=True)
class Integral:
    """Everything one batched pass gives: IG and gradient x input per token, f at both ends, the model's output at the
    input (all the scores f was chosen from, and its attention)."""
    ig: np.ndarray              # (T,)
    gxi: np.ndarray             # (T,)
    f_input: float
    f_baseline: float
    scores: np.ndarray          # (K,) every score at the input; f is scores[chosen]
    chosen: int
    attention: np.ndarray       # (layers, heads, T, T) at the input


def gauss_legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """((steps,) points in (0, 1), (steps,) weights summing to 1): Captum's default rule for the integral."""
    points, weights = np.polynomial.legendre.leggauss(steps)
    return (points + 1) / 2, weights / 2


def integrate(loaded: LoadedModel, ids: np.ndarray, baseline: np.ndarray, forward, steps: int, choose=None) -> Integral:
    """Integrated gradients (Gauss-Legendre, as Captum's IntegratedGradients computes them; tests compare the two) and
    gradient x input of f = forward(e)[0][:, chosen], in one forward and one backward per chunk of rows: the input,
    the baseline, then the points along the line. forward(e (B, T, E), attentions: bool) -> ((B, K) scores, the
    model's output); choose((K,) scores at the input) -> the column f is (default 0), picked before any backward.
    Rows are independent (eval mode), so the gradient of the summed f gives each row its own gradient."""
    import torch
    steps = clip_steps(steps)
    embed = loaded.model.get_input_embeddings()
    with torch.no_grad():
        x = embed(torch.as_tensor(ids, device=loaded.device)[None])[0]           # (T, E)
        b = embed(torch.as_tensor(baseline, device=loaded.device)[None])[0]      # (T, E)
    points, weights = gauss_legendre(steps)
    alphas = torch.as_tensor(np.concatenate([[1.0, 0.0], points]), dtype=x.dtype, device=x.device)   # (2 + S,)
    rows = len(alphas)
    per_chunk = max(2, BATCH_TOKENS // len(ids))
    summed = torch.zeros_like(x)                                                 # (T, E) sum_k w_k df/de at point k
    chosen = scores = attention = None
    for start in range(0, rows, per_chunk):
        alpha = alphas[start:start + per_chunk, None, None]                      # (B, 1, 1)
        e = (b + alpha * (x - b)).requires_grad_(True)                           # (B, T, E): a leaf of this request
        with torch.enable_grad():
            values, output = forward(e, start == 0)                              # (B, K)
            if start == 0:
                scores = values[0].detach().double().cpu().numpy()
                chosen = int(choose(scores)) if choose else 0
                attention = _attention(output)
                f_input, f_baseline = (float(v) for v in values[:2, chosen].detach())
            (grad,) = torch.autograd.grad(values[:, chosen].sum(), e)            # (B, T, E)
        if start == 0:
            gxi = (grad[0] * x).sum(-1)                                          # (T,)
        w = torch.as_tensor(weights, dtype=x.dtype, device=x.device)[max(0, start - 2):start + len(alpha) - 2]
        summed += (w[:, None, None] * grad[max(0, 2 - start):]).sum(0)
    as_np = lambda t: t.detach().double().cpu().numpy()  # noqa: E731
    return Integral(ig=as_np(((x - b) * summed).sum(-1)), gxi=as_np(gxi), f_input=f_input, f_baseline=f_baseline,
                    scores=scores, chosen=chosen, attention=attention)


def _result(kind, loaded, text, tokens, found, target, probability, steps, baseline, rollout_row, notes,
            alternatives=()) -> Attribution:
    ig, gxi, f_x, f_b = found.ig, found.gxi, found.f_input, found.f_baseline
    mask_id = loaded.tokenizer.mask_token_id
    per_token = {"ig": ig, "gxi": gxi, "rollout": rollout_row.astype(np.float64)}
    gap = float(ig.sum() - (f_x - f_b))
    diff = abs(f_x - f_b)
    if not loaded.report.trained:
        notes = ["RANDOM weights: these attributions show the mechanics, not a model's reasons.", *notes]
    return Attribution(kind=kind, words=[w.text for w in text_layer.words(text)],
                       word_scores={k: word_scores(v, tokens, text, mask_id) for k, v in per_token.items()},
                       tokens=list(tokens.readable), token_scores=per_token, target=target,
                       probability=float(probability), f_input=f_x, f_baseline=f_b, gap=gap,
                       relative_gap=abs(gap) / diff if diff > 0 else 0.0 if gap == 0 else float("inf"),
                       steps=clip_steps(steps),
                       baseline=baseline, model=loaded.checkpoint.key, weights=loaded.report.weights,
                       trained=loaded.report.trained, alternatives=list(alternatives), notes=list(notes))


def _attention(output) -> np.ndarray:
    """(layers, heads, T, T) from a forward with output_attentions (XLNet with a target mapping: its content stream)."""
    import torch
    layers = [a[0] if isinstance(a, (tuple, list)) else a for a in output.attentions]
    return torch.stack([a[0] for a in layers]).detach().float().cpu().numpy()


# ---------------------------------------------------------------------------------------------------- a guess
def check_guesser(loaded: LoadedModel) -> None:
    """ModelError with the reason, and what to explain instead, when this checkpoint cannot guess a hidden token."""
    reason = fm.why_it_cannot_guess(loaded.checkpoint)
    if reason:
        instead = "P(replaced) at a word" if Capability.REPLACED_TOKEN_DETECTION in loaded.checkpoint.capabilities \
            else "its similarity to a second sentence"
        raise ModelError(f"{reason} Explain {instead} instead.")


def explain_guess(loaded: LoadedModel, text: str, mask: int = 0, candidate=None, steps: int = 64) -> Attribution:
    """Attributions of f = log P(candidate) at the mask-th mask of `text` (candidate None: the top-1 guess)."""
    check_guesser(loaded)
    tok = loaded.tokenizer
    count = len(text_layer.substitute(tok, text or "").placeholders)
    if count == 0:                       # fm.prepare's checks and messages, on the whole text
        fm.prepare(tok, loaded.config, text)
    tokens, notes = _tokens(loaded, text)
    positions = np.flatnonzero(tokens.ids == tok.mask_token_id)              # (M,)
    if not 0 <= mask < count:
        raise InputError(f"There is no mask {mask + 1}: the text has {count}.")
    if mask >= len(positions):
        raise InputError(f"Mask {mask + 1} lies past the part of the text this model reads.")
    inputs = fm.model_inputs(loaded, tokens.ids, positions)
    row = mask if loaded.family.two_streams else int(positions[mask])       # XLNet's logits are per target
    chosen = candidate is not None and str(candidate).strip() != ""
    wanted = fm.candidate_id(tok, candidate) if chosen else None
    extra = {k: v for k, v in inputs.items() if k != "input_ids"}
    head = mlm_head(loaded.model)  # the head on the mask's row alone: not V logits at every position of every step

    def forward(e, attentions):  # (B, T, E) -> ((B, V) log P at the mask, output)
        output = loaded.model.base_model(inputs_embeds=e, **fm.batched(extra, e.shape[0]),
                                         output_attentions=attentions)
        return head(output.last_hidden_state[:, row]).float().log_softmax(-1), output
    baseline, described = _baseline_ids(loaded, tokens)
    found = integrate(loaded, tokens.ids, baseline, forward, steps,
                      choose=lambda scores: int(np.argmax(scores)) if wanted is None else wanted)
    probs = np.exp(found.scores)                                              # (V,)
    top = np.argsort(-probs, kind="stable")[:ALTERNATIVES]
    alternatives = [(fm.guess_text(tok, t or f"<id {i}>"), float(probs[i]))
                    for t, i in zip(tok.convert_ids_to_tokens(top.tolist()), top.tolist())]
    target = found.chosen
    readable = fm.guess_text(tok, tok.convert_ids_to_tokens(target) or f"<id {target}>")
    if loaded.family.two_streams:
        notes.append("XLNet: every mask is a target of the query stream (perm_mask hides the targets from every "
                     "position); rollout follows the content stream under the same perm_mask.")
    if not fm.head_trained(loaded) and loaded.report.trained:
        notes.append("This checkpoint's mask-guessing head is newly initialised (random): the guess means nothing.")
    return _result("guess", loaded, text, tokens, found, f"log P({readable}) at mask {mask + 1}",
                   probs[target], steps, described, rollout(found.attention)[int(positions[mask])], notes,
                   alternatives)


# ---------------------------------------------------------------------------------------------------- ELECTRA
def explain_replaced(loaded: LoadedModel, text: str, word: int, steps: int = 64) -> Attribution:
    """Attributions of the discriminator's logit of 'replaced' (log-odds; P = sigmoid) at word `word` of text.words:
    at the word's most suspicious piece when it has several."""
    import torch
    from model_zoo.electra import check_discriminator
    check_discriminator(loaded)
    tokens, notes = _tokens(loaded, text)
    found_words = text_layer.words(text)
    if not 0 <= int(word) < len(found_words):
        raise InputError(f"There is no word {int(word) + 1}: the text has {len(found_words)} words.")
    keep = list(~tokens.special)
    pieces = text_layer.place([tuple(o) for o in tokens.offsets], keep, text, found_words)[int(word)]
    if not pieces:
        raise InputError(f"“{found_words[int(word)].text}” has no piece in what this model reads.")
    mask = torch.ones((1, len(tokens)), dtype=torch.long, device=loaded.device)

    def forward(e, attentions):  # (B, T, E) -> ((B, T) the logit of 'replaced' at every piece, output)
        output = loaded.model(inputs_embeds=e, attention_mask=mask.expand(e.shape[0], -1),
                              output_attentions=attentions)
        return output.logits.float(), output
    baseline, described = _baseline_ids(loaded, tokens)
    found = integrate(loaded, tokens.ids, baseline, forward, steps,   # at the word's most suspicious piece
                      choose=lambda logits: max(pieces, key=lambda p: logits[p]))
    position = found.chosen
    p_replaced = 1 / (1 + np.exp(-found.scores))                                # (T,)
    if len(pieces) > 1:
        notes.append(f"“{found_words[int(word)].text}” has {len(pieces)} pieces: explained at its most suspicious "
                     f"one, “{tokens.readable[position]}”.")
    target = f"logit of 'replaced' at “{found_words[int(word)].text}”"
    return _result("replaced", loaded, text, tokens, found, target, p_replaced[position], steps, described,
                   rollout(found.attention)[position], notes)


# ---------------------------------------------------------------------------------------------------- similarity
def explain_similarity(loaded: LoadedModel, text: str, other: str, steps: int = 64, pooling: str = "mean"
                       ) -> Attribution:
    """Attributions of cosine(pool(text), pool(other)) onto text's words, `other` held fixed; last layer, pooled as
    model_zoo.embeddings pools (mean: the words' tokens, special tokens left out)."""
    import torch
    from model_zoo import embeddings
    pooling = text_layer.pooling_key(pooling)
    if not (other or "").strip():
        raise InputError("Type a second sentence to compare the text with.")
    tokens, notes = _tokens(loaded, text)
    fixed = torch.as_tensor(embeddings.sentence_vectors(loaded, [text_layer.native(loaded.tokenizer, other)],
                                                        pooling=pooling)[0], device=loaded.device)  # (H,)
    if tokens.special.all():
        raise InputError("The text has no tokens besides the special ones: there are no words to score.")
    if pooling == "mean":
        rows = np.flatnonzero(~tokens.special)
    elif pooling == "first":
        rows = np.asarray([0])
    else:
        rows = np.flatnonzero(tokens.ids == loaded.tokenizer.cls_token_id)[:1]
        if not len(rows):
            raise InputError("This tokenizer has no classification token: use mean or first pooling.")
    index = torch.as_tensor(rows, device=loaded.device)
    mask = torch.ones((1, len(tokens)), dtype=torch.long, device=loaded.device)

    def forward(e, attentions):  # (B, T, E) -> ((B, 1) the cosine of the pooled last layer with the other's, output)
        output = loaded.model.base_model(inputs_embeds=e, attention_mask=mask.expand(e.shape[0], -1),
                                         output_attentions=attentions)
        pooled = output.last_hidden_state[:, index].float().mean(1)              # (B, H)
        return torch.nn.functional.cosine_similarity(pooled, fixed.float()[None], dim=-1)[:, None], output
    baseline, described = _baseline_ids(loaded, tokens)
    found = integrate(loaded, tokens.ids, baseline, forward, steps)
    flow = rollout(found.attention)[rows].mean(0)                                 # (T,)
    notes.append(f"The second sentence is held fixed: only this text's words are scored ({text_layer.POOLINGS[pooling]}"
                 f", last layer).")
    return _result("similarity", loaded, text, tokens, found, "cosine similarity to the second sentence", found.f_input,
                   steps, described, flow, notes)
