"""Each family's pretraining corruption of ONE input: what its objective lets the model see, what it must predict,
and what the project's mini checkpoint of that family actually predicts there.

Objectives (the families' real ones, as pretrain trains them):
  * masked LM, static masking (BERT): 15% of the tokens chosen; 80% [MASK], 10% a random token, 10% kept; the same
    mask in every epoch; loss on the chosen tokens only;
  * masked LM, dynamic masking (RoBERTa): the same rule drawn anew each epoch (epochs 1 and 2 shown);
  * next-sentence prediction (BERT): [CLS] A [SEP] B [SEP], B the real continuation or a segment of another document;
  * sentence-order prediction (ALBERT): the same two segments in order or swapped;
  * replaced-token detection (ELECTRA): a generator fills the chosen positions with samples; the discriminator labels
    EVERY token original or replaced;
  * permutation LM (XLNet): a random factorisation order; the last ~15% of it are targets, each seeing only the tokens
    before it in the order (its content, never its own token), in their original positions.

    >>> rows = corruptions("The cat sat on the mat. It was warm there.", seed=0)     # doctest: +SKIP
    >>> rows[0].objective, [s.role for s in rows[0].slots][:4]
    ('Masked LM, static masking', ['special', 'context', 'mask', 'context'])
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model_zoo import loading
from model_zoo.masking import KEEP, MASK, RANDOM, bert_masking  # noqa: F401  (roles of chosen tokens)
from model_zoo.tokenization import InputError, readable_token, tokenize
from model_zoo.progress import Report, ignore

MAX_CHARS = 600          # one short paragraph: every objective runs a forward on it
RATE = 0.15              # BERT's share of chosen tokens (and XLNet's share of targets here)
OTHER_DOCUMENTS = Path(__file__).resolve().parent.parent / "assets" / "mini" / "heldout_sample.json"

# Slot roles: what a position is to the objective.
SPECIAL, CONTEXT = "special", "context"           # no loss here
REPLACED, SAMPLED_ORIGINAL = "replaced", "sampled-original"
ORIGINAL = "original"                              # ELECTRA: untouched, yet still a target ("original")
TARGET = "target"                                  # XLNet: predicted from the tokens before it in the order
SEGMENT_A, SEGMENT_B = "segment-a", "segment-b"    # NSP / SOP inputs (the loss is on the pair's label)

CHECKPOINTS = {"mlm": "mini-bert", "dynamic": "mini-roberta", "nsp": "mini-bert", "sop": "mini-albert",
               "rtd": ("mini-electra-generator", "mini-electra-discriminator"), "plm": "mini-xlnet"}


@dataclass(frozen=True)
class Slot:
    shown: str                    # the token as the model sees it
    role: str                     # one of the roles above, or MASK / RANDOM / KEEP
    original: str                 # the token of the user's text at this position
    target: str | None = None     # what the loss asks for here (None: no loss at this position)
    predicted: str | None = None  # the mini checkpoint's answer here (top-1 token, or "replaced 0.93")
    correct: bool | None = None   # whether that answer matches the target
    step: int | None = None       # XLNet: place in the factorisation order (1-based)


@dataclass(frozen=True)
class Corruption:
    key: str                      # "mlm", "dynamic-1", "dynamic-2", "nsp-next", "nsp-random", "sop-order", ...
    objective: str                # "Masked LM, static masking"
    family: str                   # registry family key
    checkpoint: str               # the mini checkpoint that answered ("" when none could)
    slots: list[Slot]
    signal: str                   # where the loss is: "loss on 3 of 21 tokens"
    label: str | None = None      # NSP / SOP: the pair's true label
    predicted_label: str | None = None
    probability: float | None = None  # of the predicted label
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- input
def split_segments(text: str) -> tuple[str, str, bool]:
    """(A, B, split_at_sentence): the text cut after its middle sentence, or between its middle words."""
    sentences = [s for s in re.split(r"(?<=[.!?;])\s+", text.strip()) if s]
    if len(sentences) >= 2:
        half = len(sentences) // 2
        return " ".join(sentences[:half]), " ".join(sentences[half:]), True
    words = text.split()
    if len(words) < 2:
        raise InputError("Sentence-pair objectives need at least two words.")
    half = len(words) // 2
    return " ".join(words[:half]), " ".join(words[half:]), False


def other_document_segment(seed: int) -> str:
    """A segment of another (held-out) document: NSP's 'random next' B."""
    documents = json.loads(OTHER_DOCUMENTS.read_text())
    rng = np.random.default_rng([seed, 11])
    document = documents[int(rng.integers(len(documents)))]
    return document["segments"][int(rng.integers(len(document["segments"])))]


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InputError("The text is empty: type a sentence or two first.")
    if len(text) > MAX_CHARS:
        raise InputError(f"The text has {len(text):,} characters; this view takes at most {MAX_CHARS} (every "
                         f"objective runs on it).")
    return text


# ---------------------------------------------------------------------------------------------------- MLM
def _mlm_top1(loaded, ids: np.ndarray, positions: np.ndarray) -> list[str]:
    """The model's first guess at each position of `ids` (fill_mask's own inputs and logits: one forward)."""
    import torch
    from model_zoo import fill_mask as fm
    with torch.inference_mode():
        output = loaded.model(**fm.model_inputs(loaded, ids, positions))
        best = fm.mask_logits(loaded, output, positions).argmax(-1).cpu().tolist()
    tok = loaded.tokenizer
    return [readable_token(tok, t) for t in tok.convert_ids_to_tokens(best)]


def masked_lm(loaded, text: str, seed: int, key: str, objective: str, notes: list[str]) -> Corruption:
    tok = loaded.tokenizer
    tokens = tokenize(tok, text, max_length=128)
    m = bert_masking(tokens.ids, tokens.special, tok.mask_token_id, len(tok), seed=seed,
                     forbidden_ids=tuple(tok.all_special_ids))
    predicted = dict(zip(m.positions.tolist(), _mlm_top1(loaded, m.corrupted, m.positions))) if len(m.positions) else {}
    kinds = dict(zip(m.positions.tolist(), m.kinds))
    shown = [readable_token(tok, t) for t in tok.convert_ids_to_tokens(m.corrupted.tolist())]
    slots = []
    for i, original in enumerate(tokens.readable):
        if tokens.special[i]:
            slots.append(Slot(shown[i], SPECIAL, original))
        elif i in kinds:
            slots.append(Slot(shown[i], kinds[i], original, target=original, predicted=predicted[i],
                              correct=predicted[i] == original))
        else:
            slots.append(Slot(shown[i], CONTEXT, original))
    real = int((~tokens.special).sum())
    return Corruption(key=key, objective=objective, family=loaded.checkpoint.family, checkpoint=loaded.checkpoint.key,
                      slots=slots, signal=f"loss on {len(m.positions)} of {real} tokens (the chosen ones)",
                      notes=notes)


# ---------------------------------------------------------------------------------------------------- NSP / SOP
def _pair_slots(tok, a: str, b: str) -> list[Slot]:
    tokens = tokenize(tok, a, b, max_length=128)
    roles = {0: SEGMENT_A, 1: SEGMENT_B}
    return [Slot(r, SPECIAL if tokens.special[i] else roles.get(int(tokens.segment[i]), CONTEXT), r)
            for i, r in enumerate(tokens.readable)]


def pair_objectives(nsp_loaded, sop_loaded, text: str, seed: int) -> list[Corruption]:
    from model_zoo import sentence_tasks as st
    a, b, at_sentence = split_segments(text)
    where = "after its middle sentence" if at_sentence else "between its middle words (one sentence only)"
    rows = []
    if nsp_loaded is not None:
        other = other_document_segment(seed)
        for key, second, label in (("nsp-next", b, "IsNext"), ("nsp-random", other, "NotNext")):
            score = st.next_sentence(nsp_loaded, a, second)
            best = int(np.argmax(score.probs))
            rows.append(Corruption(
                key=key, objective="Next-sentence prediction: " + ("the real B" if label == "IsNext"
                                                                    else "B from another document"),
                family="bert", checkpoint=nsp_loaded.checkpoint.key, slots=_pair_slots(nsp_loaded.tokenizer, a, second),
                signal="one label for the whole pair (read from [CLS]), plus masked LM on the tokens", label=label,
                predicted_label=("IsNext", "NotNext")[best], probability=float(score.probs[best]),
                notes=[f"Your text cut {where}."] + ([] if label == "IsNext" else
                                                       ["B is a segment of another held-out document: topic alone "
                                                        "can give this away, the weakness ALBERT's SOP fixes."])))
    if sop_loaded is not None:
        both = st.sentence_order(sop_loaded, a, b)  # scores A-B and B-A
        for key, first, second, label, pair in (("sop-order", a, b, "in order", both.forward),
                                                ("sop-swapped", b, a, "swapped", both.backward)):
            best = int(np.argmax(pair.probs))
            rows.append(Corruption(
                key=key, objective=f"Sentence-order prediction: {'A then B' if label == 'in order' else 'B then A'}",
                family="albert", checkpoint=sop_loaded.checkpoint.key,
                slots=_pair_slots(sop_loaded.tokenizer, first, second),
                signal="one label for the whole pair, plus masked LM on the tokens", label=label,
                predicted_label=("in order", "swapped")[best], probability=float(pair.probs[best]),
                notes=[f"Your text cut {where}; both segments always come from it, so only their order tells."]))
    return rows


# ---------------------------------------------------------------------------------------------------- RTD
def replaced_token_detection(generator, discriminator, text: str, seed: int) -> Corruption:
    from model_zoo import electra
    result = electra.replace_and_detect(generator, discriminator, text, rate=RATE, seed=seed)
    d = result.detection
    slots = []
    for i, shown in enumerate(d.tokens):
        if d.special[i]:
            slots.append(Slot(shown, SPECIAL, d.originals[i]))
            continue
        role = REPLACED if d.replaced[i] else (SAMPLED_ORIGINAL if d.chosen[i] else ORIGINAL)
        target = "replaced" if d.replaced[i] else "original"
        says = "replaced" if d.prob_replaced[i] >= 0.5 else "original"
        confidence = float(d.prob_replaced[i] if says == "replaced" else 1 - d.prob_replaced[i])
        slots.append(Slot(shown, role, d.originals[i], target=target, predicted=f"{says} {confidence:.2f}",
                          correct=says == target))
    real = int((~d.special).sum())
    auc = d.metrics.auc
    notes = [f"The generator ({generator.checkpoint.key}) filled {int(d.chosen.sum())} chosen positions with samples; "
             f"{int(d.replaced.sum())} differ from the original (a sample equal to the original counts as original)."]
    if auc is not None:
        notes.append(f"On this input the discriminator's ROC AUC is {auc:.2f}.")
    return Corruption(key="rtd", objective="Replaced-token detection", family="electra",
                      checkpoint=discriminator.checkpoint.key, slots=slots,
                      signal=f"loss on all {real} tokens (original or replaced?), not only the chosen ones",
                      notes=notes)


# ---------------------------------------------------------------------------------------------------- PLM
def permutation_lm(loaded, text: str, seed: int) -> Corruption:
    from model_zoo import permutation
    tokens, _ = permutation.sentence(loaded, text)
    n = int((~tokens.special).sum())
    if n < 2:
        raise InputError("Permutation LM needs at least two tokens.")
    count = max(1, int(round(RATE * n)))
    order = permutation.make_order("random", n, seed)
    targets = sorted(int(k) for k in order[-count:])                  # the last ~15% of the order are predicted
    result = permutation.predict_targets(loaded, text, "random", seed=seed,
                                         targets_text=" ".join(str(k) for k in targets), top_k=1)
    view = result.view
    by_position = {p.position: p for p in result.predictions}
    slots = []
    for i, shown in enumerate(view.tokens):
        if view.special[i]:
            slots.append(Slot(shown, SPECIAL, shown))
        elif i in by_position:
            p = by_position[i]
            slots.append(Slot("?", TARGET, shown, target=shown, predicted=p.top_tokens[0],
                              correct=p.true_rank == 1, step=p.step))
        else:
            number = int(np.flatnonzero(view.content == i)[0]) + 1
            slots.append(Slot(shown, CONTEXT, shown, step=view.step_of(number)))
    return Corruption(key="plm", objective="Permutation language modeling", family="xlnet",
                      checkpoint=loaded.checkpoint.key, slots=slots,
                      signal=f"loss on {len(targets)} of {n} tokens: the last {len(targets)} of a random order",
                      notes=["Nothing is replaced: a target sees the tokens before it in the order (numbers above "
                             "the tokens), at their true positions, and where it stands itself, but never its own "
                             "token (two-stream attention). No [MASK] ever enters the input."])


# ---------------------------------------------------------------------------------------------------- all
def _load(key: str, notes: list[str]):
    """The mini checkpoint `key` through the registry, or None with a note (e.g. removed from the bundle)."""
    from model_zoo.registry import CHECKPOINTS as REGISTRY
    if key not in REGISTRY:
        notes.append(f"{key} is not bundled here: its objective is skipped.")
        return None
    return loading.load(REGISTRY[key])


def corruptions(text: str, seed: int = 0, report: Report = ignore) -> tuple[list[Corruption], list[str]]:
    """Every objective on the same text with the same seed, answered by the bundled mini checkpoints.
    Returns (rows, notes about skipped objectives). `report(fraction, message)`: model_zoo.progress."""
    text = check_text(text)
    seed = int(seed)
    skipped: list[str] = []
    rows: list[Corruption] = []
    steps = [("masked LM", lambda: _mlm_rows(text, seed, skipped)),
             ("sentence pairs", lambda: _pair_rows(text, seed, skipped)),
             ("replaced-token detection", lambda: _rtd_rows(text, seed, skipped)),
             ("permutation LM", lambda: _plm_rows(text, seed, skipped))]
    for i, (name, run) in enumerate(steps):
        report(i / len(steps), f"{name} (mini checkpoints load on first use)…")
        rows.extend(run())
    return rows, skipped


def _mlm_rows(text, seed, skipped):
    rows = []
    bert = _load(CHECKPOINTS["mlm"], skipped)  # BertForPreTraining: the MLM head here, the NSP head below
    if bert is not None:
        rows.append(masked_lm(bert, text, seed, "mlm", "Masked LM, static masking",
                              ["The same positions are masked in every epoch (BERT's data was masked once, "
                               "duplicated 10 times)."]))
    roberta = _load(CHECKPOINTS["dynamic"], skipped)
    if roberta is not None:
        for epoch in (1, 2):
            rows.append(masked_lm(roberta, text, seed + epoch, f"dynamic-{epoch}",
                                  f"Masked LM, dynamic masking: epoch {epoch}",
                                  ["A new mask each time the text is seen: compare epochs 1 and 2."] if epoch == 1
                                  else []))
    return rows


def _pair_rows(text, seed, skipped):
    nsp = _load(CHECKPOINTS["nsp"], skipped)
    sop = _load(CHECKPOINTS["sop"], skipped)
    return pair_objectives(nsp, sop, text, seed)


def _rtd_rows(text, seed, skipped):
    generator_key, discriminator_key = CHECKPOINTS["rtd"]
    generator, discriminator = _load(generator_key, skipped), _load(discriminator_key, skipped)
    if generator is None or discriminator is None:
        return []
    return [replaced_token_detection(generator, discriminator, text, seed)]


def _plm_rows(text, seed, skipped):
    xlnet = _load(CHECKPOINTS["plm"], skipped)
    return [] if xlnet is None else [permutation_lm(xlnet, text, seed)]
