"""mini-ELECTRA: a small generator (masked LM) and a discriminator trained jointly with replaced-token detection.

Per step: mask 15% of each 128-token WordPiece row (85% [MASK], 15% left as is, as in ELECTRA's own masking code;
half the rows are lone sentences, padded: PackedMLMData.short_share);
the generator predicts the masked positions; its *samples* (no gradient through sampling) replace them; the
discriminator labels every real token original (0) or replaced (1), where a sample equal to the original counts as
original. Loss = generator MLM + 50 x discriminator binary cross-entropy. Token, position and token-type embeddings
are one set of modules shared by both networks (and the generator's output layer is tied to the token embeddings).

Warm start: trained from scratch at this scale the generator never leaves the unigram ("the" for most guesses) and
the discriminator stays near chance (its card has the figures). Both networks start from the shipped mini-BERT, which
has the same vocabulary and width:
embeddings and encoder layers into both (the generator takes the first GENERATOR_LAYERS of them), BERT's MLM head into
the generator; the discriminator's head is new. The generator has half the discriminator's depth: with an equal-size
generator (all four layers) the samples are as plausible as the discriminator can judge (the paper's advice: a
generator 1/4-1/2 the discriminator's size, Clark et al. 2020, fig. 3). Learning rate
5e-4 (the paper's small model) with a 1000-step warm-up, batch 32; the run records mini-BERT's checksum.

Lone sentences: packed rows alone never show the model one sentence, which is what the app sends it; half of each
batch is a lone sentence or a few (PackedMLMData.short_share). What each run measured: assets/mini/history/electra.md
and the card.

    >>> logits = discriminator(input_ids).logits        # (B, T); > 0 means "replaced"
    >>> replaced = (torch.sigmoid(logits) > 0.5).long()
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from model_zoo.metrics import roc_auc
from pretrain import evaluate as E
from pretrain import train as T
from pretrain import warm_start as WS
from pretrain.distill import PackedMLMData
from pretrain.mlm import IGNORE

RTD_WEIGHT = 50.0


class ElectraObjective(WS.FromMiniBert, PackedMLMData, T.Objective):
    family, folders, tokenizer_kind = "electra", ("electra-generator", "electra-discriminator"), "wordpiece"
    primary = ("ood_replaced_token_detection", "roc_auc", 1)
    batch_size, lr, warmup = 32, 5e-4, 1000
    mask_kw = {"mask_frac": 0.85, "random_frac": 0.0}
    short_share = 0.5  # 16 of 32 rows: lone sentences, as the app asks and the out-of-domain rows are
    DISCRIMINATOR = dict(embedding_size=128, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                         intermediate_size=512, max_position_embeddings=512, **T.NO_DROPOUT)
    GENERATOR = {**DISCRIMINATOR, "num_hidden_layers": 2}  # mini-BERT's width, half its depth (module docstring)

    def __init__(self, seed: int, device: str):
        from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
        super().__init__(seed, device)
        common = dict(vocab_size=len(self.tok), pad_token_id=self.tok.pad_token_id)
        self.discriminator = ElectraForPreTraining(ElectraConfig(**common, **self.DISCRIMINATOR))
        self.generator = ElectraForMaskedLM(ElectraConfig(**common, **self.GENERATOR))
        shared, gen = self.discriminator.electra.embeddings, self.generator.electra.embeddings
        gen.word_embeddings = shared.word_embeddings
        gen.position_embeddings = shared.position_embeddings
        gen.token_type_embeddings = shared.token_type_embeddings
        self.generator.generator_lm_head.weight = shared.word_embeddings.weight
        self.init_rows()

    def fresh_start(self) -> None:
        """A new run (no checkpoint): copy mini-BERT into both networks (see the module docstring)."""
        warm_start(self.generator, self.discriminator, self.warm_start_folder)

    def modules(self):
        return {"generator": self.generator, "discriminator": self.discriminator}

    def loss(self, b):
        ids, labels, original = b["input_ids"], b["labels"], b["original"]
        attention = (original != self.tok.pad_token_id).long()
        chosen = labels != IGNORE                                                      # (B, T)
        hidden = self.generator.electra(input_ids=ids, attention_mask=attention)[0]     # (B, T, Hg)
        h = self.generator.generator_predictions(hidden[chosen])                       # (n, E)
        gen_logits = self.generator.generator_lm_head(h)                                # (n, V)
        mlm = F.cross_entropy(gen_logits, labels[chosen])
        with torch.no_grad():
            sampled = torch.multinomial(torch.softmax(gen_logits.float(), -1), 1).squeeze(1)  # (n,)
            corrupted = original.clone()
            corrupted[chosen] = sampled
            replaced = (corrupted != original).float()                                 # (B, T)
        disc_logits = self.discriminator(input_ids=corrupted, attention_mask=attention).logits  # (B, T)
        keep = attention.bool()
        rtd = F.binary_cross_entropy_with_logits(disc_logits[keep], replaced[keep])
        total = mlm + RTD_WEIGHT * rtd
        with torch.no_grad():
            acc = ((disc_logits[keep] > 0).float() == replaced[keep]).float().mean()
            auc = roc_auc(scores=disc_logits[keep].float().cpu().numpy(), labels=replaced[keep].cpu().numpy())
        return total, {"loss": float(total.detach()), "mlm": float(mlm.detach()), "rtd": float(rtd.detach()),
                       "rtd_accuracy": float(acc), "rtd_auc": 0.5 if auc is None else auc, "replaced_fraction": float(replaced[keep].mean())}

    def export(self):
        return [T.save_folder(self.generator, self.tok, self.out / "electra-generator"),
                T.save_folder(self.discriminator, self.tok, self.out / "electra-discriminator")]

    def evaluate(self):
        from transformers import BertForMaskedLM, ElectraForMaskedLM, ElectraForPreTraining
        gen = ElectraForMaskedLM.from_pretrained(self.out / "electra-generator", dtype=torch.float32).eval()
        disc = ElectraForPreTraining.from_pretrained(self.out / "electra-discriminator", dtype=torch.float32).eval()
        bert = BertForMaskedLM.from_pretrained(self.warm_start_folder, dtype=torch.float32).eval()
        ood = E.ood_rows(self.tok)
        return {"replaced_token_detection": E.electra_auc(gen, disc, self.tok, reference=bert),
                "generator_fill_mask": E.fill_mask_accuracy(gen, self.tok, "wordpiece"),
                "ood_replaced_token_detection": E.electra_auc(gen, disc, self.tok, rows=ood, reference=bert),
                "ood_generator_fill_mask": E.fill_mask_accuracy(gen, self.tok, "wordpiece", rows=ood)}

    def card(self):
        return {"objective": "Replaced-token detection trained jointly with a generator: 15% of tokens masked (85% "
                             "[MASK], 15% kept), the generator (a masked LM) samples replacements, the discriminator "
                             "labels every token original/replaced (a sample equal to the original counts as "
                             "original). Loss = generator MLM + 50 x discriminator BCE. Token, position and "
                             "token-type embeddings shared between the two during training. Rows: 128-token packed "
                             f"rows of the stream, with {self.short_share_words} of each batch lone sentences ([CLS] "
                             "one or a few whole sentences [SEP], padded), as the app sends them.",
                "warm_start": "Both networks start from mini-BERT as shipped when the run began (same WordPiece "
                              "vocabulary and width; its checksum is in the metrics, warm_start_sha256): its "
                              "embeddings and encoder layers into both (the generator, half as deep, takes the first "
                              "two), its MLM head into the generator; the discriminator's head starts new. "
                              + T.runs("electra"),
                "architecture": f"Discriminator ElectraForPreTraining {self.DISCRIMINATOR}; generator "
                                f"ElectraForMaskedLM {self.GENERATOR}; WordPiece uncased vocabulary of "
                                f"{len(self.tok)} (shared with mini-BERT).",
                "bars": {"replaced_token_detection": "discriminator ROC AUC >= 0.85 on its generator's replacements",
                         "generator_fill_mask": "generator fill-mask top-1 accuracy >= 3x the most-frequent-token "
                                                "baseline"}}


def warm_start(generator, discriminator, bert_folder) -> None:
    """Copy a BertForPreTraining's embeddings + encoder into both ELECTRA networks and its MLM head into the generator.
    A network with fewer layers than BERT takes BERT's first ones. The networks share their embedding modules, so
    those are written once. Raises if any shape does not fit."""
    bert = WS.bert_state(bert_folder)
    embeddings = {"electra." + k[len("bert."):]: v for k, v in bert.items() if k.startswith("bert.embeddings.")}
    head = {**WS.mlm_transform(bert, {"dense.weight": "generator_predictions.dense.weight",
                                      "dense.bias": "generator_predictions.dense.bias",
                                      "LayerNorm.weight": "generator_predictions.LayerNorm.weight",
                                      "LayerNorm.bias": "generator_predictions.LayerNorm.bias"}),
            "generator_lm_head.bias": bert["cls.predictions.bias"]}
    for model, extra in ((generator, head), (discriminator, {})):
        wanted = {**embeddings, **WS.encoder(bert, "electra.", model.config.num_hidden_layers), **extra}
        WS.load_exactly(model, wanted, ("discriminator_predictions.", "generator_lm_head.weight"))
