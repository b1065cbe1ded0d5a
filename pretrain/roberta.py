"""mini-RoBERTa: masked LM only, with dynamic masking, full-sentence packing and larger batches (Liu et al., 2019).

Rows are <s> + 126 tokens + </s> cut from one stream of the whole training split (documents separated by </s>,
sentences never dropped or split into pairs: FULL-SENTENCES); each time a row is seen it gets a new mask (15%, 80/10/10,
keyed by the step). No next-sentence prediction, no token types. Batches of 48 full rows (6,144 tokens) against
mini-BERT's 32 short pairs (about 1,200 tokens).

Warm start: trained from scratch at this scale mini-RoBERTa stays on the unigram plateau (always guessing "the"),
while mini-BERT, same size, learns positions from its short pairs (the card has the figures). The encoder layers, the position embeddings (shifted by RoBERTa's offset of pad id + 1) and the embedding and MLM-head
LayerNorm/dense weights now start from the shipped mini-BERT; the token embeddings (a different, byte-level BPE
vocabulary) and the output bias start new. The run records mini-BERT's checksum.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pretrain import evaluate as E
from pretrain import train as T
from pretrain import warm_start as WS
from pretrain.distill import PackedMLMData
from pretrain.mlm import gather, masked_positions


class RobertaObjective(WS.FromMiniBert, PackedMLMData, T.Objective):
    family, folders, tokenizer_kind = "roberta", ("roberta",), "bpe"
    batch_size, lr, warmup = 48, 1e-3, 300
    CONFIG = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
                  max_position_embeddings=514, type_vocab_size=1,
                  **T.NO_DROPOUT)  # see train.NO_DROPOUT

    def __init__(self, seed: int, device: str):
        from transformers import RobertaConfig, RobertaForMaskedLM
        super().__init__(seed, device)
        tok = self.tok
        config = RobertaConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                               eos_token_id=tok.eos_token_id, **self.CONFIG)
        self.model = RobertaForMaskedLM(config)
        self.init_rows()

    def fresh_start(self) -> None:
        warm_start(self.model, self.warm_start_folder)

    def modules(self):
        return {"model": self.model}

    def loss(self, b):
        attention = (b["input_ids"] != self.tok.pad_token_id).long()
        hidden = self.model.roberta(input_ids=b["input_ids"], attention_mask=attention)[0]   # (B, T, H)
        where, y = masked_positions(b["labels"])
        mlm = F.cross_entropy(self.model.lm_head(gather(hidden, where)), y)
        return mlm, {"loss": float(mlm.detach()), "mlm": float(mlm.detach())}

    def export(self):
        return [T.save_folder(self.model, self.tok, self.out / "roberta")]

    def evaluate(self):
        from transformers import RobertaForMaskedLM
        model = RobertaForMaskedLM.from_pretrained(self.out / "roberta", dtype=torch.float32).eval()
        return {"fill_mask": E.fill_mask_accuracy(model, self.tok, "bpe"),
                "ood_fill_mask": E.fill_mask_accuracy(model, self.tok, "bpe", rows=E.ood_rows(self.tok))}

    def card(self):
        return {"objective": "Masked LM only, **dynamic** masking (a new 15% mask, 80% <mask> / 10% random / 10% "
                             "kept, every time a row is seen), **full-sentence packing** (rows of 128 tokens cut from "
                             "the whole stream, documents separated by </s>), **no NSP**, larger batches (48 rows of "
                             "128 tokens, 6,144 tokens, against mini-BERT's ~1,200).",
                "warm_start": "The encoder layers, position embeddings (shifted by RoBERTa's offset) and the embedding "
                              "and MLM-head LayerNorm/dense weights start from mini-BERT as shipped when the run "
                              "began (same width); the byte-level BPE token embeddings start new. From scratch, this "
                              "model never left the unigram plateau (it guessed \"the\"). mini-BERT's checksum is in "
                              "the metrics.",
                "architecture": f"RobertaForMaskedLM: {self.CONFIG}; byte-level BPE vocabulary of {len(self.tok)}.",
                "bars": {"fill_mask": "fill-mask top-1 accuracy >= 3x the most-frequent-token baseline"}}


def warm_start(model, bert_folder) -> None:
    """mini-BERT's encoder, positions and LayerNorm/dense weights into a RobertaForMaskedLM of the same width (see the
    module docstring); the token embeddings and the output bias keep their fresh values."""
    bert = WS.bert_state(bert_folder)
    offset = model.config.pad_token_id + 1                      # RoBERTa's positions start after the padding index
    positions = model.roberta.embeddings.position_embeddings.weight.detach().clone()
    bert_positions = bert["bert.embeddings.position_embeddings.weight"]
    positions[offset:offset + len(bert_positions)] = bert_positions[:len(positions) - offset]
    wanted = {**WS.encoder(bert, "roberta.", model.config.num_hidden_layers),
              "roberta.embeddings.position_embeddings.weight": positions,
              "roberta.embeddings.token_type_embeddings.weight": bert["bert.embeddings.token_type_embeddings.weight"][:1],
              "roberta.embeddings.LayerNorm.weight": bert["bert.embeddings.LayerNorm.weight"],
              "roberta.embeddings.LayerNorm.bias": bert["bert.embeddings.LayerNorm.bias"],
              **WS.mlm_transform(bert, {"dense.weight": "lm_head.dense.weight", "dense.bias": "lm_head.dense.bias",
                                        "LayerNorm.weight": "lm_head.layer_norm.weight",
                                        "LayerNorm.bias": "lm_head.layer_norm.bias"})}
    WS.load_exactly(model, wanted, ("roberta.embeddings.word_embeddings.", "lm_head.bias", "lm_head.decoder."))
