"""mini-ELECTRA: a small generator (masked LM) and a discriminator trained jointly with replaced-token detection.

Per step: mask 15% of a packed 128-token WordPiece row (85% [MASK], 15% left as is, as in ELECTRA's own masking code);
the generator predicts the masked positions; its *samples* (no gradient through sampling) replace them; the
discriminator labels every real token original (0) or replaced (1), where a sample equal to the original counts as
original. Loss = generator MLM + 50 x discriminator binary cross-entropy. Token, position and token-type embeddings
are one set of modules shared by both networks (and the generator's output layer is tied to the token embeddings).

    >>> logits = discriminator(input_ids).logits        # (B, T); > 0 means "replaced"
    >>> replaced = (torch.sigmoid(logits) > 0.5).long()
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from model_zoo.pretrain import evaluate as E
from model_zoo.pretrain import train as T
from model_zoo.pretrain.distill import PackedMLMData
from model_zoo.pretrain.mlm import IGNORE

RTD_WEIGHT = 50.0


class ElectraObjective(PackedMLMData, T.Objective):
    family, folders, tokenizer_kind = "electra", ("electra-generator", "electra-discriminator"), "wordpiece"
    batch_size, lr, warmup = 16, 1e-3, 200
    mask_kw = {"mask_frac": 0.85, "random_frac": 0.0}
    DISCRIMINATOR = dict(embedding_size=128, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                         intermediate_size=512, max_position_embeddings=512, **T.NO_DROPOUT)
    GENERATOR = dict(embedding_size=128, hidden_size=64, num_hidden_layers=4, num_attention_heads=2,
                     intermediate_size=256, max_position_embeddings=512, **T.NO_DROPOUT)  # half the discriminator's width

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
        return total, {"loss": float(total.detach()), "mlm": float(mlm.detach()), "rtd": float(rtd.detach()),
                       "rtd_accuracy": float(acc), "replaced_fraction": float(replaced[keep].mean())}

    def export(self):
        return [T.save_folder(self.generator, self.tok, self.out / "electra-generator"),
                T.save_folder(self.discriminator, self.tok, self.out / "electra-discriminator")]

    def evaluate(self):
        from transformers import ElectraForMaskedLM, ElectraForPreTraining
        gen = ElectraForMaskedLM.from_pretrained(self.out / "electra-generator", dtype=torch.float32).eval()
        disc = ElectraForPreTraining.from_pretrained(self.out / "electra-discriminator", dtype=torch.float32).eval()
        ood = E.ood_rows(self.tok)
        return {"replaced_token_detection": E.electra_auc(gen, disc, self.tok),
                "generator_fill_mask": E.fill_mask_accuracy(gen, self.tok, "wordpiece"),
                "ood_replaced_token_detection": E.electra_auc(gen, disc, self.tok, rows=ood),
                "ood_generator_fill_mask": E.fill_mask_accuracy(gen, self.tok, "wordpiece", rows=ood)}

    def card(self):
        return {"objective": "Replaced-token detection trained jointly with a generator: 15% of tokens masked (85% "
                             "[MASK], 15% kept), the generator (a masked LM) samples replacements, the discriminator "
                             "labels every token original/replaced (a sample equal to the original counts as "
                             "original). Loss = generator MLM + 50 x discriminator BCE. Token, position and "
                             "token-type embeddings shared between the two during training.",
                "architecture": f"Discriminator ElectraForPreTraining {self.DISCRIMINATOR}; generator "
                                f"ElectraForMaskedLM {self.GENERATOR}; WordPiece uncased vocabulary of "
                                f"{len(self.tok)} (shared with mini-BERT).",
                "bars": {"replaced_token_detection": "discriminator ROC AUC >= 0.85 on its generator's replacements",
                         "generator_fill_mask": "generator fill-mask top-1 accuracy >= 3x the most-frequent-token "
                                                "baseline"}}
