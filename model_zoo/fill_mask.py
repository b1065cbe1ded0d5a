"""Masked-token guessing for every family that can guess: placeholders mapped to the family's own mask token, top-k per
mask (probabilities over the whole vocabulary), the sentence with the top guesses filled in, and clicking a word to mask
it. XLNet has no BERT-style mask head: its masked positions are predicted by the query stream with `perm_mask` and
`target_mapping`, so that each target sees every non-target token and no target sees another.

    >>> lm = fill_mask_model("bert-base-uncased")                       # doctest: +SKIP
    >>> result = fill_mask(lm, "The capital of France is ___.", k=3)    # doctest: +SKIP
    >>> result.masks[0].readable          # e.g. ['paris', 'lyon', 'lille']
    >>> result.filled                     # 'The capital of France is paris.'
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from model_zoo import loading
from model_zoo.facts import max_tokens
from model_zoo.registry import CHECKPOINTS, FAMILIES, Capability, Checkpoint
from model_zoo.text import CONTINUES, PLACEHOLDER_HELP, Prepared, guess_text, head_logits, substitute, words
from model_zoo.tokenization import InputError, TokenizedText, tokenize

MAX_MASKS = 10
XLNET_NOTE = ("XLNet has no [MASK]-filling head of BERT's kind. Here every masked position is a prediction target: "
              "`perm_mask` hides the targets from every position (so no target sees another, as in a factorisation "
              "order where the targets come last) and `target_mapping` asks the query stream, which knows a target's "
              "position but not its content, to predict it from all the non-target tokens.")


# ---------------------------------------------------------------------------------------------------- the model
def guess_capability(family: str) -> Capability:
    """How the family guesses a hidden token (the registry says: a masked-LM head, or XLNet's query stream)."""
    return FAMILIES[family].guess


def why_it_cannot_guess(checkpoint: Checkpoint) -> str:
    """"" when the checkpoint guesses a hidden token itself; else the reason, for a message."""
    if guess_capability(checkpoint.family) in checkpoint.capabilities:
        return ""
    if Capability.REPLACED_TOKEN_DETECTION in checkpoint.capabilities:
        return (f"{checkpoint.key} is ELECTRA's discriminator: it labels each token original or replaced and cannot "
                f"guess a hidden word" + (f" (its generator, {checkpoint.generator}, guesses)"
                                          if checkpoint.generator else "") + ".")
    return (f"{checkpoint.key} has no masked-LM head (its class is {checkpoint.model_class}): it cannot guess a "
            f"hidden word.")


def candidate_id(tokenizer, candidate) -> int:
    """A token id from an id (int) or a token string: the vocabulary's own ("##ly", "Ġdoor"), a readable guess
    ("…ly"), or a word the tokenizer keeps as one token."""
    if isinstance(candidate, (int, np.integer)):
        if not 0 <= int(candidate) < len(tokenizer):
            raise InputError(f"Token id {candidate} is not in this model's vocabulary (0 to {len(tokenizer) - 1}).")
        return int(candidate)
    word = str(candidate).strip()
    vocab = tokenizer.get_vocab()
    for form in (word, "##" + word.removeprefix(CONTINUES)):
        if form in vocab:
            return vocab[form]
    for form in (" " + word, word):
        ids = tokenizer(form, add_special_tokens=False)["input_ids"]
        if len(ids) == 1:
            return ids[0]
    pieces = tokenizer.tokenize(" " + word)
    raise InputError(f"“{word}” is not one token for this model (it becomes {len(pieces)}: {' '.join(pieces)}); "
                     f"pick one of the guesses or a single token.")


def fill_mask_checkpoint(spec: str | Checkpoint) -> Checkpoint:
    """The checkpoint that answers fill-mask for `spec`: itself when it has a mask head; ELECTRA's generator for its
    discriminator; otherwise the same weights through the family's MLM class (its head then newly initialised, which
    the load report says)."""
    checkpoint = spec if isinstance(spec, Checkpoint) else loading.resolve(spec)
    if guess_capability(checkpoint.family) in checkpoint.capabilities:
        return checkpoint
    if checkpoint.generator in CHECKPOINTS:   # ELECTRA's discriminator cannot guess tokens: its generator does
        return CHECKPOINTS[checkpoint.generator]
    return loading.with_class(checkpoint, FAMILIES[checkpoint.family].mlm_class)


def fill_mask_model(spec: str | Checkpoint) -> loading.LoadedModel:
    return loading.load(fill_mask_checkpoint(spec))


def head_trained(loaded: loading.LoadedModel) -> bool:
    """Are the guesses worth reading? False for random weights and for a newly initialised mask head."""
    return loaded.report.head_is_trained(guess_capability(loaded.checkpoint.family))


# ---------------------------------------------------------------------------------------------------- placeholders
def _in_word(char: str) -> bool:
    """A letter or digit of a script that separates words by spaces (CJK text has no spaces to ask for)."""
    return char.isalnum() and unicodedata.east_asian_width(char) not in ("W", "F")


def prepare(tokenizer, config, text: str) -> tuple[Prepared, TokenizedText, np.ndarray]:
    """Validate the user's text and tokenize it with native masks: (prepared, tokens, mask positions (M,))."""
    text = text or ""
    if not text.strip():
        raise InputError("The text is empty: type a sentence with [MASK] (or <mask>, or ___) where a word should be "
                         "guessed.")
    prepared = substitute(tokenizer, text)
    count = len(prepared.placeholders)
    if count == 0:
        raise InputError(f"No mask in the text: write {PLACEHOLDER_HELP} where a word should be guessed, or click a "
                         f"word of the sentence to mask it.")
    for start, end in prepared.placeholders:
        if (start > 0 and _in_word(text[start - 1])) or (end < len(text) and _in_word(text[end])):
            word = re.search(r"\S*$", text[:start]).group() + text[start:end] + re.match(r"\S*", text[end:]).group()
            raise InputError(f"A mask sits inside a word ('{word}'): a mask stands for a whole token, so put spaces "
                             f"around it (the model may still guess a word piece).")
    if count > MAX_MASKS:
        raise InputError(f"The text has {count} masks; at most {MAX_MASKS} are allowed at once.")
    limit = max_tokens(config)
    length = len(tokenizer(prepared.text)["input_ids"])
    if length > limit:
        raise InputError(f"The text is {length} tokens long; this model takes at most {limit}. Shorten it.")
    tokens = tokenize(tokenizer, prepared.text, max_length=limit)
    positions = np.flatnonzero(tokens.ids == tokenizer.mask_token_id)
    if len(positions) != count:  # e.g. a tokenizer that splits its own mask string
        raise InputError(f"The tokenizer kept {len(positions)} of the {count} masks; this model cannot guess here.")
    return prepared, tokens, positions


# ---------------------------------------------------------------------------------------------------- clicking words
def mask_word(tokenizer, text: str, index: int) -> str:
    """The user's text with word `index` (of `words`) replaced, whole, by the family's mask token (a masked word stays
    as it is: clicking it again does nothing)."""
    found = words(text)
    if not 0 <= index < len(found):
        raise InputError(f"There is no word {index}: the text has {len(found)} words.")
    word = found[index]
    if word.is_mask:
        return text
    return text[:word.start] + tokenizer.mask_token + text[word.end:]


# ---------------------------------------------------------------------------------------------------- guessing
@dataclass(frozen=True)
class MaskGuess:
    position: int            # token index of the mask in the model's input
    ids: np.ndarray          # (k,) int64, best first
    tokens: list[str]        # (k,) the tokenizer's strings
    readable: list[str]      # (k,) as a person reads them; a piece that continues a word shows so: "…ly"
    probs: np.ndarray        # (k,) float32: softmax over the whole vocabulary


@dataclass(frozen=True)
class FillMaskResult:
    model_text: str                  # the text the tokenizer got (native mask tokens)
    tokens: list[str]                # readable tokens of the input
    masks: list[MaskGuess]
    filled: str                      # the user's text with every mask replaced by its top guess
    filled_parts: list[tuple[str, int]]  # (piece, mask index or -1) to render the filled sentence
    method: str                      # "masked LM" or "XLNet query stream (perm_mask + target_mapping)"
    head_trained: bool               # False: random weights or a newly initialised head (never present as answers)
    vocab_size: int


def model_inputs(loaded: loading.LoadedModel, ids: np.ndarray, positions: np.ndarray) -> dict:
    """Tensors for one forward; for XLNet, perm_mask/target_mapping that make every mask a target."""
    import torch
    input_ids = torch.as_tensor(ids, device=loaded.device)[None]  # (1, T)
    inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
    if loaded.family.two_streams:
        T, M = input_ids.shape[1], len(positions)
        targets = torch.as_tensor(positions, device=loaded.device)
        perm_mask = torch.zeros(1, T, T, dtype=loaded.model.dtype, device=loaded.device)  # (1, T, T): 1 = may not see
        perm_mask[0, :, targets] = 1.0
        target_mapping = torch.zeros(1, M, T, dtype=loaded.model.dtype, device=loaded.device)  # (1, M, T) one-hot
        target_mapping[0, torch.arange(M), targets] = 1.0
        inputs.update(perm_mask=perm_mask, target_mapping=target_mapping)
    return inputs


def batched(inputs: dict, rows: int) -> dict:
    """The same one-row inputs as `rows` rows (views, no copies): (1, ...) -> (rows, ...)."""
    return {name: t.expand(rows, *t.shape[1:]) for name, t in inputs.items()}


def mask_logits(loaded: loading.LoadedModel, output, positions: np.ndarray):
    """(M, V) logits at the masks from a model output (XLNet's are already per target)."""
    logits = head_logits(output)  # (1, T or M, V)
    if loaded.family.two_streams:
        return logits[0]  # (M, V)
    return logits[0, positions]  # (M, V)


def top_guesses(tokenizer, probs, positions: np.ndarray, k: int) -> list[MaskGuess]:
    import torch
    top = torch.topk(probs, min(k, probs.shape[-1]), dim=-1)  # values, indices: (M, k)
    values, indices = top.values.cpu().numpy(), top.indices.cpu().numpy()
    guesses = []
    for m, position in enumerate(positions):
        raw = [token if token is not None else f"<id {i} has no token>"  # a model vocabulary padded beyond the
               for i, token in zip(indices[m].tolist(),                  # tokenizer's (common: to a multiple of 8)
                                   tokenizer.convert_ids_to_tokens(indices[m].tolist()))]
        guesses.append(MaskGuess(position=int(position), ids=indices[m].astype(np.int64), tokens=raw,
                                 readable=[guess_text(tokenizer, t) for t in raw],
                                 probs=values[m].astype(np.float32)))
    return guesses


def fill_mask(loaded: loading.LoadedModel, text: str, k: int = 5) -> FillMaskResult:
    """Top-k guesses for every mask of `text` (placeholders [MASK], <mask> or ___, whatever the family)."""
    import torch
    k = max(1, int(k))  # the UI offers 1-20; topk stops at the vocabulary size
    prepared, tokens, positions = prepare(loaded.tokenizer, loaded.config, text)
    with torch.inference_mode():
        output = loaded.model(**model_inputs(loaded, tokens.ids, positions))
        probs = mask_logits(loaded, output, positions).float().softmax(dim=-1)  # (M, V)
    guesses = top_guesses(loaded.tokenizer, probs, positions, k)
    parts: list[tuple[str, int]] = []
    cursor = 0
    for m, (start, end) in enumerate(prepared.placeholders):
        best = guesses[m].readable[0]
        before = text[cursor:start]
        if best.startswith(CONTINUES):        # a word piece: joined to the word before it ("fresh" + "ly")
            before, best = before.rstrip(), best[len(CONTINUES):]
        parts += [(before, -1), (best, m)]
        cursor = end
    parts.append((text[cursor:], -1))
    xlnet = loaded.family.two_streams
    return FillMaskResult(model_text=prepared.text, tokens=tokens.readable, masks=guesses,
                          filled="".join(p for p, _ in parts), filled_parts=[p for p in parts if p[0]],
                          method="XLNet query stream (perm_mask + target_mapping)" if xlnet else "masked LM",
                          head_trained=head_trained(loaded), vocab_size=int(probs.shape[-1]))
