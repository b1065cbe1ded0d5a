"""Switching attention heads off, per user and per call, and which heads matter for a guess (issue #37, items 3-4).

transformers 5 has no `head_mask`: a head is switched off by zeroing its context vector where the heads' outputs meet
before the output projection (the registry's `Family.head_output`, found by walking the model, so every class of a
family works). The hooks stay on a model only while some call uses them and read which heads to zero from a
ContextVar set by that call, so another user's forward on the same cached model, in another thread, is unaffected.
Weights are never changed: XLNet's `rel_attn` has no Linear, so its `attn_vec` is gated where `post_attention`
takes it, which equals zeroing `o[:, h, :]` without touching `o`. A layer is the call order of its site within one
forward (ALBERT's one shared `attention.dense` runs once per layer).

Gates are multiplied, one row per batch row (B or 1, L, H): 0 switches a head off, 1 keeps it; with gradients on the
gates, d(loss)/d(gate) is Michel et al. 2019's importance estimate.

    >>> with ablate(lm, [(0, 3), (5, 1)]):                                 # doctest: +SKIP
    ...     output = lm.model(**inputs)
    >>> scan = head_importance(lm, "The capital of France is [MASK].")    # doctest: +SKIP
    >>> scan.drop.shape, scan.spearman                                    # ((12, 12), 0.71)
"""
from __future__ import annotations

import contextvars
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from model_zoo import fill_mask as fm
from model_zoo import loading, progress
from model_zoo.text import guess_text, head_logits, substitute, words
from model_zoo.tokenization import InputError

MAX_SCAN_TOKENS = 128   # the scan runs L x H forwards of the text: a longer one is cut to the words around its mask
BATCH_TOKENS = 1024     # tokens per forward of the scan (rows: one ablated head each); stop is read between
HEAD_LABEL = re.compile(r"\s*L(\d+)(?:\s*H(\d+))?\s*")   # "L3 H7": one head; "L3": every head of layer 3


@dataclass
class _State:
    """One call's gates on one model, and where its forward is (the site calls seen so far)."""
    model: Any
    gates: Any           # torch (B or 1, L, H)
    skip: list[bool]     # (L,) a layer with every gate at 1 and no gradient: left untouched
    calls: int = 0
    layer: int = 0


_active: contextvars.ContextVar[_State | None] = contextvars.ContextVar("heads_off", default=None)
_installed: dict[int, tuple[int, list]] = {}     # id(model) -> (calls using the hooks, what to undo)
_install_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------------- the hooks
def shape(loaded: loading.LoadedModel) -> tuple[int, int]:
    """(layers, heads) of the model's attention."""
    return int(loaded.config.num_hidden_layers), int(loaded.config.num_attention_heads)


def sites(model, family) -> tuple[list, str]:
    """The modules where the heads' contexts meet, in layer order, and the method taking them ('' for a module's
    input). ALBERT's shared layer has one site that runs at every layer."""
    path, method = family.head_output, ""
    found = _ending(model, path)
    if not found:
        path, _, method = path.rpartition(".")
        found = [m for m in _ending(model, path) if hasattr(m, method)] if path else []
    if not found:
        raise loading.ModelError(f"This model has no '{family.head_output}' where its attention heads meet, so its "
                                 f"heads cannot be switched off here.")
    return found, method


def _ending(model, suffix: str) -> list:
    return [m for name, m in model.named_modules() if name == suffix or name.endswith("." + suffix)]


def _current(model) -> _State | None:
    state = _active.get()
    return state if state is not None and state.model is model else None


def _gate(context, state: _State, flat: bool):
    """The context with each head scaled by its gate at the state's layer: (B, T, H*d) if flat, else (T, B, H, d)."""
    if state.skip[state.layer]:
        return context
    g = state.gates[:, state.layer].to(context.dtype)  # (B or 1, H)
    if flat:  # (B, T, H*d) -> (B, T, H, d)
        return (context.unflatten(-1, (g.shape[-1], -1)) * g[:, None, :, None]).flatten(-2)
    return context * g[None, :, :, None]  # (T, B, H, d) x (1, B, H, 1)


def _install(model, family) -> list:
    """Hooks that count site calls (the layer) and gate the context of the calling context's state."""
    found, method = sites(model, family)

    def reset(module, args):
        if (state := _current(model)) is not None:
            state.calls = 0

    def enter(module, args):
        state = _current(model)
        if state is None:
            return None
        state.layer, state.calls = state.calls % state.gates.shape[1], state.calls + 1
        return None if method else (_gate(args[0], state, flat=True), *args[1:])

    undo = [model.base_model.register_forward_pre_hook(reset)]
    for module in found:
        undo.append(module.register_forward_pre_hook(enter))
        if method:
            original = getattr(module, method)

            def gated_method(h, attn_vec, *rest, original=original, **kwargs):
                state = _current(model)
                return original(h, attn_vec if state is None else _gate(attn_vec, state, flat=False), *rest,
                                **kwargs)
            setattr(module, method, gated_method)  # an instance attribute: deleting it restores the class's method
            undo.append((module, method))
    return undo


def _uninstall(undo: list) -> None:
    for item in undo:
        if isinstance(item, tuple):
            module, method = item
            module.__dict__.pop(method, None)
        else:
            item.remove()


@contextmanager
def gated(loaded: loading.LoadedModel, gates):
    """Within the block, this context's forwards of `loaded.model` scale each head by `gates` (B or 1, L, H)."""
    layers, heads = shape(loaded)
    if tuple(gates.shape[1:]) != (layers, heads):
        raise ValueError(f"Gates of shape {tuple(gates.shape)} do not fit {layers} layers x {heads} heads.")
    model = loaded.model
    with _install_lock:
        users, undo = _installed.get(id(model), (0, None))
        _installed[id(model)] = (users + 1, undo or _install(model, loaded.family))
    keep = (gates == 1).all(dim=0).all(dim=-1).tolist()  # (L,)
    token = _active.set(_State(model, gates, [k and not gates.requires_grad for k in keep]))
    try:
        yield
    finally:
        _active.reset(token)
        with _install_lock:
            users, undo = _installed[id(model)]
            if users == 1:
                del _installed[id(model)]
                _uninstall(undo)
            else:
                _installed[id(model)] = (users - 1, undo)


def head_mask(loaded: loading.LoadedModel, heads: Iterable[tuple[int, int]]):
    """(L, H) float32 ones with a 0 at every (layer, head) switched off; a head out of range is an InputError."""
    import torch
    layers, n_heads = shape(loaded)
    mask = torch.ones(layers, n_heads)
    for layer, head in heads:
        if not (0 <= int(layer) < layers and 0 <= int(head) < n_heads):
            raise InputError(f"There is no head {head} in layer {layer}: this model has {layers} layers of "
                             f"{n_heads} heads (counted from 0).")
        mask[int(layer), int(head)] = 0.0
    return mask


def ablate(loaded: loading.LoadedModel, heads: Iterable[tuple[int, int]]):
    """A context manager: this context's forwards of `loaded.model` run with `heads` ((layer, head) pairs) off."""
    return gated(loaded, head_mask(loaded, heads)[None])


def parse_heads(labels: Iterable[str], layers: int, heads: int) -> list[tuple[int, int]]:
    """(layer, head) pairs from labels "L3 H7" (one head) and "L3" (a whole layer), sorted, each once."""
    chosen = set()
    for label in labels or []:
        match = HEAD_LABEL.fullmatch(str(label))
        if not match:
            raise InputError(f"'{label}' is not a head: write L<layer> H<head> (e.g. L0 H3) or L<layer> for a whole "
                             f"layer.")
        layer = int(match.group(1))
        picked = range(heads) if match.group(2) is None else [int(match.group(2))]
        for head in picked:
            if not (0 <= layer < layers and 0 <= head < heads):
                raise InputError(f"There is no head {label.strip()}: this model has {layers} layers of {heads} "
                                 f"heads (counted from 0).")
            chosen.add((layer, head))
    return sorted(chosen)


# ---------------------------------------------------------------------------------------------------- guesses
def require_guess(loaded: loading.LoadedModel) -> None:
    """An InputError saying why, when this checkpoint has no head that guesses a hidden token."""
    reason = fm.why_it_cannot_guess(loaded.checkpoint)
    if reason:
        raise InputError(f"{reason} Switching its heads off has no guess to change"
                         + (": pick its generator." if loaded.checkpoint.generator else
                            "; pick a checkpoint of the family with its masked-LM head."))


@dataclass(frozen=True)
class HeadsOff:
    """The guesses at every mask with every head on, and with `heads` off."""
    heads: list[tuple[int, int]]     # (layer, head) pairs switched off
    before: list[fm.MaskGuess]       # (M,) every head on
    after: list[fm.MaskGuess]        # (M,) with `heads` off
    before_after: np.ndarray         # (M, k) float32: each `before` guess's probability with the heads off
    tokens: list[str]                # readable input tokens
    layers: int
    n_heads: int
    weights: str                     # which weights answered
    head_trained: bool               # False: random weights or a new head (never an answer)
    method: str
    seconds: float


def _mask_probs(loaded, inputs, positions):
    return fm.mask_logits(loaded, loaded.model(**inputs), positions).float().softmax(dim=-1)  # (M, V)


def guesses_with_heads_off(loaded: loading.LoadedModel, text: str, heads: Iterable[tuple[int, int]],
                           k: int = 5) -> HeadsOff:
    """Top-k at every mask of `text` with every head on (fill_mask's numbers) and with `heads` off."""
    import torch
    start = time.perf_counter()
    require_guess(loaded)
    heads = sorted(set((int(layer), int(head)) for layer, head in heads))
    mask = head_mask(loaded, heads)  # checks the heads before any forward
    _, tokens, positions = fm.prepare(loaded.tokenizer, loaded.config, text)
    inputs = fm.model_inputs(loaded, tokens.ids, positions)
    k = max(1, int(k))
    with torch.inference_mode():
        clean = _mask_probs(loaded, inputs, positions)  # (M, V)
        with gated(loaded, mask[None]):
            off = _mask_probs(loaded, inputs, positions)  # (M, V)
    before = fm.top_guesses(loaded.tokenizer, clean, positions, k)
    ids = torch.as_tensor(np.stack([g.ids for g in before]))  # (M, k)
    layers, n_heads = shape(loaded)
    return HeadsOff(heads=heads, before=before, after=fm.top_guesses(loaded.tokenizer, off, positions, k),
                    before_after=off.gather(1, ids).numpy().astype(np.float32), tokens=tokens.readable,
                    layers=layers, n_heads=n_heads, weights=loaded.report.weights,
                    head_trained=fm.head_trained(loaded),
                    method="XLNet query stream" if loaded.family.two_streams else "masked LM",
                    seconds=time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------------- importance
@dataclass(frozen=True)
class HeadImportance:
    """Which heads matter for one guess: the scan (each head alone off) next to the one-backward estimate."""
    checkpoint: str
    weights: str                     # which weights answered
    head_trained: bool
    tokens: list[str]                # readable input tokens
    mask: int                        # which mask of the text (0-based)
    target: str                      # the guess whose log-probability is scored (readable)
    target_id: int
    log_prob: float                  # log p(target) with every head on
    drop: np.ndarray                 # (L, H) float64: log p(all on) - log p(this head off); NaN: not scanned (stop)
    estimate: np.ndarray             # (L, H) float64: |d(-log p)/d gate| at every gate 1 (Michel et al. 2019)
    spearman: float                  # rank correlation of |drop| and estimate over the scanned heads (NaN: undefined)
    stopped: bool                    # the scan was stopped before every head
    rows_per_forward: int
    seconds_gradient: float
    seconds_scan: float
    seconds: float
    note: str = ""                   # what was scanned when the text was cut around the mask


def window_around_mask(tokenizer, text: str, mask: int, limit: int = MAX_SCAN_TOKENS) -> tuple[str, int, str]:
    """(text, mask, note): the text itself when it is at most `limit` tokens, else the widest run of its words
    centred on the mask-th mask that is, the index of that mask among the run's, and a note saying so."""
    if len(tokenizer(substitute(tokenizer, text).text)["input_ids"]) <= limit:
        return text, mask, ""
    found = words(text)
    masks = [w.index for w in found if w.is_mask]
    if not 0 <= mask < len(masks):
        return text, mask, ""                 # fm.prepare says what is wrong with it
    centre, low, high = masks[mask], 0, len(found)
    while high - low > 1:                    # the widest half-width whose window fits
        width = (low + high) // 2
        part = text[found[max(0, centre - width)].start:found[min(len(found) - 1, centre + width)].end]
        low, high = (width, high) if len(tokenizer(substitute(tokenizer, part).text)["input_ids"]) <= limit \
            else (low, width)
    first, last = found[max(0, centre - low)], found[min(len(found) - 1, centre + low)]
    cut = text[first.start:last.end]
    note = (f"The text is longer than the scan reads ({limit} tokens): the {2 * low + 1} words around mask "
            f"{mask + 1} were scanned (“{cut[:40]}…”).")
    return cut, sum(first.index <= m < centre for m in masks), note


def _target_log_probs(loaded, output, positions, mask: int):
    """(B, V) log-probabilities at mask `mask` of every batch row."""
    logits = head_logits(output)  # (B, T or M, V)
    row = mask if loaded.family.two_streams else int(positions[mask])
    return logits[:, row].float().log_softmax(dim=-1)  # (B, V)


def _spearman(drop: np.ndarray, estimate: np.ndarray) -> float:
    from scipy.stats import spearmanr
    done = ~np.isnan(drop)
    a, b = np.abs(drop[done]), estimate[done]
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def head_importance(loaded: loading.LoadedModel, text: str, mask: int = 0, candidate: str | int | None = None,
                    report: progress.Report = progress.ignore, stop: Callable[[], bool] = lambda: False,
                    batch_tokens: int = BATCH_TOKENS) -> HeadImportance:
    """For the guess at mask `mask` (top-1 unless `candidate`): the drop in its log-probability when each head alone
    is off (L x H ablations, one batch row each, stop() read between batches), and |d(-log p)/d gate| per head."""
    import torch
    start = time.perf_counter()
    require_guess(loaded)
    text, mask, note = window_around_mask(loaded.tokenizer, text, int(mask))
    _, tokens, positions = fm.prepare(loaded.tokenizer, loaded.config, text)
    if not 0 <= mask < len(positions):
        raise InputError(f"There is no mask {mask + 1}: the text has {len(positions)}.")
    inputs = fm.model_inputs(loaded, tokens.ids, positions)
    layers, heads = shape(loaded)
    report(0.0, f"{loaded.checkpoint.key}: one forward and backward for the estimate…")
    gates = torch.ones(1, layers, heads, requires_grad=True)
    with torch.enable_grad(), gated(loaded, gates):
        log_probs = _target_log_probs(loaded, loaded.model(**inputs), positions, mask)[0]  # (V,)
        target = int(log_probs.argmax()) if candidate in (None, "") else fm.candidate_id(loaded.tokenizer, candidate)
        if not 0 <= target < log_probs.shape[0]:
            raise InputError(f"Token id {target} is outside this model's vocabulary.")
        (grad,) = torch.autograd.grad(-log_probs[target], gates)  # (1, L, H)
    clean = float(log_probs[target].detach())
    gradient_done = time.perf_counter()
    drop = np.full(layers * heads, np.nan)
    rows = max(1, min(layers * heads, batch_tokens // len(tokens)))
    with torch.inference_mode():
        for first in range(0, layers * heads, rows):
            if stop():
                break
            n = min(rows, layers * heads - first)
            off = torch.ones(n, layers * heads)
            off[torch.arange(n), first + torch.arange(n)] = 0.0  # row r: head first + r off
            with gated(loaded, off.view(n, layers, heads)):
                scored = _target_log_probs(loaded, loaded.model(**fm.batched(inputs, n)), positions, mask)  # (n, V)
            drop[first:first + n] = clean - scored[:, target].double().numpy()
            report((first + n) / (layers * heads), f"{loaded.checkpoint.key}: {first + n} of {layers * heads} heads "
                                                   f"switched off")
    drop, estimate = drop.reshape(layers, heads), grad[0].abs().double().numpy()
    end = time.perf_counter()
    return HeadImportance(checkpoint=loaded.checkpoint.key, weights=loaded.report.weights,
                          head_trained=fm.head_trained(loaded), tokens=tokens.readable, mask=mask,
                          target=guess_text(loaded.tokenizer, loaded.tokenizer.convert_ids_to_tokens(target) or
                                               f"<id {target}>"),
                          target_id=target, log_prob=clean, drop=drop, estimate=estimate,
                          spearman=_spearman(drop, estimate), stopped=bool(np.isnan(drop).any()),
                          rows_per_forward=rows, seconds_gradient=gradient_done - start,
                          seconds_scan=end - gradient_done, seconds=end - start, note=note)
