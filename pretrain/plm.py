"""mini-XLNet: permutation language modelling with `perm_mask` and `target_mapping`, as transformers implements it.

For each 64-token row (62 tokens of the packed unigram stream + <sep> <cls> at the end) a factorisation order is
sampled over the real tokens; the last ~1/6 of the order (10 tokens) are the targets. Context tokens (the first 5/6)
see each other but no target; a target sees the context and the targets earlier in the order:
    perm_mask[b, i, j] = 1  (i may NOT attend to j)  iff  j is a target and rank(j) >= rank(i)
(the content stream still sees itself: XLNetModel adds the diagonal back). `target_mapping[b, k, pos_k] = 1` makes the
query stream (which knows a target's position, not its token) predict exactly the targets: logits (B, 10, V).

    >>> perm_mask, target_mapping, labels = permutation_targets(ids, special, rng, n_predict=10)
"""
from __future__ import annotations

import math

import numpy as np
import torch

from pretrain import data as D
from pretrain import evaluate as E
from pretrain import train as T
from pretrain.corpus import corpus_id

SEQ_BODY = 62
N_PREDICT = 10  # ~1/6 of 62 (K = 6)


def permutation_targets(ids: np.ndarray, special: np.ndarray, rng: np.random.Generator, n_predict: int = N_PREDICT):
    """(perm_mask (B, T, T) float32, target_mapping (B, K, T) float32, labels (B, K) int64) for one batch."""
    b, t = ids.shape
    perm_mask = np.zeros((b, t, t), dtype=np.float32)
    target_mapping = np.zeros((b, n_predict, t), dtype=np.float32)
    labels = np.zeros((b, n_predict), dtype=np.int64)
    for row in range(b):
        order = rng.permutation(np.flatnonzero(~special[row]))   # a factorisation order of the real tokens
        targets = order[-n_predict:]                               # the last 1/K of the order
        rank = np.full(t, -1)
        rank[targets] = np.arange(n_predict)                       # context tokens: rank -1 (seen by all)
        is_target = rank >= 0
        perm_mask[row] = (is_target[None, :] & (rank[None, :] >= rank[:, None])).astype(np.float32)
        target_mapping[row, np.arange(n_predict), targets] = 1.0
        labels[row] = ids[row, targets]
    return perm_mask, target_mapping, labels


def xlnet_rows(tok, split: str) -> np.ndarray:
    rows = D.pack(D.tokenised(tok, "xlnet", split), SEQ_BODY, tok.sep_token_id)
    return np.concatenate([rows, np.tile([tok.sep_token_id, tok.cls_token_id], (len(rows), 1))], 1)


def token_types(ids: np.ndarray, tok) -> np.ndarray:
    return np.where(ids == tok.cls_token_id, 2, 0)  # XLNet's convention: <cls> gets segment 2


class XLNetObjective(T.Objective):
    family, folders, tokenizer_kind = "xlnet", ("xlnet",), "xlnet"
    primary = ("ood_permutation_lm", "ratio", -1)
    batch_size, lr, warmup = 32, 1e-3, 100
    CONFIG = dict(d_model=128, n_layer=4, n_head=4, d_inner=512, ff_activation="gelu", attn_type="bi",
                  mem_len=None, untie_r=True, dropout=0.0)  # see train.NO_DROPOUT

    def __init__(self, seed: int, device: str):
        from transformers import XLNetConfig, XLNetLMHeadModel
        super().__init__(seed, device)
        tok = self.tok
        config = XLNetConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                             eos_token_id=tok.eos_token_id, **self.CONFIG)
        self.model = XLNetLMHeadModel(config)
        self.rows = xlnet_rows(tok, "train")
        self.special = np.isin(self.rows, tok.all_special_ids)
        self._epoch, self._order = -1, None

    def modules(self):
        return {"model": self.model}

    def batch(self, step: int) -> dict:
        per_epoch = len(self.rows) // self.batch_size
        epoch, k = divmod(step, per_epoch)
        if epoch != self._epoch:
            self._epoch, self._order = epoch, np.random.default_rng([self.seed, 11, epoch]).permutation(len(self.rows))
        index = self._order[k * self.batch_size:(k + 1) * self.batch_size]
        ids = self.rows[index].astype(np.int64)
        perm, mapping, labels = permutation_targets(ids, self.special[index], np.random.default_rng([self.seed, step]))
        return {"input_ids": torch.tensor(ids), "token_type_ids": torch.tensor(token_types(ids, self.tok)),
                "perm_mask": torch.tensor(perm), "target_mapping": torch.tensor(mapping),
                "labels": torch.tensor(labels), "n_tokens": int(ids.size)}

    def loss(self, b):
        out = self.model(input_ids=b["input_ids"], token_type_ids=b["token_type_ids"], perm_mask=b["perm_mask"],
                         target_mapping=b["target_mapping"], labels=b["labels"], use_mems=False)
        return out.loss, {"loss": float(out.loss.detach())}

    def export(self):
        return [T.save_folder(self.model, self.tok, self.out / "xlnet")]

    def evaluate(self):
        from transformers import XLNetLMHeadModel
        model = XLNetLMHeadModel.from_pretrained(self.out / "xlnet", dtype=torch.float32).eval()
        return {"permutation_lm": plm_perplexity(model, self.tok),
                "ood_permutation_lm": plm_perplexity(model, self.tok, ood=True)}

    def card(self):
        return {"objective": "Permutation language modelling: per row a factorisation order of the real tokens is "
                             "sampled; the last ~1/6 of it (10 of 62 tokens) are predicted by the query stream through "
                             "`target_mapping`, each seeing only the context and the targets earlier in the order "
                             "(`perm_mask`); two-stream attention and relative positions as in transformers' "
                             "XLNetLMHeadModel. No memory (`mem_len=None`): rows are independent.",
                "architecture": f"XLNetLMHeadModel: {self.CONFIG}; cased unigram vocabulary of {len(self.tok)}, "
                                "<sep> <cls> at the end of every sequence.",
                "bars": {"permutation_lm": "perplexity under random orders <= 1/3 of the unigram perplexity"}}


def ood_xlnet_rows(tok) -> np.ndarray:
    """The OOD set (assets/mini/eval) packed like the held-out rows: 62 tokens + <sep> <cls>."""
    docs = [sents for _, sents in E.ood_documents()]
    rows = D.pack(D.tokenise_documents(tok, docs), SEQ_BODY, tok.sep_token_id)
    return np.concatenate([rows, np.tile([tok.sep_token_id, tok.cls_token_id], (len(rows), 1))], 1)


@torch.no_grad()
def plm_perplexity(model, tok, n_rows: int = 256, ood: bool = False) -> dict:
    """Perplexity of the last 1/6 of random orders on held-out rows (or the OOD set, 4 orders per row), against a
    unigram model of the training split."""
    if ood:
        rows, repeats = ood_xlnet_rows(tok).astype(np.int64), E.OOD_MASKS
        name = f"out-of-domain: the {sum(len(s) for _, s in E.ood_documents())} OOD sentences packed in {len(rows)} rows"
    else:
        rows, repeats = xlnet_rows(tok, "heldout"), 1
        rows = rows[np.linspace(0, len(rows) - 1, min(n_rows, len(rows))).astype(int)].astype(np.int64)
        name = f"in-domain held-out split ({len(rows)} rows, corpus {corpus_id()})"
    special = np.isin(rows, tok.all_special_ids)
    counts = D.unigram_counts(D.tokenised(tok, "xlnet", "train"), len(tok)) + 1.0
    nll = unigram_nll = 0.0
    n_targets = 0
    for repeat in range(repeats):
        perm, mapping, labels = permutation_targets(rows, special, np.random.default_rng([E.EVAL_SEED, repeat])
                                                    if repeat else np.random.default_rng(E.EVAL_SEED))
        unigram_nll += float(-np.log(counts[labels] / counts.sum()).sum())
        for i in range(0, len(rows), 32):
            out = model(input_ids=torch.tensor(rows[i:i + 32]),
                        token_type_ids=torch.tensor(token_types(rows[i:i + 32], tok)),
                        perm_mask=torch.tensor(perm[i:i + 32]), target_mapping=torch.tensor(mapping[i:i + 32]),
                        use_mems=False)
            logp = torch.log_softmax(out.logits.float(), -1)                     # (b, K, V)
            nll += float(-logp.gather(-1, torch.tensor(labels[i:i + 32])[..., None]).sum())
        n_targets += labels.size
    ppl, uni = math.exp(nll / n_targets), math.exp(unigram_nll / n_targets)
    return {"perplexity": round(ppl, 2), "unigram_perplexity": round(uni, 2), "ratio": round(ppl / uni, 4),
            "bar_ratio": 1 / 3, "meets_bar": ppl <= uni / 3, "targets": int(n_targets),
            "orders": f"random, the last 10 of 62 real tokens predicted, {repeats} order(s) per row (seed fixed)",
            "set": name}
