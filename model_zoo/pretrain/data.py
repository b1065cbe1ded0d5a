"""Tokenised corpus arrays and the example builders every objective draws from (packing, sentence pairs, batching).

A split tokenised with one tokenizer is three flat arrays: `tokens` (int32), `seg_start` (where each segment starts in
`tokens`, plus a final end) and `doc_start` (where each document starts in the segment list, plus a final end).
Cached in .mini_work/data/<kind>-<split>.npz.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo.pretrain import corpus
from model_zoo.pretrain.corpus import WORK

DATA_DIR = WORK / "data"


@dataclass
class Tokenised:
    tokens: np.ndarray     # (n_tokens,) int32
    seg_start: np.ndarray  # (n_segments + 1,) int64
    doc_start: np.ndarray  # (n_docs + 1,) int64

    def segment(self, s: int) -> np.ndarray:
        return self.tokens[self.seg_start[s]:self.seg_start[s + 1]]

    def segments_of(self, d: int) -> range:
        return range(self.doc_start[d], self.doc_start[d + 1])

    @property
    def n_docs(self) -> int:
        return len(self.doc_start) - 1


def tokenised(tokenizer, kind: str, split: str) -> Tokenised:
    path = DATA_DIR / f"{kind}-{split}.npz"
    if path.exists():
        arrays = np.load(path)
        return Tokenised(arrays["tokens"], arrays["seg_start"], arrays["doc_start"])
    docs = corpus.load(split)
    flat = [s for doc in docs for s in doc]
    ids = tokenizer(flat, add_special_tokens=False)["input_ids"]
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    seg_start = np.concatenate([[0], np.cumsum(lengths)])
    doc_start = np.concatenate([[0], np.cumsum([len(doc) for doc in docs])])
    tokens = np.fromiter((t for x in ids for t in x), dtype=np.int32, count=int(lengths.sum()))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, tokens=tokens, seg_start=seg_start, doc_start=doc_start)
    return Tokenised(tokens, seg_start, doc_start)


def pack(data: Tokenised, body_len: int, doc_sep: int) -> np.ndarray:
    """Full-sentence packing (RoBERTa's FULL-SENTENCES): the whole split as one stream, `doc_sep` between documents,
    cut into rows of `body_len` tokens (the caller adds its family's special tokens). -> (n_rows, body_len) int64"""
    ends = data.seg_start[data.doc_start[1:]]  # token offset where each document ends
    stream = np.insert(data.tokens.astype(np.int64), ends, doc_sep)
    n = len(stream) // body_len
    return stream[:n * body_len].reshape(n, body_len)


def sentence_pairs(data: Tokenised, max_tokens: int, seed: int, random_next: bool) -> list[tuple]:
    """BERT's create_instances_from_document, small: (a_ids, b_ids, label) with len(a) + len(b) <= max_tokens.

    Consecutive segments of one document are gathered into a chunk of about max_tokens, split at a random segment
    boundary into A and B. random_next=True (NSP): with p=0.5 B is replaced by segments of another document, label 1
    ("not next", BERT's convention: label 0 = B is the continuation). random_next=False (SOP): with p=0.5 A and B are
    swapped, label 1 = swapped (ALBERT's convention: 0 = in order). Documents of one segment are skipped.
    """
    rng = np.random.default_rng(seed)
    pairs = []
    for d in range(data.n_docs):
        segs = list(data.segments_of(d))
        i = 0
        while i < len(segs) - 1:
            chunk, length = [], 0
            while i < len(segs) and (length < max_tokens or len(chunk) < 2):
                chunk.append(segs[i])
                length += data.seg_start[segs[i] + 1] - data.seg_start[segs[i]]
                i += 1
            if len(chunk) < 2:
                break
            cut = int(rng.integers(1, len(chunk)))
            a = np.concatenate([data.segment(s) for s in chunk[:cut]])
            b = np.concatenate([data.segment(s) for s in chunk[cut:]])
            label = int(rng.random() < 0.5)
            if label and random_next:
                other = int(rng.integers(data.n_docs - 1))
                other += other >= d
                osegs = list(data.segments_of(other))
                start = int(rng.integers(len(osegs)))
                b = np.concatenate([data.segment(s) for s in osegs[start:start + len(chunk) - cut]])
            elif label:
                a, b = b, a
            while len(a) + len(b) > max_tokens:  # truncate the longer one, from the end
                if len(a) > len(b):
                    a = a[:-1]
                else:
                    b = b[:-1]
            if len(a) and len(b):
                pairs.append((a, b, label))
    return pairs


def pad_rows(rows: list[np.ndarray], pad_id: int, left: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Right- (or left-) pad variable-length rows to the longest. -> (ids, attention_mask), both (B, T)"""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        if left:
            ids[i, width - len(row):], mask[i, width - len(row):] = row, 1
        else:
            ids[i, :len(row)], mask[i, :len(row)] = row, 1
    return ids, mask


def length_buckets(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Batches of example indices with similar lengths (less padding), in a shuffled order fixed by (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches = []
    window = batch_size * 50
    for start in range(0, len(order), window):
        block = order[start:start + window]
        block = block[np.argsort(lengths[block], kind="stable")]
        batches.extend(block[i:i + batch_size] for i in range(0, len(block) - batch_size + 1, batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def unigram_counts(data: Tokenised, vocab_size: int) -> np.ndarray:
    return np.bincount(data.tokens, minlength=vocab_size).astype(np.float64)
