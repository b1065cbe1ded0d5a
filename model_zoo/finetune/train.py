"""The two ways to use an encoder for a task: pooled features of the frozen encoder, and a classification head
fine-tuned with the encoder (all layers or the top N), one step at a time."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from model_zoo import config_fields, loading
from model_zoo.registry import Capability, task_class


MAX_LENGTH = 64             # tokens per example (longer texts are cut; a note says how many)
CLS, MEAN = "cls", "mean"  # text.POOLINGS's keys: the classification token, the mean of the tokens
POOLINGS = (CLS, MEAN)


def _encode(tokenizer, texts, device):
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items() if k in tokenizer.model_input_names}


def _pool(hidden, batch, pooling: str, cls_id):
    """(B, T, H) -> (B, H): the classification token (where the tokenizer puts it: first for most, last for XLNet's
    <cls>; position 0 when it has none) or the mean over real tokens."""
    import torch
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)                     # (B, T, 1)
    if pooling == MEAN:
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    positions = torch.zeros(hidden.shape[0], dtype=torch.long, device=hidden.device)   # (B,)
    if cls_id is not None:
        is_cls = batch["input_ids"] == cls_id                                            # (B, T)
        positions = torch.where(is_cls.any(1), is_cls.int().argmax(1), positions)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), positions]


def _cls_id(tokenizer):
    return getattr(tokenizer, "cls_token_id", None)


def features(loaded: loading.LoadedModel, texts, pooling: str, batch_size: int = 32,
             should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """(N, H) float32 pooled last-layer features of the frozen encoder."""
    import torch
    encoder = loaded.model.base_model
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            if should_stop and should_stop():
                raise Cancelled()
            batch = _encode(loaded.tokenizer, texts[start:start + batch_size], loaded.device)
            hidden = encoder(**batch).last_hidden_state                                 # (B, T, H)
            out.append(_pool(hidden.float(), batch, pooling, _cls_id(loaded.tokenizer)).cpu().numpy())
    return np.concatenate(out)


class Cancelled(Exception):
    pass


def _layers(model):
    """The encoder's stack of layers (an nn.ModuleList with one module per layer), or None when its layers share
    weights (ALBERT: one group used num_hidden_layers times)."""
    import torch
    n = config_fields.field(model.config, "layers")
    for module in model.base_model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n:
            return module
    return None


def classifier(loaded: loading.LoadedModel, classes: tuple[str, ...], seed: int = 0):
    """A fresh <Family>ForSequenceClassification on the device, fp32: the loaded encoder's weights (copied, the cached
    model is untouched) and a new, random head. Returns (model, names of weights not in the checkpoint)."""
    import torch
    import transformers
    config = copy.deepcopy(loaded.config)
    config.num_labels = len(classes)
    config.id2label = dict(enumerate(classes))
    config.label2id = {c: i for i, c in enumerate(classes)}
    config.problem_type = "single_label_classification"
    try:
        cls = getattr(transformers, task_class(loaded.checkpoint.family, Capability.SEQUENCE_CLASSIFICATION))
    except KeyError:
        raise loading.UnsupportedModel(f"'{loaded.checkpoint.key}' has no sequence-classification class in this "
                                       f"app, so it cannot be fine-tuned here (feature extraction works).") from None
    with loading.CONSTRUCTION_LOCK, torch.random.fork_rng(devices=[]):   # a seeded head; the global RNG untouched
        torch.manual_seed(seed)
        model = cls(config)
    model = model.float()
    missing, _ = model.base_model.load_state_dict(loaded.model.base_model.state_dict(), strict=False)
    return model.to(loaded.device).eval(), list(missing)


def _predict_logits(model, tokenizer, texts, device, batch_size: int = 32) -> np.ndarray:
    import torch
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = _encode(tokenizer, texts[start:start + batch_size], device)
            out.append(model(**batch).logits.float().cpu().numpy())
    return np.concatenate(out)


def choose_trainable(model, layers: int | None) -> str:
    """Freeze what is not trained: layers None = everything; N = the head (and pooler) plus the top N layers; 0 = the
    head only. Returns a note when the choice could not be honoured."""
    for p in model.parameters():
        p.requires_grad = layers is None
    if layers is None:
        return ""
    base = {id(p) for p in model.base_model.parameters()}
    for name, p in model.named_parameters():
        if id(p) not in base or ".pooler." in f".{name}":
            p.requires_grad = True                     # the head (and a pooler feeding it) always trains
    stack = _layers(model)
    if stack is None:
        if layers:
            for p in model.base_model.parameters():
                p.requires_grad = True
            return "its layers share one set of weights, so 'top N' cannot be separated: all layers were trained"
        return ""
    for layer in list(stack)[len(stack) - min(layers, len(stack)):] if layers else []:
        for p in layer.parameters():
            p.requires_grad = True
    return ""


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3
    layers: int | None = None     # None: all; N: the top N (0: the head only)
    learning_rate: float = 1e-4   # the encoder's; the new head learns 10x faster
    batch_size: int = 16
    seed: int = 0


def train_steps(model, tokenizer, texts, labels, config: TrainConfig, device,
                should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[int, int, float]]:
    """Train `model` in place (AdamW, linear warm-up then decay); yields (step, total steps, loss) after each step.
    Stops early (without raising) when should_stop() turns true."""
    import torch
    base = {id(p) for p in model.base_model.parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if id(p) in base], "lr": config.learning_rate},
              {"params": [p for p in trainable if id(p) not in base], "lr": config.learning_rate * 10}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)
    per_epoch = math.ceil(len(texts) / config.batch_size)
    total = per_epoch * config.epochs
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    generator = torch.Generator().manual_seed(config.seed)
    labels_t = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    model.train()
    step = 0
    # Dropout draws from torch's global generator: seeded here for a repeatable run, restored afterwards (another
    # thread's draws in between make a run under load only nearly repeatable).
    rng = torch.random.fork_rng(devices=[])
    rng.__enter__()
    torch.manual_seed(config.seed)
    try:
        for _ in range(config.epochs):
            order = torch.randperm(len(texts), generator=generator).tolist()
            for start in range(0, len(order), config.batch_size):
                if should_stop and should_stop():
                    return
                chosen = order[start:start + config.batch_size]
                batch = _encode(tokenizer, [texts[i] for i in chosen], device)
                loss = model(**batch, labels=labels_t[chosen].to(device)).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                schedule.step()
                step += 1
                yield step, total, float(loss.detach())
    finally:
        rng.__exit__(None, None, None)
        model.eval()
        for p in model.parameters():
            p.requires_grad = False


def _count(model, trainable_only: bool) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
