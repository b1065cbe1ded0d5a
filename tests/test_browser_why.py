""""Why did it guess that?" in headless Chromium (network off): a family tab colours the user's words by three methods
with the numbers of model_zoo.attribution on hover, takes another candidate, says why when there is no mask and
reopens from a link; the side-by-side grid has a why row per model and MiniLM's cell says why it has none."""
from urllib.parse import quote

from playwright.sync_api import expect

from model_zoo import attribution as at
from model_zoo import loading
from model_zoo.text import words
from tests.conftest import ARTIFACTS

TEXT = "She opened the [MASK] and walked into the room."


def _explain(page, target: str) -> None:
    page.locator("#bert-why-run").click()
    page.wait_for_function(f"() => (document.querySelector('#bert-why-view .why-target') || {{}}).textContent"
                           f"?.includes({target!r})", timeout=120_000)


def test_a_family_tab_explains_a_guess_and_side_by_side_has_a_why_row(page, app_url):
    page.goto(app_url)
    page.locator("button[role=tab][data-tab-id='bert']").click()
    page.locator("button[role=tab][data-tab-id='why'] >> visible=true").first.click()
    page.locator("#bert-text textarea").fill(TEXT)                          # the tab's text: every section's
    direct = at.explain_guess(loading.load("mini-bert"), TEXT, steps=64)      # the tab's default model, offline
    _explain(page, direct.target)
    rows = page.locator("#bert-why-view .why-rows tr")
    expect(rows).to_have_count(3)
    n_words = len(words(TEXT))
    for r in range(3):
        expect(rows.nth(r).locator(".why-word")).to_have_count(n_words)
    titles = rows.nth(0).locator(".why-word").evaluate_all("(cells) => cells.map(c => c.title)")
    assert titles == [f"{s:+.4g}" for s in direct.word_scores["ig"]]         # integrated gradients on hover
    assert "Completeness" in page.locator("#bert-why-view").inner_text()
    page.locator("#bert-why-view").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "why_family_tab.png"))

    page.locator("#bert-why-candidate input").fill("door")                   # another candidate, typed
    _explain(page, "log P(door) at mask 1")
    page.locator("#bert-text textarea").fill("No mask here.")
    page.locator("#bert-why-run").click()
    expect(page.locator("#bert-why-run + .action-error")).to_contain_text("No mask", timeout=60_000)

    page.goto(f"{app_url}?tab=roberta&section=why&text={quote(TEXT)}&why.steps=16&run=1")   # a shared link
    page.wait_for_function("() => /at 16 steps/.test((document.querySelector('#roberta-why-view .why-gap') || {})"
                           ".textContent || '')", timeout=120_000)
    assert page.locator("#roberta-text textarea").input_value() == TEXT

    page.goto(f"{app_url}?tab=side-by-side&text={quote(TEXT)}&models=mini-bert,mini-xlnet,minilm-l6&run=1")
    page.wait_for_function("() => document.querySelectorAll('.sbs-why-row').length === 2 && !document.querySelector("
                           "'.sbs-grid').innerText.includes('explaining')", timeout=120_000)
    why = page.locator(".sbs-grid tr:has(> th:text-is('why'))")
    expect(why.locator("td").nth(2)).to_contain_text("no masked-LM head", timeout=120_000)   # MiniLM's cell
    expect(why.locator("td").first.locator(".why-word")).to_have_count(n_words)
    page.screenshot(path=str(ARTIFACTS / "why_side_by_side.png"), full_page=True)
    assert not page.blocked, page.blocked
