"""Each family's pretraining task made visible, and the fine-tuned tasks people try first: BERT's next-sentence
prediction, ALBERT's sentence-order prediction (A-B and B-A), RoBERTa's dynamic masking against BERT's static mask,
DistilBERT against its teacher BERT (guesses, agreement, measured speed), sentiment and extractive QA.

Every result says whether the head that produced it was trained (`head_trained`): a head newly initialised when a base
checkpoint is loaded into a task class (the tutorials' trap) gives random numbers, which the UI must not present.

    >>> nsp = next_sentence(nsp_model("bert-base-uncased"), "I went out.", "It was raining.")   # doctest: +SKIP
    >>> nsp.probs       # (2,): [B follows A, B is random], sums to 1
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from model_zoo import loading
from model_zoo import text as text_layer
from model_zoo.facts import max_tokens
from model_zoo.fill_mask import FillMaskResult, fill_mask, fill_mask_model, model_inputs, prepare
from model_zoo.masking import KEEP, MASK, RANDOM, Masking, bert_masking, dynamic_masking
from model_zoo.registry import CHECKPOINTS, FAMILIES, Capability, Checkpoint, default_checkpoint, head_class, task_class
from model_zoo.tokenization import InputError, readable_token, tokenize

C = Capability
NSP_LABELS = ("B follows A", "B is a random sentence")     # BertForPreTraining seq_relationship: index 0 = is next
SOP_LABELS = ("in order", "swapped")                        # AlbertForPreTraining sop_logits: index 0 = in order


def _with_capability(spec: str | Checkpoint, capability: Capability) -> Checkpoint:
    """The checkpoint itself when it has the head, else the same weights through the registry's class that has it
    (registry.head_class; the head is then new)."""
    checkpoint = spec if isinstance(spec, Checkpoint) else loading.resolve(spec)
    family, model_class = head_class(capability)
    if checkpoint.family != family:
        raise InputError(f"This needs a {family} checkpoint; '{checkpoint.key}' is a {checkpoint.family} one.")
    if capability in checkpoint.capabilities:
        return checkpoint
    return loading.with_class(checkpoint, model_class)


def _pair_tensors(loaded: loading.LoadedModel, a: str, b: str) -> dict:
    if not (a or "").strip() or not (b or "").strip():
        raise InputError("Both sentences are needed: the text is sentence A and the second sentence is B.")
    tokenizer = loaded.tokenizer
    a, b = (text_layer.native(tokenizer, s) for s in (a, b))       # a mask marker, as the model's own mask token
    limit = max_tokens(loaded.config)
    length = len(tokenizer(a, b)["input_ids"])
    if length > limit:
        raise InputError(f"The pair is {length} tokens long; this model takes at most {limit}. Shorten it.")
    encoded = tokenizer(a, b, return_token_type_ids=True, return_tensors="pt")
    return {k: v.to(loaded.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask",
                                                                       "token_type_ids")}


# ---------------------------------------------------------------------------------------------------- NSP and SOP
@dataclass(frozen=True)
class PairScore:
    labels: tuple[str, str]
    probs: np.ndarray            # (2,) float32, sums to 1
    logits: np.ndarray           # (2,) float32
    tokens: int                  # length of the pair input
    head_trained: bool


def nsp_model(spec: str | Checkpoint) -> loading.LoadedModel:
    return loading.load(_with_capability(spec, C.NEXT_SENTENCE))


def sop_model(spec: str | Checkpoint) -> loading.LoadedModel:
    return loading.load(_with_capability(spec, C.SENTENCE_ORDER))


def _pair_head(loaded, a: str, b: str, key: str, labels, capability) -> PairScore:
    import torch
    inputs = _pair_tensors(loaded, a, b)
    with torch.inference_mode():
        logits = loaded.model(**inputs)[key][0].float()  # (2,)
    return PairScore(labels=labels, probs=logits.softmax(-1).cpu().numpy(), logits=logits.cpu().numpy(),
                     tokens=int(inputs["input_ids"].shape[1]), head_trained=loaded.report.head_is_trained(capability))


def next_sentence(loaded: loading.LoadedModel, a: str, b: str) -> PairScore:
    """BERT's NSP head on "[CLS] A [SEP] B [SEP]": probability that B follows A (index 0)."""
    return _pair_head(loaded, a, b, "seq_relationship_logits", NSP_LABELS, C.NEXT_SENTENCE)


@dataclass(frozen=True)
class OrderScore:
    forward: PairScore           # A then B
    backward: PairScore          # B then A


def sentence_order(loaded: loading.LoadedModel, a: str, b: str) -> OrderScore:
    """ALBERT's SOP head for A-B and for B-A (a trained head should call exactly one of them 'in order')."""
    return OrderScore(_pair_head(loaded, a, b, "sop_logits", SOP_LABELS, C.SENTENCE_ORDER),
                      _pair_head(loaded, b, a, "sop_logits", SOP_LABELS, C.SENTENCE_ORDER))


# ---------------------------------------------------------------------------------------------------- DistilBERT
def teacher_of(student: str) -> str:
    """The registry key of a student's teacher (Checkpoint.teacher); for any other student (a custom folder), the
    default checkpoint of the family the distilled family learned from."""
    checkpoint = CHECKPOINTS.get((student or "").strip())
    if checkpoint is not None and checkpoint.teacher:
        return checkpoint.teacher
    return default_checkpoint(next(f.distilled_from for f in FAMILIES.values() if f.distilled_from)).key


@dataclass(frozen=True)
class TeacherComparison:
    student: FillMaskResult
    teacher: FillMaskResult
    top1_agree: np.ndarray       # (M,) bool
    overlap: np.ndarray          # (M,) float: |top-k(student) ∩ top-k(teacher)| / k, compared as token strings
    student_ms: float            # median forward time on this machine
    teacher_ms: float
    speed_ratio: float           # teacher_ms / student_ms
    runs: int
    student_params: int
    teacher_params: int


def forward_ms(loaded: loading.LoadedModel, text: str, runs: int = 5) -> float:
    """Median wall time of one forward on `text` (after one warm-up run), in milliseconds."""
    import torch
    _, tokens, positions = prepare(loaded.tokenizer, loaded.config, text)
    inputs = model_inputs(loaded, tokens.ids, positions)
    times = []
    with torch.inference_mode():
        loaded.model(**inputs)
        for _ in range(runs):
            started = time.perf_counter()
            loaded.model(**inputs)
            if str(loaded.device).startswith("cuda"):
                torch.cuda.synchronize()
            times.append((time.perf_counter() - started) * 1000)
    return float(statistics.median(times))


def student_vs_teacher(student: loading.LoadedModel, teacher: loading.LoadedModel, text: str, k: int = 5,
                       runs: int = 5) -> TeacherComparison:
    s, t = fill_mask(student, text, k), fill_mask(teacher, text, k)
    agree = np.array([a.tokens[0] == b.tokens[0] for a, b in zip(s.masks, t.masks)], dtype=bool)
    overlap = np.array([len(set(a.tokens) & set(b.tokens)) / len(a.tokens) for a, b in zip(s.masks, t.masks)])
    s_ms, t_ms = forward_ms(student, text, runs), forward_ms(teacher, text, runs)
    return TeacherComparison(student=s, teacher=t, top1_agree=agree, overlap=overlap, student_ms=s_ms,
                             teacher_ms=t_ms, speed_ratio=t_ms / max(s_ms, 1e-9), runs=runs,
                             student_params=student.report.n_parameters, teacher_params=teacher.report.n_parameters)


def teacher_model(spec: str) -> loading.LoadedModel:
    """A teacher for a distilled student: a checkpoint of a family that some family is distilled from."""
    checkpoint = loading.resolve(spec)
    teachers = {f.distilled_from: f for f in FAMILIES.values() if f.distilled_from}
    if checkpoint.family not in teachers:
        names = " or ".join(FAMILIES[t].name for t in teachers)
        raise InputError(f"A teacher here is a {names} checkpoint (what {teachers[next(iter(teachers))].name} was "
                         f"distilled from); '{spec}' is a {FAMILIES[checkpoint.family].name} checkpoint.")
    return fill_mask_model(checkpoint)


# ---------------------------------------------------------------------------------------------------- dynamic masking
@dataclass(frozen=True)
class MaskingView:
    tokens: list[str]            # (T,) readable
    special: np.ndarray          # (T,) bool
    static: Masking              # BERT: drawn once, the same every epoch
    epochs: list[Masking]        # RoBERTa: one fresh draw per epoch
    shown: list[list[str]]       # per epoch (static first): what the model sees at each position, readable
    seed: int


def masking_view(tokenizer, text: str, epochs: int = 4, seed: int = 0) -> MaskingView:
    """BERT's single static mask against RoBERTa's dynamic masks for `epochs` epochs, reproducible from `seed`.
    Static uses `seed`; dynamic epoch e uses seed + 1000 + e, so the two are drawn independently."""
    if tokenizer.mask_token_id is None:
        raise InputError("This tokenizer has no mask token.")
    epochs = int(max(1, min(int(epochs), 12)))
    seed = int(seed)
    tokens = tokenize(tokenizer, text, max_length=512)
    kwargs = dict(mask_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                  forbidden_ids=tuple(tokenizer.all_special_ids))
    static = bert_masking(tokens.ids, tokens.special, seed=seed, **kwargs)
    dynamic = dynamic_masking(tokens.ids, tokens.special, epochs=epochs, seed=seed + 1000, **kwargs)

    def seen(m: Masking) -> list[str]:
        return [readable_token(tokenizer, t) for t in tokenizer.convert_ids_to_tokens(m.corrupted.tolist())]
    return MaskingView(tokens=tokens.readable, special=tokens.special, static=static, epochs=dynamic,
                       shown=[seen(static)] + [seen(m) for m in dynamic], seed=seed)


@dataclass(frozen=True)
class MaskingStats:
    draws: int
    chosen_rate: float           # chosen positions / non-special tokens, over all draws
    split: dict[str, float]      # fraction of chosen positions that became mask / random / keep
    coverage: float              # fraction of non-special positions chosen at least once over the draws


def masking_stats(tokenizer, text: str, draws: int = 1000, seed: int = 0) -> MaskingStats:
    """Many dynamic draws at once: the 15% rate and the 80/10/10 split, as measured."""
    tokens = tokenize(tokenizer, text, max_length=512)
    runs = dynamic_masking(tokens.ids, tokens.special, mask_id=tokenizer.mask_token_id, vocab_size=len(tokenizer),
                           epochs=draws, seed=seed, forbidden_ids=tuple(tokenizer.all_special_ids))
    candidates = int((~tokens.special).sum())
    kinds = [k for m in runs for k in m.kinds]
    ever = np.zeros(len(tokens), dtype=bool)
    for m in runs:
        ever[m.positions] = True
    return MaskingStats(draws=draws, chosen_rate=len(kinds) / max(1, candidates * draws),
                        split={kind: kinds.count(kind) / max(1, len(kinds)) for kind in (MASK, RANDOM, KEEP)},
                        coverage=float(ever[~tokens.special].mean()) if candidates else 0.0)


# ---------------------------------------------------------------------------------------------------- tasks
def task_model(spec: str | Checkpoint, task: Capability) -> loading.LoadedModel:
    """The checkpoint with its task head; a checkpoint without one is loaded through the task class (new head)."""
    checkpoint = spec if isinstance(spec, Checkpoint) else loading.resolve(spec)
    if task in checkpoint.capabilities:
        return loading.load(checkpoint)
    return loading.load(loading.with_class(checkpoint, task_class(checkpoint.family, task)))


@dataclass(frozen=True)
class Classification:
    labels: list[str]
    probs: np.ndarray            # (C,) float32, sums to 1
    head_trained: bool
    newly_initialized: tuple[str, ...]


def classify(loaded: loading.LoadedModel, text: str) -> Classification:
    import torch
    tokens = tokenize(loaded.tokenizer, text, max_length=max_tokens(loaded.config))
    ids = torch.as_tensor(tokens.ids, device=loaded.device)[None]  # (1, T)
    with torch.inference_mode():
        logits = loaded.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].float()  # (C,)
    id2label = loaded.config.id2label or {}
    labels = [str(id2label.get(i, f"LABEL_{i}")) for i in range(logits.shape[0])]
    return Classification(labels=labels, probs=logits.softmax(-1).cpu().numpy(),
                          head_trained=loaded.report.head_is_trained(C.SEQUENCE_CLASSIFICATION),
                          newly_initialized=loaded.report.newly_initialized)


@dataclass(frozen=True)
class Answer:
    text: str                    # "" when the model says the context holds no answer
    start: int                   # character span in the context
    end: int
    score: float                 # p(start) * p(end) of the best span
    no_answer_score: float       # p(start=CLS-or-first) * p(end=same): SQuAD 2.0's "no answer"
    head_trained: bool
    newly_initialized: tuple[str, ...]


def answer(loaded: loading.LoadedModel, question: str, context: str, max_answer_tokens: int = 30) -> Answer:
    """Extractive QA: the best span of `context` (end >= start, at most `max_answer_tokens` tokens)."""
    import torch
    if not (question or "").strip() or not (context or "").strip():
        raise InputError("Both a question and a context are needed.")
    tokenizer = loaded.tokenizer
    limit = max_tokens(loaded.config)
    encoded = tokenizer(question, context, return_offsets_mapping=True, return_token_type_ids=True,
                        truncation="only_second", max_length=limit)
    sequence_ids = encoded.sequence_ids()
    inputs = {"input_ids": torch.tensor([encoded["input_ids"]], device=loaded.device)}  # (1, T)
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    if "token_type_ids" in encoded and FAMILIES[loaded.checkpoint.family].token_types:
        inputs["token_type_ids"] = torch.tensor([encoded["token_type_ids"]], device=loaded.device)
    with torch.inference_mode():
        output = loaded.model(**inputs)
        start = output.start_logits[0].float().softmax(-1).cpu().numpy()  # (T,)
        end = output.end_logits[0].float().softmax(-1).cpu().numpy()  # (T,)
    context_positions = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not context_positions:
        raise InputError("The question is too long: no room is left for the context.")
    best, span = -1.0, (context_positions[0], context_positions[0])
    in_context = set(context_positions)
    for i in context_positions:
        for j in range(i, min(i + max_answer_tokens, len(end))):
            if j in in_context and start[i] * end[j] > best:
                best, span = float(start[i] * end[j]), (i, j)
    cls_position = int(np.flatnonzero(np.asarray(encoded["input_ids"]) == tokenizer.cls_token_id)[0]) \
        if tokenizer.cls_token_id in encoded["input_ids"] else 0
    no_answer = float(start[cls_position] * end[cls_position])
    offsets = encoded["offset_mapping"]
    char_start, char_end = offsets[span[0]][0], offsets[span[1]][1]
    text = context[char_start:char_end] if best >= no_answer else ""
    return Answer(text=text, start=int(char_start), end=int(char_end), score=best, no_answer_score=no_answer,
                  head_trained=loaded.report.head_is_trained(C.QUESTION_ANSWERING),
                  newly_initialized=loaded.report.newly_initialized)
