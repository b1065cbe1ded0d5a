"""ELECTRA's replaced-token detection, live: the generator corrupts the user's sentence, the discriminator detects.

1. Choose positions: a share of the non-special tokens (BERT's 15% by default, `masking.choose_positions`, seeded) or
   every piece of the words the user names.
2. Mask them and run the generator (an MLM, ElectraForMaskedLM) once; at each chosen position sample a replacement
   from softmax(logits / temperature) with a seeded torch.Generator (temperature 0: the most likely token). Only the
   chosen positions change. A sample equal to the original token is labelled "original" (ELECTRA's rule).
3. Run the discriminator (ElectraForPreTraining) on the corrupted ids: P(replaced) = sigmoid(logit) for every token.
4. Detection quality on this one sample over the non-special tokens: precision and recall at 0.5, ROC AUC.

Edit mode skips the generator: the user's edited sentence is the corruption; difflib aligns the two token-id lists.

    >>> r = replace_and_detect(gen, disc, "The chef cooked a meal.", rate=0.15, seed=0)     # doctest: +SKIP
    >>> r.detection.prob_replaced      # (T,) one probability per token, e.g. [0.01, 0.03, 0.91, ...]
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from model_zoo.masking import choose_positions
from model_zoo.metrics import roc_auc
from model_zoo.registry import Capability
from model_zoo.tokenization import InputError, TokenizedText, readable_token, tokenize
from model_zoo.text import head_logits

THRESHOLD = 0.5
MAX_TOKENS = 256   # the views show every token; longer text is cut with a note


@dataclass(frozen=True)
class Metrics:
    n_tokens: int              # non-special tokens scored
    n_replaced: int            # truly replaced (ELECTRA's labels)
    n_flagged: int             # P(replaced) >= threshold
    precision: float | None    # None when nothing is flagged
    recall: float | None       # None when nothing is replaced
    accuracy: float
    auc: float | None          # None unless both classes are present
    threshold: float = THRESHOLD


@dataclass(frozen=True)
class Replacement:
    position: int              # sequence index
    original: str              # readable
    sampled: str               # readable
    same_as_original: bool     # the generator sampled the original token: labelled "original"
    alternatives: list[tuple[str, float]]  # the generator's top tokens with their (tempered) probabilities


@dataclass(frozen=True)
class Detection:
    ids: np.ndarray            # (T,) int64: the ids the discriminator saw (corrupted or edited sentence)
    tokens: list[str]          # (T,) readable tokens the discriminator saw
    originals: list[str]       # (T,) what stood there originally ("" where an edit inserted a token)
    special: np.ndarray        # (T,) bool
    replaced: np.ndarray       # (T,) bool: ELECTRA's label (differs from the original)
    chosen: np.ndarray         # (T,) bool: masked for the generator (BERT's MLM would learn from exactly these)
    prob_replaced: np.ndarray  # (T,) float32: sigmoid of the discriminator's logits
    metrics: Metrics


@dataclass(frozen=True)
class ReplaceResult:
    detection: Detection
    replacements: list[Replacement]
    masked_input: list[str]    # (T,) readable tokens the generator saw
    temperature: float
    seed: int


# ---------------------------------------------------------------------------------------------------- metrics
def detection_metrics(labels, probs, threshold: float = THRESHOLD) -> Metrics:
    labels = np.asarray(labels, dtype=bool)
    flagged = np.asarray(probs, dtype=np.float64) >= threshold
    hits = int((flagged & labels).sum())
    return Metrics(n_tokens=len(labels), n_replaced=int(labels.sum()), n_flagged=int(flagged.sum()),
                   precision=hits / int(flagged.sum()) if flagged.any() else None,
                   recall=hits / int(labels.sum()) if labels.any() else None,
                   accuracy=float((flagged == labels).mean()) if len(labels) else 0.0,
                   auc=roc_auc(scores=probs, labels=labels), threshold=threshold)


def rethreshold(det: Detection, threshold: float) -> Metrics:
    """The sample's metrics with tokens flagged at P(replaced) >= `threshold` (the user's choice; 0.5 by default)."""
    if not 0.0 < threshold < 1.0:
        raise InputError("The threshold is a probability between 0 and 1 (exclusive).")
    real = ~det.special
    return detection_metrics(det.replaced[real], det.prob_replaced[real], threshold)


def replaced_ranks(det: Detection) -> list[tuple[int, str, float]]:
    """Where the truly replaced tokens rank when every scored token is sorted by P(replaced), most suspicious first:
    (rank, token, P) per replaced token. What the discriminator knows shows here even when no P reaches a threshold."""
    real = np.flatnonzero(~det.special)
    order = real[np.argsort(-det.prob_replaced[real], kind="stable")]
    rank = {int(position): r + 1 for r, position in enumerate(order)}
    return sorted((rank[int(i)], det.tokens[i], float(det.prob_replaced[i])) for i in real if det.replaced[i])


# ---------------------------------------------------------------------------------------------------- models
def check_discriminator(loaded) -> None:
    if Capability.REPLACED_TOKEN_DETECTION not in loaded.checkpoint.capabilities or \
            not hasattr(loaded.model, "discriminator_predictions"):
        raise InputError(f"'{loaded.checkpoint.key}' is not an ELECTRA discriminator (ElectraForPreTraining); pick "
                         f"one as the discriminator (e.g. electra-small-discriminator).")


def check_generator(loaded) -> None:
    if Capability.FILL_MASK not in loaded.checkpoint.capabilities or loaded.tokenizer.mask_token_id is None:
        raise InputError(f"'{loaded.checkpoint.key}' is not a masked language model; the generator must be one "
                         f"(e.g. electra-small-generator, an ElectraForMaskedLM).")


def check_pair(generator, discriminator) -> None:
    if generator.tokenizer.get_vocab() != discriminator.tokenizer.get_vocab():
        raise InputError(f"The generator '{generator.checkpoint.key}' and the discriminator "
                         f"'{discriminator.checkpoint.key}' use different vocabularies; ELECTRA's pair shares one.")


def discriminate(discriminator, ids: np.ndarray) -> np.ndarray:
    """P(replaced) for every token: sigmoid of ElectraForPreTraining's logits, (T,) float32."""
    import torch
    with torch.inference_mode():
        input_ids = torch.as_tensor(ids, device=discriminator.device)[None]              # (1, T)
        logits = discriminator.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                     token_type_ids=torch.zeros_like(input_ids)).logits  # (1, T)
        return torch.sigmoid(logits[0].float()).cpu().numpy()                            # (T,)



def _readable(tokenizer, ids) -> list[str]:
    return [readable_token(tokenizer, t) for t in tokenizer.convert_ids_to_tokens([int(i) for i in ids])]


def positions_of_words(tokens: TokenizedText, words: str) -> np.ndarray:
    """Every piece of each word the user named (comma or space separated, case-insensitive), sorted."""
    wanted = [w.lower() for w in re.split(r"[,\s]+", words.strip()) if w]
    spelled: dict[int, str] = {}
    for i, w in enumerate(tokens.word_index):
        if not tokens.special[i]:
            spelled[int(w)] = spelled.get(int(w), "") + tokens.readable[i]
    chosen, unknown = [], []
    for word in wanted:
        hits = [i for i in range(len(tokens)) if not tokens.special[i] and spelled[int(tokens.word_index[i])].lower()
                == word]
        (chosen.extend(hits) if hits else unknown.append(word))
    if unknown:
        raise InputError(f"Not in the sentence: {', '.join(unknown)}. Its words are: "
                         f"{', '.join(dict.fromkeys(spelled.values()))}.")
    return np.asarray(sorted(set(chosen)), dtype=np.int64)


def corrupt(generator, ids: np.ndarray, positions: np.ndarray, temperature: float = 1.0, seed: int = 0,
            top_k: int = 5) -> tuple[np.ndarray, list[tuple[int, list[tuple[int, float]]]]]:
    """Mask `positions`, run the generator once, sample one replacement per position.

    Returns the corrupted ids (T,) (different from `ids` only at `positions`) and, per position, the top-k token ids
    with their probabilities under the tempered distribution. Special tokens are never sampled.
    """
    import torch
    tokenizer = generator.tokenizer
    masked = np.asarray(ids, dtype=np.int64).copy()
    masked[positions] = tokenizer.mask_token_id
    with torch.inference_mode():
        input_ids = torch.as_tensor(masked, device=generator.device)[None]                       # (1, T)
        logits = head_logits(generator.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)))
        logits = logits[0, torch.as_tensor(positions, device=generator.device)].float().cpu()   # (M, V)
        logits[:, [i for i in tokenizer.all_special_ids if i < logits.shape[1]]] = float("-inf")
        if temperature <= 0:
            probs = torch.zeros_like(logits)                                                    # (M, V)
            probs[torch.arange(len(positions)), logits.argmax(-1)] = 1.0
            sampled = logits.argmax(-1)                                                         # (M,)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)                                 # (M, V)
            sampled = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(int(seed)))[:, 0]  # (M,)
        top = probs.topk(min(top_k, probs.shape[1]), dim=-1)                                    # (M, k)
    corrupted = np.asarray(ids, dtype=np.int64).copy()
    corrupted[positions] = sampled.numpy()
    alternatives = [(int(p), [(int(i), float(v)) for i, v in zip(top.indices[r], top.values[r])])
                    for r, p in enumerate(positions)]
    return corrupted, alternatives


def replace_and_detect(generator, discriminator, text: str, rate: float = 0.15, seed: int = 0,
                       temperature: float = 1.0, words: str = "", top_k: int = 5) -> ReplaceResult:
    check_generator(generator)
    check_discriminator(discriminator)
    check_pair(generator, discriminator)
    if not 0 < rate <= 1:
        raise InputError("The share of tokens to replace must be above 0% and at most 100%.")
    tokens = tokenize(discriminator.tokenizer, text, max_length=MAX_TOKENS)
    if not (~tokens.special).any():
        raise InputError("The text has no tokens besides the special ones.")
    if words and words.strip():
        positions = positions_of_words(tokens, words)
    else:
        positions = choose_positions(tokens.special, rate, np.random.default_rng(int(seed)))
    corrupted, alternatives = corrupt(generator, tokens.ids, positions, temperature, seed, top_k)
    probs = discriminate(discriminator, corrupted)                                              # (T,)
    tok = discriminator.tokenizer
    replaced = corrupted != tokens.ids
    chosen = np.zeros(len(tokens), dtype=bool)
    chosen[positions] = True
    readable_corrupted = _readable(tok, corrupted)
    replacements = [Replacement(position=p, original=tokens.readable[p], sampled=readable_corrupted[p],
                                same_as_original=not replaced[p],
                                alternatives=[(name, prob) for name, (_, prob) in zip(
                                    _readable(tok, [i for i, _ in alt]), alt)])
                    for p, alt in alternatives]
    real = ~tokens.special
    masked_input = list(tokens.readable)
    for p in positions:
        masked_input[p] = tok.mask_token
    detection = Detection(ids=corrupted, tokens=readable_corrupted, originals=list(tokens.readable),
                          special=tokens.special.copy(),
                          replaced=replaced, chosen=chosen, prob_replaced=probs,
                          metrics=detection_metrics(replaced[real], probs[real]))
    return ReplaceResult(detection=detection, replacements=replacements, masked_input=masked_input,
                         temperature=float(temperature), seed=int(seed))


def edit_mode(discriminator, original: str, edited: str) -> Detection:
    """The user's edit is the corruption: which tokens of `edited` differ from `original`, and what is flagged."""
    check_discriminator(discriminator)
    before = tokenize(discriminator.tokenizer, original, max_length=MAX_TOKENS)
    after = tokenize(discriminator.tokenizer, edited, max_length=MAX_TOKENS)
    changed = np.zeros(len(after), dtype=bool)
    originals = [""] * len(after)
    matcher = difflib.SequenceMatcher(a=before.ids.tolist(), b=after.ids.tolist(), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for k in range(b1 - b0):
                originals[b0 + k] = before.readable[a0 + k]
        elif op in ("replace", "insert"):
            changed[b0:b1] = True
            for k in range(b1 - b0):
                originals[b0 + k] = before.readable[a0 + k] if op == "replace" and a0 + k < a1 else ""
    changed &= ~after.special
    if not changed.any() and matcher.ratio() == 1.0:
        raise InputError("The edited sentence is the same as the original (token for token): change a word.")
    probs = discriminate(discriminator, after.ids)
    real = ~after.special
    return Detection(ids=after.ids.copy(), tokens=list(after.readable), originals=originals,
                     special=after.special.copy(),
                     replaced=changed, chosen=changed.copy(), prob_replaced=probs,
                     metrics=detection_metrics(changed[real], probs[real]))
