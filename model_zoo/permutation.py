"""XLNet's permutation language modelling, live: orders, perm_mask / target_mapping, per-order scores, mems.

Numbering: the user numbers the sentence's NON-special tokens 1..n from the left (XLNet's `<sep> <cls>` sit at the end
and are not numbered). An order is a permutation of 1..n: `3 1 4 2` predicts token 3 first (seeing nothing but the
special tokens), then token 1 (seeing token 3), and so on.

Special tokens are always visible context and never targets. They are placed at the very START of every order: they
see each other but no real token. (If `<cls>` could see every token, its content stream would leak a target's own
identity back to that target from the second layer on.)

perm_mask[i, j] = 1 means "i may NOT attend to j" (transformers' convention). For a real token i it is 1 exactly for
the real tokens j at or after i in the order, itself included: that is the query stream's mask (a target sees its
position, never its own token). XLNet derives the content stream's mask from the same tensor by letting every token
see itself (transformers subtracts the identity), so one perm_mask serves both streams.

Because of the two streams, one forward with target_mapping selecting every token gives each token's
log p(token | tokens before it in the order): the whole-sentence score under an order costs one pass.

    >>> view = order_view(special=np.array([0, 0, 0, 1, 1], bool), order=[3, 1, 2])   # doctest: +SKIP
    >>> view.perm_mask[0]     # token 1 (seq 0) is second: it sees token 3 (seq 2) and the specials: [1, 1, 0, 0, 0]
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import numpy as np

from model_zoo.tokenization import InputError, TokenizedText, tokenize

MAX_ORDER_TOKENS = 64     # the quadratic views (mask heatmap, per-order scores) take at most this many real tokens
MAX_MEMORY_TOKENS = 512   # the mems demo's longest text
ORDER_KINDS = ("left-to-right", "right-to-left", "random", "typed", "targets last")


@dataclass(frozen=True)
class OrderView:
    """One factorization order over one tokenized sentence, and the mask that enforces it."""
    name: str
    tokens: list[str]          # (T,) readable tokens of the whole input, specials included
    special: np.ndarray        # (T,) bool
    content: np.ndarray        # (n,) int: sequence index of real token number k+1 (numbering is left to right)
    order: np.ndarray          # (n,) int: 1-based token numbers in factorization order
    perm_mask: np.ndarray      # (T, T) float32: 1 = row i may NOT attend to column j (query stream)

    @property
    def n(self) -> int:
        return len(self.content)

    def step_of(self, number: int) -> int:
        """1-based place of token `number` in the order."""
        return int(np.flatnonzero(self.order == number)[0]) + 1

    def sequence(self) -> list[tuple[int, int, str]]:
        """(step, number, token) in order: what is predicted when."""
        return [(s + 1, int(k), self.tokens[self.content[k - 1]]) for s, k in enumerate(self.order)]


@dataclass(frozen=True)
class TargetPrediction:
    number: int                # 1-based token number
    position: int              # sequence index
    token: str                 # the true token (readable)
    step: int                  # its place in the order
    visible: list[str]         # real tokens it may see (those before it in the order)
    top_tokens: list[str]
    top_probs: np.ndarray      # (k,)
    true_prob: float
    true_rank: int             # 1 = the model's first choice


@dataclass(frozen=True)
class PermutationResult:
    view: OrderView
    target_mapping: np.ndarray  # (P, T) one-hot rows
    predictions: list[TargetPrediction]


@dataclass(frozen=True)
class OrderScore:
    name: str
    order: np.ndarray          # (n,) 1-based numbers
    tokens: list[str]          # (n,) the tokens in the order they are predicted
    logprobs: np.ndarray       # (n,) log p(token | tokens before it in the order), in order of steps

    @property
    def total(self) -> float:
        return float(self.logprobs.sum())

    @property
    def perplexity(self) -> float:
        return float(np.exp(-self.logprobs.mean()))


@dataclass(frozen=True)
class MemoryResult:
    segment_len: int
    segments: list[list[str]]           # readable tokens per segment
    with_memory: list[np.ndarray]       # per segment (L_s,) left-to-right log-probs, mems from earlier segments
    without_memory: list[np.ndarray]    # per segment, each segment alone
    texts: list[str] = field(default_factory=list)  # per segment: its pieces joined into words ("Marie Curie")

    def totals(self) -> tuple[float, float]:
        return (float(sum(a.sum() for a in self.with_memory)), float(sum(a.sum() for a in self.without_memory)))


# ---------------------------------------------------------------------------------------------------- orders
def parse_order(text: str, n: int) -> np.ndarray:
    """'3 1 4 2' (spaces or commas) -> array([3, 1, 4, 2]); a clear message unless it is a permutation of 1..n."""
    parts = [p for p in re.split(r"[\s,;]+", (text or "").strip()) if p]
    if not parts:
        example = " ".join(map(str, range(n, 0, -1)))
        raise InputError(f"Type an order: the numbers 1 to {n} in any order, e.g. '{example}'.")
    bad = [p for p in parts if not p.isdigit()]
    if bad:
        raise InputError(f"The order may contain only whole numbers; '{bad[0]}' is not one.")
    numbers = [int(p) for p in parts]
    outside = sorted({k for k in numbers if not 1 <= k <= n})
    repeated = sorted({k for k in numbers if numbers.count(k) > 1})
    missing = sorted(set(range(1, n + 1)) - set(numbers))
    if outside or repeated or missing:
        problems = []
        if outside:
            problems.append(f"outside 1..{n}: {', '.join(map(str, outside))}")
        if repeated:
            problems.append(f"repeated: {', '.join(map(str, repeated))}")
        if missing:
            problems.append(f"missing: {', '.join(map(str, missing))}")
        raise InputError(f"The order must be a permutation of 1..{n} (the sentence has {n} tokens besides the "
                         f"special ones); {'; '.join(problems)}.")
    return np.asarray(numbers, dtype=np.int64)


def whole_word_targets(tokens: TokenizedText, count: int = 2) -> str:
    """Token numbers of `count` targets that are whole words (a word of one piece, not a lone space), from the
    sentence's second word on: what 'auto' targets mean (a sub-word piece, "che" of "chef", teaches little)."""
    content = np.flatnonzero(~tokens.special)                                 # (n,) positions of the sentence
    words = tokens.word_index[content]
    whole = [k + 1 for k, w in enumerate(words)
             if (words == w).sum() == 1 and tokens.readable[content[k]].strip("␣ ")]
    return " ".join(str(k) for k in (whole[1:1 + count] or whole[:count]))


def parse_targets(text: str, n: int) -> np.ndarray:
    """'2 4' -> array([2, 4]) (1-based token numbers, order kept, duplicates dropped)."""
    parts = [p for p in re.split(r"[\s,;]+", (text or "").strip()) if p]
    if not parts:
        raise InputError(f"Choose at least one target: a token number between 1 and {n}.")
    numbers = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= n:
            raise InputError(f"Target '{part}' is outside the sentence: targets are token numbers 1 to {n}.")
        if int(part) not in numbers:
            numbers.append(int(part))
    return np.asarray(numbers, dtype=np.int64)


def make_order(kind: str, n: int, seed: int = 0, typed: str = "", targets=None) -> np.ndarray:
    """A factorization order of 1..n: left-to-right, right-to-left, random (seeded), typed, or targets last
    (XLNet's pretraining predicts only the last tokens of an order: the others are all context)."""
    if kind == "left-to-right":
        return np.arange(1, n + 1)
    if kind == "right-to-left":
        return np.arange(n, 0, -1)
    if kind == "random":
        return np.random.default_rng(int(seed)).permutation(n) + 1
    if kind == "typed":
        return parse_order(typed, n)
    if kind == "targets last":
        chosen = [int(t) for t in (targets if targets is not None else [])]
        return np.asarray([k for k in range(1, n + 1) if k not in chosen] + chosen, dtype=np.int64)
    raise InputError(f"Unknown order kind {kind!r}; choose one of: {', '.join(ORDER_KINDS)}.")


def perm_mask_for(special: np.ndarray, order: np.ndarray) -> np.ndarray:
    """(T, T) float32 perm_mask: 1 where row i may NOT attend to column j.

    Real token i is blocked from every real token at or after it in the order (itself included: the query stream).
    Special tokens are never blocked for anyone, and themselves see no real token (they come first in every order).
    """
    special = np.asarray(special, dtype=bool)
    content = np.flatnonzero(~special)                      # (n,)
    n, T = len(content), len(special)
    if sorted(int(k) for k in order) != list(range(1, n + 1)):
        raise InputError(f"The order must be a permutation of 1..{n}.")
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(order) - 1] = np.arange(n)              # rank[k-1] = step (0-based) of token number k
    mask = np.zeros((T, T), dtype=np.float32)               # (T, T)
    mask[np.ix_(content, content)] = (rank[None, :] >= rank[:, None]).astype(np.float32)  # (n, n) later-or-self
    mask[np.ix_(np.flatnonzero(special), content)] = 1.0    # specials see no real token
    return mask


def target_mapping_for(positions, length: int) -> np.ndarray:
    """(P, T) float32 one-hot: row p selects sequence position positions[p] as the p-th target."""
    mapping = np.zeros((len(positions), length), dtype=np.float32)  # (P, T)
    mapping[np.arange(len(positions)), np.asarray(positions, dtype=np.int64)] = 1.0
    return mapping


def query_stream_inputs(special: np.ndarray, order, targets=None) -> tuple[np.ndarray, np.ndarray]:
    """For other views (e.g. attention): perm_mask (1, T, T) and target_mapping (1, P, T) for a given order.

    `order` is 1-based numbers over the non-special tokens; `targets` 1-based numbers (default: every real token).
    Pass both to XLNetLMHeadModel / XLNetModel with output_attentions=True to get (content, query) attentions.
    """
    special = np.asarray(special, dtype=bool)
    content = np.flatnonzero(~special)
    targets = np.arange(1, len(content) + 1) if targets is None else np.asarray(targets)
    return (perm_mask_for(special, np.asarray(order))[None],                       # (1, T, T)
            target_mapping_for(content[targets - 1], len(special))[None])         # (1, P, T)


def order_view(tokens: TokenizedText, order: np.ndarray, name: str) -> OrderView:
    return OrderView(name=name, tokens=list(tokens.readable), special=tokens.special.copy(),
                     content=np.flatnonzero(~tokens.special), order=np.asarray(order, dtype=np.int64),
                     perm_mask=perm_mask_for(tokens.special, order))


# ---------------------------------------------------------------------------------------------------- model
def _check_xlnet(loaded) -> None:
    if not loaded.family.two_streams or not hasattr(loaded.model, "lm_loss"):
        raise InputError(f"'{loaded.checkpoint.key}' is not an XLNet language model (XLNetLMHeadModel); "
                         f"permutation orders need XLNet's LM head.")


def sentence(loaded, text: str, cap: int = MAX_ORDER_TOKENS) -> tuple[TokenizedText, np.ndarray]:
    """The sentence as XLNet sees it (tokens, and token_type_ids (T,)), validated for the order views."""
    _check_xlnet(loaded)
    tokens = tokenize(loaded.tokenizer, text, max_length=4 * cap + 8)
    n = int((~tokens.special).sum())
    if n < 2:
        raise InputError(f"The sentence has {n} token{'s' if n != 1 else ''} besides the special ones; an order "
                         f"needs at least two (one token has only one order).")
    if n > cap or tokens.truncated:
        raise InputError(f"The sentence has {n if not tokens.truncated else 'more than ' + str(n)} tokens; the "
                         f"permutation views are quadratic in length and take at most {cap}. Shorten the text "
                         f"(the memory demo below takes longer texts).")
    encoded = loaded.tokenizer(text, return_token_type_ids=True, truncation=False)
    types = np.asarray(encoded.get("token_type_ids") or [0] * len(tokens), dtype=np.int64)
    if len(types) != len(tokens):
        types = np.zeros(len(tokens), dtype=np.int64)
    return tokens, types


def _forward_logprobs(loaded, ids: np.ndarray, types: np.ndarray, perm_mask: np.ndarray, mapping: np.ndarray):
    """log-softmax over the vocabulary for each target row: (P, V) float32 numpy."""
    import torch
    device = loaded.device
    with torch.inference_mode():
        out = loaded.model(input_ids=torch.as_tensor(ids, device=device)[None],                   # (1, T)
                           token_type_ids=torch.as_tensor(types, device=device)[None],            # (1, T)
                           perm_mask=torch.as_tensor(perm_mask, device=device)[None].to(loaded.model.dtype),
                           target_mapping=torch.as_tensor(mapping, device=device)[None].to(loaded.model.dtype),
                           use_mems=False)
        logprobs = torch.log_softmax(out.logits[0].float(), dim=-1)                               # (P, V)
    return logprobs.cpu().numpy()


def predict_targets(loaded, text: str, kind: str, seed: int = 0, typed: str = "", targets_text: str = "",
                    top_k: int = 5) -> PermutationResult:
    """Predictions for the chosen targets under one order: each target sees only the tokens before it."""
    tokens, types = sentence(loaded, text)
    n = int((~tokens.special).sum())
    if (targets_text or "").strip().lower() in ("", "auto"):
        targets_text = whole_word_targets(tokens)
    targets = parse_targets(targets_text, n)
    order = make_order(kind, n, seed, typed, targets)
    view = order_view(tokens, order, kind)
    positions = view.content[targets - 1]                                    # (P,)
    mapping = target_mapping_for(positions, len(tokens))                     # (P, T)
    logprobs = _forward_logprobs(loaded, tokens.ids, types, view.perm_mask, mapping)  # (P, V)
    from model_zoo.tokenization import readable_token
    predictions = []
    for row, (number, position) in enumerate(zip(targets, positions)):
        probs = np.exp(logprobs[row])                                        # (V,)
        top = np.argsort(-probs)[:top_k]
        true_id = int(tokens.ids[position])
        step = view.step_of(int(number))
        visible = [view.tokens[view.content[k - 1]] for k in order[:step - 1]]
        predictions.append(TargetPrediction(
            number=int(number), position=int(position), token=view.tokens[position], step=step, visible=visible,
            top_tokens=[readable_token(loaded.tokenizer, t) for t in loaded.tokenizer.convert_ids_to_tokens(
                [int(i) for i in top])],
            top_probs=probs[top].astype(np.float32), true_prob=float(probs[true_id]),
            true_rank=int((probs > probs[true_id]).sum()) + 1))
    return PermutationResult(view=view, target_mapping=mapping, predictions=predictions)


def score_order(loaded, tokens: TokenizedText, types: np.ndarray, order: np.ndarray, name: str) -> OrderScore:
    """Sum over steps of log p(token | tokens before it in the order): one forward, every real token a target."""
    view = order_view(tokens, order, name)
    positions = view.content[view.order - 1]                                 # (n,) in order of steps
    logprobs = _forward_logprobs(loaded, tokens.ids, types, view.perm_mask,
                                 target_mapping_for(positions, len(tokens)))  # (n, V)
    picked = logprobs[np.arange(len(positions)), tokens.ids[positions]]      # (n,)
    return OrderScore(name=name, order=view.order, tokens=[view.tokens[p] for p in positions],
                      logprobs=picked.astype(np.float64))


def score_orders(loaded, text: str, random_orders: int = 3, seed: int = 0, typed: str = "") -> list[OrderScore]:
    """Left-to-right, right-to-left, `random_orders` seeded random orders, and the typed order when given."""
    tokens, types = sentence(loaded, text)
    n = int((~tokens.special).sum())
    wanted = [("left-to-right", make_order("left-to-right", n)), ("right-to-left", make_order("right-to-left", n))]
    wanted += [(f"random (seed {seed + r})", make_order("random", n, seed + r)) for r in range(int(random_orders))]
    if typed and typed.strip():
        wanted.append((f"typed: {typed.strip()}", parse_order(typed, n)))
    return [score_order(loaded, tokens, types, order, name) for name, order in wanted]


def _with_memory_length(transformer, mem_len: int):
    """The XLNet transformer keeping `mem_len` tokens of memory, for one call: a shallow copy that shares every
    weight, buffer and submodule with the cached model (`copy.copy` copies only the module's own attribute table),
    so setting its mem_len changes nothing that other requests on the same model see.

    >>> view = _with_memory_length(model.transformer, 16)     # doctest: +SKIP
    >>> view.mem_len, model.transformer.mem_len, view.layer is model.transformer.layer   # 16, None, True
    """
    view = copy.copy(transformer)
    view.mem_len = mem_len   # a plain int: set in the copy's own __dict__
    return view


def memory_demo(loaded, text: str, segment_len: int = 16) -> MemoryResult:
    """Score a long text segment by segment, left to right, with and without Transformer-XL memory (`mems`).

    The text's real tokens (specials dropped) are cut into segments of `segment_len`. With memory, each segment is run
    with the mems of the previous one (a memory of `segment_len` tokens); without, each segment is scored alone. The
    first segment's scores are the same both ways. The cached model is never changed (see _with_memory_length).
    """
    import torch
    _check_xlnet(loaded)
    segment_len = int(segment_len)
    if not 2 <= segment_len <= 256:
        raise InputError("The segment length must be between 2 and 256 tokens.")
    tokens = tokenize(loaded.tokenizer, text, max_length=MAX_MEMORY_TOKENS + 2)
    real = np.flatnonzero(~tokens.special)
    if len(real) <= segment_len:
        raise InputError(f"The text has {len(real)} tokens, not more than one segment of {segment_len}: memory "
                         f"only matters for a text longer than one segment. Use a longer text or a shorter segment.")
    ids = tokens.ids[real]                                                   # (N,)
    readable = [tokens.readable[i] for i in real]
    continues = [bool(tokens.continuation[i]) for i in real]
    bounds = list(range(0, len(ids), segment_len))
    segments = [(start, min(start + segment_len, len(ids))) for start in bounds]
    transformer = _with_memory_length(loaded.model.transformer, segment_len)
    with torch.inference_mode():
        with_memory, without_memory, mems = [], [], None
        for start, stop in segments:
            seg = ids[start:stop]
            L = len(seg)
            causal = np.triu(np.ones((L, L), dtype=np.float32))      # (L, L): j >= i is hidden
            mapping = np.eye(L, dtype=np.float32)                    # (L, L): every token a target
            args = dict(input_ids=torch.as_tensor(seg, device=loaded.device)[None],          # (1, L)
                        perm_mask=torch.as_tensor(causal, device=loaded.device)[None].to(loaded.model.dtype),
                        target_mapping=torch.as_tensor(mapping, device=loaded.device)[None].to(loaded.model.dtype))

            def run(memory):  # XLNetLMHeadModel.forward's two steps: the transformer, then the LM head
                out = transformer(**args, mems=memory, use_mems=True, return_dict=True)
                logits = loaded.model.lm_loss(out.last_hidden_state)                          # (1, L, V)
                logprobs = torch.log_softmax(logits[0].float(), dim=-1)                       # (L, V)
                picked = logprobs[torch.arange(L), args["input_ids"][0]]                      # (L,)
                return picked.cpu().numpy().astype(np.float64), out.mems  # mems: per layer (L, 1, d)
            scores, next_mems = run(mems)
            with_memory.append(scores)
            without_memory.append(run(None)[0] if mems is not None else scores.copy())
            mems = next_mems
    texts = ["".join(("" if continues[k] or k == a else " ") + readable[k] for k in range(a, b)) for a, b in segments]
    return MemoryResult(segment_len=segment_len, segments=[readable[a:b] for a, b in segments],
                        with_memory=with_memory, without_memory=without_memory, texts=texts)
