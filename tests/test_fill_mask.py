"""Fill-mask and the logit lens on tiny models of every family: placeholders mapped per tokenizer kind, probabilities,
agreement with transformers' own fill-mask pipeline, XLNet's targets hidden, the last lens layer equal to the
prediction, bad input as messages, and the random-head warning on real MiniLM weights."""
import json
import shutil

import numpy as np
import pytest
import torch

from components import fill_mask_view
from model_zoo import fill_mask as fm
from model_zoo import loading
from model_zoo import text as text_layer
from model_zoo.logit_lens import logit_lens, mlm_head
from model_zoo.registry import MINI_ROOT
from model_zoo.tokenization import InputError

GUESSERS = [("bert", "bert"), ("roberta", "roberta"), ("albert", "albert"), ("distilbert", "distilbert"),
            ("electra", "electra-generator"), ("xlnet", "xlnet")]
TEXTS = ["Paris is the [MASK] of France.",                       # one mask
         "The ___ sat on the <mask> 🙂, très [mask] ici.",       # three placeholders, emoji, French
         "東京は日本の[MASK]です。"]                                # no spaces at all (CJK)


@pytest.fixture(scope="module")
def lm(tiny_path):
    return lambda fixture: fm.fill_mask_model(tiny_path(fixture))


@pytest.fixture(scope="module")
def pipelines(tiny_path):
    """transformers' own fill-mask pipeline over a MaskedLM class loaded from the same tiny folder (one per fixture)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline
    made = {}

    def get(fixture):
        if fixture not in made:
            made[fixture] = pipeline("fill-mask", model=AutoModelForMaskedLM.from_pretrained(tiny_path(fixture)),
                                     tokenizer=AutoTokenizer.from_pretrained(tiny_path(fixture)), top_k=5,
                                     device="cpu")
        return made[fixture]
    return get


# ---------------------------------------------------------------------------------------------------- mask mapping
def tokenizer_of(tiny_path, fixture):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(tiny_path(fixture))


@pytest.mark.parametrize("fixture,mask", [("bert", "[MASK]"), ("roberta", "<mask>"), ("albert", "[MASK]"),
                                          ("xlnet", "<mask>")])  # WordPiece, byte-level BPE, SentencePiece x2
def test_every_placeholder_maps_to_the_native_mask(tiny_path, fixture, mask):
    tok = tokenizer_of(tiny_path, fixture)
    ids = set()
    for placeholder in ["[MASK]", "<mask>", "___", "[mask]", "_____"]:
        prepared = text_layer.substitute(tok, f"The capital is {placeholder}.")
        assert mask in prepared.text and placeholder not in prepared.text.replace(mask, "")
        ids.add(tuple(tok(prepared.text)["input_ids"]))
    assert len(ids) == 1  # every placeholder gives exactly the same model input
    (encoded,) = ids
    assert encoded.count(tok.mask_token_id) == 1


def test_roberta_mask_absorbs_the_space_before_it(tiny_path, tmp_path):
    tok = tokenizer_of(tiny_path, "roberta")
    prepared = text_layer.substitute(tok, "The capital is [MASK].")
    tokens = tok.convert_ids_to_tokens(tok(prepared.text)["input_ids"])
    assert tokens[tokens.index("<mask>") - 1] == "Ġis"  # no lone 'Ġ' before the mask
    # The real RoBERTa tokenizer's <mask> strips the space itself (lstrip): the same ids, with the text left as written.
    folder = tmp_path / "roberta-lstrip"
    shutil.copytree(tiny_path("roberta"), folder)
    data = json.loads((folder / "tokenizer.json").read_text())
    for token in data["added_tokens"]:
        if token["content"] == "<mask>":
            token["lstrip"] = True
    (folder / "tokenizer.json").write_text(json.dumps(data))
    from transformers import AutoTokenizer
    real_like = AutoTokenizer.from_pretrained(folder)
    native = text_layer.substitute(real_like, "The capital is ___.")
    assert native.text == "The capital is <mask>."  # exactly what a user would give the pipeline
    assert real_like(native.text)["input_ids"] == tok(prepared.text)["input_ids"]


@pytest.mark.parametrize("fixture", ["bert", "roberta", "albert", "xlnet"])
def test_clicking_a_word_masks_it(tiny_path, fixture):
    tok = tokenizer_of(tiny_path, fixture)
    text = "Paris is wonderful 🙂 [MASK]."
    words = text_layer.words(text)
    assert [w.text for w in words][:3] == ["Paris", "is", "wonderful"]
    assert any(w.is_mask for w in words) and all(text[w.start:w.end] == w.text for w in words)
    masked = fm.mask_word(tok, text, 2)  # a word of several pieces becomes one mask
    assert masked == f"Paris is {tok.mask_token} 🙂 [MASK]."
    assert fm.mask_word(tok, text, [w.is_mask for w in words].index(True)) == text  # a mask stays a mask
    with pytest.raises(InputError, match="no word"):
        fm.mask_word(tok, text, 99)


@pytest.mark.parametrize("fixture", ["bert", "roberta", "albert", "distilbert", "electra-generator", "xlnet"])
@pytest.mark.parametrize("text,index,masked", [
    ("[CLS] [SEP]", 0, "{m} [SEP]"),              # RoBERTa's tokenizer cuts this into "[", "CLS", "]"
    ("<s> hi </s>", 2, "<s> hi {m}"),              # BERT's cuts it into "<", "/", "s", ">"
    ("Paris, the capital.", 0, "{m}, the capital."),  # SentencePiece keeps "Paris," whole: the comma stays
    ("I don't know.", 1, "I {m} know."),            # BERT cuts "don", "'", "t"
    ("(Paris) is [MASK].", 1, "({m}) is [MASK]."),
    ("東京は首都", 1, "東{m}は首都"),                  # no spaces between words: one character
])
def test_masking_takes_the_whole_word_clicked_in_every_family(tiny_path, fixture, text, index, masked):
    tok = tokenizer_of(tiny_path, fixture)
    assert fm.mask_word(tok, text, index) == masked.format(m=tok.mask_token)
    prepared = text_layer.substitute(tok, masked.format(m=tok.mask_token))   # the result is a text the view can guess on
    assert len(prepared.placeholders) == masked.count("{m}") + masked.count("[MASK]")


def test_the_words_are_the_same_for_every_family_and_cover_the_text():
    text = "[CLS] Don't (Paris), 東京! 👍🏽 ___ <mask>."
    found = fm.words(text)
    assert [w.text for w in found] == ["[CLS]", "Don't", "(", "Paris", ")", ",", "東", "京", "!", "👍🏽", "___",
                                       "<mask>", "."]
    assert [w.index for w in found if w.is_mask] == [10, 11]
    assert all(text[w.start:w.end] == w.text for w in found)
    assert "".join(text[w.start:w.end] for w in found) == "".join(text.split())   # every character, once


# ---------------------------------------------------------------------------------------------------- guessing
@pytest.mark.parametrize("family,fixture", GUESSERS)
def test_shapes_and_probabilities(lm, family, fixture):
    loaded = lm(fixture)
    vocab = loaded.config.vocab_size
    result = fm.fill_mask(loaded, TEXTS[0], k=vocab)  # every token: the probabilities must sum to 1
    assert len(result.masks) == 1 and result.vocab_size == vocab
    for guess in result.masks:
        assert guess.ids.shape == guess.probs.shape == (vocab,)
        assert abs(float(guess.probs.sum()) - 1.0) < 1e-4
        assert np.all(np.diff(guess.probs) <= 0)  # best first
        assert result.tokens[guess.position] == loaded.tokenizer.mask_token
    top = fm.fill_mask(loaded, TEXTS[1], k=4)
    assert all(len(g.readable) == 4 for g in top.masks)
    assert "🙂" in top.filled and "très" in top.filled and "___" not in top.filled
    assert top.filled.count(top.masks[0].readable[0].removeprefix(fm.CONTINUES)) >= 1
    assert not top.head_trained  # random fixture: never presented as meaningful


@pytest.mark.parametrize("family,fixture", [g for g in GUESSERS if g[0] != "xlnet"])
@pytest.mark.parametrize("text", TEXTS)
def test_agrees_with_transformers_fill_mask_pipeline(pipelines, lm, family, fixture, text):
    result = fm.fill_mask(lm(fixture), text, k=5)
    pipe = pipelines(fixture)
    expected = pipe(result.model_text)
    expected = [expected] if isinstance(expected[0], dict) else expected  # one mask: a flat list
    assert len(expected) == len(result.masks)
    for guess, reference in zip(result.masks, expected):
        assert guess.ids.tolist() == [r["token"] for r in reference]
        np.testing.assert_allclose(guess.probs, [r["score"] for r in reference], atol=1e-5)


def test_xlnet_targets_see_all_non_targets_and_no_target(lm):
    loaded = lm("xlnet")
    result = fm.fill_mask(loaded, "Paris is the [MASK] of France, [MASK] said.", k=5)
    _, tokens, positions = fm.prepare(loaded.tokenizer, loaded.config, "Paris is the [MASK] of France, [MASK] said.")
    T, M = len(tokens), len(positions)
    perm = torch.zeros(1, T, T)
    perm[0, :, positions] = 1.0  # nobody sees a target
    mapping = torch.zeros(1, M, T)
    mapping[0, np.arange(M), positions] = 1.0
    ids = torch.tensor(tokens.ids)[None]
    with torch.inference_mode():
        direct = loaded.model(ids, perm_mask=perm, target_mapping=mapping).logits[0].softmax(-1)  # (M, V)
        swapped = ids.clone()
        swapped[0, positions] = loaded.tokenizer.convert_tokens_to_ids("▁Paris")  # the targets' content is hidden
        hidden = loaded.model(swapped, perm_mask=perm, target_mapping=mapping).logits[0].softmax(-1)
        changed = ids.clone()
        changed[0, 0] = loaded.tokenizer.convert_tokens_to_ids("▁The")  # a non-target token is seen
        seen = loaded.model(changed, perm_mask=perm, target_mapping=mapping).logits[0].softmax(-1)
    for m, guess in enumerate(result.masks):
        np.testing.assert_allclose(guess.probs, torch.topk(direct[m], 5).values.numpy(), atol=1e-6)
    torch.testing.assert_close(direct, hidden, rtol=0, atol=1e-7)
    assert not torch.allclose(direct, seen, rtol=0, atol=1e-9)
    assert "perm_mask" in result.method and "perm_mask" in fm.XLNET_NOTE


# ---------------------------------------------------------------------------------------------------- logit lens
@pytest.mark.parametrize("family,fixture", GUESSERS)
def test_logit_lens_last_layer_is_the_prediction(lm, family, fixture):
    loaded = lm(fixture)
    assert mlm_head(loaded.model) is not None
    result = fm.fill_mask(loaded, TEXTS[1], k=5)
    lens = logit_lens(loaded, TEXTS[1], k=5)
    layers = loaded.config.num_hidden_layers
    assert lens.layers[0] == "embeddings" and len(lens.layers) == layers + 1
    assert lens.top_ids.shape == lens.top_probs.shape == (3, layers + 1, 5)
    assert lens.final_prob.shape == (3, layers + 1) and np.all((lens.final_prob >= 0) & (lens.final_prob <= 1))
    assert np.array_equal(lens.top_ids[:, -1], np.stack([g.ids for g in result.masks]))  # exactly equal
    assert np.array_equal(lens.top_probs[:, -1], np.stack([g.probs for g in result.masks]))
    assert np.array_equal(lens.final_prob[:, -1], lens.top_probs[:, -1, 0])
    assert lens.final_tokens == [g.readable[0] for g in result.masks]
    assert lens.stream == ("query stream" if family == "xlnet" else "hidden states")
    rows = fill_mask_view.lens_rows(lens)
    assert len(rows) == 3 * (layers + 1)
    figure = fill_mask_view.lens_figure(lens)
    assert len(figure.data) == 3


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("text,message", [
    ("", "empty"), ("   ", "empty"),
    ("No mask in this sentence.", "No mask"),
    ("It was un[MASK]able.", "inside a word"), ("Paris___ is big", "inside a word"),
    (" ".join(["[MASK]"] * 11), "at most 10"),
    ("word " * 600 + "[MASK]", "at most 512"),
])
def test_bad_input_is_a_clear_message(lm, text, message):
    with pytest.raises(InputError, match=message):
        fm.fill_mask(lm("bert"), text)


def test_ten_masks_are_fine(lm):
    assert len(fm.fill_mask(lm("roberta"), " ".join(["<mask>"] * 10), k=2).masks) == 10


# ---------------------------------------------------------------------------------------------------- heads
def test_missing_mlm_head_is_flagged_on_real_weights():
    """Real MiniLM weights have no MLM head: loaded through BertForMaskedLM the head is newly initialised."""
    loaded = loading.load(loading.with_class(loading.resolve("minilm-l6"), "BertForMaskedLM"))
    assert loaded.report.trained and "fill-mask" in loaded.report.untrained_capabilities
    assert fm.fill_mask_model("minilm-l6").checkpoint.model_class == "BertForMaskedLM"  # the app does the same
    result = fm.fill_mask(loaded, "The capital of France is [MASK].", k=3)
    assert not result.head_trained
    warning = fill_mask_view.render_warning(loaded, "minilm-l6")
    assert "NEWLY INITIALISED" in warning and "noise" in warning
    assert "(guesses of an untrained head)" in fill_mask_view.render_filled(result)


def test_logit_lens_without_a_head_is_a_clear_message():
    from model_zoo.logit_lens import LensUnavailable
    with pytest.raises(LensUnavailable, match="no masked-LM head"):
        logit_lens(loading.load("minilm-l6"), "Paris is the [MASK] of France.")  # a bare BertModel


def test_electra_discriminator_guesses_through_its_generator():
    assert fm.fill_mask_checkpoint("electra-small-discriminator").key == "electra-small-generator"


def test_rendering_escapes_tokens(lm):
    result = fm.fill_mask(lm("bert"), "<b>bold</b> <img src=x onerror=alert(1)> [MASK]", k=3)
    html = fill_mask_view.render_filled(result)
    assert "<img" not in html and "&lt;img" in html and "<b>" not in html
    figure = fill_mask_view.bars_figure(result)
    assert len(figure.data) == 1 and len(figure.data[0].y) == 3


@pytest.mark.skipif(not (MINI_ROOT / "bert" / "config.json").exists(), reason="mini-bert not trained yet")
def test_trained_mini_bert_guesses_plausibly():
    loaded = fm.fill_mask_model(str(MINI_ROOT / "bert"))
    result = fm.fill_mask(loaded, "The capital of France is [MASK].", k=20)
    assert result.head_trained
    # A small model may not know Paris; it must at least guess whole words (numbers count), not punctuation or pieces.
    top = result.masks[0]
    whole = [r for r, raw in zip(top.readable[:5], top.tokens[:5]) if r.isalnum() and not raw.startswith("##")]
    assert len(whole) >= 3, top.tokens


def test_a_guess_that_continues_a_word_shows_so_and_joins_it():
    """mini-DistilBERT's top guesses for 'fresh [MASK]' are word pieces (##ly, ##man): shown as '…ly', and the filled
    sentence joins the piece to the word before it ('freshly'), not 'fresh ly'."""
    if "mini-distilbert" not in fm.CHECKPOINTS:
        pytest.skip("mini-distilbert is not built")
    result = fm.fill_mask(fm.fill_mask_model("mini-distilbert"), "The café near the station sells fresh [MASK].", k=5)
    guess = result.masks[0]
    pieces = [r for t, r in zip(guess.tokens, guess.readable) if t.startswith("##")]
    assert pieces and all(r == fm.CONTINUES + t[2:] for t, r in zip(
        [t for t in guess.tokens if t.startswith("##")], pieces))
    if guess.tokens[0].startswith("##"):
        assert "fresh" + guess.tokens[0][2:] in result.filled
