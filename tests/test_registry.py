"""The registry: every family, its default checkpoints, classes that exist, configs kept for offline facts."""
import pytest
import transformers

from model_zoo import facts, loading
from model_zoo.registry import (CHECKPOINTS, FAMILIES, SUPPORTED_CLASSES, Capability, checkpoints_of,
                                default_checkpoint, find_checkpoint)

DEFAULT_HUB_IDS = {"google-bert/bert-base-uncased", "FacebookAI/roberta-base", "albert/albert-base-v2",
                   "distilbert/distilbert-base-uncased", "google/electra-small-generator",
                   "google/electra-small-discriminator", "xlnet/xlnet-base-cased"}


def test_the_default_checkpoints_are_the_issue_s():
    assert {c.hub_id for c in CHECKPOINTS.values() if c.default} == DEFAULT_HUB_IDS


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_a_default_with_attention(family):
    checkpoint = default_checkpoint(family)
    assert Capability.ATTENTION in checkpoint.capabilities
    assert checkpoint.family == family


@pytest.mark.parametrize("key", CHECKPOINTS)
def test_every_class_exists_and_is_supported(key):
    checkpoint = CHECKPOINTS[key]
    assert hasattr(transformers, checkpoint.model_class)
    assert checkpoint.model_class in SUPPORTED_CLASSES[checkpoint.family]
    assert checkpoint.description


def test_family_capabilities_match_the_papers():
    assert Capability.NEXT_SENTENCE in default_checkpoint("bert").capabilities
    assert Capability.SENTENCE_ORDER in default_checkpoint("albert").capabilities
    assert Capability.REPLACED_TOKEN_DETECTION in default_checkpoint("electra", "discriminator").capabilities
    assert Capability.FILL_MASK in default_checkpoint("electra", "generator").capabilities
    assert Capability.PERMUTATION_LM in default_checkpoint("xlnet").capabilities
    assert not any(Capability.NEXT_SENTENCE in c.capabilities for c in checkpoints_of("roberta"))


def test_lookup_by_key_or_hub_id():
    assert find_checkpoint("bert-base-uncased") is find_checkpoint("google-bert/bert-base-uncased")
    assert find_checkpoint("no/such-model") is None


# Published parameter counts of the default checkpoints (exact, from their configs on the meta device).
EXPECTED_PARAMETERS = {"bert-base-uncased": 110_106_428, "roberta-base": 124_697_433, "albert-base-v2": 11_813_810,
                       "distilbert-base-uncased": 66_985_530, "electra-small-discriminator": 13_549_057,
                       "xlnet-base-cased": 116_750_336}


@pytest.mark.parametrize("key", EXPECTED_PARAMETERS)
def test_bundled_configs_give_exact_offline_facts(key):
    checkpoint = CHECKPOINTS[key]
    found = facts.facts(checkpoint)  # offline: falls back to assets/configs
    assert found.parameters == EXPECTED_PARAMETERS[key]
    assert "assets/configs" in found.config_source
    config = loading.bundled_config_dict(checkpoint)
    assert config["model_type"] in FAMILIES[checkpoint.family].model_types   # the config of this family
    assert found.vocab == config["vocab_size"]


def test_albert_facts_state_its_sharing_and_factorised_embedding():
    found = facts.facts(CHECKPOINTS["albert-base-v2"])
    assert found.shared_layers and found.embedding == 128 and found.hidden == 768 and found.layers == 12


def test_head_class_is_the_pretraining_class_that_serves_a_capability():
    """A checkpoint without a pair head is loaded through the class the registry names for it (sentence_tasks)."""
    from model_zoo.registry import CLASS_CAPABILITIES, SUPPORTED_CLASSES, head_class
    assert head_class(Capability.NEXT_SENTENCE) == ("bert", "BertForPreTraining")
    assert head_class(Capability.SENTENCE_ORDER) == ("albert", "AlbertForPreTraining")
    for capability in (Capability.NEXT_SENTENCE, Capability.SENTENCE_ORDER, Capability.REPLACED_TOKEN_DETECTION):
        family, name = head_class(capability)
        assert name in SUPPORTED_CLASSES[family] and capability in CLASS_CAPABILITIES[name]
