"""The ELECTRA and XLNet sections end to end: named endpoints through gradio_client, then both sections in a real
headless Chromium with the network off (hostile text stays text; screenshots to look at in tests/artifacts/)."""
import re

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

XSS = "<img src=x onerror=window.__xss=1> chef"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_named_endpoints_answer_with_real_results(client, tiny_path):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in ("electra_replace_and_detect", "electra_edit_mode", "xlnet_permutation", "xlnet_score_orders",
                 "xlnet_memory"):
        assert f"/{name}" in endpoints
    gen, disc = tiny_path("electra-generator"), tiny_path("electra-discriminator")
    badge, corrupted, heat, metrics, replacements, signal = client.predict(
        gen, disc, XSS + " cooked a meal for the guests.", 30, 3, 1.0, "", api_name="/electra_replace_and_detect")
    assert badge.count("RANDOM weights") == 2
    assert "<img" not in corrupted + heat + signal
    assert "&lt;" in signal and ">window<" in signal  # the hostile text shown as tokens (originals row)
    n_chips = len(re.findall(r'class="[^"]*\brtd-heat\b', heat))  # one chip per token, [CLS] and [SEP] included
    assert n_chips == signal.count("<span") // 2 and n_chips >= len(replacements["data"]) + 2
    assert "learns from" in signal and "(100%)" in signal
    assert dict(map(tuple, metrics["data"]))["tokens scored (non-special)"].isdigit()
    _, edit_heat, _ = client.predict(disc, "The chef cooked.", "The chef burned.", api_name="/electra_edit_mode")
    assert edit_heat.count("✱<sub") == 1  # one token changed, outlined
    with pytest.raises(Exception, match="not an ELECTRA discriminator"):
        client.predict(gen, gen, "The chef cooked.", 15, 0, 1.0, "", api_name="/electra_replace_and_detect")

    xlnet = tiny_path("xlnet")
    badge, order_html, plot, predictions = client.predict(xlnet, "the cat sat on the mat", "typed", 0,
                                                          "8 7 6 5 4 3 2 1", "1 8", api_name="/xlnet_permutation")
    assert "RANDOM weights" in badge and len(predictions["data"]) == 2
    step, may_see = (predictions["headers"].index(h) for h in ("step in order", "may see"))
    assert predictions["data"][0][step] == "8 of 8" and predictions["data"][1][may_see] == "(only the special tokens)"
    _, table, _ = client.predict(xlnet, "the cat sat on the mat", 2, 0, "", api_name="/xlnet_score_orders")
    assert [row[0] for row in table["data"]] == ["left-to-right", "right-to-left", "random (seed 0)",
                                                 "random (seed 1)"]
    _, memory_table, _ = client.predict(xlnet, "the cat sat on the mat " * 4, 8, api_name="/xlnet_memory")
    assert memory_table["data"][0][2] == memory_table["data"][0][3]  # first segment: nothing to remember
    with pytest.raises(Exception, match="permutation of 1..8"):
        client.predict(xlnet, "the cat sat on the mat", "typed", 0, "1 2 2", "1", api_name="/xlnet_permutation")


def _pick_model(page, element_id: str, folder: str):
    box = page.locator(f"#{element_id} input")
    box.fill(folder)
    box.press("Enter")


def test_electra_section_in_the_browser(page, app_url, tiny_path):
    page.goto(app_url)
    page.get_by_role("tab", name="ELECTRA", exact=True).first.click()
    page.locator("#electra-text textarea").wait_for()
    _pick_model(page, "electra-model", tiny_path("electra-discriminator"))
    page.get_by_role("tab", name="ELECTRA: replaced-token detection").click()
    _pick_model(page, "electra-generator", tiny_path("electra-generator"))
    expect(page.locator("#electra-discriminator input")).to_have_value(tiny_path("electra-discriminator"))
    page.locator("#electra-text textarea").fill(XSS + " cooked a delicious meal for the guests.")
    page.locator("#electra-run").click()
    page.locator("#electra-heat .rtd-heat").first.wait_for(timeout=60_000)
    assert page.locator("#electra-signal .rtd-signal-row").count() == 2
    page.locator("#electra-run-edit").click()
    page.locator("#electra-edit-heat .rtd-heat").first.wait_for(timeout=60_000)
    assert "✱" in page.locator("#electra-edit-heat").inner_text()
    assert "<" in page.locator("#electra-heat").inner_text()  # shown as text
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=str(ARTIFACTS / "electra_rtd.png"), full_page=True)
    assert page.blocked == [], page.blocked
    assert page.console_errors == [], page.console_errors


def test_xlnet_section_in_the_browser(page, app_url, tiny_path):
    page.goto(app_url)
    page.get_by_role("tab", name="XLNet", exact=True).first.click()
    page.locator("#xlnet-text textarea").wait_for()
    _pick_model(page, "xlnet-model", tiny_path("xlnet"))
    page.locator("#xlnet-text textarea").fill("the cat sat on the mat")
    page.get_by_role("tab", name="XLNet: permutation orders").click()
    page.locator("#xlnet-run").click()
    page.locator("#xlnet-mask .main-svg").first.wait_for(timeout=60_000)
    assert page.locator("#xlnet-order").inner_text().count("→") == 7  # 8 tokens, 7 arrows
    page.locator("#xlnet-score").click()
    page.locator("#xlnet-score-plot .main-svg").first.wait_for(timeout=60_000)
    page.locator("#xlnet-memory").click()
    page.locator("#xlnet-memory-plot .main-svg").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "xlnet_permutation.png"), full_page=True)
    page.locator("#xlnet-typed-order textarea, #xlnet-typed-order input").first.fill("1 2 3")
    page.get_by_role("radio", name="typed").check()
    page.locator("#xlnet-run").click()
    page.get_by_text("must be a permutation of 1..8").first.wait_for(timeout=30_000)
    assert page.blocked == [], page.blocked
