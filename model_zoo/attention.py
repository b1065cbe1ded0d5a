"""Attention of a model for one text (or a pair): the weights, the tokens, rollout and per-head statistics.

One forward pass with `output_attentions=True` (the loader uses eager attention; sdpa would return nothing) gives
(layers, heads, T, T) weights, each row a distribution over the tokens it attends to. For XLNet the content stream is
returned; when a caller passes a permutation (`perm_mask`, `target_mapping`, as XLNet's pretraining uses them) the
query stream (layers, heads, P, T) comes too. Input beyond a token cap (128 for the interactive views) is cut by the
tokenizer, so what is shown is exactly what the model computed on the first part, never a slice of a longer run.

    >>> result = compute(load("minilm-l6"), "The cat sat.")        # doctest: +SKIP
    >>> result.attention.shape                                      # (6, 12, 6, 6)
    >>> rollout(result.attention).sum(-1)                           # every row sums to 1
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo.facts import max_tokens
from model_zoo.tokenization import InputError, TokenizedText, tokenize
from model_zoo import text as text_layer

TOKEN_CAP = 128  # interactive views: beyond this many tokens the text is cut (and the UI says so)
STATISTICS = {  # name -> what it measures, per (layer, head), averaged over the query tokens
    "entropy": "entropy of each row (nats; 0 = all on one token, log T = uniform)",
    "special": "share of attention on special tokens ([CLS], [SEP], <s>, <sep>, <cls>, ...)",
    "previous": "share on the previous token",
    "next": "share on the next token",
    "self": "share on the token itself",
}


@dataclass(frozen=True)
class AttentionResult:
    tokens: TokenizedText          # what the model saw (readable forms, special mask, segments)
    attention: np.ndarray          # (layers, heads, T, T) float32; XLNet: the content stream
    query_attention: np.ndarray | None  # XLNet with a target mapping: (layers, heads, P, T) float32, else None
    query_positions: np.ndarray | None  # (P,) int: the token each query-stream row predicts
    truncated: bool                # the text was cut at `cap` tokens (or the model's own maximum)
    cap: int
    model_key: str

    @property
    def n_layers(self) -> int:
        return self.attention.shape[0]

    @property
    def n_heads(self) -> int:
        return self.attention.shape[1]

    @property
    def labels(self) -> list[str]:
        """The readable tokens, special ones as they are ("[CLS]", "<sep>"), in their real positions."""
        return list(self.tokens.readable)

    @property
    def sentence_b_start(self) -> int | None:
        """Index of the first token of the second text, or None for a single text."""
        second = np.flatnonzero(self.tokens.segment == 1)
        return int(second[0]) if second.size else None


def _inputs(loaded, text: str, pair: str | None, cap: int):
    """TokenizedText and the model's input tensors, from the same tokenizer call arguments."""
    limit = min(cap, max_tokens(loaded.config) or cap)
    tokens = tokenize(loaded.tokenizer, text, pair, max_length=limit)
    pair = pair if pair and pair.strip() else None
    text, pair = (text_layer.native(loaded.tokenizer, t) if t else t for t in (text, pair))   # as tokenize sees them
    wants_types = loaded.family.token_types
    encoding = loaded.tokenizer(text, pair, truncation="longest_first", max_length=limit, return_tensors="pt",
                                return_token_type_ids=wants_types)
    if not np.array_equal(encoding["input_ids"][0].numpy(), tokens.ids):
        raise RuntimeError("tokenization mismatch between the view and the model input")
    inputs = {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"]}  # (1, T) each
    if wants_types and "token_type_ids" in encoding:
        inputs["token_type_ids"] = encoding["token_type_ids"]  # (1, T)
    return tokens, inputs


def compute(loaded, text: str, pair: str | None = None, perm_mask=None, target_mapping=None,
            cap: int = TOKEN_CAP) -> AttentionResult:
    """Run the model once and return its attention for `text` (and `pair`, for families trained on pairs).

    perm_mask (T, T) / target_mapping (P, T), numpy or torch, optionally with a batch axis of 1: XLNet only; with
    them the query stream is returned as well. perm_mask[i, j] = 1 means token i may not attend to token j.
    """
    import torch

    if not loaded.family.pair_input:
        pair = None
    tokens, inputs = _inputs(loaded, text, pair, cap)
    n = len(tokens)
    extra = {}
    if perm_mask is not None or target_mapping is not None:
        if not loaded.family.two_streams:
            raise InputError("Permutation masks and target mappings exist only for XLNet.")
        if perm_mask is None or target_mapping is None:
            raise InputError("Pass both perm_mask and target_mapping for the query stream.")
        perm = torch.as_tensor(np.asarray(perm_mask), dtype=torch.float32).reshape(1, n, n)  # (1, T, T)
        target = torch.as_tensor(np.asarray(target_mapping), dtype=torch.float32)
        target = target.reshape(1, -1, n)  # (1, P, T)
        extra = {"perm_mask": perm.to(loaded.device), "target_mapping": target.to(loaded.device)}
    inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
    with torch.inference_mode():
        out = loaded.model(**inputs, **extra, output_attentions=True, return_dict=True)
    layers = out.attentions
    if not layers:
        raise RuntimeError("The model returned no attention weights (is it loaded with eager attention?)")
    query = None
    positions = None
    if isinstance(layers[0], (tuple, list)):  # XLNet with a target mapping: (content, query) per layer
        # XLNet computes the query stream in position space (target_mapping maps each target's query to its
        # position): the row of position l is the query of the target placed at l; other rows are empty queries.
        positions = extra["target_mapping"][0].argmax(-1).cpu().numpy().astype(np.int64)  # (P,)
        query = torch.stack([q[0] for _, q in layers]).float().cpu().numpy()  # (layers, heads, T, T)
        query = query[:, :, positions, :]  # (layers, heads, P, T), in target order
        layers = [c for c, _ in layers]
    attention = torch.stack([a[0] for a in layers]).float().cpu().numpy()  # (layers, heads, T, T)
    if attention.shape[-1] != n or attention.shape[-2] != n:
        raise ValueError(f"Attention has {attention.shape[-1]} positions, while the number of tokens is {n}.")
    return AttentionResult(tokens=tokens, attention=attention.astype(np.float32),
                           query_attention=None if query is None else query.astype(np.float32),
                           query_positions=positions, truncated=tokens.truncated, cap=cap,
                           model_key=loaded.checkpoint.key)


def natural_order_permutation(tokens: TokenizedText) -> tuple[np.ndarray, np.ndarray]:
    """A simple XLNet permutation for showing the query stream: the non-special tokens after the first word are
    predicted left to right; the first word and the special tokens are context that every token sees.

    Returns perm_mask (T, T) (1 = may not attend) and target_mapping (P, T) one-hot.
    """
    n = len(tokens)
    targets = [i for i in range(n) if not tokens.special[i] and (tokens.word_index[i] > 0 or tokens.segment[i] == 1)]
    if not targets:
        raise InputError("The query stream needs at least two words (the first word is context).")
    is_target = np.zeros(n, dtype=bool)
    is_target[targets] = True
    rank = np.full(n, -1)
    rank[targets] = np.arange(len(targets))
    perm = np.zeros((n, n), dtype=np.float32)  # (T, T)
    for i in range(n):
        for j in targets:
            # context never sees a target; a target sees the targets before it in the order (itself: content only)
            if not is_target[i] or rank[j] >= rank[i]:
                perm[i, j] = 1.0
    mapping = np.zeros((len(targets), n), dtype=np.float32)  # (P, T)
    mapping[np.arange(len(targets)), targets] = 1.0
    return perm, mapping


def rollout(attention: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020) with the residual correction.

    A_l = normalize(0.5 * mean_heads(attn_l) + 0.5 * I); rollout = A_L @ ... @ A_1. Row i says how much of token i's
    final representation flows from each input token.
    """
    layers, _, n, _ = attention.shape  # (layers, heads, T, T)
    result = np.eye(n, dtype=np.float64)
    for layer in range(layers):
        a = 0.5 * attention[layer].astype(np.float64).mean(0) + 0.5 * np.eye(n)  # (T, T)
        a /= a.sum(-1, keepdims=True)
        result = a @ result  # A_l @ (A_{l-1} @ ... @ A_1)
    return result.astype(np.float32)


def head_statistics(attention: np.ndarray, special: np.ndarray, positions: np.ndarray | None = None
                    ) -> dict[str, np.ndarray]:
    """Per (layer, head) averages over the query rows: entropy and the shares listed in STATISTICS.

    attention (layers, heads, Q, T); special (T,) bool; positions (Q,): the token position of each row (default
    0..T-1; XLNet's query stream passes its predicted positions). Returns {name: (layers, heads) float32}.
    """
    a = attention.astype(np.float64)  # (layers, heads, Q, T)
    q, n = a.shape[-2:]
    rows = np.arange(q)
    pos = np.arange(n) if positions is None else np.asarray(positions)  # (Q,)
    entropy = -(a * np.log(np.clip(a, 1e-12, None))).sum(-1).mean(-1)  # (layers, heads)

    def share(offset: int) -> np.ndarray:
        keep = (pos + offset >= 0) & (pos + offset < n)
        if not keep.any():
            return np.full(a.shape[:2], np.nan)
        return a[..., rows[keep], pos[keep] + offset].mean(-1)
    return {k: v.astype(np.float32) for k, v in {
        "entropy": entropy, "special": a[..., special].sum(-1).mean(-1),
        "previous": share(-1), "next": share(1), "self": share(0)}.items()}


def quantize(weights: np.ndarray, levels: int = 255) -> np.ndarray:
    """Weights in [0, 1] as uint8 steps of 1/levels (max error 1/(2*levels) ~ 0.002), for compact payloads."""
    return np.clip(np.rint(weights * levels), 0, levels).astype(np.uint8)
