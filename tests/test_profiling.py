"""Profiling: exact parameters and their breakdown, FLOPs against a hand count and torch's counter, the measuring
loop (labels, stop, cache), the claims check, and the benchmark command end to end. No assertion on speed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from model_zoo import loading, profiling, tiny
from model_zoo.registry import CHECKPOINTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Never read or write the user's ~/.cache from tests."""
    monkeypatch.setattr(profiling.cache, "CACHE_DIR", tmp_path / "cache")


def _config(path: str) -> dict:
    return json.loads((Path(path) / "config.json").read_text())


# ---------------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("fixture", tiny.FIXTURES)
def test_parameter_count_equals_the_loaded_model_and_the_parts_sum_to_it(tiny_path, fixture):
    loaded = loading.load(tiny_path(fixture))
    found = profiling.parameter_breakdown(loaded.checkpoint)
    assert found.total == sum(p.numel() for p in loaded.model.parameters())  # tied matrices once, as torch does
    assert sum(found.parts.values()) == found.total
    assert found.total == loading.count_parameters(_config(tiny_path(fixture)), loaded.checkpoint.model_class)
    assert found.bytes_fp32 == 4 * found.total and found.bytes_fp16 == 2 * found.total
    # the same breakdown from the real (loaded) model
    real = profiling.breakdown_of_model(loaded.model, "x", loaded.checkpoint.family, _config(tiny_path(fixture)), "")
    assert real.parts == found.parts


def test_albert_applies_more_parameters_than_it_stores(tiny_path):
    found = profiling.parameter_breakdown(loading.resolve(tiny_path("albert")))
    layer = found.parts["encoder layers"]  # one shared layer (1 group, 1 inner layer), used num_hidden_layers times
    assert found.shared_layers and found.per_forward > found.total
    assert found.per_forward == found.total + layer * (found.layers - 1)
    base = profiling.parameter_breakdown(CHECKPOINTS["albert-base-v2"])  # offline: the bundled config
    assert base.total == 11_813_810 and base.per_forward == 11_813_810 + 11 * 7_087_872
    assert base.parts["embedding projection"] == 128 * 768 + 768  # the factorised E -> H projection
    assert base.parts["token embeddings"] == 30_000 * 128


def test_bert_base_breakdown_matches_a_hand_count():
    found = profiling.parameter_breakdown(CHECKPOINTS["bert-base-uncased"])
    H, I, V = 768, 3072, 30_522
    layer = (3 * (H * H + H) + (H * H + H) + 2 * H) + (H * I + I) + (I * H + H) + 2 * H  # attention, feed-forward
    assert found.parts["encoder layers"] == 12 * layer == 85_054_464
    assert found.parts["token embeddings"] == V * H and found.parts["position embeddings"] == 512 * H
    assert found.parts["type embeddings"] == 2 * H and found.parts["pooler"] == H * H + H
    # MLM transform + LayerNorm + decoder bias (its weight is tied to the token embeddings) + NSP
    assert found.parts["heads"] == (H * H + H) + 2 * H + V + (2 * H + 2)
    assert found.total == 110_106_428 and found.per_forward == found.total


def test_distilbert_has_no_type_embeddings_and_no_pooler():
    found = profiling.parameter_breakdown(CHECKPOINTS["distilbert-base-uncased"])
    assert found.parts["type embeddings"] == 0 and found.parts["pooler"] == 0 and found.layers == 6


# ---------------------------------------------------------------------------------------------------- FLOPs
def test_bert_flops_match_a_hand_count(tiny_path):
    config = _config(tiny_path("bert"))
    H, I, L, V, b, T = 32, 37, 2, config["vocab_size"], 2, 8
    n = b * T
    hand = (L * 4 * 2 * n * H * H          # Q, K, V, output projections
            + L * 2 * 2 * b * T * T * H    # Q K^T and weights x V
            + L * 2 * 2 * n * H * I        # feed-forward in and out
            + 2 * b * H * H + 2 * b * H * 2  # pooler and NSP on [CLS] only
            + 2 * n * H * H + 2 * n * H * V)  # MLM transform and vocabulary projection on every token
    assert profiling.forward_flops(config, "BertForPreTraining", b, T).total == hand


def test_xlnet_flops_match_a_hand_count(tiny_path):
    config = _config(tiny_path("xlnet"))
    H, I, L, A, V, b, T = 32, 37, 2, 4, config["vocab_size"], 1, 8
    n = b * T
    per_layer = (4 * 2 * n * H * H          # q, k, v, o
                 + 2 * 2 * n * H * H        # W_r applied to the 2T relative positions
                 + 2 * b * T * T * H        # content term: queries x keys
                 + 2 * b * T * (2 * T) * H  # position term: queries x 2T positions (then shifted to T)
                 + 2 * n * 2 * H            # segment term: queries x the 2 segment vectors
                 + 2 * b * A * T * T * 2    # ... spread to every pair
                 + 2 * b * T * T * H        # weights x values
                 + 2 * 2 * n * H * I)       # feed-forward
    found = profiling.forward_flops(config, "XLNetLMHeadModel", b, T)
    assert found.total == L * per_layer + 2 * n * H * V
    assert found.relative_attention > 0 and found.embedding_projection == 0


def test_albert_flops_count_the_projection_and_every_application_of_the_shared_layer():
    config = loading.bundled_config_dict(CHECKPOINTS["albert-base-v2"])
    bert = loading.bundled_config_dict(CHECKPOINTS["bert-base-uncased"])
    a = profiling.forward_flops(config, "AlbertForMaskedLM", 1, 128)
    b = profiling.forward_flops(bert, "BertForMaskedLM", 1, 128)
    assert a.embedding_projection == 2 * 128 * 128 * 768
    assert a.attention_projections == b.attention_projections and a.feed_forward == b.feed_forward


@pytest.mark.parametrize("fixture", tiny.FIXTURES)
def test_analytic_flops_agree_with_torch_s_flop_counter(tiny_path, fixture):
    """An independent reference: torch counts the matrix products of the real forward pass."""
    loaded = loading.load(tiny_path(fixture))
    inputs = profiling.random_inputs(loaded.model, 2, 12)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        loaded.model(**inputs)
    found = profiling.forward_flops(_config(tiny_path(fixture)), loaded.checkpoint.model_class, 2, 12)
    assert found.total == counter.get_total_flops()


# ---------------------------------------------------------------------------------------------------- measuring
def test_percentile_interpolates_between_order_statistics():
    assert profiling.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert profiling.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 90) == 10.0


def test_measure_a_tiny_model_labels_its_weights_and_is_consistent(tiny_path):
    seen = []
    result = profiling.measure([tiny_path("bert")], lengths=(8, 16, 600), batches=(1, 2), min_runs=2, max_runs=3,
                               budget_s=0.0, progress=lambda f, m: seen.append(f))
    assert [(m.batch, m.length) for m in result.measurements] == [(1, 8), (1, 16), (2, 8), (2, 16)]
    assert any("600 skipped" in n for n in result.notes)  # longer than the model takes
    assert seen[-1] == 1.0 and seen == sorted(seen)
    config = _config(tiny_path("bert"))
    for m in result.measurements:
        assert "RANDOM" in m.weights and m.dtype == "float32" and 2 <= m.runs <= 3
        assert m.p90_ms >= m.median_ms > 0
        assert m.flops == profiling.forward_flops(config, "BertForPreTraining", m.batch, m.length).total
        assert m.gflops_per_s == pytest.approx(m.flops / (m.median_ms / 1e3) / 1e9)
        assert m.tokens_per_s == pytest.approx(m.batch * m.length / (m.median_ms / 1e3))
        assert m.weights_mb == pytest.approx(sum(p.numel() * 4 for p in loading.load(tiny_path("bert")).model
                                                 .parameters()) / 2**20, rel=0.01)  # + small buffers
    assert result.environment.threads == torch.get_num_threads() and result.environment.device_key == "cpu"


def test_an_unavailable_default_is_timed_as_a_same_config_random_model():
    result = profiling.measure(["electra-small-generator"], lengths=(8,), batches=(1,), min_runs=1, max_runs=1,
                               budget_s=0.0)
    (m,) = result.measurements
    assert m.weights == profiling.RANDOM_SAME_CONFIG
    assert m.weights_mb == pytest.approx(13_546_682 * 4 / 2**20, rel=0.01)


def test_stop_ends_the_loop_and_keeps_what_was_measured(tiny_path):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 6  # a few runs in
    result = profiling.measure([tiny_path("bert"), tiny_path("roberta")], lengths=(8, 16), batches=(1,),
                               min_runs=2, max_runs=2, budget_s=0.0, should_stop=should_stop)
    assert result.stopped and 0 < len(result.measurements) < 4
    assert all(m.runs == 2 for m in result.measurements)


def test_results_are_cached_per_device(tiny_path, tmp_path):
    result = profiling.measure([tiny_path("distilbert")], lengths=(8,), batches=(1,), min_runs=1, max_runs=1,
                               budget_s=0.0)
    path = profiling.save_cached(result, tmp_path)
    assert path.name == "compare-cpu.json"
    assert profiling.load_cached("cpu", tmp_path) == result
    path.write_text("{not json")
    assert profiling.load_cached("cpu", tmp_path) is None  # a broken cache is no cache


# ---------------------------------------------------------------------------------------------------- claims
def _fake_result(ms: dict[str, float], spread: float = 0.05, lengths=(32, 128), device: str = "cpu",
                 load: float = 0.5) -> profiling.CompareResult:
    """Every model at batch 1 and each length: median `ms` (times length / 128), quartiles +-`spread` of it."""
    from dataclasses import replace
    env = replace(profiling.environment("cpu"), device=device, cores=2, load_before=load, load_after=load)
    rows = tuple(profiling.Measurement(k, "x", "w", "float32", 1, t, 9, v * t / 128, v * t / 128, 1.0, 1, 1.0, 10.0,
                                       100.0, q1_ms=v * t / 128 * (1 - spread), q3_ms=v * t / 128 * (1 + spread))
                 for k, v in ms.items() for t in lengths)
    return profiling.CompareResult(env, rows, ("note",), "RSS growth (CPU)", "now")


def test_claims_check_gives_a_verdict_for_each_claim():
    params = {k: profiling.parameter_breakdown(CHECKPOINTS[k]) for k in profiling.default_keys()}
    claims = {c.claim: c for c in profiling.claims_check(params)}
    assert len(claims) == 5
    assert claims["DistilBERT is 40% smaller than BERT"].verdict == "holds"  # 39%
    assert "39% smaller" in claims["DistilBERT is 40% smaller than BERT"].measured
    assert claims["DistilBERT is 60% faster than BERT"].verdict == "not measured"
    albert = claims["ALBERT-base has 12M parameters against BERT-base's 110M"]
    assert albert.verdict == "holds" and "11.8M" in albert.measured and "89.8M" in albert.measured
    assert claims["ELECTRA-Small needs a fraction of BERT's memory"].verdict == "holds"  # 12%
    roberta = claims["RoBERTa keeps BERT's architecture"]
    assert roberta.verdict == "holds" and "50,265 vs 30,522" in roberta.measured
    timed = {c.claim: c for c in profiling.claims_check(params, _fake_result(
        {"bert-base-uncased": 100.0, "distilbert-base-uncased": 50.0}))}
    faster = timed["DistilBERT is 60% faster than BERT"]
    assert faster.verdict == "holds" and "2.00x" in faster.measured
    slow = {c.claim: c for c in profiling.claims_check(params, _fake_result(
        {"bert-base-uncased": 100.0, "distilbert-base-uncased": 90.0}))}
    assert slow["DistilBERT is 60% faster than BERT"].verdict == "does not hold"


FASTER = "DistilBERT is 60% faster than BERT"


def _speed(result) -> profiling.Claim:
    params = {k: profiling.parameter_breakdown(CHECKPOINTS[k]) for k in ("bert-base-uncased",
                                                                          "distilbert-base-uncased")}
    return {c.claim: c for c in profiling.claims_check(params, result)}[FASTER]


def test_a_speed_verdict_needs_spreads_that_do_not_overlap():
    overlapping = _speed(_fake_result({"bert-base-uncased": 100.0, "distilbert-base-uncased": 55.0}, spread=0.3))
    assert overlapping.verdict == "not measurable here"         # 1.82x, but [0.98-3.38] straddles 1.6
    assert "1.82x" in overlapping.measured and "[0.98-3.38]" in overlapping.measured
    assert "no verdict: at batch 1 x 32 tokens, batch 1 x 128 tokens the interval contains the claimed 1.6x" in \
        overlapping.measured                                      # says why there is no verdict


def test_a_speed_verdict_needs_more_than_one_size():
    one = _speed(_fake_result({"bert-base-uncased": 100.0, "distilbert-base-uncased": 50.0}, lengths=(128,)))
    assert one.verdict == "not measurable here" and "one size only" in one.measured


def test_sizes_that_disagree_on_a_busy_machine_give_no_verdict():
    result = _fake_result({"bert-base-uncased": 100.0, "distilbert-base-uncased": 50.0}, load=9.0)
    rows = [m if m.length == 128 or m.key.startswith("bert") else
            profiling.Measurement(**{**m.__dict__, "median_ms": 30.0, "q1_ms": 29.0, "q3_ms": 31.0})
            for m in result.measurements]                        # DistilBERT slower than BERT at 32 tokens
    busy = _speed(profiling.CompareResult(result.environment, tuple(rows), (), "", "now"))
    assert busy.verdict == "not measurable here" and "busy (load 9.0 on 2 cores)" in busy.measured


def test_a_launch_bound_gpu_is_said_so():
    flat = _fake_result({"bert-base-uncased": 10.0, "distilbert-base-uncased": 9.5}, lengths=(8, 512),
                        device="cuda: NVIDIA H200")
    rows = tuple(profiling.Measurement(**{**m.__dict__, "median_ms": 10.0 if m.key.startswith("bert") else 9.5,
                                          "q1_ms": 9.9 if m.key.startswith("bert") else 9.4,
                                          "q3_ms": 10.1 if m.key.startswith("bert") else 9.6})
                 for m in flat.measurements)                     # 4-14 ms whatever the size, as seen on an H200
    gpu = _speed(profiling.CompareResult(flat.environment, rows, (), "", "now"))
    assert gpu.verdict == "not measurable here" and "launch-bound" in gpu.measured


def test_the_claims_are_data_keyed_by_the_registry():
    """Each claim names registry families (its default checkpoint is measured, its paper is the source); no module of
    the package names a checkpoint."""
    from model_zoo.registry import FAMILIES, default_checkpoint
    params = {k: profiling.parameter_breakdown(CHECKPOINTS[k]) for k in profiling.default_keys()}
    checked = profiling.claims_check(params)
    assert [c.claim for c in checked] == [c.claim for c in profiling.CLAIMS]           # all of them, in the table's order
    for data, claim in zip(profiling.CLAIMS, checked):
        assert claim.source == FAMILIES[data.family].paper
        assert default_checkpoint(data.family, data.role).default and default_checkpoint(data.against).default
    package = Path(profiling.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text()
        assert not [k for k in CHECKPOINTS if f'"{k}"' in text], path.name


def test_a_claim_whose_checkpoints_were_not_given_is_left_out():
    bert, distil = (profiling.parameter_breakdown(CHECKPOINTS[k]) for k in ("bert-base-uncased",
                                                                             "distilbert-base-uncased"))
    assert [c.claim for c in profiling.claims_check({bert.key: bert, distil.key: distil})] == \
        ["DistilBERT is 40% smaller than BERT", "DistilBERT is 60% faster than BERT"]
    assert profiling.claims_check({distil.key: distil}) == []                          # no baseline, no claim


def test_each_module_says_what_it_owns_and_the_facade_reexports_it():
    for name in ("parameters", "flops", "timing", "cache", "claims"):
        module = getattr(profiling, name)
        assert module.__doc__ and name in profiling.__doc__
    assert profiling.measure is profiling.timing.measure and profiling.parameter_breakdown is \
        profiling.parameters.parameter_breakdown
    assert not hasattr(profiling, "CACHE_DIR")       # set profiling.cache.CACHE_DIR: a copy here would be ignored


# ---------------------------------------------------------------------------------------------------- the command
@pytest.mark.slow  # runs the benchmark command in a subprocess
def test_the_benchmark_command_writes_json_and_markdown(tiny_path, tmp_path):
    out = tmp_path / "results"
    command = [sys.executable, "-m", "bench.run", "--models", tiny_path("bert"), "--lengths", "8", "16",
               "--batches", "1", "--out", str(out), "--min-runs", "2", "--max-runs", "2", "--budget", "0",
               "--overhead-model", tiny_path("bert"), "--overhead-runs", "2", "--threads", "1"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "EXPLORER_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "bench-cpu.json").read_text())
    assert {"command", "environment", "measurements", "parameters", "claims", "overhead", "notes"} <= set(report)
    assert report["environment"]["threads"] == 1
    assert [(m["batch"], m["length"]) for m in report["measurements"]] == [(1, 8), (1, 16)]
    assert all("RANDOM" in m["weights"] and m["median_ms"] > 0 and m["runs"] == 2 for m in report["measurements"])
    keys = {p["key"] for p in report["parameters"]}
    assert set(profiling.default_keys()) <= keys and tiny_path("bert") in keys
    overhead = report["overhead"]
    assert overhead["handler"] == "components.tokens_view:tokenize_and_describe" and overhead["runs"] == 2
    assert overhead["overhead"] == pytest.approx(overhead["handler_median_ms"] / overhead["bare_median_ms"] - 1)
    table = (out / "bench-cpu.md").read_text()
    assert "| model | weights timed |" in table and "## Claims check" in table and "--lengths 8 16" in table
