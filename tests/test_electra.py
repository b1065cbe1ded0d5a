"""ELECTRA replaced-token detection on tiny random generator/discriminator fixtures: invariants, metrics, seeds."""
import numpy as np
import pytest
import torch

from model_zoo import electra, loading
from model_zoo.electra import detection_metrics
from model_zoo.tokenization import InputError, tokenize

TEXT = "The chef cooked a delicious meal for the guests in the old house by the river."


@pytest.fixture(scope="module")
def pair(tiny_path):
    return loading.load(tiny_path("electra-generator")), loading.load(tiny_path("electra-discriminator"))


# ------------------------------------------------------------------------------------------ metrics by hand
# (ROC AUC itself: tests/test_metrics.py)
def test_precision_recall_on_a_hand_made_example():
    m = detection_metrics([1, 1, 0, 0, 0], [0.9, 0.2, 0.6, 0.1, 0.0])    # flagged: 0 and 2; truly: 0 and 1
    assert (m.n_replaced, m.n_flagged) == (2, 2)
    assert m.precision == 0.5 and m.recall == 0.5 and m.accuracy == pytest.approx(3 / 5)
    assert m.auc == pytest.approx(5 / 6)
    empty = detection_metrics([0, 0], [0.1, 0.2])
    assert empty.precision is None and empty.recall is None and empty.auc is None


# ------------------------------------------------------------------------------------------ with the tiny models
def test_generator_changes_only_the_chosen_positions(pair):
    generator, discriminator = pair
    result = electra.replace_and_detect(generator, discriminator, TEXT, rate=0.3, seed=1, temperature=1.0)
    original = tokenize(discriminator.tokenizer, TEXT)
    det = result.detection
    chosen = np.flatnonzero(det.chosen)
    assert len(chosen) == round(0.3 * (~original.special).sum())
    assert not (det.chosen & det.special).any()
    differs = np.flatnonzero(det.ids != original.ids)
    assert set(differs) <= set(chosen) and det.replaced.tolist() == (det.ids != original.ids).tolist()
    unchanged = [i for i in range(len(original)) if i not in chosen]
    assert [det.tokens[i] for i in unchanged] == [original.readable[i] for i in unchanged]
    assert [r.position for r in result.replacements] == chosen.tolist()
    for r in result.replacements:  # ELECTRA's rule: a sample equal to the original is labelled original
        assert r.same_as_original == (not det.replaced[r.position]) == (r.sampled == r.original)
        assert len(r.alternatives) == 5 and sum(p for _, p in r.alternatives) <= 1 + 1e-6
    assert all(result.masked_input[i] == "[MASK]" for i in chosen)
    assert det.replaced.sum() <= len(chosen) and not (det.replaced & ~det.chosen).any()


def test_discriminator_gives_one_probability_per_token_equal_to_sigmoid_of_its_logits(pair):
    generator, discriminator = pair
    result = electra.replace_and_detect(generator, discriminator, TEXT, seed=2)
    det = result.detection
    assert det.prob_replaced.shape == (len(det.tokens),)
    corrupted = torch.tensor(det.ids)
    with torch.no_grad():
        logits = discriminator.model(input_ids=corrupted[None]).logits  # (1, T)
    np.testing.assert_allclose(det.prob_replaced, torch.sigmoid(logits[0]).numpy(), atol=1e-6)
    real = ~det.special
    assert det.metrics.n_tokens == int(real.sum()) and det.metrics.n_replaced == int(det.replaced[real].sum())


def test_fixed_seeds_give_identical_results_and_other_seeds_differ(pair):
    generator, discriminator = pair
    a = electra.replace_and_detect(generator, discriminator, TEXT, rate=0.3, seed=7, temperature=1.5)
    b = electra.replace_and_detect(generator, discriminator, TEXT, rate=0.3, seed=7, temperature=1.5)
    assert a.detection.tokens == b.detection.tokens
    np.testing.assert_array_equal(a.detection.prob_replaced, b.detection.prob_replaced)
    others = {tuple(electra.replace_and_detect(generator, discriminator, TEXT, rate=0.3, seed=s).detection.tokens)
              for s in range(4)}
    assert len(others) > 1


def test_temperature_zero_takes_the_generators_first_choice(pair):
    generator, discriminator = pair
    result = electra.replace_and_detect(generator, discriminator, TEXT, rate=0.3, seed=0, temperature=0)
    for r in result.replacements:
        assert r.sampled == r.alternatives[0][0] and r.alternatives[0][1] == 1.0


def test_words_the_user_picks(pair):
    generator, discriminator = pair
    result = electra.replace_and_detect(generator, discriminator, TEXT, words="chef, RIVER")
    assert [result.detection.originals[i] for i in np.flatnonzero(result.detection.chosen)] == ["chef", "river"]
    with pytest.raises(InputError, match="Not in the sentence: dragon"):
        electra.replace_and_detect(generator, discriminator, TEXT, words="dragon")


def test_edit_mode_marks_the_changed_tokens(pair):
    _, discriminator = pair
    det = electra.edit_mode(discriminator, "The chef cooked a meal.", "The chef burned a meal today.")
    assert [t for t, c in zip(det.tokens, det.replaced) if c] == ["burned", "today"]
    assert det.originals[det.tokens.index("burned")] == "cooked"
    assert det.prob_replaced.shape == (len(det.tokens),)
    with pytest.raises(InputError, match="same as the original"):
        electra.edit_mode(discriminator, "The chef.", "the chef.")  # uncased: the same tokens


def test_wrong_models_are_refused_with_a_message(pair, tiny_path):
    generator, discriminator = pair
    with pytest.raises(InputError, match="not an ELECTRA discriminator"):
        electra.replace_and_detect(generator, generator, TEXT)
    with pytest.raises(InputError, match="different vocabularies"):
        electra.replace_and_detect(loading.load(tiny_path("roberta")), discriminator, TEXT)


def test_a_sample_equal_to_the_original_is_labelled_original(pair):
    """A generator that always proposes the original token: every chosen position stays 'original' and is noted."""
    from types import SimpleNamespace
    generator, discriminator = pair
    original = torch.tensor(tokenize(generator.tokenizer, TEXT).ids)
    vocab = generator.model.config.vocab_size

    def oracle(input_ids, attention_mask=None):
        logits = torch.full((1, len(original), vocab), -20.0)
        logits[0, torch.arange(len(original)), original] = 20.0   # (1, T, V): the original token, surely
        return SimpleNamespace(logits=logits)
    fake = SimpleNamespace(checkpoint=generator.checkpoint, tokenizer=generator.tokenizer, device="cpu", model=oracle)
    result = electra.replace_and_detect(fake, discriminator, TEXT, rate=0.3, seed=0)
    assert result.replacements and all(r.same_as_original for r in result.replacements)
    assert not result.detection.replaced.any() and result.detection.metrics.n_replaced == 0
    assert result.detection.metrics.auc is None  # one class only: AUC undefined
    from components.electra_view import render_corrupted
    assert "sampled the original" in render_corrupted(result)


def test_the_ranking_and_the_threshold_show_what_the_discriminator_knows():
    """The default run flagged neither replaced word at P >= 0.5 though the sample's AUC was 0.85: the ranking says
    where the replaced words stand, and a lower threshold flags them."""
    labels = np.array([False, True, False, True, False])
    probs = np.array([0.27, 0.11, 0.05, 0.20, 0.02], dtype=np.float32)
    det = electra.Detection(ids=np.arange(7), tokens=["[CLS]", "a", "weather", "of", "cooking", "the", "[SEP]"],
                            originals=[""] * 7, special=np.array([True] + [False] * 5 + [True]),
                            replaced=np.r_[False, labels, False], chosen=np.r_[False, labels, False],
                            prob_replaced=np.r_[0.0, probs, 0.0].astype(np.float32),
                            metrics=electra.detection_metrics(labels, probs))
    assert det.metrics.recall == 0.0
    assert electra.replaced_ranks(det) == [(2, "cooking", pytest.approx(0.20)), (3, "weather", pytest.approx(0.11))]
    lower = electra.rethreshold(det, 0.1)
    assert lower.recall == 1.0 and lower.n_flagged == 3 and lower.precision == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        electra.rethreshold(det, 1.5)
