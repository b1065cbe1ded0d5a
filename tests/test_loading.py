"""The loader: same path for fixtures as for Hub checkpoints, honest reports, bounded cache, one load per model,
fast offline failure, refusal of unsupported or oversized checkpoints."""
import json
import threading
import time

import pytest
import torch

from model_zoo import loading, tiny
from model_zoo.registry import CHECKPOINTS, Capability


@pytest.fixture()
def fresh_cache():
    settings = loading.current_settings()
    loading.cache().clear()
    yield
    loading.configure(settings)


@pytest.mark.parametrize("name", tiny.FIXTURES)
def test_tiny_fixture_loads_like_a_hub_checkpoint(tiny_path, name):
    loaded = loading.load(tiny_path(name))
    assert not loaded.model.training
    assert loaded.report.trained is False and "RANDOM" in loaded.report.weights
    assert loaded.report.untrained_capabilities == ()  # every head came from the checkpoint
    assert loaded.report.attn_implementation == "eager"
    ids = loaded.tokenizer("a short test", return_tensors="pt")
    with torch.inference_mode():
        out = loaded.model(**ids, output_attentions=True)
    assert len(out.attentions) == 2 and out.attentions[0].shape[1] == 4  # non-empty: eager attention


def test_resolve_custom_folder_reads_the_config_first(tiny_path):
    checkpoint = loading.resolve(tiny_path("albert"))
    assert checkpoint.family == "albert" and checkpoint.model_class == "AlbertForPreTraining"
    assert Capability.SENTENCE_ORDER in checkpoint.capabilities and not checkpoint.trained_weights


def test_unsupported_architecture_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}))
    with pytest.raises(loading.UnsupportedModel, match="gpt2.*supports"):
        loading.resolve(str(tmp_path))


def test_a_folder_without_config_is_refused(tmp_path):
    with pytest.raises(loading.UnsupportedModel, match="no config.json"):
        loading.resolve(str(tmp_path))


def test_malformed_ids_are_refused():
    with pytest.raises(loading.UnsupportedModel):
        loading.resolve("../../etc/passwd; rm -rf")
    with pytest.raises(loading.UnsupportedModel):
        loading.resolve("   ")


def test_oversized_checkpoint_is_refused(tiny_path, fresh_cache):
    loading.configure(loading.Settings(device="cpu", offline=True, max_params=10_000))
    with pytest.raises(loading.UnsupportedModel, match="above this app's bound"):
        loading.resolve(tiny_path("bert"))


def test_offline_failure_is_fast_and_says_how_to_provide_the_model(fresh_cache):
    started = time.perf_counter()
    with pytest.raises(loading.ModelUnavailable) as error:
        loading.load("google-bert/bert-base-uncased")
    assert time.perf_counter() - started < 5
    first, _, detail = str(error.value).partition("\n")            # one line for the user, then the detail
    assert "'google-bert/bert-base-uncased' is not downloaded and this machine is offline: use mini-bert" in first
    assert "HF_HOME" not in first and "HF_HOME" in detail and "folder" in detail


def test_unknown_hub_id_offline_is_fast(fresh_cache):
    started = time.perf_counter()
    with pytest.raises(loading.ModelUnavailable):
        loading.load("someone/not-a-real-model")
    assert time.perf_counter() - started < 5


def test_cache_is_bounded_and_least_recently_used_goes_first(tiny_path, fresh_cache):
    loading.configure(loading.Settings(device="cpu", offline=True, max_models=2))
    loading.load(tiny_path("bert"))
    loading.load(tiny_path("roberta"))
    loading.load(tiny_path("bert"))  # bert is now the most recent
    loading.load(tiny_path("albert"))
    kept = [key[0] for key in loading.cache().keys()]
    assert kept == [tiny_path("bert"), tiny_path("albert")]
    assert loading.cache().loads == 3


def test_concurrent_requests_for_one_model_load_it_once(tiny_path, fresh_cache):
    results = []
    threads = [threading.Thread(target=lambda: results.append(loading.load(tiny_path("xlnet")))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loading.cache().loads == 1
    assert len({id(r.model) for r in results}) == 1


def test_real_minilm_loads_offline_with_its_checksum_verified(fresh_cache):
    loaded = loading.load("minilm-l6")
    assert loaded.report.trained and loaded.report.weights.startswith("pretrained")
    assert loaded.config.hidden_size == 384 and loaded.config.num_hidden_layers == 6
    ids = loaded.tokenizer("hello world")["input_ids"]
    assert ids == [101, 7592, 2088, 102]  # bert-base-uncased's own ids


def test_a_missing_head_is_reported_as_newly_initialised(fresh_cache):
    # MiniLM has no MLM or NSP head: loading it for pretraining must say those heads are random.
    checkpoint = loading.with_class(CHECKPOINTS["minilm-l6"], "BertForPreTraining")
    loaded = loading.load(checkpoint)
    assert set(loaded.report.untrained_capabilities) == {Capability.FILL_MASK.value, Capability.NEXT_SENTENCE.value}
    assert not loaded.report.head_is_trained(Capability.FILL_MASK)
    assert "NEWLY INITIALISED" in loaded.report.summary()


def test_model_choices_offline_fall_back_to_a_model_that_works():
    offered, default = loading.model_choices("bert", "auto")
    assert CHECKPOINTS["bert-base-uncased"] in offered
    assert loading.is_available(default)  # offline: never opens on a model that cannot load
