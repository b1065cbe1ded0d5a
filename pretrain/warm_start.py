"""Starting a mini model from the shipped mini-BERT (same width; for ELECTRA also the same vocabulary): which of
BERT's tensors go where. Used by ELECTRA (both networks) and RoBERTa (its encoder and positions; its byte-level BPE
vocabulary has its own embeddings). Every copy is exact; a shape that does not fit raises."""
from __future__ import annotations

from pathlib import Path

import torch

from pretrain import train as T


class FromMiniBert:
    """Mixin for an Objective whose new runs start from the shipped mini-BERT (ELECTRA, RoBERTa): where it is, and the
    record a new run keeps of it (its path and checksum, in the metrics and the card). The Objective's fresh_start()
    does the family's own copy (`warm_start_folder` is the folder to copy from)."""
    WARM_START = "bert"   # assets/mini/<this>

    @property
    def warm_start_folder(self) -> Path:
        return T.MINI / self.WARM_START

    def start_state(self) -> dict:
        return {"warm_start": str(self.warm_start_folder.relative_to(T.MINI.parents[1])),
                "warm_start_sha256": T.file_sha256(self.warm_start_folder / "model.safetensors")}

    def continued_start_state(self, previous: dict) -> dict:
        """Continuing shipped weights keeps the record of the mini-BERT they first started from (the card names it,
        and the lab places the run on BERT's curve by its checksum), not the mini-BERT shipped today."""
        record = previous.get("record", {})
        if not record.get("warm_start_sha256"):
            return self.start_state()
        return {"warm_start": record.get("warm_start", ""), "warm_start_sha256": record["warm_start_sha256"]}


def bert_state(folder: Path) -> dict[str, torch.Tensor]:
    """The shipped BertForPreTraining's tensors, in float32."""
    from transformers import BertForPreTraining
    return BertForPreTraining.from_pretrained(folder, dtype=torch.float32).state_dict()


def encoder(bert: dict, prefix: str, layers: int) -> dict[str, torch.Tensor]:
    """BERT's first `layers` encoder layers renamed under `prefix` ("electra.", "roberta.")."""
    out = {}
    for key, value in bert.items():
        if key.startswith("bert.encoder.layer.") and int(key.split(".")[3]) < layers:
            out[prefix + key[len("bert."):]] = value
    return out


def mlm_transform(bert: dict, names: dict[str, str]) -> dict[str, torch.Tensor]:
    """BERT's MLM head transform (dense + LayerNorm) under the target's names: {"dense.weight": "lm_head.dense.weight",
    "LayerNorm.weight": ..., ...} maps BERT's transform.<name> to the target key."""
    return {target: bert[f"cls.predictions.transform.{source}"] for source, target in names.items()}


def load_exactly(model: torch.nn.Module, wanted: dict[str, torch.Tensor], allowed_missing: tuple[str, ...]) -> None:
    """Load `wanted` into model; raise when a key is unexpected or a missing key is not an allowed (new) one."""
    missing, unexpected = model.load_state_dict(wanted, strict=False)
    left = [m for m in missing if not m.startswith(allowed_missing) and not m.endswith("position_ids")]
    if left or unexpected:
        raise ValueError(f"mini-BERT does not fit {type(model).__name__}: missing {left[:5]}, "
                         f"unexpected {unexpected[:5]}")
