"""model_zoo.tokenizer_training, the one module that trains tokenizers (for the mini zoo and for the test fixtures):
every kind round-trips text with its family's special tokens at the ids the real checkpoints use; the fixtures' engines
are reproducible; the shipped mini checkpoints' tokenizers have the specials this module puts first."""
import pytest

from model_zoo import tiny
from model_zoo import tokenizer_training as tt
from pretrain.tokenizers_build import SHIPPED, check
from model_zoo.registry import MINI_ROOT

SPECIALS = {"wordpiece": tt.WORDPIECE_SPECIALS, "bpe": tt.BPE_SPECIALS, "albert": tt.ALBERT_SPECIALS,
            "xlnet": tt.XLNET_SPECIALS}


def _train(kind: str, engine: str = "tokenizers"):
    lines = tiny.corpus_lines() + ["The quick brown fox jumps over the lazy dog."] * 3  # every letter check() uses
    if kind == "wordpiece":
        return tt.wordpiece(lines, 500, min_frequency=1)
    if kind == "bpe":
        return tt.byte_bpe(lines, 500, min_frequency=1)
    if kind == "albert":
        return tt.albert(lines, 300, engine, lowercase_corpus=True)
    return tt.xlnet(lines, 300, engine)


@pytest.mark.parametrize("kind, engine", [("wordpiece", "tokenizers"), ("bpe", "tokenizers"),
                                          ("albert", "tokenizers"), ("albert", "sentencepiece"),
                                          ("xlnet", "tokenizers"), ("xlnet", "sentencepiece")])
def test_each_kind_round_trips_with_its_specials_first(kind, engine, tmp_path):
    from transformers import AutoTokenizer
    tokenizer = _train(kind, engine)
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)            # as the mini zoo and the fixtures are loaded
    check(reloaded, kind)                                        # round trip, one-id mask, specials in place
    assert reloaded.convert_tokens_to_ids(SPECIALS[kind]) == list(range(len(SPECIALS[kind])))


@pytest.mark.parametrize("make", [lambda: tiny.byte_bpe_tokenizer(), lambda: tiny.albert_tokenizer(),
                                  lambda: tiny.xlnet_tokenizer()], ids=["bpe", "albert", "xlnet"])
def test_the_fixture_tokenizers_are_reproducible(make):
    """The fixtures are rebuilt for every test session, so their trainers must give the same vocabulary each time (the
    `tokenizers` library's WordPiece and unigram trainers do not, from run to run: the mini zoo keeps its files)."""
    first, second = make(), make()
    assert first.get_vocab() == second.get_vocab() and len(first) > 100


def test_an_unknown_unigram_engine_is_refused():
    with pytest.raises(ValueError, match="sentencepiece"):
        tt.unigram_pieces(["a b c"], 50, tt.XLNET_SPECIALS, "bpe")


@pytest.mark.parametrize("kind", sorted(SHIPPED))
def test_the_shipped_mini_tokenizers_have_these_specials_first(kind):
    from transformers import AutoTokenizer
    folder = MINI_ROOT / SHIPPED[kind]
    if not (folder / "tokenizer_config.json").exists():
        pytest.skip(f"{folder} is not built")
    shipped = AutoTokenizer.from_pretrained(folder)
    assert shipped.convert_tokens_to_ids(SPECIALS[kind]) == list(range(len(SPECIALS[kind])))
    check(shipped, kind)


def test_a_stale_copy_of_a_shipped_tokenizer_is_refreshed_and_a_rebuilt_one_is_kept(tmp_path, monkeypatch):
    """The work copy of mini-RoBERTa's tokenizer predated the <mask> fix (lstrip): runs exported it with their weights,
    and 'of <mask>' gained a space piece the model never saw. A copy with the shipped vocabulary follows the shipped
    tokenizer; one with another vocabulary (a deliberate rebuild) is left alone."""
    import json
    import shutil

    from pretrain import tokenizers_build as tb
    from pretrain import train
    mini, work = tmp_path / "mini", tmp_path / "work"
    shutil.copytree(MINI_ROOT / "roberta", mini / "roberta", ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    monkeypatch.setattr(train, "MINI", mini)
    monkeypatch.setattr(tb, "TOKENIZER_DIR", work)

    def save_work_copy(edit):
        shutil.copytree(mini / "roberta", work / "bpe", dirs_exist_ok=True)
        data = json.loads((work / "bpe" / "tokenizer.json").read_text(encoding="utf-8"))
        edit(data)
        (work / "bpe" / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")

    def no_lstrip(data):
        next(t for t in data["added_tokens"] if t["content"] == "<mask>")["lstrip"] = False

    def pieces(tokenizer):
        ids = tokenizer("the capital of <mask>.", add_special_tokens=False)["input_ids"]
        return tokenizer.convert_ids_to_tokens(ids)

    save_work_copy(no_lstrip)
    assert pieces(tb.load("bpe", mini))[-3:] == ["Ġof", "<mask>", "."]      # refreshed: no stray "Ġ" before the mask

    def rebuilt(data):
        no_lstrip(data)
        data["model"]["vocab"]["zzzz"] = len(data["model"]["vocab"])       # another vocabulary
    save_work_copy(rebuilt)
    assert pieces(tb.load("bpe", mini))[-3:] == ["Ġ", "<mask>", "."]        # kept as it is
