"""Minimal pairs: each family's score equals the two words' log-probabilities computed here by a direct forward
(multi-piece words masked together, XLNet through perm_mask/target_mapping, ELECTRA's discriminator through
P(replaced)); Wilson intervals; the user's pair; templates."""
import numpy as np
import pytest
import torch

from model_zoo import loading
from model_zoo import minimal_pairs as mp
from model_zoo.metrics import wilson_interval
from model_zoo.tokenization import InputError

PAIR = mp.parse_pair("The neighbours near the window [complain|complains] loudly.")


def direct_logprob(loaded, text, start, end):
    """log P(word at text[start:end]): its pieces masked together, their log-probs summed; written here."""
    tok = loaded.tokenizer
    enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = torch.tensor(enc["input_ids"])
    pieces = [i for i, ((s, e), sp) in enumerate(zip(enc["offset_mapping"], enc["special_tokens_mask"]))
              if not sp and e > s and s < end and e > start and text[s:e].strip()]
    masked = ids.clone()
    masked[pieces] = tok.mask_token_id
    kwargs = {}
    if loaded.family.two_streams:          # XLNet: every target hidden from all, each asked for by target_mapping
        T = len(ids)
        perm = torch.zeros(1, T, T)
        perm[0, :, pieces] = 1.0
        mapping = torch.zeros(1, len(pieces), T)
        mapping[0, range(len(pieces)), pieces] = 1.0
        kwargs = dict(perm_mask=perm, target_mapping=mapping)
    with torch.inference_mode():
        out = loaded.model(input_ids=masked[None], **kwargs)
    logits = out.logits if hasattr(out, "logits") and out.logits is not None else out.prediction_logits
    logp = logits[0].float().log_softmax(-1)
    rows = range(len(pieces)) if kwargs else pieces
    return sum(float(logp[r, ids[p]]) for r, p in zip(rows, pieces)), len(pieces)


@pytest.mark.parametrize("name", ["bert", "roberta", "albert", "distilbert", "electra-generator", "xlnet"])
def test_the_score_is_the_difference_of_the_two_words_log_probabilities(tiny_path, name):
    [scorer], _ = mp.scorers(tiny_path(name))
    got = mp.pair_logprobs(scorer, [PAIR])[0]
    start = len(PAIR.prefix)
    expected, n_pieces = zip(*[direct_logprob(scorer.loaded, PAIR.text(w), start, start + len(w))
                               for w in (PAIR.good, PAIR.bad)])
    assert max(n_pieces) > 1                                           # a multi-piece word is among them
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert mp.score(scorer, [PAIR]).scores[0].correct == int(expected[0] > expected[1])


def test_the_discriminator_scores_each_completed_sentence(tiny_path):
    scorers, note = mp.scorers(tiny_path("electra-discriminator"))
    [scorer] = [s for s in scorers if s.method == "discriminator P(replaced)"]
    got = mp.pair_logprobs(scorer, [PAIR])[0]
    expected = []
    for word in (PAIR.good, PAIR.bad):
        enc = scorer.loaded.tokenizer(PAIR.text(word), return_special_tokens_mask=True, return_tensors="pt")
        real = enc.pop("special_tokens_mask")[0] == 0
        with torch.inference_mode():
            p = torch.sigmoid(scorer.loaded.model(**enc).logits[0].double())
        expected.append(float(torch.log(1 - p[real]).sum()))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_discriminator_answers_through_the_generator_the_registry_names():
    scorers, note = mp.scorers("mini-electra-discriminator")
    assert note == "" and [s.method for s in scorers] == ["masked LM", "discriminator P(replaced)"]
    assert scorers[0].loaded.checkpoint.key == "mini-electra-generator"
    _, note = mp.scorers("minilm-l6")
    assert "no masked-LM head" in note


def test_wilson_interval():   # the one Wilson interval of the project (model_zoo.metrics), as the pairs use it
    low, high = wilson_interval(8 / 10, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0 / 10, 10)[0] == 0.0
    with pytest.raises(ValueError):
        wilson_interval(0.0, 0)


def test_templates_and_the_users_pair(tiny_path):
    pairs = mp.pairs()
    assert len(pairs) == len(mp.PHENOMENA) * mp.PAIRS_PER_PHENOMENON and pairs == mp.pairs()
    two = [p for p in pairs if p.phenomenon == "agreement, 2 attractors"]
    assert all(p.prefix.count(" the ") == 2 for p in two)
    pair, answers = mp.answer_pair([tiny_path("bert"), "minilm-l6"], "The dogs [run|runs] fast.")
    assert (pair.good, pair.bad) == ("run", "runs")
    assert 0 < answers[0].first < 1 and 0 < answers[0].second < 1 and not answers[0].trained
    assert "no masked-LM head" in answers[1].note
    for bad in ("no blank here", "The [a|b] and [c|d].", "The [run|run] x", "The [two words|x]."):
        with pytest.raises(InputError):
            mp.parse_pair(bad)
    with pytest.raises(loading.ModelError):
        mp.scorers("no-such-model-anywhere")
