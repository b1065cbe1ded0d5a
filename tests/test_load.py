"""A short load test: 8 simultaneous users on loopback for a few seconds; no errors, each model loaded once."""
import pytest

from bench.load_test import run_load
from model_zoo import loading


@pytest.mark.slow
def test_simultaneous_users_get_answers_and_models_load_once(app_url, tiny_path):
    loads_before = loading.cache().loads
    keys_before = set(loading.cache().keys())
    result = run_load(app_url, tiny_path, users=8, seconds=8)
    assert result["errors"] == 0, result["error_samples"]
    assert result["requests"] >= 8
    new_keys = set(loading.cache().keys()) - keys_before
    assert loading.cache().loads - loads_before == len(new_keys)  # never two loads of one model
