"""Labelled data: the natural sentences' labels are each allowed for their word; users' CoNLL-U and word<TAB>label
files are read, and a malformed one gets a message naming its line while nothing else breaks."""
import pytest

from model_zoo import labelled_data as ld
from model_zoo.tokenization import InputError

GOOD = ("# text = The keys are old.\n"
        "1\tThe\tthe\tDET\tDT\tDefinite=Def\t2\tdet\t_\t_\n"
        "2\tkeys\tkey\tNOUN\tNNS\tNumber=Plur\t4\tnsubj\t_\t_\n"
        "3\tare\tbe\tAUX\tVBP\tNumber=Plur\t4\tcop\t_\t_\n"
        "4\told\told\tADJ\tJJ\t_\t0\troot\t_\tSpaceAfter=No\n"
        "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_\n\n")


def test_every_natural_label_is_allowed_for_its_word():
    allowed, data = ld.lexicon(), ld.natural()
    assert len(data.sentences) >= 200
    pairs = [(w.lower(), t) for s in data.sentences for w, t in zip(s.words, s.labels["upos"])]
    assert [p for p in pairs if p[0] not in allowed] == []
    assert [p for p in pairs if p[1] not in allowed[p[0]]] == []
    assert len({t for _, t in pairs}) >= 14


def test_a_conllu_file_gives_its_columns_and_tree_depths():
    data = ld.read_text(GOOD, "mine.conllu")
    s = data.sentences[0]
    assert s.text == "The keys are old." and s.spans[3] == (13, 16)
    assert {"upos", "xpos", "deprel", "depth", "feat:Number"} <= set(data.columns)
    assert s.labels["depth"] == ("2", "1", "1", "0", "1")
    assert s.labels["feat:Number"] == (None, "Plur", "Plur", None, None)


@pytest.mark.parametrize("broken, line, words", [
    (GOOD.replace("\tDT\tDefinite=Def", "\tDefinite=Def"), 2, "columns"),         # a column missing
    (GOOD.replace("2\tkeys", "x\tkeys"), 3, "not a word id"),                      # a bad id
    (GOOD.replace("3\tare", "7\tare"), 4, "expected"),                             # ids out of order
    (GOOD.replace("\t4\tcop", "\t9\tcop"), 4, "head 9"),                           # a head outside the sentence
])
def test_a_malformed_conllu_file_names_its_line(broken, line, words):
    with pytest.raises(InputError) as caught:
        ld.read_text(broken, "bad.conllu")
    assert f"line {line}:" in str(caught.value) and words in str(caught.value)
    assert ld.read_text(GOOD, "mine.conllu").sentences[0].words[1] == "keys"        # nothing else broke


def test_word_tab_label_files_and_their_errors():
    data = ld.read_text(b"the\tDET\ndog\tNOUN\n\n# a comment\nit\tPRON\nbarks\tVERB\n", "mine.tsv")
    assert [s.text for s in data.sentences] == ["the dog", "it barks"] and data.columns == ("label",)
    with pytest.raises(InputError, match="line 2:"):
        ld.read_text("the\tDET\ndog NOUN\n", "bad.tsv")
    with pytest.raises(InputError, match="empty"):
        ld.read_text("  \n", "empty.tsv")
    with pytest.raises(InputError, match="limit"):
        ld.read_text("a\tB\n" * (ld.MAX_BYTES // 4 + 1), "big.tsv")
    with pytest.raises(InputError, match="UTF-8"):
        ld.read_text(b"\xff\xfe\tX\n", "latin.tsv")
