"""Fill-mask and pretraining sections in the real app: named endpoints through gradio_client, and the BERT tab in a
headless Chromium (masks guessed, a random head called random, a clicked word masked, hostile text inert)."""
import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_named_endpoints_exist(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for family in ["bert", "roberta", "albert", "distilbert", "electra", "xlnet"]:
        assert f"/{family}_fill_mask" in endpoints and f"/{family}_logit_lens" in endpoints
    for name in ["bert_nsp", "albert_sop", "roberta_dynamic_masking", "distilbert_vs_teacher", "roberta_task",
                 "distilbert_task", "albert_task"]:
        assert f"/{name}" in endpoints, name


def test_endpoints_give_results_and_messages(client, tiny_path):
    badge, warning, filled, _, _ = client.predict(tiny_path("xlnet"), "Paris is the ___ of France.", 3,
                                                  api_name="/xlnet_fill_mask")
    assert "RANDOM weights" in badge and "perm_mask" in warning and 'class="fm-guess"' in filled
    _, table = client.predict(tiny_path("xlnet"), "Paris is the ___ of France.", 3, api_name="/xlnet_logit_lens")
    assert [row[1] for row in table["data"]] == ["embeddings", "layer 1", "layer 2"]
    _, grid = client.predict(tiny_path("roberta"), "A new mask every epoch, drawn again and again.", 3, 5,
                             api_name="/roberta_dynamic_masking")
    assert "RoBERTa, epoch 3" in grid and "15%" in grid
    masked = client.predict(tiny_path("bert"), "Paris is lovely.", 2, api_name="/bert_mask_word")
    assert masked == "Paris is [MASK]."  # word 2 of the tokenized text
    with pytest.raises(Exception, match="No mask") as error:
        client.predict(tiny_path("bert"), "Nothing hidden here.", 5, api_name="/bert_fill_mask")
    assert "Traceback" not in str(error.value)
    with pytest.raises(Exception, match="not available"):
        client.predict("roberta-sentiment", "I love it", api_name="/roberta_task")


def _section(page, family: str, tab: str, section: str):
    page.get_by_role("tab", name=tab).first.click()
    page.locator("button[role=tab]:visible", has_text=section).first.click()


def test_bert_fill_mask_in_the_browser(page, app_url):
    page.goto(app_url)
    _section(page, "bert", "BERT", "Fill-mask")
    box = page.locator("#bert-text textarea")
    assert "[MASK]" in box.input_value()  # a sensible example is there when the tab opens
    box.fill("The capital of France is [MASK], and <img src=x onerror=\"window.__xss=1\"> is ___ 🙂.")
    page.locator("#bert-fm-run").click()
    page.wait_for_selector("#bert-fm-filled .fm-guess", timeout=90_000)
    page.wait_for_function("(document.querySelector('#bert-fm-lens-table')?.innerText || '').includes('layer 1')",
                           timeout=90_000)
    expect(page.locator("#bert-fm-filled .fm-guess")).to_have_count(2, timeout=60_000)   # this text's two masks
    assert page.evaluate("window.__xss") is None
    # Offline the BERT tab opens on the bundled mini-BERT, whose mask head was trained: no warning about it.
    assert page.locator("#bert-model input").input_value().startswith("mini-bert")
    assert "NEWLY INITIALISED" not in page.locator("#bert-fm-warning").inner_text()
    expect(page.locator("#bert-fm-bars .js-plotly-plot")).to_have_count(1)
    expect(page.locator("#bert-fm-lens-plot .js-plotly-plot")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "fill_mask_bert.png"), full_page=True)
    # Click a word: it becomes a mask and the guesses are redone.
    page.locator("#bert-fm-words label", has_text="capital").first.click()
    page.wait_for_function("document.querySelector('#bert-text textarea').value.startsWith('The [MASK] of')",
                           timeout=30_000)
    page.wait_for_function("document.querySelectorAll('#bert-fm-filled .fm-guess').length === 3", timeout=60_000)
    # The real MiniLM has no mask head: loaded for fill-mask, its head is new, and the view must say so.
    model = page.locator("#bert-model input")
    model.fill("minilm-l6")
    model.press("Enter")
    page.locator("#bert-fm-run").click()
    expect(page.locator("#bert-fm-warning")).to_contain_text("NEWLY INITIALISED", timeout=90_000)
    assert not page.blocked, page.blocked
    assert not [e for e in page.console_errors if "favicon" not in e], page.console_errors


def test_roberta_dynamic_masking_in_the_browser(page, app_url, tiny_path):
    page.goto(app_url)
    page.get_by_role("tab", name="RoBERTa").first.click()
    model = page.locator("#roberta-model input")
    model.fill(tiny_path("roberta"))
    model.press("Enter")
    page.locator("button[role=tab]:visible", has_text="Pretraining task").first.click()
    page.locator("#roberta-pt-run").click()
    page.wait_for_selector("#roberta-pt-out table.dm-grid", timeout=60_000)
    expect(page.locator("#roberta-pt-out table.dm-grid tr")).to_have_count(6)  # original, BERT static, 4 epochs
    page.screenshot(path=str(ARTIFACTS / "pretraining_roberta.png"), full_page=True)
    assert not page.blocked, page.blocked


def test_words_to_click_are_offered_before_any_run(page, app_url):
    """Text without a mask used to show an error and no words: the words come with the text, no run needed."""
    page.goto(app_url)
    page.get_by_role("tab", name="BERT", exact=True).first.click()
    page.get_by_role("tab", name="Fill-mask").first.click()
    words = page.locator("#bert-fm-words label")
    words.first.wait_for(timeout=30_000)                       # the default text's words, nothing pressed
    box = page.locator("#bert-text textarea")
    box.fill("")
    box.press_sequentially("The cat sat down.")
    page.wait_for_function("[...document.querySelectorAll('#bert-fm-words label')].map(l => l.textContent.trim())"
                           ".join('|') === 'The|cat|sat|down|.'", timeout=30_000)
    words.filter(has_text="cat").first.click()                 # clicking masks it: the text changes
    page.wait_for_function("document.querySelector('#bert-text textarea').value === 'The [MASK] sat down.'",
                           timeout=60_000)
    assert not page.blocked, page.blocked


def test_results_from_an_older_text_are_marked_until_run_again(page, app_url):
    """Tokens are computed from the shared text; typing a new one (here, in another tab) marks them as from an earlier
    text until Tokenize runs again. Masking a word by clicking it runs the guesses on the new text: not stale."""
    page.goto(app_url)
    _section(page, "bert", "BERT", "Tokens")
    page.locator("#bert-tokens-run").click()
    tokens_panel = page.locator("#bert-tokens-run").locator("xpath=ancestor::*[@role='tabpanel'][1]")
    expect(tokens_panel.locator(".token-table, table").first).to_be_visible(timeout=60_000)
    note = tokens_panel.locator(".stale-note")
    expect(note).to_have_count(0)
    page.get_by_role("tab", name="Side by side").first.click()
    page.locator("#sbs-text textarea").fill("A different [MASK] about the river bank.")
    page.get_by_role("tab", name="BERT", exact=True).first.click()
    expect(note).to_contain_text("earlier text", timeout=10_000)
    expect(note).to_contain_text("Tokenize")
    page.screenshot(path=str(ARTIFACTS / "stale_tokens.png"), full_page=True)
    page.locator("#bert-tokens-run").click()
    expect(note).to_have_count(0, timeout=10_000)
    # fill-mask: a clicked word changes the text and runs on it, so the new guesses are not stale
    page.locator("button[role=tab]:visible", has_text="Fill-mask").first.click()
    page.locator("#bert-fm-run").click()
    page.wait_for_selector("#bert-fm-filled .fm-guess", timeout=90_000)
    page.locator("#bert-fm-words label").nth(1).click()
    page.wait_for_function("document.querySelectorAll('#bert-fm-filled .fm-guess').length === 2", timeout=60_000)
    fm_panel = page.locator("#bert-fm-run").locator("xpath=ancestor::*[@role='tabpanel'][1]")
    expect(fm_panel.locator(".stale-note")).to_have_count(0)
    page.locator("#bert-text textarea").fill("Nothing was [MASK] here.")
    expect(fm_panel.locator(".stale-note")).to_have_count(1, timeout=10_000)
