"""The text layer (model_zoo/text.py): words, pieces under every word they cover, byte pieces shown as the characters
they spell, one pooling vocabulary, one way to read a head's logits. Awkward text goes through the real tokenizers of
the bundled minis (mini-RoBERTa: byte-level BPE; mini-BERT: WordPiece with [UNK])."""
from __future__ import annotations

import pytest
import torch

from model_zoo import loading, tiny
from model_zoo import side_by_side as sbs
from model_zoo import text as T
from model_zoo.registry import CHECKPOINTS
from model_zoo.tokenization import tokenize


def test_a_piece_sits_under_every_word_it_covers_and_spaces_go_to_the_next_word():
    text = "ab cd ef"
    found = T.words(text)
    spans = [(0, 8), (2, 3), (2, 5)]          # one piece over all three words; a lone space; " cd"
    under = T.place(spans, [True, True, True], text, found)
    assert under == [[0], [0, 1, 2], [0]]
    assert T.place(spans, [False, True, False], text, found) == [[], [1], []]


def _column(key: str, text: str):
    loaded = loading.load(key)
    prepared = T.substitute(loaded.tokenizer, text)
    tokens = tokenize(loaded.tokenizer, prepared.text)
    return sbs.align(loaded.tokenizer, prepared, tokens, sbs.split_words(text), ""), tokens


def _needs(key: str):
    if key not in CHECKPOINTS:
        pytest.skip(f"{key} is not built")


@pytest.mark.parametrize("text, word", [("Naïve ideas", "Naïve"), ("It costs €1,234.56 today.", "€1,234.56")])
def test_byte_pieces_show_the_characters_they_spell_with_the_raw_pieces_kept(text, word):
    _needs("mini-roberta")
    alignment, tokens = _column("mini-roberta", text)
    index = [w.text for w in sbs.split_words(text)].index(word)
    cells = alignment.pieces[index]
    assert "".join(c.text for c in cells).lstrip("␣") == word     # readable: the word (␣: a piece of a space)
    assert not any(c.text.startswith("<0x") for c in cells)
    assert any("<0x" in c.raw for c in cells)                     # the raw byte pieces, for the hover
    assert sorted(p for c in cells for p in c.positions) == alignment.positions[index]


@pytest.mark.parametrize("text", ["مرحبا بالعالم", "東京タワーは333メートルです。"])
def test_scripts_spelled_in_bytes_show_their_characters(text):
    _needs("mini-roberta")
    alignment, _ = _column("mini-roberta", text)
    shown = [c.text for cells in alignment.pieces for c in cells]
    assert shown and not any(s.startswith("<0x") for s in shown)
    assert set("".join(shown)) <= set(text) | {"␣"}


def test_an_unknown_piece_covering_several_words_sits_under_each_of_them():
    _needs("mini-bert")
    text = "東京タワーは333メートルです。"
    alignment, tokens = _column("mini-bert", text)
    assert all(alignment.pieces), [w.text for w in sbs.split_words(text)]   # every word shows a piece
    unknown = [i for i, t in enumerate(tokens.tokens) if t == "[UNK]"]
    assert unknown
    holders = [w for w, positions in enumerate(alignment.positions) if set(positions) & set(unknown)]
    assert len(holders) > len(unknown)                             # one [UNK] under several words


@pytest.mark.parametrize("fixture", ["bert", "albert", "electra-generator", "electra-discriminator", "xlnet"])
def test_head_logits_reads_each_familys_token_head(fixture):
    model, tok = tiny.build(fixture)
    ids = tok("Paris is nice.", return_tensors="pt")
    with torch.no_grad():
        out = model(**ids)
    expected = out.logits if getattr(out, "logits", None) is not None else out.prediction_logits
    assert T.head_logits(out) is expected


def test_one_pooling_vocabulary():
    assert T.pooling_key("mean of the tokens") == "mean" == T.pooling_key("mean")
    assert set(T.POOLINGS) == {"mean", "first", "cls"}
    with pytest.raises(ValueError, match="Unknown pooling"):
        T.pooling_key("max")


@pytest.mark.parametrize("marker", ["[MASK]", "<mask>", "___"])
@pytest.mark.parametrize("key", ["mini-roberta", "mini-bert", "mini-xlnet"])
def test_a_mask_marker_is_the_familys_own_mask_token_in_every_view(key, marker):
    """RoBERTa's Tokens and Attention views cut "[MASK]" into "[ M A S K ]": every view tokenizes through the text
    layer, which gives each family its own mask token, with offsets in the user's text."""
    _needs(key)
    from model_zoo import attention
    loaded = loading.load(key)
    text = f"The cat sat on the {marker} today."
    tokens = tokenize(loaded.tokenizer, text)
    mask = loaded.tokenizer.mask_token_id
    assert list(tokens.ids).count(mask) == 1 and "M" not in tokens.readable
    start, end = tokens.offsets[list(tokens.ids).index(mask)]
    assert text[start:end].strip() == marker                     # the offsets point at what the user wrote
    assert list(attention.compute(loaded, text).tokens.ids).count(mask) == 1     # the attention view too
