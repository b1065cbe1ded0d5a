"""Issue #14, item 7 (optional, measured): can an MLM head trained here on the FROZEN real MiniLM encoder fill masks in
plain English? This script measures it; the head ships only if it meets the mini zoo's out-of-domain bar (top-1 >= 3x
always answering the most frequent token). It did not (README, below the plain-English table), so nothing of it ships.

    python scripts/minilm_mlm_probe.py [--texts 30000] [--layer 6] [--epochs 6] [--lr 1e-2]

Head: BERT's own (transform 384x384 + GELU + LayerNorm, decoder tied to MiniLM's real word embeddings, a bias per
word; 0.18 M trainable parameters), trained on the encoder's hidden states at masked positions (15%, all [MASK]) of
corpus texts (1-3 consecutive segments of a training document), cached once. `--layer k` reads the k-th layer and
truncates the encoder there. Scored on the out-of-domain set by the mini checkpoints' own
evaluate.fill_mask_accuracy (4 masks of the 280 sentences), against always answering "the" (MiniLM's vocabulary is
not the mini zoo's). One thread; about 10 CPU-minutes.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from model_zoo import loading  # noqa: E402
from pretrain import corpus  # noqa: E402
from pretrain import evaluate as E  # noqa: E402
from model_zoo.registry import CHECKPOINTS  # noqa: E402


def corpus_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = corpus.load("train")
    rng.shuffle(docs)
    starts = [rng.randrange(len(d)) for d in docs[:n]]
    return [" ".join(d[s:s + 3]) for d, s in zip(docs[:n], starts)]


@torch.no_grad()
def masked_features(model, tok, texts: list[str], seed: int, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    rng, feats, labels = np.random.default_rng(seed), [], []
    specials = torch.tensor(tok.all_special_ids)
    for i in range(0, len(texts), batch):
        b = tok(texts[i:i + batch], truncation=True, max_length=64, padding=True, return_tensors="pt")
        ids = b["input_ids"].clone()
        real = (b["attention_mask"] == 1) & ~torch.isin(ids, specials)
        chosen = torch.from_numpy(rng.random(ids.shape) < 0.15) & real
        labels.append(ids[chosen])
        ids[chosen] = tok.mask_token_id
        feats.append(model.bert(input_ids=ids, attention_mask=b["attention_mask"]).last_hidden_state[chosen])
    return torch.cat(feats), torch.cat(labels)


def train_head(head, feats, labels, epochs: int, lr: float, batch: int = 256) -> list[float]:
    trainable = [p for name, p in head.named_parameters() if "decoder.weight" not in name]
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps = epochs * (len(feats) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(feats))
        for i in range(0, len(feats) - batch + 1, batch):
            pick = order[i:i + batch]
            loss = F.cross_entropy(head(feats[pick]), labels[pick])
            opt.zero_grad(), loss.backward(), opt.step(), sched.step()
            losses.append(loss.item())
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=30000)
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    from transformers import AutoTokenizer, BertForMaskedLM
    source = loading.source_of(CHECKPOINTS["minilm-l6"])
    tok = AutoTokenizer.from_pretrained(source)
    model = BertForMaskedLM.from_pretrained(source, attn_implementation="eager", num_hidden_layers=args.layer).eval()
    model.requires_grad_(False)
    head = model.cls.predictions   # newly initialised: BertModel weights carry no MLM head
    for name, p in head.named_parameters():
        p.requires_grad_("decoder.weight" not in name)   # the decoder stays tied to the real word embeddings
    words = model.bert.embeddings.word_embeddings.weight.norm(dim=1)
    feats, labels = masked_features(model, tok, corpus_texts(args.texts, args.seed), args.seed)
    losses = train_head(head, feats.float(), labels, args.epochs, args.lr)
    result = {"layers": args.layer, "texts": args.texts, "masked_positions_trained": len(labels),
              "epochs": args.epochs, "first_loss": round(float(np.mean(losses[:50])), 3),
              "last_loss": round(float(np.mean(losses[-50:])), 3),
              "mask_embedding_norm": round(float(words[tok.mask_token_id]), 3),
              "median_word_embedding_norm": round(float(words.median()), 3),
              "ood": E.fill_mask_accuracy(model.eval(), tok, "wordpiece", rows=E.ood_rows(tok),
                                          baseline_token=tok.convert_tokens_to_ids("the"))}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
