"""mini-BERT (masked LM with static masking + next-sentence prediction) and mini-ALBERT (masked LM + sentence order).

Both read sentence pairs drawn from the training split by data.sentence_pairs: [CLS] A [SEP] B [SEP], token types 0
for A and 1 for B. The pairs are drawn anew (new groupings, cuts, labels and negatives) for each of BERT's
DUPE_FACTOR static-mask copies, as create_pretraining_data.py does, and for every epoch of ALBERT: drawn once, the
pairs were memorised (pair loss falling on training pairs while plain held-out pairs stayed at chance). Epoch lengths
come from the first draw, so the epoch of a step is known from the step alone (resuming stays exact). Re-draws
(not the first) make 30% of the pairs one sentence each (data.SENTENCE_PAIR_SHARE), as a user's and the
out-of-domain pairs are. BERT's negatives replace B by text of another document of the same source (label 1 = "not
next"); ALBERT's swap A and B (label 1 = "swapped"), so topic cannot give the answer away, only order can.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pretrain import data as D
from pretrain import evaluate as E
from pretrain.mlm import gather, mask_rows, masked_positions, rows_rng
from pretrain.train import NO_DROPOUT, Objective, runs, save_folder

MAX_TOKENS = 125  # A + B; with [CLS] and two [SEP], 128 positions
DUPE_FACTOR = 10  # static masking: each example's number of fixed masks, as in BERT's create_pretraining_data.py


def pair_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the pairs that have a label (glossary pairs carry NO_PAIR_LABEL); 0 if none has."""
    keep = labels != D.NO_PAIR_LABEL
    if not bool(keep.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[keep], labels[keep])


class PairObjective(Objective):
    random_next = True        # NSP (True) or SOP (False)
    static_masking = True

    def __init__(self, seed: int, device: str):
        super().__init__(seed, device)
        self.data = D.tokenised(self.tok, self.tokenizer_kind, "train")
        self._drawn = -1
        self.draw_pairs(0)
        self.epoch_len = len(self.pairs) // self.batch_size
        self._epoch, self._batches = -1, []
        self.model = self.build_model()

    def modules(self):
        return {"model": self.model}

    def draw_pairs(self, draw: int) -> None:
        """The pairs of draw `draw` (0: the original draw, for checkpoints made before pairs were re-drawn)."""
        if draw != self._drawn:
            seed = self.seed if draw == 0 else [self.seed, draw]
            self.pairs = D.sentence_pairs(self.data, MAX_TOKENS, seed, self.random_next, vary_length=draw > 0,
                                          sentence_share=D.SENTENCE_PAIR_SHARE if draw > 0 else 0.0)
            self.lengths = np.array([len(a) + len(b) + 3 for a, b, _ in self.pairs])
            self._drawn = draw

    def findings(self, evaluation: dict) -> list[str]:
        task = "nsp" if self.random_next else "sop"
        long, short = evaluation.get(task, {}), evaluation.get(f"{task}_sentences", {})
        if not (long and short):
            return []
        return [f"**Pairs of single sentences.** On held-out pairs of the training corpus's own documents, "
                f"{task.upper()} is {long['accuracy']:.1%} when A and B are runs of sentences of about 60 tokens and "
                f"{short['accuracy']:.1%} when each is one sentence, as in the out-of-domain stories and in what a "
                f"user types. From the ninth session on, {D.SENTENCE_PAIR_SHARE:.0%} of the pairs of each training "
                f"re-draw are single sentences (before, none were). What the surface of such pairs gives away "
                f"without a transformer (shared words, the first and last pieces): `python scripts/pair_cues.py`, "
                f"in assets/mini/SOURCES.md."]

    def batch(self, step: int) -> dict:
        epoch, k = divmod(step, self.epoch_len)
        if epoch != self._epoch:
            self.draw_pairs(epoch % DUPE_FACTOR if self.static_masking else epoch)
            self._epoch, self._batches = epoch, D.length_buckets(self.lengths, self.batch_size, self.seed, epoch)
        index = self._batches[k % len(self._batches)]
        b = E.encode_pairs(self.tok, [self.pairs[i] for i in index])
        ids = b["input_ids"].numpy()
        special = np.isin(ids, self.tok.all_special_ids)
        # static masking as BERT's create_pretraining_data.py does it (dupe_factor 10): example i has DUPE_FACTOR fixed
        # masks, the epoch picks one. (One mask forever let mini-BERT memorise its masks: after ~15 epochs its
        # training loss was 3.4 nats on its own masks against 4.8 on fresh masks of the same text.) Dynamic: a new
        # mask every step.
        keys = ([(int(i), epoch % DUPE_FACTOR) for i in index] if self.static_masking
                else [(step, r) for r in range(len(index))])
        inputs, labels = mask_rows(ids, special, rows_rng(self.seed, keys), mask_id=self.tok.mask_token_id,
                                   vocab_size=len(self.tok))
        return {"input_ids": torch.tensor(inputs), "token_type_ids": b["token_type_ids"],
                "attention_mask": b["attention_mask"], "mlm_labels": torch.tensor(labels),
                "pair_labels": b["labels"], "n_tokens": int(b["attention_mask"].sum())}


class BertObjective(PairObjective):
    family, folders, tokenizer_kind = "bert", ("bert",), "wordpiece"
    batch_size, lr, warmup = 32, 1e-3, 200
    random_next, static_masking = True, True
    CONFIG = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
                  max_position_embeddings=512, **NO_DROPOUT)  # ~1.9M parameters, ~3.8 MB in fp16

    def build_model(self):
        from transformers import BertConfig, BertForPreTraining
        config = BertConfig(vocab_size=len(self.tok), pad_token_id=self.tok.pad_token_id, **self.CONFIG)
        return BertForPreTraining(config)

    def loss(self, b):
        out = self.model.bert(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                              token_type_ids=b["token_type_ids"])
        hidden, pooled = out[0], out[1]                               # (B, T, H), (B, H)
        where, y = masked_positions(b["mlm_labels"])
        mlm = F.cross_entropy(self.model.cls.predictions(gather(hidden, where)), y)
        nsp = pair_loss(self.model.cls.seq_relationship(pooled), b["pair_labels"])
        total = mlm + nsp
        return total, {"loss": float(total.detach()), "mlm": float(mlm.detach()), "nsp": float(nsp.detach())}

    def export(self):
        return [save_folder(self.model, self.tok, self.out / "bert")]

    def evaluate(self):
        from transformers import BertForPreTraining
        model = BertForPreTraining.from_pretrained(self.out / "bert", dtype=torch.float32)
        return {"fill_mask": E.fill_mask_accuracy(model, self.tok, "wordpiece"),
                "nsp": E.pair_accuracy(model, self.tok, "wordpiece", random_next=True),
                "nsp_sentences": E.pair_accuracy(model, self.tok, "wordpiece", random_next=True, sentences=True),
                "ood_fill_mask": E.fill_mask_accuracy(model, self.tok, "wordpiece", rows=E.ood_rows(self.tok)),
                "ood_nsp": E.ood_pair_accuracy(model, self.tok, random_next=True)}

    def card(self):
        return {"objective": "Masked LM with **static** masking (15% of tokens chosen; of those 80% [MASK], 10% a random "
                             f"token, 10% unchanged; as BERT's dupe_factor, each example has {DUPE_FACTOR} fixed masks "
                             "and the epoch picks one) plus **next-sentence prediction** on prose (50% of pairs "
                             "consecutive segments of one document, 50% B from another document of the same source; "
                             "WordNet's glossary documents feed the masked LM only). Loss = MLM cross-entropy + NSP "
                             "cross-entropy.",
                "architecture": f"BertForPreTraining: {self.CONFIG}, WordPiece uncased vocabulary of {len(self.tok)}; "
                                "sequences of at most 128 tokens in training (positions beyond are untrained).",
                "bars": {"fill_mask": "fill-mask top-1 accuracy >= 3x the most-frequent-token baseline",
                         "nsp": "NSP accuracy >= 75% on plain pairs"}}


class AlbertObjective(PairObjective):
    family, folders, tokenizer_kind = "albert", ("albert",), "albert"
    batch_size, lr, warmup = 32, 1.5e-3, 200
    random_next, static_masking = False, False
    CONFIG = dict(embedding_size=64, hidden_size=128, num_hidden_layers=4, num_hidden_groups=1, inner_group_num=1,
                  num_attention_heads=4, intermediate_size=512, max_position_embeddings=512,
                  hidden_act="gelu_new", **NO_DROPOUT)

    def build_model(self):
        from transformers import AlbertConfig, AlbertForPreTraining
        config = AlbertConfig(vocab_size=len(self.tok), pad_token_id=self.tok.pad_token_id,
                              bos_token_id=self.tok.cls_token_id, eos_token_id=self.tok.sep_token_id, **self.CONFIG)
        return AlbertForPreTraining(config)

    def loss(self, b):
        out = self.model.albert(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                                token_type_ids=b["token_type_ids"])
        hidden, pooled = out[0], out[1]
        where, y = masked_positions(b["mlm_labels"])
        mlm = F.cross_entropy(self.model.predictions(gather(hidden, where)), y)
        sop = pair_loss(self.model.sop_classifier(pooled), b["pair_labels"])
        total = mlm + sop
        return total, {"loss": float(total.detach()), "mlm": float(mlm.detach()), "sop": float(sop.detach())}

    def export(self):
        return [save_folder(self.model, self.tok, self.out / "albert")]

    def evaluate(self):
        from transformers import AlbertForPreTraining
        model = AlbertForPreTraining.from_pretrained(self.out / "albert", dtype=torch.float32)
        return {"fill_mask": E.fill_mask_accuracy(model, self.tok, "albert"),
                "sop": E.pair_accuracy(model, self.tok, "albert", random_next=False),
                "sop_sentences": E.pair_accuracy(model, self.tok, "albert", random_next=False, sentences=True),
                "ood_fill_mask": E.fill_mask_accuracy(model, self.tok, "albert", rows=E.ood_rows(self.tok)),
                "ood_sop": E.ood_pair_accuracy(model, self.tok, random_next=False)}

    def card(self):
        return {"objective": "Masked LM (15%, 80/10/10, drawn anew each step) plus **sentence-order prediction**: a "
                             "positive is two consecutive segments of one document in order, a negative the same two "
                             "swapped. Loss = MLM + SOP cross-entropy. (ALBERT's n-gram masking is not used here.) "
                             + runs("albert"),
                "architecture": f"AlbertForPreTraining: {self.CONFIG}: a factorised embedding (V x 64, then 64 x 128) "
                                f"and ONE transformer layer applied 4 times; unigram vocabulary of {len(self.tok)}.",
                "bars": {"fill_mask": "fill-mask top-1 accuracy >= 3x the most-frequent-token baseline",
                         "sop": "SOP accuracy >= 75% on plain pairs"}}
