"""Tokenised corpus arrays and the example builders every objective draws from (packing, sentence pairs, batching).

A split tokenised with one tokenizer is three flat arrays: `tokens` (int32), `seg_start` (where each segment starts in
`tokens`, plus a final end) and `doc_start` (where each document starts in the segment list, plus a final end).
Cached in .mini_work/data/<kind>-<split>-<corpus digest>.npz (one process tokenises under a file lock; the others
wait and read it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from filelock import FileLock

from pretrain import corpus
from pretrain.corpus import WORK
from pretrain.files import written_whole

DATA_DIR = WORK / "data"


@dataclass
class Tokenised:
    tokens: np.ndarray     # (n_tokens,) int32
    seg_start: np.ndarray  # (n_segments + 1,) int64
    doc_start: np.ndarray  # (n_docs + 1,) int64
    doc_source: np.ndarray | None = None  # (n_docs,) int: index into corpus.SOURCES; negative = not prose

    def segment(self, s: int) -> np.ndarray:
        return self.tokens[self.seg_start[s]:self.seg_start[s + 1]]

    def segments_of(self, d: int) -> range:
        return range(self.doc_start[d], self.doc_start[d + 1])

    @property
    def n_docs(self) -> int:
        return len(self.doc_start) - 1


def source_codes(doc_ids: list[str]) -> np.ndarray:
    """(n_docs,) the index of each document's source in corpus.SOURCES, negated - 1 for sources that are not prose."""
    names = list(corpus.SOURCES)
    codes = [names.index(corpus.source_of(d)) for d in doc_ids]
    return np.array([c if corpus.is_prose(d) else -c - 1 for c, d in zip(codes, doc_ids)], dtype=np.int64)


def token_ids(tokenizer, texts: list[str]) -> list[list[int]]:
    """tokenizer(texts, add_special_tokens=False)["input_ids"], from the Rust tokenizer directly when there is one:
    the same ids (checked on every kind, tests/test_pretrain_corpus.py), without the wrapper's per-text Python work
    (a clean clone tokenises the whole corpus, 20 -> 12 s a kind)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [encoding.ids for encoding in backend.encode_batch(texts, add_special_tokens=False)]


def tokenise_documents(tokenizer, docs: list[list[str]], doc_ids: list[str] | None = None) -> Tokenised:
    flat = [s for doc in docs for s in doc]
    ids = token_ids(tokenizer, flat)
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    seg_start = np.concatenate([[0], np.cumsum(lengths)])
    doc_start = np.concatenate([[0], np.cumsum([len(doc) for doc in docs])]).astype(np.int64)
    tokens = np.fromiter((t for x in ids for t in x), dtype=np.int32, count=int(lengths.sum()))
    return Tokenised(tokens, seg_start, doc_start, None if doc_ids is None else source_codes(doc_ids))


def tokenised(tokenizer, kind: str, split: str) -> Tokenised:
    """A corpus split tokenised with `kind`'s tokenizer, cached per built corpus (its digest names the file)."""
    path = DATA_DIR / f"{kind}-{split}-{corpus.corpus_id()}.npz"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():
            arrays = np.load(path)
            return Tokenised(arrays["tokens"], arrays["seg_start"], arrays["doc_start"], arrays["doc_source"])
        rows = corpus.load_with_ids(split)
        data = tokenise_documents(tokenizer, [s for _, s in rows], [d for d, _ in rows])
        with written_whole(path) as aside, open(aside, "wb") as f:   # a file object: savez adds no suffix
            np.savez(f, tokens=data.tokens, seg_start=data.seg_start, doc_start=data.doc_start,
                     doc_source=data.doc_source)
    return data


def pack(data: Tokenised, body_len: int, doc_sep: int) -> np.ndarray:
    """Full-sentence packing (RoBERTa's FULL-SENTENCES): the whole split as one stream, `doc_sep` between documents,
    cut into rows of `body_len` tokens (the caller adds its family's special tokens). -> (n_rows, body_len) int64"""
    ends = data.seg_start[data.doc_start[1:]]  # token offset where each document ends
    stream = np.insert(data.tokens.astype(np.int64), ends, doc_sep)
    n = len(stream) // body_len
    return stream[:n * body_len].reshape(n, body_len)


NO_PAIR_LABEL = -100  # a pair from a document that is not discourse (a glossary): MLM only, no NSP/SOP target


SENTENCE_PAIR_SHARE = 0.3  # of the chunks of a training re-draw: one sentence as A, one as B


def sentence_pairs(data: Tokenised, max_tokens: int, seed, random_next: bool, vary_length: bool = False,
                   sentence_share: float = 0.0) -> list[tuple]:
    """BERT's create_instances_from_document, small: (a_ids, b_ids, label) with len(a) + len(b) <= max_tokens.

    Consecutive segments of one document are gathered into a chunk of about max_tokens, split at a random segment
    boundary into A and B. random_next=True (NSP): with p=0.5 B is replaced by segments of another document of the
    same source (the same kind of text, so style gives nothing away), label 1 ("not next", BERT's convention: label
    0 = B is the continuation). random_next=False (SOP): with p=0.5 A and B are swapped, label 1 = swapped (ALBERT's
    convention: 0 = in order). Documents that are not prose (WordNet: a definition then its examples, where order
    says nothing about discourse) give pairs labelled NO_PAIR_LABEL: their text feeds the masked LM only, so the pair
    task cannot learn the old "a definition precedes an example" shortcut. Documents of one segment (a one-line fortune
    cookie, a synset without an example) have no continuation: those of one source are gathered, in corpus order, into
    a stream that is chunked the same way and labelled NO_PAIR_LABEL (masked-LM text, no pair target).
    vary_length: each chunk aims at a length drawn in [max_tokens / 4, max_tokens] instead of max_tokens (BERT's
    short target lengths), so a new draw regroups the segments: new A/B splits, not only new labels.
    sentence_share: the share of chunks that are two segments only, one sentence as A and one as B: the pairs a user
    types and the out-of-domain evaluation scores (1.0: all of them). Training re-draws use SENTENCE_PAIR_SHARE: a
    model trained on long chunks alone does worse on pairs of single sentences of the same documents.
    """
    rng = np.random.default_rng(seed)
    source = data.doc_source if data.doc_source is not None else np.zeros(data.n_docs, dtype=np.int64)
    docs_of = {int(c): np.flatnonzero(source == c) for c in np.unique(source)}
    pairs = []
    n_segments, first = np.diff(data.doc_start), data.doc_start[:-1]
    streams = [(d, list(data.segments_of(d)), source[d] >= 0) for d in np.flatnonzero(n_segments > 1)]
    streams += [(None, first[(n_segments == 1) & (source == code)].tolist(), False) for code in np.unique(source)]
    for d, segs, prose in streams:
        i = 0
        while i < len(segs) - 1:
            chunk, length = [], 0
            target = int(rng.integers(max_tokens // 4, max_tokens + 1)) if vary_length else max_tokens
            if sentence_share and rng.random() < sentence_share:
                target = 0                                      # two segments: a sentence, then the next (or not)
            while i < len(segs) and (length < target or len(chunk) < 2):
                chunk.append(segs[i])
                length += data.seg_start[segs[i] + 1] - data.seg_start[segs[i]]
                i += 1
            if len(chunk) < 2:
                break
            cut = int(rng.integers(1, len(chunk)))
            a = np.concatenate([data.segment(s) for s in chunk[:cut]])
            b = np.concatenate([data.segment(s) for s in chunk[cut:]])
            label = int(rng.random() < 0.5)
            if not prose:
                label = NO_PAIR_LABEL
            elif label and random_next and len(same_kind := docs_of[int(source[d])]) > 1:
                other = int(same_kind[int(rng.integers(len(same_kind) - 1))])
                other = other if other != d else int(same_kind[-1])
                osegs = list(data.segments_of(other))
                start = int(rng.integers(len(osegs)))
                b = np.concatenate([data.segment(s) for s in osegs[start:start + len(chunk) - cut]])
            elif label and random_next:
                label = 0
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


def sentence_spans(data: Tokenised, max_tokens: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """Short texts that begin and end at segment (sentence) boundaries, as a user types them into the app: runs of
    consecutive segments of one document, each run aiming at a length drawn in [1, max_tokens] (so one sentence alone
    is common) and never passing max_tokens; only a single sentence longer than that is cut. Segments of a document
    are contiguous in `tokens`, so a run is a slice. -> (starts, lengths), both (n_spans,) int64, into data.tokens"""
    rng = np.random.default_rng(seed)
    seg, starts, lengths = data.seg_start, [], []
    for d in range(data.n_docs):
        i, end = int(data.doc_start[d]), int(data.doc_start[d + 1])
        while i < end:
            target, j = int(rng.integers(1, max_tokens + 1)), i + 1
            while j < end and seg[j] - seg[i] < target and seg[j + 1] - seg[i] <= max_tokens:
                j += 1
            starts.append(seg[i])
            lengths.append(min(seg[j] - seg[i], max_tokens))
            i = j
    starts, lengths = np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)
    return starts[lengths > 0], lengths[lengths > 0]


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
