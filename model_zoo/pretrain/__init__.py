"""Pretraining the mini zoo: one small checkpoint per family, each with its family's real objective, on CPU.

    python -m model_zoo.pretrain.corpus                     # corpus -> .mini_work/corpus
    python -m model_zoo.pretrain.tokenizers_build           # tokenizers -> .mini_work/tokenizers
    python -m model_zoo.pretrain --family bert --minutes 22 # train (resumable), export to assets/mini/, evaluate
"""
from __future__ import annotations

import importlib

_OBJECTIVES = {  # family -> (module, class); imported on use so a missing module only affects its family
    "bert": ("nsp_sop", "BertObjective"),          # MLM (static masking) + NSP
    "roberta": ("roberta", "RobertaObjective"),        # MLM (dynamic masking), full-sentence packing, no NSP
    "albert": ("nsp_sop", "AlbertObjective"),      # factorised embedding, one shared layer, MLM + SOP
    "distilbert": ("distill", "DistilObjective"),  # distilled from mini-BERT: 5 KL(T=2) + 2 MLM + 1 cosine
    "electra": ("electra", "ElectraObjective"),    # generator MLM + 50 x replaced-token detection
    "xlnet": ("plm", "XLNetObjective"),            # permutation LM with perm_mask / target_mapping
}


class _Lazy(dict):
    def __missing__(self, family):
        module, name = _OBJECTIVES[family]
        return getattr(importlib.import_module(f"model_zoo.pretrain.{module}"), name)


OBJECTIVES = _Lazy()
FAMILIES = tuple(_OBJECTIVES)
