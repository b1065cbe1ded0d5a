"""Word attributions (model_zoo.attribution): completeness of integrated gradients on every family, agreement with
Captum's layer methods on the word-embedding layer, f(input) against the fill-mask / discriminator / embedding
modules, pieces summed onto words, errors, and the cached model left untouched."""
from __future__ import annotations

import numpy as np
import pytest

from model_zoo import attribution as at
from model_zoo import electra, embeddings, loading
from model_zoo import fill_mask as fm
from model_zoo import text as text_layer
from model_zoo.tokenization import InputError, tokenize

GUESSERS = ["bert", "roberta", "albert", "distilbert", "electra-generator", "xlnet"]
MASKED = "The doctor told the [MASK] that unbelievably she was late."


def completeness_holds(found: at.Attribution) -> None:
    """Within 5% of f(input) - f(baseline). A tiny random model moves f by ~1e-3 between baseline and input (its
    embeddings are initialised with std 0.02); the relative gap is read only where that difference stands well above
    float32 noise (~1e-6), else the gap itself must be at that noise."""
    diff = found.f_input - found.f_baseline
    assert np.isclose(found.token_scores["ig"].sum() - diff, found.gap, atol=1e-9)
    if abs(diff) > 1e-4:
        assert found.relative_gap < 0.05, (found.gap, diff)
    else:
        assert abs(found.gap) < 5e-6, (found.gap, diff)


def _layer_reference(loaded, found, method: str, steps: int = 64):
    """Captum's layer method on the word-embedding layer (hooks: a test's own call, nobody else uses the model here),
    f read through input_ids (XLNet's IG: Captum's IntegratedGradients on inputs_embeds, through the full model's
    head): an independent route to the same attributions. (T,)"""
    import torch
    from captum.attr import IntegratedGradients, LayerGradientXActivation, LayerIntegratedGradients
    tokens = tokenize(loaded.tokenizer, MASKED, max_length=512)
    positions = np.flatnonzero(tokens.ids == loaded.tokenizer.mask_token_id)
    inputs = fm.model_inputs(loaded, tokens.ids, positions)
    row = 0 if loaded.family.two_streams else int(positions[0])
    target = int(np.argmax(_logits(loaded, inputs, row)))                 # the top-1, as explain_guess's default
    extra = {k: v for k, v in inputs.items() if k != "input_ids"}

    def forward(ids):
        out = loaded.model(input_ids=ids, **{k: v.expand(ids.shape[0], *v.shape[1:]) for k, v in extra.items()})
        return text_layer.head_logits(out)[:, row].float().log_softmax(-1)[:, target]
    layer = loaded.model.get_input_embeddings()
    ids = inputs["input_ids"]
    baseline = torch.as_tensor(np.where(tokens.special, tokens.ids, loaded.tokenizer.mask_token_id))[None]
    if method == "ig" and loaded.family.two_streams:   # XLNet embeds (T, B, E): the layer method would scale along T
        def through_embeds(e):                           # (B, T, E) -> (B,), Captum's own input method
            out = loaded.model(inputs_embeds=e, **{k: v.expand(e.shape[0], *v.shape[1:]) for k, v in extra.items()})
            return text_layer.head_logits(out)[:, row].float().log_softmax(-1)[:, target]
        with torch.no_grad():
            x, b = layer(ids), layer(baseline)                               # (1, T, E) each
        result = IntegratedGradients(through_embeds).attribute(x, baselines=b, n_steps=steps)
    elif method == "ig":
        result = LayerIntegratedGradients(forward, layer).attribute(ids, baselines=baseline, n_steps=steps)
    else:
        result = LayerGradientXActivation(forward, layer).attribute(ids)
    return result.sum(-1).reshape(-1).detach().double().numpy()   # XLNet's embedding output is (T, 1, E)


def _logits(loaded, inputs, row):
    import torch
    with torch.inference_mode():
        return text_layer.head_logits(loaded.model(**inputs))[0, row].float().numpy()


@pytest.mark.parametrize("fixture", GUESSERS)
def test_guess_completeness_and_f_against_fill_mask(tiny_path, fixture):
    loaded = loading.load(tiny_path(fixture))
    found = at.explain_guess(loaded, MASKED, steps=64)
    completeness_holds(found)
    reference = fm.fill_mask(loaded, MASKED, k=1).masks[0]            # f(input) through input_ids, the other module
    assert found.target == f"log P({reference.readable[0]}) at mask 1"
    assert np.isclose(np.exp(found.f_input), reference.probs[0], rtol=1e-4)
    assert np.isclose(found.probability, reference.probs[0], rtol=1e-4)
    assert found.weights == loaded.report.weights and found.trained is False and found.notes[0].startswith("RANDOM")
    mask_word = found.words.index("[MASK]")
    assert found.word_scores["ig"][mask_word] == 0.0                  # the mask is its own baseline
    special = tokenize(loaded.tokenizer, MASKED).special
    assert np.isclose(found.word_scores["rollout"].sum(), found.token_scores["rollout"][~special].sum())
    assert np.isclose(found.token_scores["rollout"].sum(), 1.0, atol=1e-5)    # the mask row of the rollout


@pytest.mark.parametrize("fixture", GUESSERS)
def test_ig_and_gradient_x_input_equal_captums_layer_methods(tiny_path, fixture):
    loaded = loading.load(tiny_path(fixture))
    found = at.explain_guess(loaded, MASKED, steps=16)
    np.testing.assert_allclose(found.token_scores["gxi"], _layer_reference(loaded, found, "gxi"), atol=1e-5)
    np.testing.assert_allclose(found.token_scores["ig"], _layer_reference(loaded, found, "ig", 16), atol=1e-5)


def test_replaced_completeness_and_probability(tiny_path):
    loaded = loading.load(tiny_path("electra-discriminator"))
    text = "The doctor told the nurse that unbelievably she was late."
    word = [w.text for w in text_layer.words(text)].index("unbelievably")
    found = at.explain_replaced(loaded, text, word, steps=64)
    completeness_holds(found)
    tokens = tokenize(loaded.tokenizer, text)
    probs = electra.discriminate(loaded, tokens.ids)                  # (T,) the detection module's own numbers
    pieces = [i for i in range(len(tokens)) if tokens.readable[i] in "unbelievably" and not tokens.special[i]
              and tokens.offsets[i][0] >= text.index("unbelievably")][:5]
    assert len(pieces) > 1 and np.isclose(found.probability, probs[pieces].max(), rtol=1e-5)
    assert np.isclose(1 / (1 + np.exp(-found.f_input)), found.probability, rtol=1e-5)   # f is the logit


def test_similarity_on_minilm_real_weights():
    loaded = loading.load("minilm-l6")
    text, other = "A man is playing a guitar on stage.", "Someone is performing music for an audience."
    found = at.explain_similarity(loaded, text, other, steps=64)
    vectors = embeddings.sentence_vectors(loaded, [text, other]).astype(np.float64)      # (2, H)
    cosine = vectors[0] @ vectors[1] / np.linalg.norm(vectors, axis=1).prod()
    assert np.isclose(found.f_input, cosine, atol=1e-5) and found.trained
    assert abs(found.f_input - found.f_baseline) > 0.1 and found.relative_gap < 0.05
    scores = dict(zip(found.words, found.word_scores["ig"]))
    assert scores["guitar"] > scores["a"]                             # music's instrument beats an article


@pytest.mark.parametrize("fixture", ["bert", "xlnet"])
def test_similarity_completeness_on_tiny(tiny_path, fixture):
    found = at.explain_similarity(loading.load(tiny_path(fixture)), "The cat sat on the mat.", "A dog ran.", steps=64)
    completeness_holds(found)


def test_pieces_summed_onto_words(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    tokens = tokenize(loaded.tokenizer, MASKED)
    scores = np.arange(len(tokens), dtype=np.float64) + 1                          # (T,) distinct per piece
    words = at.word_scores(scores, tokens, MASKED, loaded.tokenizer.mask_token_id)
    found = text_layer.words(MASKED)
    encoding = loaded.tokenizer(MASKED)
    expected = {}
    for i, w in enumerate(encoding.word_ids()):                                     # the tokenizer's own words
        if w is not None:
            expected[w] = expected.get(w, 0.0) + scores[i]
    assert len(found) == len(expected) and words.tolist() == [expected[w] for w in range(len(found))]
    split = [w.text for w in found].index("unbelievably")
    assert sum(1 for w in encoding.word_ids() if w == split) > 1                    # a word of several pieces


def test_a_piece_under_several_words_is_shared_equally(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    text = "Tower ⚡👍 ok"                                       # WordPiece: one [UNK] for the run of two emoji
    tokens = tokenize(loaded.tokenizer, text)
    assert tokens.readable == ["[CLS]", "tower", "[UNK]", "ok", "[SEP]"]
    scores = np.asarray([0.0, 1.0, 3.0, 2.0, 0.0])                                # (T,)
    words = at.word_scores(scores, tokens, text, loaded.tokenizer.mask_token_id)
    assert [w.text for w in text_layer.words(text)] == ["Tower", "⚡", "👍", "ok"]   # one word per wide symbol
    np.testing.assert_allclose(words, [1.0, 1.5, 1.5, 2.0])


def test_candidate_by_token_string_or_id(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    by_word = at.explain_guess(loaded, MASKED, candidate="nurse", steps=8)
    nurse = loaded.tokenizer.convert_tokens_to_ids("nurse")
    by_id = at.explain_guess(loaded, MASKED, candidate=nurse, steps=8)
    assert by_word.target == by_id.target == "log P(nurse) at mask 1"
    assert np.isclose(by_word.f_input, np.log(by_word.probability), rtol=1e-5)
    assert by_word.f_input == by_id.f_input
    with pytest.raises(InputError, match="not one token"):
        at.explain_guess(loaded, MASKED, candidate="unbelievably", steps=8)


def test_errors_say_why(tiny_path):
    bert = loading.load(tiny_path("bert"))
    with pytest.raises(InputError, match="No mask"):
        at.explain_guess(bert, "The doctor told the nurse.")
    with pytest.raises(InputError, match="no mask 3"):
        at.explain_guess(bert, MASKED, mask=2)
    with pytest.raises(loading.ModelError, match="no masked-LM head"):
        at.explain_guess(loading.load("minilm-l6"), MASKED)
    with pytest.raises(loading.ModelError, match="discriminator"):
        at.explain_guess(loading.load(tiny_path("electra-discriminator")), MASKED)
    with pytest.raises(InputError, match="not an ELECTRA discriminator"):
        at.explain_replaced(bert, MASKED, 1)


def test_long_text_is_cut_with_a_note(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    text = "The [MASK] sat. " + "word " * 600
    found = at.explain_guess(loaded, text, steps=2)
    assert "longer than this model reads (512 tokens)" in found.notes[-1]
    assert np.isnan(found.word_scores["ig"][-1]) and not np.isnan(found.word_scores["ig"][0])


def test_the_cached_model_is_left_as_it_was(tiny_path):
    loaded = loading.load(tiny_path("roberta"))
    at.explain_guess(loaded, MASKED, steps=4)    # transformers' own output-capturing hooks are installed once here

    def state():
        return ([p.requires_grad for p in loaded.model.parameters()],
                {n: (list(m._forward_hooks), list(m._forward_pre_hooks)) for n, m in loaded.model.named_modules()})
    before = state()
    at.explain_guess(loaded, MASKED, steps=4)
    at.explain_similarity(loaded, MASKED, "A cat.", steps=4)
    assert state() == before
    assert all(p.grad is None for p in loaded.model.parameters())


@pytest.mark.parametrize("fixture", ["bert", "xlnet"])
def test_rows_in_chunks_give_the_same_integral(tiny_path, fixture, monkeypatch):
    """A long text runs the rows (input, baseline, the points) in several passes: the sums are the one-pass sums."""
    loaded = loading.load(tiny_path(fixture))
    whole = at.explain_guess(loaded, MASKED, steps=9)
    monkeypatch.setattr(at, "BATCH_TOKENS", 3 * len(whole.tokens))      # three rows a pass: four passes
    chunked = at.explain_guess(loaded, MASKED, steps=9)
    for method in ("ig", "gxi", "rollout"):
        np.testing.assert_allclose(chunked.token_scores[method], whole.token_scores[method], atol=1e-7)
    assert np.isclose(chunked.f_input, whole.f_input, atol=1e-7) and chunked.target == whole.target
    assert np.isclose(chunked.f_baseline, whole.f_baseline, atol=1e-7)
