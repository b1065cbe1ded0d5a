"""Pretraining the mini zoo: one small checkpoint per family, each with its family's real objective, on CPU.

    bash scripts/corpus_sources.sh                          # the corpus's text sources (apt, pip, two downloads)
    python -m pretrain.corpus                     # corpus -> .mini_work/corpus
    python -m pretrain.tokenizers_build           # new tokenizers -> .mini_work/tokenizers (else: shipped)
    python -m pretrain --family bert --minutes 22 # train (resumable), export a candidate, evaluate it
    python -m pretrain --family bert --init-from-shipped --peak-lr 5e-4 --until 22:30  # continue shipped
    python -m pretrain --family bert --promote    # ship the candidate if better out of domain
    python -m pretrain.evaluate --shipped         # re-evaluate assets/mini/ (in-domain + out-of-domain)
"""
from __future__ import annotations

import importlib

_OBJECTIVES = {  # family -> (module, class); imported on use so a missing module only affects its family
    "bert": ("nsp_sop", "BertObjective"),          # MLM (static masking) + NSP
    "roberta": ("roberta", "RobertaObjective"),        # MLM (dynamic masking), full-sentence packing, no NSP
    "albert": ("nsp_sop", "AlbertObjective"),      # factorised embedding, one shared layer, MLM + SOP
    "distilbert": ("distill", "DistilObjective"),  # distilled from mini-BERT: soft targets + cosine (distill.py)
    "electra": ("electra", "ElectraObjective"),    # generator MLM + 50 x replaced-token detection
    "xlnet": ("plm", "XLNetObjective"),            # permutation LM with perm_mask / target_mapping
}


class _Lazy(dict):
    def __missing__(self, family):
        module, name = _OBJECTIVES[family]
        return getattr(importlib.import_module(f"pretrain.{module}"), name)


OBJECTIVES = _Lazy()
FAMILIES = tuple(_OBJECTIVES)
