"""Contextual vectors of a list of sentences from one model: token vectors at any layer, or pooled sentence vectors.

Words are cut from each sentence by the text layer's one rule for every view (`text.words`), and every token is tied
to the first word its characters cover (`text.covered_words`); so "sentence 3, word 2" names the same word for every
tokenizer, which is what lets the embedding map compare models and ask for a word's neighbours in each.

Padding is found through the attention mask only, never through positions: XLNet pads on the LEFT and puts its
`<sep> <cls>` at the end, the others pad on the right and start with their classification token.

    >>> found = extract(load("minilm-l6"), ["The bank of the river.", "A bank loan."], level="tokens")  # doctest: +SKIP
    >>> found.vectors.shape, found.tokens[:3]       # ((10, 384), ('the', 'bank', 'of'))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo import config_fields
from model_zoo import text as text_layer
from model_zoo.facts import max_tokens
from model_zoo.tokenization import InputError, readable_token

LEVELS = ("tokens", "sentences")
POOLINGS = tuple(text_layer.POOLINGS)  # "mean", "first", "cls": what each means is said there
MAX_SENTENCES = 300
MAX_SENTENCE_CHARS = 1_000


@dataclass(frozen=True)
class Embeddings:
    """One row per point (a token, or a sentence); every array shares the first axis N."""
    checkpoint: str             # the model's key or path
    level: str                  # "tokens" | "sentences"
    layer: int                  # 0 = embeddings layer, n_layers = last
    n_layers: int               # transformer layers of this model
    pooling: str                # sentences only: "mean" | "first" | "cls"; "" for tokens
    vectors: np.ndarray         # (N, H) float32
    sentence_index: np.ndarray  # (N,) int: which sentence the point comes from
    word_index: np.ndarray      # (N,) int: which word of its sentence (text.words); -1 for sentences / specials
    tokens: tuple[str, ...]     # (N,) readable token ("" for sentences)
    words: tuple[str, ...]      # (N,) the whole word the token belongs to, lower-cased ("" for sentences)
    sentences: tuple[str, ...]  # every input sentence (index with sentence_index)
    truncated: tuple[int, ...]  # sentences cut at the model's maximum length

    def __len__(self) -> int:
        return len(self.vectors)

    def rows_of_word(self, sentence: int, word: int) -> np.ndarray:
        """The rows (tokens) that belong to one occurrence of a word: (k,) int."""
        return np.flatnonzero((self.sentence_index == sentence) & (self.word_index == word))

    def rows_of_target(self, target: str) -> np.ndarray:
        """Rows whose word equals `target` (case-insensitive); at sentence level, sentences containing it."""
        target = target.strip().lower()
        if not target:
            return np.zeros(0, dtype=np.int64)
        if self.level == "sentences":
            hits = [i for i, s in enumerate(self.sentence_index) if target in split_words(self.sentences[s])]
            return np.asarray(hits, dtype=np.int64)
        return np.flatnonzero(np.asarray(self.words, dtype=object) == target)


def split_words(sentence: str) -> list[str]:
    """The words of a sentence (text.words), lower-cased: the same for every tokenizer."""
    return [w.text.lower() for w in text_layer.words(sentence)]


def clean_sentences(sentences: list[str] | str) -> list[str]:
    """Non-empty lines, stripped; refuses what would be too much work with a message for the user."""
    if isinstance(sentences, str):
        sentences = sentences.splitlines()
    kept = [s.strip() for s in sentences if s and s.strip() and not s.strip().startswith("#")]
    if not kept:
        raise InputError("There are no sentences: type one sentence per line, or pick an example set.")
    if len(kept) > MAX_SENTENCES:
        raise InputError(f"There are {len(kept)} sentences; the limit is {MAX_SENTENCES}.")
    long = [i + 1 for i, s in enumerate(kept) if len(s) > MAX_SENTENCE_CHARS]
    if long:
        raise InputError(f"Sentence {long[0]} has more than {MAX_SENTENCE_CHARS:,} characters; shorten it.")
    return kept


def n_layers_of(config) -> int:
    return config_fields.required(config, "layers")


def resolve_layer(layer: int | None, n_layers: int) -> int:
    """None or -1 -> the last layer; a layer past the model's depth is refused with a message."""
    if layer is None or layer == -1:
        return n_layers
    layer = int(layer)
    if not 0 <= layer <= n_layers:
        raise InputError(f"Layer {layer} does not exist: this model has layers 0 (embeddings) to {n_layers}.")
    return layer


def extract(loaded, sentences: list[str] | str, level: str = "tokens", layer: int | None = None,
            pooling: str = "mean", batch_size: int = 16, include_special: bool = False) -> Embeddings:
    """Vectors of every sentence at `layer` from a LoadedModel (model_zoo.loading.load): tokens or pooled sentences."""
    import torch

    if level not in LEVELS:
        raise InputError(f"Unknown level {level!r}: choose one of {', '.join(LEVELS)}.")
    if level == "sentences" and pooling not in POOLINGS:
        raise InputError(f"Unknown pooling {pooling!r}: choose one of {', '.join(POOLINGS)}.")
    sentences = clean_sentences(sentences)
    tokenizer, model = loaded.tokenizer, loaded.model
    n_layers = n_layers_of(model.config)
    layer = resolve_layer(layer, n_layers)
    limit = max_tokens(model.config)
    base = model.base_model  # the encoder without its heads: the heads' logits are not needed here
    cls_id = tokenizer.cls_token_id

    vectors, sentence_index, word_index, tokens, words, truncated = [], [], [], [], [], []
    for start in range(0, len(sentences), batch_size):
        batch = sentences[start:start + batch_size]
        encoding = tokenizer(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt",
                             return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets = encoding.pop("offset_mapping").numpy()                 # (B, T, 2)
        special = encoding.pop("special_tokens_mask").numpy().astype(bool)  # (B, T)
        attention = encoding["attention_mask"].numpy().astype(bool)      # (B, T): False on padding (left or right)
        inputs = {k: v.to(loaded.device) for k, v in encoding.items()}
        with torch.inference_mode():
            output = base(**inputs, output_hidden_states=True)
        hidden_states = output.hidden_states
        if not hidden_states or len(hidden_states) != n_layers + 1:
            raise ValueError(f"{loaded.checkpoint.key} returned {len(hidden_states or ())} hidden states, "
                             f"expected {n_layers + 1} (embeddings + {n_layers} layers)")
        hidden = hidden_states[layer].float().cpu().numpy()            # (B, T, H)
        ids = encoding["input_ids"].numpy()                             # (B, T)
        for b, sentence in enumerate(batch):
            s = start + b
            real = attention[b]                                         # (T,) bool
            content = real & ~special[b]                                # (T,) bool: the words' tokens
            if content.sum() == 0:
                raise InputError(f"Sentence {s + 1} gives no tokens to this model's tokenizer.")
            full = len(tokenizer(sentence)["input_ids"])
            if full > int(real.sum()):
                truncated.append(s)
            if level == "sentences":
                if pooling == "mean":
                    vector = hidden[b][content].mean(axis=0)            # (H,)
                elif pooling == "first":
                    vector = hidden[b][np.flatnonzero(real)[0]]         # (H,) first non-padding token
                else:
                    cls_rows = np.flatnonzero(real & (ids[b] == cls_id)) if cls_id is not None else []
                    if len(cls_rows) == 0:
                        raise InputError("This tokenizer has no classification token: use mean or first pooling.")
                    vector = hidden[b][cls_rows[0]]                     # (H,) [CLS] first, XLNet's <cls> last
                vectors.append(vector)
                sentence_index.append(s)
                word_index.append(-1)
                tokens.append("")
                words.append("")
                continue
            found_words = text_layer.words(sentence)
            lowered = [w.text.lower() for w in found_words]
            keep = real if include_special else content
            for t in np.flatnonzero(keep):
                token = tokenizer.convert_ids_to_tokens(int(ids[b, t]))
                start_char, end_char = (int(x) for x in offsets[b, t])
                covered = [] if special[b, t] else text_layer.covered_words(start_char, end_char, sentence, found_words)
                w = covered[0] if covered else -1
                vectors.append(hidden[b, t])
                sentence_index.append(s)
                word_index.append(w)
                readable = readable_token(tokenizer, token)
                tokens.append(readable)
                words.append(lowered[w] if w >= 0 else readable.lower())
    return Embeddings(checkpoint=loaded.checkpoint.key, level=level, layer=layer, n_layers=n_layers,
                      pooling=pooling if level == "sentences" else "",
                      vectors=np.asarray(vectors, dtype=np.float32),
                      sentence_index=np.asarray(sentence_index, dtype=np.int64),
                      word_index=np.asarray(word_index, dtype=np.int64), tokens=tuple(tokens), words=tuple(words),
                      sentences=tuple(sentences), truncated=tuple(truncated))


def sentence_vectors(loaded, sentences: list[str], layer: int | None = None, pooling: str = "mean") -> np.ndarray:
    """Shortcut: (S, H) pooled vectors of the sentences, in order."""
    return extract(loaded, sentences, level="sentences", layer=layer, pooling=pooling).vectors


def word_vector(found: Embeddings, sentence: int, word: int) -> np.ndarray:
    """One occurrence of a word as one vector: the mean of its tokens. (H,)"""
    rows = found.rows_of_word(sentence, word)
    if len(rows) == 0:
        raise InputError(f"Word {word + 1} of sentence {sentence + 1} has no token in {found.checkpoint}.")
    return found.vectors[rows].mean(axis=0)
