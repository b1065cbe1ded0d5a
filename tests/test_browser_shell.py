"""The app shell in a real headless Chromium with the network off: tabs, tokens, escaping of hostile text."""
from tests.conftest import ARTIFACTS

XSS = "<img src=x onerror=\"window.__xss=1\"> <script>window.__xss=2</script> \"quotes' & ampersands"


def test_shell_tokenizes_and_never_runs_user_html(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="BERT").first.click()
    box = page.locator("#bert-text textarea")
    box.fill(XSS)
    page.get_by_role("button", name="Tokenize").first.click()
    page.wait_for_selector("#bert-text ~ * .tok, .tokens .tok", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "shell_bert_tokens.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    chips = page.locator(".tokens .tok").all_inner_texts()
    assert any("<" in c for c in chips) and any("script" in c for c in chips)
    assert page.locator(".weights-badge.ok").count() >= 1  # offline default: real MiniLM weights, said so
    assert not page.blocked, page.blocked
    for family in ["RoBERTa", "ALBERT", "DistilBERT", "ELECTRA", "XLNet", "Embeddings", "Compare"]:
        page.get_by_role("tab", name=family).first.click()
    page.screenshot(path=str(ARTIFACTS / "shell_compare.png"))
