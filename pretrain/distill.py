"""mini-DistilBERT: distilled from mini-BERT with the triple loss of Sanh et al. (2019).

Student: half the teacher's layers, initialised from every other teacher layer (0, 2, ...), the teacher's word and
position embeddings and MLM head; no token types, no pooler. Data: 128-token rows of the WordPiece stream with
dynamic masking (15%, 80/10/10); a quarter of each batch are lone sentences (PackedMLMData.short_share). Loss =
ALPHA_CE * KL(teacher || student) of soft targets at TEMPERATURE (times T^2) + ALPHA_MLM * MLM cross-entropy +
ALPHA_COS * (1 - cosine) between last hidden states. The soft-target term is taken at the masked positions only
(the authors' `--restrict_ce_to_mask` option), to save CPU. The authors weight the hard-label MLM term 2.0; here it
is 0: agreement with the teacher is the bar, and the term pulls the student toward the data, away from its teacher.
The authors' temperature is 2; here 1, which at equal steps, seed and data agreed a little more (what each run
measured: assets/mini/history/distilbert.md and the card).
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from pretrain import data as D
from pretrain import evaluate as E
from pretrain import train as T
from pretrain.mlm import gather, mask_rows, masked_positions, rows_rng
from pretrain.teacher import StaleTeacherError, check_teacher

TEMPERATURE = 1.0
ALPHA_CE, ALPHA_MLM, ALPHA_COS = 5.0, 0.0, 1.0  # Sanh et al.: 5, 2, 1 (and temperature 2)


def packed_rows(tok, kind: str, split: str, body_len: int = 126, data: D.Tokenised | None = None) -> np.ndarray:
    """(n, body_len + 2) rows [CLS] ... [SEP] (or <s> ... </s>) of the packed stream, documents separated by [SEP].
    `data`: the split already tokenised (else it is read from the cache)."""
    rows = D.pack(data or D.tokenised(tok, kind, split), body_len, E.doc_separator(tok))
    prefix, suffix = E.specials(tok)
    return np.concatenate([np.tile(prefix, (len(rows), 1)), rows, np.tile(suffix, (len(rows), 1))], 1)


class PackedMLMData:
    """Mixin: batch(step) = a shuffled slice of packed rows with a dynamic mask keyed by (step, row).

    short_share of each batch (0 by default) are short sentence-aligned rows instead ([CLS] one or a few sentences
    [SEP], padded; data.sentence_spans), drawn by (seed, step): BERT's short sequences. Packed rows alone never show
    a model a lone sentence, which is what the app sends it; measured on the shipped mini-ELECTRA trained without them,
    its replaced-token AUC on the plain-English sentences was 0.647 one sentence per row and 0.732 with the same
    sentences packed into full rows (mini-DistilBERT's agreement with its teacher: 52.9% and 58.2%).
    """
    mask_kw: dict = {}
    short_share: float = 0.0

    def init_rows(self):
        self._tokens = D.tokenised(self.tok, self.tokenizer_kind, "train")
        self.rows = packed_rows(self.tok, self.tokenizer_kind, "train", data=self._tokens)
        self._epoch, self._order = -1, None
        if self.short_share:
            self._prefix, self._suffix = E.specials(self.tok)
            body = self.rows.shape[1] // 2 - len(self._prefix) - len(self._suffix)
            self._spans = D.sentence_spans(self._tokens, body, self.seed)

    @property
    def short_share_words(self) -> str:
        """The share of lone-sentence rows as a card says it: "a quarter", "half", "40%"."""
        return {0.25: "a quarter", 0.5: "half"}.get(self.short_share, f"{self.short_share:.0%}")

    @property
    def n_short(self) -> int:
        """Rows of each batch that are short (from the batch size in force: a GPU run overrides it after init)."""
        return int(round(self.batch_size * self.short_share))

    def short_rows(self, step: int) -> np.ndarray:
        """(n_short, width) [CLS] span [SEP] rows, right-padded, for this step."""
        starts, lengths = self._spans
        pick = np.random.default_rng([self.seed, 11, step]).integers(len(starts), size=self.n_short)
        out = np.full((self.n_short, self.rows.shape[1]), self.tok.pad_token_id, dtype=np.int64)
        for r, k in enumerate(pick):
            body = self._tokens.tokens[starts[k]:starts[k] + lengths[k]]
            row = np.concatenate([self._prefix, body, self._suffix])
            out[r, :len(row)] = row
        return out

    def batch(self, step: int) -> dict:
        n_packed = self.batch_size - self.n_short
        per_epoch = len(self.rows) // n_packed
        epoch, k = divmod(step, per_epoch)
        if epoch != self._epoch:
            self._epoch, self._order = epoch, np.random.default_rng([self.seed, 7, epoch]).permutation(len(self.rows))
        index = self._order[k * n_packed:(k + 1) * n_packed]
        ids = self.rows[index].astype(np.int64)
        if self.n_short:
            ids = np.concatenate([ids, self.short_rows(step)])
        special = np.isin(ids, self.tok.all_special_ids)
        inputs, labels = mask_rows(ids, special, rows_rng(self.seed, [(step, r) for r in range(len(ids))]),
                                   mask_id=self.tok.mask_token_id, vocab_size=len(self.tok), **self.mask_kw)
        return {"input_ids": torch.tensor(inputs), "labels": torch.tensor(labels), "original": torch.tensor(ids),
                "n_tokens": int((ids != self.tok.pad_token_id).sum())}


def student_from_teacher(teacher, tok):
    """A DistilBertForMaskedLM with half the teacher's layers, copied from teacher layers 0, 2, 4, ..."""
    from transformers import DistilBertConfig, DistilBertForMaskedLM
    tc = teacher.config
    config = DistilBertConfig(vocab_size=tc.vocab_size, dim=tc.hidden_size, n_layers=tc.num_hidden_layers // 2,
                              n_heads=tc.num_attention_heads, hidden_dim=tc.intermediate_size,
                              max_position_embeddings=tc.max_position_embeddings, activation="gelu",
                              pad_token_id=tok.pad_token_id, dropout=0.0, attention_dropout=0.0)  # see train.NO_DROPOUT
    student = DistilBertForMaskedLM(config)
    s, t = student.distilbert, teacher.bert
    with torch.no_grad():
        s.embeddings.word_embeddings.weight.copy_(t.embeddings.word_embeddings.weight)
        s.embeddings.position_embeddings.weight.copy_(t.embeddings.position_embeddings.weight)
        # BERT adds token-type 0's embedding to every token; DistilBERT has none, so fold it into the positions
        s.embeddings.position_embeddings.weight.add_(t.embeddings.token_type_embeddings.weight[0])
        s.embeddings.LayerNorm.load_state_dict(t.embeddings.LayerNorm.state_dict())
        for i, block in enumerate(s.transformer.layer):
            src = t.encoder.layer[2 * i]
            block.attention.q_lin.load_state_dict(src.attention.self.query.state_dict())
            block.attention.k_lin.load_state_dict(src.attention.self.key.state_dict())
            block.attention.v_lin.load_state_dict(src.attention.self.value.state_dict())
            block.attention.out_lin.load_state_dict(src.attention.output.dense.state_dict())
            block.sa_layer_norm.load_state_dict(src.attention.output.LayerNorm.state_dict())
            block.ffn.lin1.load_state_dict(src.intermediate.dense.state_dict())
            block.ffn.lin2.load_state_dict(src.output.dense.state_dict())
            block.output_layer_norm.load_state_dict(src.output.LayerNorm.state_dict())
        head = teacher.cls.predictions
        student.vocab_transform.load_state_dict(head.transform.dense.state_dict())
        student.vocab_layer_norm.load_state_dict(head.transform.LayerNorm.state_dict())
        student.vocab_projector.bias.copy_(head.bias if getattr(head, "bias", None) is not None
                                           else head.decoder.bias)
    return student


def student_mlm_logits(student, hidden: torch.Tensor) -> torch.Tensor:
    """DistilBertForMaskedLM's head on (n, H) rows."""
    x = student.vocab_layer_norm(student.activation(student.vocab_transform(hidden)))
    return student.vocab_projector(x)


class DistilObjective(PackedMLMData, T.Objective):
    family, folders, tokenizer_kind = "distilbert", ("distilbert",), "wordpiece"
    primary = ("ood_distillation", "top1_agreement_with_teacher", 1)
    batch_size, lr, warmup = 16, 5e-4, 100
    short_share = 0.25  # 4 of 16 rows: lone sentences, as the app asks (PackedMLMData)
    teacher_dir = T.MINI / "bert"

    def __init__(self, seed: int, device: str):
        from transformers import BertForPreTraining
        super().__init__(seed, device)
        teacher_dir = self.teacher_dir
        if not (teacher_dir / "config.json").exists():
            raise FileNotFoundError(f"mini-DistilBERT needs its teacher first: {teacher_dir} (train --family bert)")
        self.teacher_sha256 = check_teacher(None, teacher_dir)
        self.teacher = BertForPreTraining.from_pretrained(teacher_dir, dtype=torch.float32).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.student = student_from_teacher(self.teacher, self.tok)
        self.init_rows()

    def modules(self):
        return {"student": self.student}

    def start_state(self) -> dict:
        root = T.MINI.parents[1]
        where = self.teacher_dir.relative_to(root) if self.teacher_dir.is_relative_to(root) else self.teacher_dir
        return {"teacher_sha256": self.teacher_sha256, "teacher": str(where)}

    def resumed(self, state: dict) -> None:
        """Refuse to continue (or export, or report) a distillation whose teacher has changed since it began."""
        if not state.get("teacher_sha256"):
            raise StaleTeacherError(f"this distillation checkpoint records no teacher checksum, so its teacher cannot "
                                    f"be shown to be {self.teacher_dir}: start a new distillation (delete "
                                    f"{T.CKPT_DIR / 'distilbert.pt'})")
        check_teacher(state["teacher_sha256"], self.teacher_dir)
        self.teacher_sha256 = state["teacher_sha256"]

    def previous_record(self) -> dict:
        return {}  # a distillation always starts from its teacher, never continues a shipped student

    def loss(self, b):
        attention = (b["input_ids"] != self.tok.pad_token_id).long()
        with torch.no_grad():
            t_out = self.teacher.bert(input_ids=b["input_ids"], attention_mask=attention)
        t_hidden = t_out[0]                                                          # (B, T, H)
        s_hidden = self.student.distilbert(input_ids=b["input_ids"], attention_mask=attention)[0]  # (B, T, H)
        where, y = masked_positions(b["labels"])
        s_logits = student_mlm_logits(self.student, gather(s_hidden, where))        # (n, V)
        with torch.no_grad():
            t_logits = self.teacher.cls.predictions(gather(t_hidden, where))         # (n, V)
        kl = F.kl_div(F.log_softmax(s_logits / TEMPERATURE, -1), F.softmax(t_logits / TEMPERATURE, -1),
                      reduction="batchmean") * TEMPERATURE ** 2
        mlm = F.cross_entropy(s_logits, y)
        keep = attention.reshape(-1).bool()
        s_flat, t_flat = s_hidden.reshape(-1, s_hidden.shape[-1])[keep], t_hidden.reshape(-1, t_hidden.shape[-1])[keep]
        cos = (1 - F.cosine_similarity(s_flat, t_flat, dim=-1)).mean()
        total = ALPHA_CE * kl + ALPHA_MLM * mlm + ALPHA_COS * cos
        return total, {"loss": float(total.detach()), "kl": float(kl.detach()), "mlm": float(mlm.detach()),
                       "cos": float(cos.detach())}

    def export(self):
        return [T.save_folder(self.student, self.tok, self.out / "distilbert")]

    def evaluate(self):
        from transformers import BertForMaskedLM, DistilBertForMaskedLM
        check_teacher(self.teacher_sha256, self.teacher_dir)  # the teacher may have been replaced while we trained
        student = DistilBertForMaskedLM.from_pretrained(self.out / "distilbert", dtype=torch.float32).eval()
        teacher = BertForMaskedLM.from_pretrained(self.teacher_dir, dtype=torch.float32).eval()
        ood = E.ood_rows(self.tok)
        return {"fill_mask": E.fill_mask_accuracy(student, self.tok, "wordpiece"),
                "teacher_fill_mask": E.fill_mask_accuracy(teacher, self.tok, "wordpiece"),
                "distillation": E.distil_agreement(student, teacher, self.tok),
                "ood_fill_mask": E.fill_mask_accuracy(student, self.tok, "wordpiece", rows=ood),
                "ood_teacher_fill_mask": E.fill_mask_accuracy(teacher, self.tok, "wordpiece", rows=ood),
                "ood_distillation": E.distil_agreement(student, teacher, self.tok, rows=ood)}

    def card(self):
        return {"objective": f"Distillation from mini-BERT (the teacher in assets/mini/bert): loss = {ALPHA_CE:g} x KL "
                             "divergence of the student's from the teacher's soft targets at temperature "
                             f"{TEMPERATURE:g} (x T^2, at masked positions) + {ALPHA_MLM:g} x masked-LM cross-entropy "
                             f"(dynamic 15% masking, 80/10/10) + {ALPHA_COS:g} x (1 - cosine) between the last hidden "
                             "states. " + T.runs("distilbert") + " Student initialised from teacher "
                             "layers "
                             "0 and 2, the teacher's embeddings and MLM head. Rows: 128-token packed rows of the "
                             f"stream, with {self.short_share_words} of each batch lone sentences ([CLS] one or a "
                             "few whole sentences [SEP], padded), as the app sends them.",
                "architecture": f"DistilBertForMaskedLM: dim {self.student.config.dim}, "
                                f"{self.student.config.n_layers} layers (teacher: 4), "
                                f"{self.student.config.n_heads} heads, no token types, no pooler.",
                "bars": {"fill_mask": "fill-mask top-1 accuracy >= 3x the most-frequent-token baseline",
                         "distillation": "top-1 agreement with the teacher (the shipped mini-BERT) >= 70% and the full MLM "
                                         "forward >= 1.5x faster"}}
