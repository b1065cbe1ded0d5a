"""A trained model of the fine-tune lab on new text: the label, its probabilities, and gradient x input per token."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo.finetune.data import DataError
from model_zoo.finetune.train import _cls_id, _encode, _pool


@dataclass(frozen=True)
class Prediction:
    spec: str
    method: str
    label: str
    classes: tuple[str, ...]
    probabilities: np.ndarray             # (K,) float, in the order of classes
    tokens: list[str]                     # readable pieces, special tokens included
    importance: np.ndarray                # (T,) float in [-1, 1]: gradient x input, toward the predicted label
    importance_method: str = "gradient × input (summed over the embedding; + pushes toward the predicted label)"


def _readable(tokenizer, ids) -> list[str]:
    from model_zoo.tokenization import readable_token
    return [readable_token(tokenizer, t) for t in tokenizer.convert_ids_to_tokens(ids)]


class Predictor:
    """A trained model for new text: `predict(text)` -> Prediction, with gradient x input token importances."""

    def __init__(self, spec: str, method: str, classes: tuple[str, ...], tokenizer, encoder, head, pooling: str = "",
                 owns_encoder: bool = False):
        self.spec, self.method, self.classes = spec, method, classes
        self.tokenizer, self.encoder, self.head, self.pooling = tokenizer, encoder, head, pooling
        self.owns_encoder = owns_encoder   # a fine-tuned copy (counted against the session's bounds), not the cache's

    def n_bytes(self) -> int:
        if not self.owns_encoder:
            return 0
        return sum(p.numel() * p.element_size() for p in self.encoder.parameters())

    def free(self) -> None:
        self.encoder = self.head = None

    def _logits(self, embeds, batch):
        """(1, K) logits from input embeddings (so their gradient can be taken)."""
        inputs = {k: v for k, v in batch.items() if k != "input_ids"}
        if self.head is None:                                           # a fine-tuned classifier: end to end
            return self.encoder(inputs_embeds=embeds, **inputs).logits.float()
        hidden = self.encoder.base_model(inputs_embeds=embeds, **inputs).last_hidden_state.float()
        pooled = _pool(hidden, batch, self.pooling, _cls_id(self.tokenizer))        # (1, H)
        mean, scale, weight, bias = self.head
        return ((pooled - mean) / scale) @ weight.T + bias                              # (1, K)

    def predict(self, text: str) -> Prediction:
        import torch
        if self.encoder is None:
            raise DataError("This model was freed; train again.")
        device = self.encoder.device
        batch = _encode(self.tokenizer, [text], device)
        embeddings = self.encoder.get_input_embeddings()
        with torch.enable_grad():
            embeds = embeddings(batch["input_ids"]).detach().float().requires_grad_(True)   # (1, T, E)
            embeds_in = embeds.to(embeddings.weight.dtype)
            logits = self._logits(embeds_in, batch)                                            # (1, K)
            probs = torch.softmax(logits, -1)[0]
            best = int(probs.argmax())
            (grad,) = torch.autograd.grad(torch.log(probs[best]), embeds)
        importance = (grad * embeds).sum(-1)[0].detach().cpu().numpy()                         # (T,)
        peak = float(np.abs(importance).max()) or 1.0
        return Prediction(self.spec, self.method, self.classes[best], self.classes,
                          probs.detach().cpu().numpy().astype(float),
                          _readable(self.tokenizer, batch["input_ids"][0].tolist()), importance / peak)


def _linear_head(scaler, regression, device):
    """StandardScaler + LogisticRegression as torch tensors (mean, scale, weight (K, H), bias (K,))."""
    import torch
    weight, bias = regression.coef_, regression.intercept_
    if weight.shape[0] == 1:                           # binary: sklearn keeps one row; softmax over [-z/2, z/2]
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return tuple(torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)
                 for a in (scaler.mean_, scaler.scale_, weight, bias))
