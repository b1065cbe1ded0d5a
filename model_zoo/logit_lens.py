"""The "logit lens" for masked language models: the model's own MLM head applied to every layer's hidden state, so one
can watch the guess for each mask form layer by layer (layer 0 = the embeddings; the last layer is the normal
prediction, exactly).

Heads per family: BERT `cls.predictions`, RoBERTa `lm_head`, ALBERT `predictions`, DistilBERT vocab_transform ->
activation -> vocab_layer_norm -> vocab_projector, ELECTRA's generator `generator_predictions` -> `generator_lm_head`,
XLNet `lm_loss` on the query stream (the stream that predicts a target from its position alone).

    >>> lens = logit_lens(fill_mask_model("bert-base-uncased"), "Paris is the [MASK] of France.")   # doctest: +SKIP
    >>> lens.final_prob[0]     # (L+1,) probability of the final answer after each layer
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo import loading
from model_zoo.fill_mask import head_trained, mask_logits, model_inputs, prepare
from model_zoo.text import guess_text


class LensUnavailable(loading.ModelError):
    """The model has no MLM head that can read its hidden states."""


@dataclass(frozen=True)
class LensResult:
    layers: list[str]            # (L+1,) "embeddings", "layer 1", ..., "layer L"
    positions: np.ndarray        # (M,) token index of each mask
    top_ids: np.ndarray          # (M, L+1, k) int64, best first
    top_tokens: list[list[list[str]]]  # [mask][layer][k] readable
    top_probs: np.ndarray        # (M, L+1, k) float32
    final_ids: np.ndarray        # (M,) the last layer's top-1 (= the normal prediction)
    final_tokens: list[str]      # (M,) readable
    final_prob: np.ndarray       # (M, L+1) probability of the final answer at each layer
    stream: str                  # "hidden states" or "query stream" (XLNet)
    head_trained: bool


def mlm_head(model):
    """A function hidden (..., H) -> logits (..., V) made of the model's own head, or None if it has none."""
    if hasattr(model, "cls") and hasattr(model.cls, "predictions"):  # BertForPreTraining / BertForMaskedLM
        return model.cls.predictions
    if hasattr(model, "lm_head"):  # RoBERTa
        return model.lm_head
    if hasattr(model, "predictions"):  # ALBERT
        return model.predictions
    if hasattr(model, "vocab_projector"):  # DistilBERT
        return lambda h: model.vocab_projector(model.vocab_layer_norm(model.activation(model.vocab_transform(h))))
    if hasattr(model, "generator_lm_head"):  # ELECTRA generator
        return lambda h: model.generator_lm_head(model.generator_predictions(h))
    if hasattr(model, "lm_loss"):  # XLNet, applied to the query stream
        return model.lm_loss
    return None


def logit_lens(loaded: loading.LoadedModel, text: str, k: int = 5) -> LensResult:
    """Per mask and per layer: the top-k of the MLM head applied to that layer, and the final answer's probability."""
    import torch
    head = mlm_head(loaded.model)
    if head is None:
        raise LensUnavailable(f"{type(loaded.model).__name__} has no masked-LM head to read its layers with; load "
                              f"the checkpoint through a class that has one.")
    k = int(max(1, min(int(k), 20)))
    _, tokens, positions = prepare(loaded.tokenizer, loaded.config, text)
    xlnet = loaded.family.two_streams
    with torch.inference_mode():
        output = loaded.model(**model_inputs(loaded, tokens.ids, positions), output_hidden_states=True)
        states = output["hidden_states"]  # L+1 of (1, T, H); XLNet: (h0, g0, h1, g1, ...) with g (1, M, H)
        # The head runs on the whole (1, T, H) state, as in the model's own forward, so that the last layer's result
        # is bit-for-bit the normal prediction; only the masks' rows are kept (one layer at a time: T x V is large).
        if xlnet:
            per_layer = [head(g)[0] for g in states[1::2]]  # L+1 of (M, V): the query stream at the targets
        else:
            per_layer = [head(h)[0, positions] for h in states]  # L+1 of (M, V)
        logits = torch.stack(per_layer, dim=1)  # (M, L+1, V)
        final = mask_logits(loaded, output, positions)  # (M, V): the normal prediction
        if not torch.equal(logits[:, -1], final):
            raise RuntimeError("the head applied to the last layer differs from the model's own output")
        probs = logits.float().softmax(dim=-1)  # (M, L+1, V)
        top = torch.topk(probs, min(k, probs.shape[-1]), dim=-1)  # (M, L+1, k)
        final_ids = top.indices[:, -1, 0]  # (M,)
        final_prob = probs.gather(-1, final_ids[:, None, None].expand(-1, probs.shape[1], 1))[..., 0]  # (M, L+1)
    top_ids = top.indices.cpu().numpy().astype(np.int64)
    tokenizer = loaded.tokenizer
    top_tokens = [[[guess_text(tokenizer, t) for t in tokenizer.convert_ids_to_tokens(layer.tolist())]
                   for layer in mask] for mask in top_ids]
    n_layers = len(per_layer) - 1
    return LensResult(layers=["embeddings"] + [f"layer {i}" for i in range(1, n_layers + 1)],
                      positions=positions.astype(np.int64), top_ids=top_ids, top_tokens=top_tokens,
                      top_probs=top.values.cpu().numpy().astype(np.float32),
                      final_ids=final_ids.cpu().numpy().astype(np.int64),
                      final_tokens=[m[-1][0] for m in top_tokens],
                      final_prob=final_prob.cpu().numpy().astype(np.float32),
                      stream="query stream" if xlnet else "hidden states", head_trained=head_trained(loaded))
