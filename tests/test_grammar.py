"""The grammar's labels by construction agree with hand-written labels (assets/layers/grammar_expected.txt), and its
bundled set is deterministic, varied and full of attractors."""
from pathlib import Path

import pytest

from model_zoo import grammar

EXPECTED = Path(__file__).resolve().parent.parent / "assets" / "layers" / "grammar_expected.txt"


def expected_cases():
    lines = [line for line in EXPECTED.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines), 2)]


@pytest.mark.parametrize("tree, words", expected_cases())
def test_labels_agree_with_the_hand_written_list(tree, words):
    sentence = grammar.labelled(grammar.parse(tree))
    rows = [w.split("/") for w in words.split()]
    assert list(sentence.words) == [r[0] for r in rows]
    for column, index in (("upos", 1), ("depth", 2), ("role", 3), ("number", 4)):
        written = [None if r[index] == "-" else r[index] for r in rows]
        assert list(sentence.labels[column]) == written, column


def test_the_bundled_set_is_deterministic_varied_and_has_attractors():
    data = grammar.dataset()
    again = grammar.dataset_of.__wrapped__()
    assert data.digest == again.digest and len(data.sentences) == grammar.N_SENTENCES
    assert len({w.lower() for s in data.sentences for w in s.words}) > 100
    assert max(int(d) for s in data.sentences for d in s.labels["depth"]) >= 5        # nested clauses
    attracted = 0
    for s in data.sentences:      # a verb whose closest noun before it has the other number
        for i, number in enumerate(s.labels["number"]):
            nouns = [j for j in range(i) if s.labels["upos"][j] == "NOUN"]
            if number and nouns and grammar.NUMBER_OF[s.words[nouns[-1]].lower()] != number:
                attracted += 1
    assert attracted > 50
    assert grammar.dataset_of(grammar.N_SENTENCES, 1).digest != data.digest


def test_brackets_round_trip_and_unbalanced_brackets_are_refused():
    tree = grammar.trees(1)[0]
    assert grammar.parse(grammar.brackets(tree)) == tree
    with pytest.raises(ValueError):
        grammar.parse("[S [NP the dog] [VP sleeps]")
