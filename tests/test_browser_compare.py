"""The Compare tab in a real headless Chromium (network off) and through gradio_client: the parameter table shows at
once from the bundled configs, and a tiny measurement runs, streams its tables and plots, and labels its weights."""
import re

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from model_zoo import facts, profiling
from model_zoo.registry import CHECKPOINTS
from tests.conftest import ARTIFACTS


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling.cache, "CACHE_DIR", tmp_path / "cache")  # the app runs in this process


def test_compare_endpoints_are_named_and_exact(app_url):
    client = Client(app_url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/compare_parameters", "/compare_measure", "/compare_stop", "/compare_cached"} <= set(endpoints)
    table, _ = client.predict(["bert-base-uncased", "albert-base-v2"], "", api_name="/compare_parameters")
    rows = {r[0]: r for r in table["data"]}
    exact = {key: f"{facts.facts(CHECKPOINTS[key]).parameters:,}" for key in rows}   # model_zoo's own count
    assert rows["bert-base-uncased"][3] == exact["bert-base-uncased"]
    assert rows["albert-base-v2"][3] == exact["albert-base-v2"] and "(shared layer)" in rows["albert-base-v2"][12]
    with pytest.raises(Exception, match="No model is ticked"):
        client.predict([], "", [8], [1], api_name="/compare_measure")
    with pytest.raises(Exception, match="neither a model of the registry"):
        client.predict([], "/no/such/folder", [8], [1], api_name="/compare_measure")


@pytest.mark.parametrize("endpoint,args,message", [
    ("/compare_parameters", (["<img src=x>"], ""), "neither a model of the registry"),  # not one of the boxes
    ("/compare_cached", (["nope/no-such"], ""), "not available|cannot|neither"),
    ("/compare_measure", (["mini-bert"], "", [8, 999], [1]), "Sequence lengths are chosen from"),
    ("/compare_measure", (["mini-bert"], "", [8], ["x"]), "Batch sizes are chosen from"),
])
def test_bad_input_to_a_compare_endpoint_is_a_message_and_no_traceback(app_url, capfd, caplog, endpoint, args,
                                                                       message):
    """Gradio's own check of a value outside a checkbox group's choices printed a traceback for each such call; the
    group now takes any value and the handler refuses it with a message."""
    client = Client(app_url, verbose=False)
    capfd.readouterr()
    with pytest.raises(Exception) as error:
        client.predict(*args, api_name=endpoint)
    printed = capfd.readouterr()
    assert "Traceback" not in printed.err + printed.out
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert re.search(message, str(error.value)), str(error.value)


def test_compare_tab_shows_parameters_and_measures_a_tiny_model(page, app_url, tiny_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Compare").first.click()
    params = page.locator("#compare-params")
    expect(params).to_contain_text("110,106,428", timeout=60_000)  # BERT-base, exact, offline
    for text in ["bert-base-uncased", "albert-base-v2", "xlnet-base-cased", "11,813,810", "89,780,402"]:
        expect(params).to_contain_text(text)
    page.locator("#compare-param-plot .js-plotly-plot").first.wait_for(timeout=30_000)
    claims = page.locator("#compare-claims tr.claim")
    expect(claims).to_have_count(5, timeout=30_000)
    expect(claims.filter(has_text="RoBERTa keeps BERT's architecture").locator(".verdict")).to_have_text("holds")
    expect(claims.filter(has_text="60% faster").locator(".verdict")).to_have_text("not measured")
    page.screenshot(path=str(ARTIFACTS / "compare_parameters.png"), full_page=True)

    # a tiny measurement: untick the defaults, add the tiny BERT and time it at 8 and 16 tokens only
    while page.locator("#compare-models input[type=checkbox]:checked").count():
        page.locator("#compare-models input[type=checkbox]:checked").first.click()
    custom = page.locator("#compare-custom textarea, #compare-custom input").first
    custom.fill(tiny_path("bert"))
    custom.press("Enter")
    for length in ["32", "128"]:
        page.locator("#compare-lengths label").filter(has_text=length).first.click()
    page.locator("#compare-lengths label").filter(has_text="16").first.click()
    page.locator("#compare-measure").click()
    results = page.locator("#compare-results")
    page.locator("#compare-status .weights-badge").wait_for(timeout=90_000)
    expect(results).to_contain_text("RANDOM")                   # a short label in the table, the sentence above it
    expect(page.locator("#compare-status")).to_contain_text("RANDOM weights (a test fixture): its outputs mean nothing")
    expect(page.locator("#compare-status")).to_contain_text("Weights timed: RANDOM weights")
    expect(page.locator("#compare-status")).to_contain_text("threads")
    expect(results).to_contain_text(re.compile(r"float32[\s\S]*float32"))  # two lengths, batch 1
    expect(results).to_contain_text("bert")
    expect(page.locator("#compare-latency .js-plotly-plot")).to_have_count(1)
    expect(page.locator("#compare-gflops .js-plotly-plot")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "compare_measured.png"), full_page=True)
    expect(page.locator("#compare-csv")).to_contain_text("compare-cpu")  # the CSV download
    assert (profiling.cache.CACHE_DIR / "compare-cpu.json").exists()  # the tab opens with it next time
    assert not page.blocked, page.blocked


def test_one_bad_id_among_good_ones_is_named_and_the_rest_run(app_url, tiny_path):
    client = Client(app_url, verbose=False)
    status, *_ = client.predict([], f"{tiny_path('bert')}, gpt2, ../../etc/passwd", [8], [1],
                                api_name="/compare_measure")
    assert "gpt2" in status and "../../etc/passwd" in status and status.count("Not measured") == 2
    rows = client.predict([], f"{tiny_path('bert')}, gpt2", api_name="/compare_cached")[1]["data"]
    assert status.count("weights-badge ok") + status.count("weights-badge warn") == 1    # the good one was measured
    assert len(rows) == 1 and rows[0][0] == "bert" and rows[0][4] == 8   # cached: it alone, at its one length

