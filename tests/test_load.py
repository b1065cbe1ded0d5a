"""A short load test: simultaneous users on loopback for a few seconds; no errors, each model loaded once; a slow
custom-checkpoint load in flight keeps no one else waiting; two users' Compare runs stay separate (#17.2)."""
import pytest

from model_zoo import loading
from testkit.load import compare_runs_separate, run_load, run_with_slow_load


@pytest.mark.slow
def test_simultaneous_users_get_answers_and_models_load_once(app_url, tiny_path):
    # From an empty cache: tests run before this one in the same process may have filled the LRU (8 models), and a
    # model evicted during the run and loaded again is a second load that no race caused (seen with pytest-xdist).
    loading.cache().clear()
    result = run_load(app_url, tiny_path, users=8, seconds=8)
    assert result["errors"] == 0, result["error_samples"]
    assert result["requests"] >= 8
    loaded = loading.cache().keys()
    assert 2 <= len(loaded) < loading.Settings().max_models               # every model fits: nothing was evicted
    assert loading.cache().loads == len(loaded)                          # never two loads of one model


@pytest.mark.slow
def test_a_slow_custom_load_in_flight_keeps_no_one_else_waiting(app_url, tiny_path, tmp_path):
    result = run_with_slow_load(app_url, tiny_path, users=3, seconds=3, workdir=tmp_path)
    loaded = result["with_slow_load"]
    assert result["without_slow_load"]["errors"] == 0 and loaded["errors"] == 0, loaded["error_samples"]
    assert loaded["requests"] >= 3 and len(loaded["fresh_load_s"]) == 3  # every user loaded its own model...
    assert result["slow_load_in_flight_throughout"]                      # ...while the slow one was still held
    assert result["slow_load_error"] is None                             # and it loads once released


@pytest.mark.slow
def test_two_users_compare_runs_stay_separate(app_url, tiny_path):
    result = compare_runs_separate(app_url, tiny_path)
    assert not result["a_stopped"] and result["a_measured"] == result["sizes"]   # B's Stop never reached A's run
    assert not result["b_stopped"] and result["b_measured"] == result["sizes"]   # nor B's run queued behind it
    assert result["csv_files_distinct"] and result["b_stops_its_own_run"]
