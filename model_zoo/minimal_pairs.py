"""Targeted syntactic evaluation (Marvin & Linzen 2018; Goldberg 2019): minimal pairs that differ in one word, scored
the way each family fills a blank.

A pair is a sentence with a blank and two words for it, the grammatical one first: "The key to the cabinets
[is|are] old." Phenomena (templates below, seeded): subject-verb agreement with 0, 1 and 2 attractors and across an
object relative clause, reflexive agreement, a negative polarity item, determiner-noun agreement.

Scores (a pair is right when the grammatical word scores strictly higher):
- masked LM (BERT, RoBERTa, ALBERT, DistilBERT, ELECTRA's generator; a discriminator through the generator the
  registry names for it): log P(word) = sum of log P(piece) over the word's pieces, all of them masked at once in
  the completed sentence (each piece predicted from everything but the word), so that words of different lengths
  are compared on one footing; the pair's score is log P(good) - log P(bad).
- XLNet: the same sum through its query stream: perm_mask hides the word's pieces from every position and
  target_mapping asks for each of them (fill_mask.model_inputs).
- ELECTRA's discriminator, separately: log P(all original) = sum over the completed sentence's tokens of
  log(1 - P(replaced)); the pair's score is its difference between the two sentences.

    >>> pair = parse_pair("The dogs [run|runs] fast.")
    >>> pair.text(pair.good), pair.text(pair.bad)
    ('The dogs run fast.', 'The dogs runs fast.')
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from model_zoo import fill_mask as fm
from model_zoo import grammar, loading
from model_zoo import text as text_layer
from model_zoo.metrics import wilson_interval
from model_zoo.progress import Report, ignore
from model_zoo.registry import CHECKPOINTS, Capability
from model_zoo.tokenization import InputError, tokenize

PAIRS_PER_PHENOMENON = 40
SEED = 0
MAX_PAIR_CHARS = 300
PERSONS = [("boy", "boys", "himself"), ("girl", "girls", "herself"), ("man", "men", "himself"),
           ("woman", "women", "herself"), ("king", "kings", "himself"), ("queen", "queens", "herself"),
           ("actor", "actors", "himself"), ("actress", "actresses", "herself")]
REFLEXIVE_VERBS = ["hurt", "saw", "praised", "blamed", "admired", "introduced", "described", "helped"]
PARTICIPLES = ["slept", "laughed", "waited", "arrived", "worked", "smiled", "complained", "travelled"]


@dataclass(frozen=True)
class Pair:
    phenomenon: str
    prefix: str       # the sentence up to the blank
    good: str         # the grammatical word
    bad: str
    suffix: str       # the rest of the sentence

    def text(self, word: str) -> str:
        return self.prefix + word + self.suffix

    def shown(self) -> str:
        return f"{self.prefix}[{self.good}|{self.bad}]{self.suffix}"


def parse_pair(text: str) -> Pair:
    """A user's pair, "The dogs [run|runs] fast.": one blank, two words, the first the one expected to win."""
    text = (text or "").strip()
    if not text:
        raise InputError("Type a sentence with one blank and two words for it: The dogs [run|runs] fast.")
    if len(text) > MAX_PAIR_CHARS:
        raise InputError(f"The pair has {len(text):,} characters; the limit is {MAX_PAIR_CHARS}.")
    found = list(re.finditer(r"\[([^\[\]|]+)\|([^\[\]|]+)\]", text))
    if len(found) != 1:
        raise InputError("Write exactly one blank as [first|second] (two words between brackets, split by |): "
                         "The dogs [run|runs] fast.")
    a, b = found[0].group(1).strip(), found[0].group(2).strip()
    if not a or not b or a == b or any(c.isspace() for c in a + b):
        raise InputError("The two words of the blank must be different single words: [run|runs].")
    return Pair("yours", text[:found[0].start()], a, b, text[found[0].end():])


# ---------------------------------------------------------------------------------------------------- templates
def _nouns(rng: random.Random) -> tuple[str, str, int]:
    """A noun in a random number: (noun, its form in the other number, 0 singular / 1 plural)."""
    pair, number = rng.choice(grammar.NOUNS), rng.randrange(2)
    return pair[number], pair[1 - number], number


def _verb(rng: random.Random, number: int) -> tuple[str, str, str]:
    """(good, bad, suffix): a verb agreeing with `number` and its other form."""
    if rng.random() < 0.4:
        forms, suffix = ("is", "are"), f" {rng.choice(grammar.ADJECTIVES)}."
    else:
        forms, suffix = rng.choice(grammar.INTRANSITIVE), "."
    return forms[number], forms[1 - number], suffix


def _agreement(rng: random.Random, attractors: int) -> Pair:
    noun, _, number = _nouns(rng)
    prefix = f"The {noun}"
    for _ in range(attractors):
        pair = rng.choice(grammar.NOUNS)
        prefix += f" {rng.choice(grammar.PREPOSITIONS)} the {pair[1 - number]}"   # the other number: an attractor
    good, bad, suffix = _verb(rng, number)
    return Pair(f"agreement, {attractors} attractor{'s' if attractors != 1 else ''}", prefix + " ", good, bad, suffix)


def _relative(rng: random.Random) -> Pair:
    noun, _, number = _nouns(rng)
    other = rng.choice(grammar.NOUNS)[1 - number]
    verb = rng.choice(grammar.TRANSITIVE)[1 - number]
    good, bad, suffix = _verb(rng, number)
    return Pair("agreement across a relative clause", f"The {noun} that the {other} {verb} ", good, bad, suffix)


def _reflexive(rng: random.Random) -> Pair:
    singular, plural, own = rng.choice(PERSONS)
    number = rng.randrange(2)
    good, bad = (own, "themselves") if number == 0 else ("themselves", own)
    return Pair("reflexive agreement", f"The {(singular, plural)[number]} {rng.choice(REFLEXIVE_VERBS)} ", good, bad,
                ".")


def _npi(rng: random.Random) -> Pair:
    noun, _, number = _nouns(rng)
    return Pair("negative polarity item (ever)", f"The {noun} {('has', 'have')[number]} ", "never", "ever",
                f" {rng.choice(PARTICIPLES)}.")


def _determiner(rng: random.Random) -> Pair:
    noun, _, number = _nouns(rng)
    subject, _, own = _nouns(rng)
    good, bad = (("this", "these"), ("these", "this"))[number]
    return Pair("determiner-noun agreement", f"The {subject} {rng.choice(grammar.TRANSITIVE)[own]} ", good, bad,
                f" {noun}.")


PHENOMENA: dict[str, Callable[[random.Random], Pair]] = {   # name -> template
    "agreement, 0 attractors": lambda rng: _agreement(rng, 0),
    "agreement, 1 attractor": lambda rng: _agreement(rng, 1),
    "agreement, 2 attractors": lambda rng: _agreement(rng, 2),
    "agreement across a relative clause": _relative,
    "reflexive agreement": _reflexive,
    "negative polarity item (ever)": _npi,
    "determiner-noun agreement": _determiner,
}


def pairs(per_phenomenon: int = PAIRS_PER_PHENOMENON, seed: int = SEED) -> list[Pair]:
    """Every phenomenon's pairs, different from each other, the same for a seed."""
    found = []
    for index, template in enumerate(PHENOMENA.values()):
        rng, seen = random.Random(seed * 1000 + index), set()
        for _ in range(per_phenomenon * 20):
            pair = template(rng)
            if pair.shown() not in seen:
                seen.add(pair.shown())
                found.append(pair)
            if len(seen) == per_phenomenon:
                break
    return found


# ---------------------------------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class Scorer:
    """One way of scoring with one model: what the table's row says and the model that answers."""
    spec: str
    label: str                  # "mini-electra-discriminator · its generator mini-electra-generator"
    method: str                 # "masked LM" | "XLNet query stream" | "discriminator P(replaced)"
    loaded: object              # the LoadedModel that answers
    weights: str
    trained: bool


def scorers(spec: str) -> tuple[list[Scorer], str]:
    """The ways `spec` can score a pair, and a note when it has none (no masked-LM head, e.g. MiniLM)."""
    loaded = loading.load(spec)
    checkpoint, found = loaded.checkpoint, []
    guess = fm.guess_capability(checkpoint.family)
    method = "XLNet query stream" if guess is Capability.PERMUTATION_LM else "masked LM"
    if guess in checkpoint.capabilities:
        found.append(Scorer(spec, checkpoint.key, method, loaded, loaded.report.weights,
                            loaded.report.head_is_trained(guess)))
    elif checkpoint.generator in CHECKPOINTS:
        generator = loading.load(CHECKPOINTS[checkpoint.generator])
        found.append(Scorer(spec, f"{checkpoint.key} · its generator {generator.checkpoint.key}", method, generator,
                            generator.report.weights, generator.report.head_is_trained(guess)))
    if Capability.REPLACED_TOKEN_DETECTION in checkpoint.capabilities:
        found.append(Scorer(spec, f"{checkpoint.key} · discriminator", "discriminator P(replaced)", loaded,
                            loaded.report.weights,
                            loaded.report.head_is_trained(Capability.REPLACED_TOKEN_DETECTION)))
    note = "" if found else (f"{checkpoint.key} has no masked-LM head (its class is {checkpoint.model_class}): it "
                             f"cannot fill a blank")
    return found, note


def word_positions(loaded, text: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids (T,), positions of the pieces of the word at text[start:end]) of the completed sentence."""
    tokens = tokenize(loaded.tokenizer, text)
    found = text_layer.words(text)
    under = text_layer.place([tuple(o) for o in tokens.offsets], (~tokens.special).tolist(), text, found)
    positions = sorted({p for w in found if start <= w.start and w.end <= end for p in under[w.index]})
    if not positions:
        raise InputError(f"'{text[start:end]}' gets no token from {loaded.checkpoint.key}'s tokenizer.")
    return tokens.ids, np.asarray(positions, dtype=np.int64)


def word_logprobs(loaded, texts: list[tuple[str, int, int]]) -> np.ndarray:
    """(n,) log P(word) for each (sentence, start, end): the word's pieces masked together, log-probs summed.
    Sentences with the same length and number of pieces share a forward."""
    import torch
    items = [word_positions(loaded, *t) for t in texts]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (ids, positions) in enumerate(items):
        groups.setdefault((len(ids), len(positions)), []).append(i)
    found = np.zeros(len(items), dtype=np.float64)
    mask = loaded.tokenizer.mask_token_id
    for members in groups.values():
        rows = []
        for i in members:
            ids, positions = items[i]
            masked = ids.copy()
            masked[positions] = mask
            rows.append(fm.model_inputs(loaded, masked, positions))
        inputs = {k: torch.cat([r[k] for r in rows]) for k in rows[0]}
        with torch.inference_mode():
            logits = text_layer.head_logits(loaded.model(**inputs)).float()         # (B, T or M, V)
        logprobs = logits.log_softmax(-1)
        for b, i in enumerate(members):
            ids, positions = items[i]
            at = torch.arange(len(positions)) if loaded.family.two_streams else torch.as_tensor(positions)
            found[i] = float(logprobs[b, at, torch.as_tensor(ids[positions])].sum())
    return found


def original_logprobs(loaded, texts: list[str]) -> np.ndarray:
    """(n,) log P(every token original) under ELECTRA's discriminator: sum of log(1 - P(replaced)) over each
    sentence's real tokens (sentences of one length share a forward)."""
    import torch
    items = [tokenize(loaded.tokenizer, t) for t in texts]
    found = np.zeros(len(items), dtype=np.float64)
    groups: dict[int, list[int]] = {}
    for i, tokens in enumerate(items):
        groups.setdefault(len(tokens), []).append(i)
    for members in groups.values():
        ids = torch.as_tensor(np.stack([items[i].ids for i in members]), device=loaded.device)     # (B, T)
        with torch.inference_mode():
            logits = loaded.model(input_ids=ids, attention_mask=torch.ones_like(ids),
                                  token_type_ids=torch.zeros_like(ids)).logits                  # (B, T)
        original = torch.nn.functional.logsigmoid(-logits.double()).cpu().numpy()             # log(1 - sigmoid)
        for b, i in enumerate(members):
            found[i] = float(original[b][~items[i].special].sum())
    return found


def pair_logprobs(scorer: Scorer, items: list[Pair]) -> np.ndarray:
    """(n, 2) the log-probabilities of each pair's good and bad completion, the scorer's way."""
    texts = [(p.text(w), len(p.prefix), len(p.prefix) + len(w)) for p in items for w in (p.good, p.bad)]
    if scorer.method == "discriminator P(replaced)":
        values = original_logprobs(scorer.loaded, [t for t, _, _ in texts])
    else:
        values = word_logprobs(scorer.loaded, texts)
    return values.reshape(len(items), 2)


@dataclass(frozen=True)
class PhenomenonScore:
    phenomenon: str
    correct: int
    n: int
    low: float                  # 95% Wilson interval
    high: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else math.nan


@dataclass(frozen=True)
class ScorerResult:
    spec: str
    label: str
    method: str
    weights: str
    trained: bool
    scores: tuple[PhenomenonScore, ...]
    note: str = ""              # why there is no score (no head, an error)


def score(scorer: Scorer, items: list[Pair]) -> ScorerResult:
    logprobs = pair_logprobs(scorer, items)                                         # (n, 2)
    right = logprobs[:, 0] > logprobs[:, 1]
    scores = []
    for name in dict.fromkeys(p.phenomenon for p in items):
        chosen = np.asarray([p.phenomenon == name for p in items])
        k, n = int(right[chosen].sum()), int(chosen.sum())
        scores.append(PhenomenonScore(name, k, n, *wilson_interval(k / n, n)))   # n >= 1: the items name it
    return ScorerResult(scorer.spec, scorer.label, scorer.method, scorer.weights, scorer.trained, tuple(scores))


def evaluate(specs: list[str], items: list[Pair] | None = None, stop: Callable[[], bool] = lambda: False,
             report: Report = ignore) -> Iterator[ScorerResult]:
    """Each model's accuracy per phenomenon, one result per way of scoring, yielded model by model."""
    items = items if items is not None else pairs()
    for index, spec in enumerate(specs):
        if stop():
            return
        report(index / len(specs), f"Minimal pairs: {spec}")
        try:
            found, note = scorers(spec)
        except loading.ModelError as error:
            found, note = [], str(error).partition("\n")[0]
        if note:
            yield ScorerResult(spec, spec, "", "", False, (), note)
        for scorer in found:
            yield score(scorer, items)


@dataclass(frozen=True)
class PairAnswer:
    label: str
    method: str
    weights: str
    trained: bool
    first: float                # P(first word) (the discriminator: P(all tokens original) of its sentence)
    second: float
    note: str = ""


def answer_pair(specs: list[str], text: str) -> tuple[Pair, list[PairAnswer]]:
    """The user's own pair through every model: each way of scoring's two probabilities."""
    pair = parse_pair(text)
    answers = []
    for spec in specs:
        try:
            found, note = scorers(spec)
        except loading.ModelError as error:
            found, note = [], str(error).partition("\n")[0]
        if note:
            answers.append(PairAnswer(spec, "", "", False, math.nan, math.nan, note))
        for scorer in found:
            first, second = np.exp(pair_logprobs(scorer, [pair])[0])
            answers.append(PairAnswer(scorer.label, scorer.method, scorer.weights, scorer.trained, float(first),
                                      float(second)))
    return pair, answers
