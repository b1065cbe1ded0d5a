"""A model card says which build of the corpus its weights saw: the last run's, and earlier ones in its history."""
from __future__ import annotations

from model_zoo.pretrain import card


def test_the_data_section_names_the_last_corpus_and_the_earlier_builds():
    history = [{"event": "continued from exported weights", "corpus": "b903872c8c"},
               {"event": "continued from exported weights", "corpus": "c8a4c2115d"}]
    text = card.data_section({"corpus": "c8a4c2115d", "history": history})
    assert text.startswith(card.SOURCES_V3) and "fortune cookies" in text
    assert "b903872c8c (WordNet, the Bible and the three documentation sources)" in text
    assert "c8a4c2115d (" not in text                                      # its own build is not "earlier"


def test_a_run_on_one_build_names_no_earlier_one_and_an_unknown_build_is_not_described_wrongly():
    assert card.data_section({"corpus": "b903872c8c", "history": []}) == card.SOURCES_V2
    assert card.data_section({}) == card.SOURCES_V1
    assert "fortune" not in card.data_section({"corpus": "0123456789"})
