"""Every model box names where a checkpoint's weights come from and lists what loads here first (issue #14, item 8)."""
from __future__ import annotations

import pytest

from components import model_labels
from model_zoo import loading
from model_zoo.registry import FAMILIES


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_family_box_lists_loadable_checkpoints_first_and_marks_the_missing_ones(family, monkeypatch):
    monkeypatch.setattr(loading, "hub_reachable", lambda: False)
    offered, default = loading.model_choices(family)
    options = model_labels.options(offered)
    by_key = {c.key: c for c in offered}
    loadable = [loading.is_available(by_key[key]) for _, key in options]
    assert loadable == sorted(loadable, reverse=True)                  # True (loads here) before False
    assert loading.is_available(default)                               # the tab opens with something that loads
    for label, key in options:
        checkpoint = by_key[key]
        assert label.startswith(key)
        if not checkpoint.bundled and not checkpoint.source_package:
            assert label.endswith(", not downloaded)") == (not loading.is_available(checkpoint)), label


def test_a_cached_hub_checkpoint_is_not_marked_missing(monkeypatch):
    offered, _ = loading.model_choices("bert")
    hub = next(c for c in offered if c.hub_id and not c.bundled and not c.source_package)
    monkeypatch.setattr(loading, "is_available", lambda c: True)
    label = dict((key, label) for label, key in model_labels.options(offered))[hub.key]
    assert label == f"{hub.key}  ({hub.hub_id})"


def test_the_facts_table_names_a_bundled_checkpoint_by_key_and_app_relative_folder():
    from model_zoo import facts
    from model_zoo.registry import CHECKPOINTS
    mini = CHECKPOINTS["mini-bert"]
    rows = dict(facts.facts(mini).rows())
    assert rows["Checkpoint"] == "mini-bert (assets/mini/bert)"
    assert facts._shown_source("bert-base-uncased", "google-bert/bert-base-uncased") == \
        "bert-base-uncased (google-bert/bert-base-uncased)"
