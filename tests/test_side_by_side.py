"""Side by side (model_zoo.side_by_side): word alignment across tokenizer kinds, each column equal to the single-family
functions on the same input, surprise against direct computations, agreement, bad models and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from model_zoo import attention as attn
from model_zoo import electra, loading, permutation
from model_zoo import fill_mask as fm
from model_zoo import text as text_layer
from model_zoo import side_by_side as sbs
from model_zoo.registry import CHECKPOINTS
from model_zoo.tokenization import InputError, tokenize

MINIS = ["mini-bert", "mini-roberta", "mini-albert", "mini-distilbert", "mini-electra-discriminator", "mini-xlnet"]
FIXTURES = ["bert", "roberta", "albert", "distilbert", "electra-generator", "electra-discriminator", "xlnet"]
MASKED = "The doctor told the [MASK] that she was late."
PLAIN = "The doctor told the nurse that she was late."
HARD = "Unbelievably, the café in 東京 served crème brûlée 👍🏽 and naïve coöperation didn't help!"


@pytest.mark.parametrize("text, words", [
    ("Don't café, 東京! 👍🏽 [MASK].", ["Don't", "café", ",", "東", "京", "!", "👍🏽", "[MASK]", "."]),
    ("cafe\u0301 au lait", ["cafe\u0301", "au", "lait"]),                 # decomposed accent stays in its word
    ("a <mask> and ___ then", ["a", "<mask>", "and", "___", "then"]),
    ("family 👨\u200d👩\u200d👧 ok", ["family", "👨\u200d👩\u200d👧", "ok"]),  # a ZWJ sequence is one symbol
    ("  spaced   out  ", ["spaced", "out"]),
    ("", []),
])
def test_split_words(text, words):
    found = sbs.split_words(text)
    assert [w.text for w in found] == words
    assert all(text[w.start:w.end] == w.text for w in found)
    assert [w.is_mask for w in found] == [w in ("[MASK]", "<mask>", "___") for w in words]


@pytest.mark.parametrize("fixture", FIXTURES)
@pytest.mark.parametrize("text", [HARD, "The [MASK] sat on the <mask>.", "x"])
def test_every_piece_sits_under_the_word_its_characters_belong_to(tiny_path, fixture, text):
    loaded = loading.load(tiny_path(fixture))
    prepared = text_layer.substitute(loaded.tokenizer, text)
    tokens = tokenize(loaded.tokenizer, prepared.text)
    words = sbs.split_words(text)
    found = sbs.align(loaded.tokenizer, prepared, tokens, words, "kind")
    placed = sorted({p for positions in found.positions for p in positions})
    pieces = [i for i in range(len(tokens)) if not tokens.special[i] or tokens.ids[i] == loaded.tokenizer.mask_token_id]
    assert placed == pieces                                     # every piece placed, specials apart
    for word, positions in zip(words, found.positions):
        assert positions == sorted(positions)
        for p in positions:                                     # a piece's characters overlap its word (or are
            start, end = (text_layer.to_user(prepared, int(x), closing=bool(j)) for j, x in enumerate(tokens.offsets[p]))
            visible = text[start:end].strip()                   # spaces alone, placed under the next word)
            first = text.index(visible, start) if visible else start
            assert not visible or (first < word.end and word.start < first + len(visible))
    assert found.n_tokens == len(tokens)
    assert len(found.specials_before) + len(found.specials_after) == sum(
        1 for i in range(len(tokens)) if tokens.special[i] and tokens.ids[i] != loaded.tokenizer.mask_token_id)


def test_byte_level_pieces_spell_their_words(tiny_path):
    loaded = loading.load(tiny_path("roberta"))
    prepared = text_layer.substitute(loaded.tokenizer, HARD)
    tokens = tokenize(loaded.tokenizer, prepared.text)
    found = sbs.align(loaded.tokenizer, prepared, tokens, sbs.split_words(HARD), "")
    spelled = [loaded.tokenizer.convert_tokens_to_string([tokens.tokens[p] for p in positions]).strip()
               for positions in found.positions]
    assert spelled == [w.text for w in sbs.split_words(HARD)]
    shown = [piece for pieces in found.pieces for piece in pieces]
    assert "\ufffd" not in "".join(p.text for p in shown)       # bytes of a character show as that character ...
    assert any(p.raw.startswith("<0x") for p in shown)          # ... their raw pieces kept for the hover


def test_special_tokens_stand_where_each_tokenizer_puts_them():
    view = sbs.side_by_side(["mini-bert", "mini-roberta", "mini-xlnet"], PLAIN)
    bert, roberta, xlnet = (c.tokens for c in view.columns)
    assert (bert.specials_before, bert.specials_after) == (["[CLS]"], ["[SEP]"])
    assert (roberta.specials_before, roberta.specials_after) == (["<s>"], ["</s>"])
    assert (xlnet.specials_before, xlnet.specials_after) == ([], ["<sep>", "<cls>"])   # XLNet: both at the end


@pytest.fixture(scope="module")
def masked_view():
    return sbs.side_by_side(MINIS, MASKED, k=5)


@pytest.mark.parametrize("index", range(len(MINIS)))
def test_guesses_equal_the_fill_mask_section(masked_view, index):
    column = masked_view.columns[index]
    assert not column.error
    reference = fm.fill_mask(fm.fill_mask_model(column.key), MASKED, k=5)
    assert column.guess_source == fm.fill_mask_checkpoint(CHECKPOINTS[column.key]).key
    for mine, theirs in zip(column.guesses, reference.masks, strict=True):
        assert list(mine.ids) == list(theirs.ids)
        np.testing.assert_allclose(mine.probs, theirs.probs, rtol=1e-5, atol=1e-7)
    assert column.guess_trained


@pytest.mark.parametrize("index", range(len(MINIS)))
def test_attention_equals_the_attention_section(masked_view, index):
    column = masked_view.columns[index]
    loaded = loading.load(column.key)
    model_text = text_layer.substitute(loaded.tokenizer, MASKED).text
    reference = attn.compute(loaded, model_text, None, cap=sbs.MAX_TOKENS)
    expected = sbs.summarise_attention(reference, column.tokens)
    np.testing.assert_allclose(column.attention.words, expected.words, atol=1e-5)
    stats = attn.head_statistics(reference.attention, reference.tokens.special)
    assert column.attention.entropy == pytest.approx(float(np.nanmean(stats["entropy"])), rel=1e-4)
    assert column.attention.previous == pytest.approx(float(np.nanmean(stats["previous"])), rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(column.attention.words.sum(-1), 1.0, atol=1e-5)   # rows: a distribution over words


def test_agreement_counts_shared_top1_among_trained_heads(masked_view):
    (found,) = masked_view.agreement
    tops = {c.key: c.guesses[0].readable[0].lower() for c in masked_view.columns}
    assert sorted(m for models in found.top1.values() for m in models) == sorted(tops)
    for guess, models in found.top1.items():
        assert all(tops[m] == guess for m in models)
    assert 0.0 <= found.overlap <= 1.0


def test_agreement_by_hand():
    def column(key, readable, trained=True):
        guess = fm.MaskGuess(position=1, ids=np.arange(len(readable)), tokens=readable, readable=readable,
                             probs=np.ones(len(readable), np.float32))
        return sbs.Column(spec=key, key=key, guesses=[guess], guess_trained=trained)
    found = sbs.agreement([column("a", ["Paris", "lyon"]), column("b", ["paris", "rome"]),
                           column("c", ["x", "y"], trained=False)], 1)[0]
    assert found.top1 == {"paris": ["a", "b"]} and found.models == ["a", "b"]
    assert found.overlap == pytest.approx(1 / 3)                # {paris, lyon} vs {paris, rome}


@pytest.fixture(scope="module")
def plain_view():
    return sbs.side_by_side(MINIS, PLAIN)


def test_pseudo_log_likelihood_equals_masking_each_word_alone(plain_view):
    column = plain_view.columns[0]
    loaded = loading.load("mini-bert")
    import torch
    tokens = tokenize(loaded.tokenizer, PLAIN)
    for word, positions in enumerate(column.tokens.positions):
        ids = torch.as_tensor(tokens.ids)[None].clone()
        ids[0, positions] = loaded.tokenizer.mask_token_id
        with torch.inference_mode():
            logprobs = loaded.model(input_ids=ids).prediction_logits[0].float().log_softmax(-1)
        expected = -float(sum(logprobs[p, tokens.ids[p]] for p in positions))
        assert column.surprise.scores[word] == pytest.approx(expected, rel=1e-4)
    assert column.surprise.unit == "nats"


def test_xlnet_surprise_is_the_left_to_right_order_score(plain_view):
    column = plain_view.columns[MINIS.index("mini-xlnet")]
    loaded = loading.load("mini-xlnet")
    tokens, types = permutation.sentence(loaded, PLAIN)
    n = int((~tokens.special).sum())
    score = permutation.score_order(loaded, tokens, types, permutation.make_order("left-to-right", n), "l2r")
    assert np.nansum(column.surprise.scores) == pytest.approx(-score.total, rel=1e-4)


def test_electra_surprise_is_the_discriminators_p_replaced(plain_view):
    column = plain_view.columns[MINIS.index("mini-electra-discriminator")]
    loaded = loading.load("mini-electra-discriminator")
    probs = electra.discriminate(loaded, tokenize(loaded.tokenizer, PLAIN).ids)
    expected = [max(probs[p]) for p in column.tokens.positions]
    np.testing.assert_allclose(column.surprise.scores, expected, rtol=1e-5)
    assert column.surprise.unit == "P(replaced)"
    assert "generator" in column.notes["guesses"]              # says where its guesses come from


def test_a_model_without_a_head_says_why_in_its_cell():
    view = sbs.side_by_side(["minilm-l6"], PLAIN, pair="A nurse was late.")
    column = view.columns[0]
    assert not column.error and column.guesses is None and column.surprise is None
    assert "no masked-LM head" in column.notes["guesses"]
    assert column.attention is not None and column.similarity is not None


def test_similarity_of_real_minilm_prefers_a_paraphrase():
    """Real weights (all-MiniLM-L6-v2): a paraphrase is closer than an unrelated sentence."""
    close = sbs.side_by_side(["minilm-l6"], "A man is playing a guitar.", "Someone plays the guitar.")
    far = sbs.side_by_side(["minilm-l6"], "A man is playing a guitar.", "The stock market fell sharply today.")
    assert close.columns[0].similarity > far.columns[0].similarity + 0.3


def test_a_bad_model_leaves_the_other_columns_intact(tiny_path):
    specs = ["mini-bert", "no-such-org/no-such-model", "../../etc/passwd", tiny_path("roberta")]
    view = sbs.side_by_side(specs, MASKED)
    assert [bool(c.error) for c in view.columns] == [False, True, True, False]
    alone = sbs.side_by_side(["mini-bert"], MASKED).columns[0]
    assert list(view.columns[0].guesses[0].ids) == list(alone.guesses[0].ids)
    assert not view.columns[3].guess_trained                    # random fixture: flagged, not counted in agreement
    assert view.agreement[0].models == ["mini-bert"]


@pytest.mark.parametrize("text, message", [("", "empty"), ("   ", "empty"), (" ".join(["[MASK]"] * 11), "at most")])
def test_bad_text_is_one_clear_message(text, message):
    with pytest.raises(InputError, match=message):
        sbs.side_by_side(["mini-bert"], text)


def test_no_models_or_too_many_is_refused():
    with pytest.raises(InputError, match="at least one"):
        sbs.side_by_side([" ", ""], PLAIN)
    with pytest.raises(InputError, match="at most"):
        sbs.side_by_side([f"m{i}" for i in range(sbs.MAX_MODELS + 1)], PLAIN)


def test_streaming_yields_one_more_column_each_time():
    partials = list(sbs.run(["mini-bert", "mini-albert"], PLAIN))
    assert [len(p.columns) for p in partials] == [1, 2]
    assert partials[0].pending == ["mini-albert"] and partials[1].pending == []


def test_default_specs_cover_every_family_offline():
    specs = sbs.default_specs("auto")
    families = {CHECKPOINTS[s].family for s in specs}
    assert families == {"bert", "roberta", "albert", "distilbert", "electra", "xlnet"}


def test_a_guess_beyond_the_tokenizers_vocabulary_is_labelled_not_a_crash(tiny_path):
    """Checkpoints often pad the model's vocabulary beyond the tokenizer's (to a multiple of 8 or 64)."""
    import torch
    tokenizer = loading.load(tiny_path("bert")).tokenizer
    probs = torch.zeros(1, len(tokenizer) + 8)
    probs[0, len(tokenizer) + 3] = 1.0                           # the most likely id has no token
    (guess,) = fm.top_guesses(tokenizer, probs, np.array([1]), k=2)
    assert guess.readable[0] == f"<id {len(tokenizer) + 3} has no token>"


def test_ten_masks_every_family_guesses_each():
    text = " ".join(["[MASK] and"] * 10) + " more."
    view = sbs.side_by_side(MINIS, text, k=2)
    for column in view.columns:
        assert not column.error and len(column.guesses) == 10, (column.key, column.notes)
    assert len(view.agreement) == 10


LONG = ("The old harbour town woke slowly under a grey sky, and the fishermen carried their nets down to the boats "
        "while the bakers opened their shutters and the smell of bread drifted along the narrow streets. ")


def test_a_text_longer_than_a_model_reads_is_cut_with_a_note_and_every_column_answers():
    text = "She opened the [MASK] and walked in. " + LONG * 12               # ~450 words, ~610 mini-BERT tokens
    view = sbs.side_by_side(["mini-bert", "mini-xlnet"], text, k=3)
    for column in view.columns:
        assert not column.error, column.error
        assert "reads at most 512" in column.notes["length"]                   # cut at the model's own maximum
        assert column.tokens.n_tokens == 512 and column.guesses and column.attention is not None
        assert column.tokens.pieces[0] and not column.tokens.pieces[-1]        # the words past the cut: no pieces
    from components.side_by_side_render import status_html
    assert "2 of 2 models done, 2 answered" in status_html(view)


def test_a_mask_past_the_cut_is_said_not_guessed():
    view = sbs.side_by_side(["mini-bert"], LONG * 12 + "She opened the [MASK].", k=3)
    (column,) = view.columns
    assert column.guesses is None and "past the part of the text" in column.notes["guesses"]


def test_the_costly_surprise_is_scored_for_the_first_words_only():
    text = LONG * 3                                                             # ~110 words, no mask
    view = sbs.side_by_side(["mini-bert"], text)
    (column,) = view.columns
    scores = column.surprise.scores
    assert len(scores) > sbs.SURPRISE_WORDS
    assert np.isfinite(scores[:sbs.SURPRISE_WORDS]).all() and np.isnan(scores[sbs.SURPRISE_WORDS:]).all()
    assert f"first {sbs.SURPRISE_WORDS} words" in column.notes["surprise"]


def test_every_number_says_what_it_is_and_a_cosine_comes_with_a_reference():
    """Issue #36 item 4, in the side-by-side grid: probabilities called so, terms explained on hover, each surprise
    score with its unit, and a cosine next to the same model's cosine for an unrelated sentence."""
    import html as html_lib

    from components import side_by_side_render as render
    view = sbs.side_by_side(["minilm-l6", "mini-bert", "mini-roberta"], "She opened the [MASK] and walked in.",
                            "He came into the house.", k=3)
    grid = html_lib.unescape(render.grid_html(view))
    assert "with its probability (over the whole vocabulary, 0 to 1)" in grid
    assert render.PROBABILITY in grid and render.JACCARD in grid and render.ENTROPY in grid
    assert "cosine (-1 to 1)" in grid and "for an unrelated sentence" in grid
    minilm = view.columns[0]
    assert minilm.similarity > minilm.unrelated_similarity          # real weights: the paraphrase is closer
    plain = sbs.side_by_side(["mini-bert"], "The children play in the park.")
    assert 'title="nats"' in render.grid_html(plain)                 # each score says its unit


def test_the_why_row_is_each_models_own_top1_attributed_and_minilm_says_why_not():
    from components import side_by_side_render as render
    from model_zoo import attribution
    view = sbs.side_by_side(["mini-bert", "mini-electra-discriminator", "minilm-l6"], MASKED, k=3, why_steps=8)
    bert, electra_column, minilm = view.columns
    for column in (bert, electra_column):                          # the discriminator's guess is its generator's
        direct = attribution.explain_guess(loading.load(column.guess_source), MASKED, 0, None, 8)
        assert column.why.target == direct.target == f"log P({column.guesses[0].readable[0]}) at mask 1"
        np.testing.assert_allclose(column.why.word_scores["ig"], direct.word_scores["ig"], atol=1e-6)
    assert minilm.why is None and "no masked-LM head" in minilm.notes["why"]
    grid = render.grid_html(view)
    assert grid.count('class="sbs-why-row"') == 2 and "no masked-LM head" in grid.split("<th>why</th>")[1]
    assert sbs.as_json(view)["models"][0]["why"]["per_word"][0] == round(bert.why.word_scores["ig"][0], 6)
    assert sbs.explain(sbs.side_by_side(["mini-bert"], PLAIN).columns[0], PLAIN).why is None   # no mask: no why
