"""How a family's tokenizer cuts the user's text: tokens, ids, special tokens, subword pieces, readable forms.

Also the one place that normalises the tokenizers' quirks for display (as bertviz's `format_special_chars` does):
WordPiece's `##`, byte-level BPE's `Ġ` (and its byte-escaped characters), SentencePiece's `▁`.

    >>> tokens = tokenize(lm.tokenizer, "Unbelievable!")          # doctest: +SKIP
    >>> tokens.tokens        # ['[CLS]', 'unbelievable', '!', '[SEP]'] for bert-base-uncased
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_zoo import text as text_layer

MAX_INPUT_CHARS = 20_000  # longer input is refused before tokenization (tokenizers are fast, but not free)


class InputError(ValueError):
    """Bad user input; the message is written for the user."""


@dataclass(frozen=True)
class TokenizedText:
    tokens: list[str]          # the tokenizer's own strings: "##ing", "Ġthe", "▁the", "[CLS]"
    ids: np.ndarray            # (T,) int64
    readable: list[str]        # what a person should see: "ing", "the", "[CLS]"
    special: np.ndarray        # (T,) bool: [CLS], <s>, <sep>, <cls>, ...
    continuation: np.ndarray   # (T,) bool: a piece that continues the previous word
    word_index: np.ndarray     # (T,) int: which word of its segment, -1 for special tokens
    segment: np.ndarray        # (T,) int: 0 for the first text, 1 for the second, -1 for special tokens
    offsets: np.ndarray        # (T, 2) int: character span in its own text ((0, 0) for special tokens)
    truncated: bool            # the text was longer than max_length and was cut

    def __len__(self) -> int:
        return len(self.tokens)


def readable_token(tokenizer, token: str) -> str:
    """A token as a person reads it, its subword markers removed; special tokens unchanged."""
    if token in tokenizer.all_special_tokens:
        return token
    if is_byte_level(tokenizer):  # "Ġthe" -> "the", "Ã©" -> "é", a lone byte of a character -> "<0xE6>"
        text = tokenizer.convert_tokens_to_string([token]).strip()
        if "\ufffd" in text:
            raw = bytes(_BYTE_OF.get(char, 0x3F) for char in token).strip(b" ")
            text = "".join(f"<0x{b:02X}>" for b in raw)
        return text or "␣"
    if token.startswith("##"):
        return token[2:]
    return token.replace("▁", "") or "␣"


def _byte_of_char() -> dict[str, int]:
    """Byte-level BPE's alphabet: each of the 256 bytes is written as one printable character (GPT-2's table)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTE_OF = _byte_of_char()


def is_byte_level(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and type(backend.decoder).__name__ == "ByteLevel"


def tokenize(tokenizer, text: str, text_pair: str | None = None, max_length: int | None = None) -> TokenizedText:
    """Tokenize one text (or a pair) exactly as the model will see it, with everything a view needs to show it."""
    text = text or ""
    if not text.strip():
        raise InputError("The text is empty: type a sentence first.")
    if len(text) + len(text_pair or "") > MAX_INPUT_CHARS:
        raise InputError(f"The text has {len(text) + len(text_pair or ''):,} characters; the limit is "
                         f"{MAX_INPUT_CHARS:,}.")
    pair = text_pair if text_pair and text_pair.strip() else None
    # a mask marker ([MASK], <mask>, ___) becomes this family's own mask token in every view; offsets stay the user's
    prepared = [text_layer.substitute(tokenizer, t) if tokenizer.mask_token and t else None for t in (text, pair)]
    text, pair = (p.text if p else t for p, t in zip(prepared, (text, pair)))
    limit = max_length or _model_max_length(tokenizer)
    encoding = tokenizer(text, pair, return_offsets_mapping=True, return_special_tokens_mask=True,
                         truncation="longest_first" if limit else False, max_length=limit)
    full_length = len(tokenizer(text, pair)["input_ids"]) if limit else len(encoding["input_ids"])
    ids = np.asarray(encoding["input_ids"], dtype=np.int64)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    special = np.asarray(encoding["special_tokens_mask"], dtype=bool)
    word_ids = encoding.word_ids()
    sequence_ids = encoding.sequence_ids()
    word_index = np.asarray([-1 if w is None else w for w in word_ids], dtype=np.int64)
    segment = np.asarray([-1 if s is None else s for s in sequence_ids], dtype=np.int64)
    continuation = np.zeros(len(ids), dtype=bool)
    for i in range(1, len(ids)):
        continuation[i] = (not special[i] and word_ids[i] is not None and word_ids[i] == word_ids[i - 1]
                           and sequence_ids[i] == sequence_ids[i - 1])
    offsets = np.asarray(encoding["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    for i, (start, end) in enumerate(offsets):
        source = prepared[segment[i]] if segment[i] >= 0 else None
        if source is not None and source.placeholders:
            offsets[i] = (text_layer.to_user(source, int(start)), text_layer.to_user(source, int(end), closing=True))
    return TokenizedText(tokens=tokens, ids=ids, readable=[readable_token(tokenizer, t) for t in tokens],
                         special=special, continuation=continuation, word_index=word_index, segment=segment,
                         offsets=offsets, truncated=full_length > len(ids))


def _model_max_length(tokenizer) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if limit and limit < 100_000 else None
