"""Quality measures of the mini checkpoints on the held-out split (each takes a loaded model and its tokenizer).

  fill_mask_accuracy  top-1 accuracy at masked positions vs always guessing the most frequent training token
  pair_accuracy       NSP (BERT) or SOP (ALBERT) accuracy on held-out pairs (chance 50%)
  electra_auc         ROC AUC of the discriminator on its generator's replacements
  plm_perplexity      XLNet's perplexity under random factorisation orders vs the unigram perplexity
  distil_agreement    student/teacher top-1 agreement at masked positions and the forward-pass speed-up
"""
from __future__ import annotations

import time

import numpy as np
import torch

from model_zoo.pretrain import data as D
from model_zoo.pretrain.mlm import IGNORE, mask_tokens

EVAL_SEED = 1234


def specials(tok) -> tuple[list[int], list[int]]:
    """(prefix, suffix) special ids a single sequence gets from this tokenizer, e.g. ([CLS], [SEP]) or ([], <sep> <cls>)."""
    with_special = tok("x", add_special_tokens=True)["input_ids"]
    bare = tok("x", add_special_tokens=False)["input_ids"]
    start = next(i for i in range(len(with_special)) if with_special[i:i + len(bare)] == bare)
    return with_special[:start], with_special[start + len(bare):]


def doc_separator(tok) -> int:
    return tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id


def heldout_rows(tok, kind: str, body_len: int = 62, n_rows: int = 256) -> np.ndarray:
    """(n_rows, body_len + specials) held-out rows with the family's special tokens, evenly spread over the split."""
    rows = D.pack(D.tokenised(tok, kind, "heldout"), body_len, doc_separator(tok))
    rows = rows[np.linspace(0, len(rows) - 1, min(n_rows, len(rows))).astype(int)]
    prefix, suffix = specials(tok)
    return np.concatenate([np.tile(prefix, (len(rows), 1)), rows, np.tile(suffix, (len(rows), 1))], 1).astype(np.int64)


def special_mask(ids: np.ndarray, tok) -> np.ndarray:
    return np.isin(ids, tok.all_special_ids)


def most_frequent_token(tok, kind: str) -> int:
    counts = D.unigram_counts(D.tokenised(tok, kind, "train"), len(tok))
    counts[tok.all_special_ids] = 0
    return int(counts.argmax())


def _logits(out):
    return out.prediction_logits if getattr(out, "prediction_logits", None) is not None else out.logits


@torch.no_grad()
def fill_mask_accuracy(model, tok, kind: str, n_rows: int = 256, batch: int = 64) -> dict:
    """Mask 15% of held-out positions (all with the mask token, as a fill-mask query does) and score top-1."""
    ids = heldout_rows(tok, kind, n_rows=n_rows)
    inputs, labels = mask_tokens(ids, special_mask(ids, tok), np.random.default_rng(EVAL_SEED), tok.mask_token_id,
                                 len(tok), mask_frac=1.0, random_frac=0.0)
    correct = total = 0
    top = most_frequent_token(tok, kind)
    base = int(((labels == top)).sum())
    model.eval()
    for i in range(0, len(ids), batch):
        x = torch.tensor(inputs[i:i + batch], device=model.device)
        y = torch.tensor(labels[i:i + batch], device=model.device)
        pred = _logits(model(input_ids=x)).argmax(-1)       # (B, T)
        keep = y != IGNORE
        correct += int((pred[keep] == y[keep]).sum())
        total += int(keep.sum())
    acc, baseline = correct / total, base / total
    return {"top1_accuracy": round(acc, 4), "most_frequent_token": tok.convert_ids_to_tokens(top),
            "baseline_accuracy": round(baseline, 4), "ratio_to_baseline": round(acc / max(baseline, 1e-9), 2),
            "bar_ratio": 3.0, "meets_bar": acc >= 3 * baseline, "masked_positions": total}


def pair_batches(tok, kind: str, random_next: bool, n_pairs: int = 400, max_tokens: int = 61):
    pairs = D.sentence_pairs(D.tokenised(tok, kind, "heldout"), max_tokens, EVAL_SEED, random_next)
    pairs = [pairs[i] for i in np.linspace(0, len(pairs) - 1, min(n_pairs, len(pairs))).astype(int)]
    return pairs


def encode_pairs(tok, pairs) -> dict[str, torch.Tensor]:
    """[CLS] A [SEP] B [SEP] with token types 0/1, right-padded. -> input_ids, token_type_ids, attention_mask, labels"""
    rows, types = [], []
    for a, b, _ in pairs:
        rows.append(np.concatenate([[tok.cls_token_id], a, [tok.sep_token_id], b, [tok.sep_token_id]]))
        types.append(np.concatenate([np.zeros(len(a) + 2), np.ones(len(b) + 1)]))
    ids, mask = D.pad_rows(rows, tok.pad_token_id)
    tt, _ = D.pad_rows([t.astype(np.int64) for t in types], 0)
    return {"input_ids": torch.tensor(ids), "token_type_ids": torch.tensor(tt), "attention_mask": torch.tensor(mask),
            "labels": torch.tensor([p[2] for p in pairs])}


@torch.no_grad()
def pair_accuracy(model, tok, kind: str, random_next: bool, n_pairs: int = 400) -> dict:
    pairs = pair_batches(tok, kind, random_next, n_pairs)
    correct = 0
    for i in range(0, len(pairs), 64):
        b = encode_pairs(tok, pairs[i:i + 64])
        out = model(input_ids=b["input_ids"].to(model.device), token_type_ids=b["token_type_ids"].to(model.device),
                    attention_mask=b["attention_mask"].to(model.device))
        logits = out.seq_relationship_logits if random_next else out.sop_logits
        correct += int((logits.argmax(-1).cpu() == b["labels"]).sum())
    acc = correct / len(pairs)
    return {"accuracy": round(acc, 4), "pairs": len(pairs), "chance": 0.5, "bar": 0.75, "meets_bar": acc >= 0.75}


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann-Whitney AUC: the probability a positive scores above a negative (ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1))


@torch.no_grad()
def electra_auc(generator, discriminator, tok, kind: str = "wordpiece", n_rows: int = 256) -> dict:
    """Corrupt held-out rows as in training (15% masked, generator samples), score every real token."""
    ids = heldout_rows(tok, kind, n_rows=n_rows)
    special = special_mask(ids, tok)
    inputs, labels = mask_tokens(ids, special, np.random.default_rng(EVAL_SEED), tok.mask_token_id, len(tok),
                                 mask_frac=1.0, random_frac=0.0)
    x, y = torch.tensor(inputs), torch.tensor(labels)
    g = torch.Generator().manual_seed(EVAL_SEED)
    logits = generator(input_ids=x.to(generator.device)).logits.float().cpu()          # (B, T, V)
    sampled = torch.multinomial(torch.softmax(logits[y != IGNORE], -1), 1, generator=g).squeeze(1)
    corrupted = torch.tensor(ids).clone()
    corrupted[y != IGNORE] = sampled
    replaced = (corrupted != torch.tensor(ids)).numpy()
    scores = discriminator(input_ids=corrupted.to(discriminator.device)).logits.float().cpu().numpy()  # (B, T)
    keep = ~special
    auc = roc_auc(scores[keep], replaced[keep])
    return {"roc_auc": round(auc, 4), "bar": 0.85, "meets_bar": auc >= 0.85,
            "mean_logit_replaced": round(float(scores[keep & replaced].mean()), 3),
            "mean_logit_original": round(float(scores[keep & ~replaced].mean()), 3),
            "replaced_fraction": round(float(replaced[keep].mean()), 4),
            "generator_top1_accuracy": round(float((logits[y != IGNORE].argmax(-1) == y[y != IGNORE]).float()
                                                   .mean()), 4)}


@torch.no_grad()
def distil_agreement(student, teacher, tok, kind: str = "wordpiece", n_rows: int = 256) -> dict:
    ids = heldout_rows(tok, kind, n_rows=n_rows)
    inputs, labels = mask_tokens(ids, special_mask(ids, tok), np.random.default_rng(EVAL_SEED), tok.mask_token_id,
                                 len(tok), mask_frac=1.0, random_frac=0.0)
    x, keep = torch.tensor(inputs), torch.tensor(labels) != IGNORE
    s = _logits(student(input_ids=x.to(student.device))).argmax(-1).cpu()
    t = _logits(teacher(input_ids=x.to(teacher.device))).argmax(-1).cpu()
    agreement = float((s[keep] == t[keep]).float().mean())

    def timed(module) -> float:
        batch = x[:32].to(student.device)
        module(input_ids=batch)
        times = []
        for _ in range(9):
            start = time.perf_counter()
            module(input_ids=batch)
            times.append(time.perf_counter() - start)
        return float(np.median(times))
    # As in the DistilBERT paper (a task head, not the vocabulary), the encoders are timed; the full MLM forward,
    # dominated here by the 8k-vocabulary projection that both share, is reported beside it.
    t_student, t_teacher = timed(student.distilbert), timed(teacher.bert)
    full_student, full_teacher = timed(student), timed(teacher)
    speedup = t_teacher / t_student
    return {"top1_agreement_with_teacher": round(agreement, 4), "agreement_bar": 0.70,
            "encoder_forward_ms_student": round(t_student * 1000, 2),
            "encoder_forward_ms_teacher": round(t_teacher * 1000, 2),
            "speedup": round(speedup, 2), "speedup_bar": 1.5,
            "full_mlm_forward_ms_student": round(full_student * 1000, 2),
            "full_mlm_forward_ms_teacher": round(full_teacher * 1000, 2),
            "full_mlm_speedup": round(full_teacher / full_student, 2),
            "meets_bar": agreement >= 0.70 and speedup >= 1.5, "timing": "encoder forward (no vocabulary head), "
            f"batch 32 x 64 tokens, median of 9, {torch.get_num_threads()} thread(s)"}
