"""The text layer, one place for every view: the user's words, each tokenizer's pieces under them, the pooling
vocabulary, and the logits of a model's token head.

- Words: one split of the user's text for every family and view (`words`): a placeholder ([MASK], <mask>, ___) or a
  token's name is a word of its own, punctuation at either end of a run stands alone, each CJK character stands alone.
- Pieces: each tokenizer's pieces placed under the words their characters cover, by character offsets (`place`): a
  piece that covers several words (WordPiece's one [UNK] for "タワーは333メートルです") sits under each of them, and
  the pieces that spell one character together (byte-level BPE's <0xC3> <0xAF> for "ï") are shown as that character,
  the raw pieces kept for a hover (`shown_pieces`).
- Pooling: POOLINGS names the ways a sequence of token vectors becomes one vector, for every view.
- Logits: `head_logits` reads the token head's logits from any family's output, in one order.

    >>> [w.text for w in words("[CLS] Don't (Paris), 東京! [MASK].")]
    ['[CLS]', "Don't", '(', 'Paris', ')', ',', '東', '京', '!', '[MASK]', '.']
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\[mask\]|<mask>|_{3,}", re.IGNORECASE)  # what the user may write, whatever the family
PLACEHOLDER_HELP = "[MASK], <mask> or ___"
# How a sequence of token vectors becomes one vector: key -> the label every view shows.
POOLINGS = {"mean": "mean of the tokens",                            # of the words' tokens, special tokens left out
            "first": "first token",                                  # the first real token: [CLS] or <s>; XLNet's first
            "cls": "classification token ([CLS] / <s> / <cls>)"}     # where the tokenizer puts it: XLNet's is last


def pooling_key(name: str) -> str:
    """A pooling's key from its key or its label ("mean of the tokens" -> "mean"); ValueError for anything else."""
    found = name if name in POOLINGS else next((k for k, label in POOLINGS.items() if label == name), None)
    if found is None:
        raise ValueError(f"Unknown pooling {name!r}: choose one of {', '.join(POOLINGS.values())}.")
    return found


@dataclass(frozen=True)
class Word:
    index: int
    text: str           # as written in the user's text
    start: int          # character span in the user's text
    end: int
    is_mask: bool


# A token's name as a user may type it: kept whole as one word ([CLS], <s>, </s>, <sep>), never cut at its brackets.
TOKEN_NAME = re.compile(r"\[[A-Za-z0-9_|]+\]|</?[A-Za-z0-9_|]+>")


def _joins(char: str) -> bool:
    """Marks that belong to the character before them: accents, emoji modifiers and joiners, variation selectors."""
    return unicodedata.category(char) in ("Mn", "Mc", "Me", "Sk", "Cf") or 0xFE00 <= ord(char) <= 0xFE0F


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def words(text: str) -> list[Word]:
    """The words a user can click, the same for every family (a tokenizer's own word split differs: byte-level BPE
    cuts "[CLS]" into "[", "CLS", "]", SentencePiece keeps "Paris," whole). A word is a run of non-space characters,
    except that a placeholder or a token's name is a word of its own, punctuation at either end of a run stands alone,
    and each CJK character stands alone (those scripts put no spaces between words).

    """
    found: list[Word] = []

    def add(start: int, end: int, is_mask: bool = False) -> None:
        found.append(Word(len(found), text[start:end], start, end, is_mask))

    for chunk in re.finditer(r"\S+", text):
        i, end = chunk.start(), chunk.end()
        run = i  # start of the current plain run (letters, digits, inner punctuation)

        def close_run(stop: int) -> None:
            head, tail = run, stop
            while head < tail and _punctuation(text[head]):
                head += 1
            while tail > head and _punctuation(text[tail - 1]):
                tail -= 1
            for p in range(run, head):
                add(p, p + 1)
            if head < tail:
                add(head, tail)
            for p in range(tail, stop):
                add(p, p + 1)

        while i < end:
            named = PLACEHOLDER.match(text, i) or TOKEN_NAME.match(text, i)
            if named and named.end() <= end:
                close_run(i)
                add(i, named.end(), bool(PLACEHOLDER.match(text, i)))
                i = run = named.end()
            elif _wide(text[i]):
                close_run(i)
                stop = i + 1
                while stop < end and (_joins(text[stop]) or text[stop - 1] == "\u200d"):  # 👍🏽, 👨‍👩‍👧
                    stop += 1
                add(i, stop)
                i = run = stop
            else:
                i += 1
        close_run(end)
    return found


def covered_words(start: int, end: int, text: str, found: list[Word]) -> list[int]:
    """The words whose characters a piece spanning text[start:end] covers (its leading spaces skipped, as BPE and
    SentencePiece include them); a piece of spaces alone (SentencePiece's lone '▁') goes to the word after it."""
    while start < end and text[start].isspace():
        start += 1
    covered = [w.index for w in found if w.start < end and start < w.end]
    if covered:
        return covered
    after = next((w.index for w in found if w.start >= start), None)
    return [after] if after is not None else ([found[-1].index] if found else [])


def place(spans: list[tuple[int, int]], keep: list[bool], text: str, found: list[Word]) -> list[list[int]]:
    """(W,) per word, the positions of the pieces under it, in order: piece i (kept, with character span spans[i] in
    `text`) sits under every word it covers."""
    under: list[list[int]] = [[] for _ in found]
    for i, (start, end) in enumerate(spans):
        if keep[i]:
            for w in covered_words(int(start), int(end), text, found):
                under[w].append(i)
    return under


@dataclass(frozen=True)
class Piece:
    """One cell of pieces under a word: what a person reads, and the tokenizer's own pieces it stands for."""
    text: str                 # "ï", "ve", "[UNK]"
    raw: str                  # the pieces, space-separated: "<0xC3> <0xAF>"
    positions: tuple[int, ...]


def _is_byte(readable: str) -> bool:
    return readable.startswith("<0x") and readable.endswith(">")


def shown_pieces(positions: list[int], readable: list[str], spans: list[tuple[int, int]], text: str) -> list[Piece]:
    """The pieces at `positions` as cells: consecutive byte pieces of one character (the same character span) become
    one cell showing that character; every other piece is a cell of its own."""
    cells: list[Piece] = []
    for p in positions:
        last = cells[-1] if cells else None
        if last and _is_byte(readable[p]) and _is_byte(readable[last.positions[-1]]) \
                and tuple(spans[p]) == tuple(spans[last.positions[-1]]):
            cells[-1] = Piece(last.text, f"{last.raw} {readable[p]}", (*last.positions, p))
        elif _is_byte(readable[p]):
            start, end = (int(x) for x in spans[p])
            cells.append(Piece(text[start:end].strip() or readable[p], readable[p], (p,)))
        else:
            cells.append(Piece(readable[p], readable[p], (p,)))
    return cells


def head_logits(output):
    """The token head's logits of any family's output: `logits` (a masked LM, XLNet, ELECTRA's discriminator), else
    `prediction_logits` (BERT's and ALBERT's pretraining classes). (B, T, V) or (B, T)."""
    logits = getattr(output, "logits", None)
    return logits if logits is not None else output.prediction_logits


# ---------------------------------------------------------------------------------------------------- mask markers
@dataclass(frozen=True)
class Prepared:
    user_text: str
    text: str                                 # what the tokenizer gets: placeholders replaced by the native mask
    placeholders: list[tuple[int, int]]       # (start, end) of each placeholder in user_text
    pieces: list[tuple[int, int, int]]        # (text_start, text_end, user_start) of verbatim pieces of user_text


def drop_space_before_mask(tokenizer) -> bool:
    """Byte-level BPE (RoBERTa): the mask token takes the space before it ('is <mask>' -> 'Ġis', '<mask>'). The real
    tokenizer's `<mask>` does so itself (lstrip); for one whose mask does not, the space is dropped from the text."""
    from model_zoo.tokenization import is_byte_level
    if not is_byte_level(tokenizer):
        return False
    added = getattr(tokenizer, "added_tokens_decoder", {}).get(tokenizer.mask_token_id)
    return not getattr(added, "lstrip", False)


def substitute(tokenizer, text: str) -> Prepared:
    """Replace every placeholder by tokenizer.mask_token, building the text the fill-mask pipeline would see.

    For byte-level BPE whose mask token does not strip the space before it (the real RoBERTa's does), that space is
    dropped, else a lone 'Ġ' would precede the mask: either way the tokens are RoBERTa's ('Ġis', '<mask>')."""
    mask = tokenizer.mask_token
    pieces, placeholders, out, cursor = [], [], "", 0
    for match in PLACEHOLDER.finditer(text):
        before = text[cursor:match.start()]
        if drop_space_before_mask(tokenizer):
            before = before.rstrip(" ")
        pieces.append((len(out), len(out) + len(before), cursor))
        out += before + mask
        placeholders.append((match.start(), match.end()))
        cursor = match.end()
    pieces.append((len(out), len(out) + len(text) - cursor, cursor))
    out += text[cursor:]
    return Prepared(user_text=text, text=out, placeholders=placeholders, pieces=pieces)


def to_user(prepared: Prepared, position: int, closing: bool = False) -> int:
    """A character position of prepared.text mapped back to the user's text."""
    for text_start, text_end, user_start in prepared.pieces:
        if text_start <= position < text_end or (closing and text_start < position <= text_end):
            return user_start + position - text_start
    # inside a mask token: map to its placeholder
    mask_length = len(prepared.text) - sum(e - s for s, e, _ in prepared.pieces)
    mask_length //= max(1, len(prepared.placeholders))
    for (_, mask_start, _), (p_start, p_end) in zip(prepared.pieces, prepared.placeholders):
        if mask_start <= position <= mask_start + mask_length:
            return p_end if closing else p_start
    return len(prepared.user_text)


def native(tokenizer, text: str) -> str:
    """`text` with every mask marker as the tokenizer's own mask token (what tokenization.tokenize reads)."""
    return substitute(tokenizer, text).text if tokenizer.mask_token else text


CONTINUES = "…"  # marks a guessed piece that continues the word before it (WordPiece's "##ly" reads "…ly")


def guess_text(tokenizer, token: str) -> str:
    """A guessed token as a person reads it, a piece continuing the word before it marked as one."""
    from model_zoo.tokenization import readable_token
    readable = readable_token(tokenizer, token)
    return CONTINUES + readable if token.startswith("##") else readable
