"""The Side by side tab in headless Chromium (network off) and through gradio_client: every family answers one text,
a bad model stays in its column, hostile text stays text, the text is shared with every tab, a link re-runs it."""
import re
from urllib.parse import quote

from gradio_client import Client
from playwright.sync_api import expect

from model_zoo import side_by_side as sbs
from tests.conftest import ARTIFACTS

DONE = "() => /(\\d+) of \\1 models done/.test((document.querySelector('#sbs-progress') || {}).textContent || '')"
FAMILIES = ["BERT", "RoBERTa", "ALBERT", "DistilBERT", "ELECTRA", "XLNet"]


def _compare(page, text: str, timeout: int = 180_000) -> None:
    """Type, press Compare, wait until every model answered THIS text (its words head the rows)."""
    import json
    page.locator("#sbs-text textarea").fill(text)
    page.locator("#sbs-run").click()
    words = json.dumps([w.text for w in sbs.split_words(text)])
    page.wait_for_function(f"() => ({DONE})() && JSON.stringify([...document.querySelectorAll('.sbs-wordhead')]"
                           f".map(e => e.textContent.replace(' ⚡', ''))) === JSON.stringify({words})",
                           timeout=timeout)


def test_one_sentence_every_family_guesses_side_by_side(page, app_url):
    page.goto(app_url)
    _compare(page, "The doctor told the [MASK] that she was late.")
    headers = page.locator(".sbs-grid thead .sbs-family").all_inner_texts()
    assert all(family in headers for family in FAMILIES)
    guess_lists = page.locator(".sbs-grid .sbs-guesses")
    assert guess_lists.count() == 6                             # six families guess; MiniLM says why it cannot
    assert "no masked-LM head" in page.locator(".sbs-grid").inner_text()
    assert "guessed by mini-electra-generator" in page.locator(".sbs-grid").inner_text()
    cost = page.locator(".sbs-grid .sbs-cost span").first                      # a time, said not to be a benchmark
    assert "ms for this view" in cost.inner_text() and "not a speed comparison" in cost.get_attribute("title")
    assert page.locator("#sbs-attention .js-plotly-plot").count() == 1
    page.screenshot(path=str(ARTIFACTS / "side_by_side_guesses.png"), full_page=True)
    _compare(page, "The doctor told the nurse that she was late.")
    heat = page.locator(".sbs-grid td.sbs-heat")
    assert heat.count() >= 6 * 10                              # ten words coloured for each model that scores them
    page.screenshot(path=str(ARTIFACTS / "side_by_side_surprise.png"), full_page=True)
    assert not page.blocked, page.blocked


def test_hostile_text_and_a_bad_model_stay_in_their_place(page, app_url):
    page.goto(app_url)
    page.evaluate("window.__xss = undefined")
    models = page.locator("#sbs-models input")
    for bad in ["no-such-org/no-such-model", "<img src=x onerror=window.__xss=3>"]:
        models.fill(bad)
        models.press("Enter")
    hostile = "<img src=x onerror=\"window.__xss=1\"> <b>bold</b> [MASK] </script><script>window.__xss=2</script>"
    _compare(page, hostile)
    grid = page.locator(".sbs-grid")
    text = grid.inner_text()
    # _compare checked that the row heads are the text's words, character for character; the bad id shows as typed
    assert "<img src=x onerror=window.__xss=3>" in text and "</script>" not in text.replace("script", "")
    assert grid.locator("img, script, b").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.locator(".sbs-grid thead .weights-badge.bad").count() == 2   # the two bad ids, each in its column
    assert page.locator(".sbs-grid .sbs-guesses").count() == 6              # the six families still answered
    assert "could not run" in page.locator("#sbs-progress").inner_text()
    page.screenshot(path=str(ARTIFACTS / "side_by_side_hostile.png"), full_page=True)
    assert not page.blocked, page.blocked


def _type(page, selector: str, text: str) -> None:
    """End with a keystroke as a person does (gradio's input event, which fill() alone does not fire)."""
    box = page.locator(selector)
    box.fill(text[:-1])
    box.press_sequentially(text[-1])


def _value_is(page, selector: str, value: str) -> None:
    page.wait_for_function(f"(document.querySelector({selector!r}) || {{}}).value === {value!r}", timeout=30_000)


def test_the_text_typed_here_reaches_every_tab(page, app_url):
    page.goto(app_url)
    typed = "Shared across every tab, with a [MASK] in it."
    _type(page, "#sbs-text textarea", typed)
    for key, name in zip(["bert", "roberta", "albert", "distilbert", "electra", "xlnet"], FAMILIES):
        page.get_by_role("tab", name=name, exact=True).first.click()
        _value_is(page, f"#{key}-text textarea", typed)
    page.get_by_role("tab", name="RoBERTa", exact=True).first.click()
    back = "Typed in RoBERTa's tab, no mask."
    _type(page, "#roberta-text textarea", back)
    page.get_by_role("tab", name="Side by side").first.click()
    _value_is(page, "#sbs-text textarea", back)
    page.get_by_role("tab", name="BERT", exact=True).first.click()
    _value_is(page, "#bert-text textarea", back)
    for section in ("Fill-mask", "Why did it guess that?", "Attention", "Pretraining task"):
        page.get_by_role("tab", name=section).first.click()   # one text box a tab: no section has its own
        boxes = page.locator("[role=tabpanel]:has(#bert-text) textarea:visible")
        ids = boxes.evaluate_all("(all) => all.map(b => b.closest('[id]').id)")
        assert ids[:2] == ["bert-text", "bert-pair"] and not [i for i in ids[2:] if "text" in i], (section, ids)
    masked = "Typed in BERT's tab: one [MASK] for every section."
    _type(page, "#bert-text textarea", masked)
    page.get_by_role("tab", name="Fill-mask").first.click()
    page.locator("#bert-text textarea").press("Enter")          # Enter runs the section on show
    expect(page.locator("#bert-fm-filled")).to_contain_text("Typed in BERT", timeout=120_000)


def test_a_link_reopens_and_reruns_the_comparison(page, app_url):
    text = "A link to [MASK] comparison."
    page.goto(f"{app_url}?tab=side-by-side&text={quote(text)}&models=mini-bert,mini-xlnet&k=3&run=1")
    page.wait_for_function(DONE, timeout=120_000)
    assert page.locator("#sbs-text textarea").input_value() == text
    assert page.locator(".sbs-grid thead .sbs-key").all_inner_texts() == ["mini-bert", "mini-xlnet"]
    first = page.locator(".sbs-grid .sbs-guesses").first.locator("li")
    assert first.count() == 3


def test_api_returns_plain_json_equal_to_the_model_zoo(app_url):
    client = Client(app_url, verbose=False)
    text = "Paris is the capital of [MASK]."
    found = client.predict(text, "", "mini-bert, mini-albert, no-such/model", 3, api_name="/side_by_side")
    assert [m["model"] for m in found["models"]] == ["mini-bert", "mini-albert", ""]
    assert "error" in found["models"][2]
    direct = sbs.side_by_side(["mini-bert"], text, k=3).columns[0]
    assert found["models"][0]["guesses"]["masks"][0]["guesses"] == direct.guesses[0].readable
    assert found["words"] == ["Paris", "is", "the", "capital", "of", "[MASK]", "."]
    assert len(found["models"][0]["attention"]["words"]) == 7


def test_a_long_paragraph_is_read_by_every_model_up_to_its_own_maximum(page, app_url):
    sentence = ("The old harbour town woke slowly under a grey sky, and the fishermen carried their nets down to "
                "the boats while the bakers opened their shutters. ")
    page.goto(app_url)
    _compare(page, "She opened the [MASK] and walked in. " + sentence * 14)       # ~330 words
    status = page.locator("#sbs-progress").inner_text()
    done = re.search(r"(\d+) of (\d+) models done, (\d+) answered", status)
    assert done and done[1] == done[2] == done[3], status                      # every model answered
    assert page.locator(".sbs-grid thead .weights-badge.bad").count() == 0
    assert page.locator(".sbs-grid .sbs-guesses").count() == 6                 # the mask is within every model's read
    assert "reads at most" in page.locator(".sbs-grid thead").inner_text()     # and the cut is said
