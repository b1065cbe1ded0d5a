"""The app shell in a real headless Chromium with the network off: tabs, tokens, escaping of hostile text."""
from playwright.sync_api import expect

from model_zoo.registry import FAMILIES
from tests.conftest import ARTIFACTS

XSS = "<img src=x onerror=\"window.__xss=1\"> <script>window.__xss=2</script> \"quotes' & ampersands"


def test_shell_tokenizes_and_never_runs_user_html(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="BERT").first.click()
    box = page.locator("#bert-text textarea")
    box.fill(XSS)
    page.get_by_role("button", name="Tokenize").first.click()
    page.locator(".tokens .tok", has_text="script").first.wait_for(timeout=60_000)   # this text's chips, not the last
    page.screenshot(path=str(ARTIFACTS / "shell_bert_tokens.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    chips = page.locator(".tokens .tok").all_inner_texts()
    assert any("<" in c for c in chips) and any("script" in c for c in chips)
    assert page.locator(".weights-badge.ok").count() >= 1  # offline default: real MiniLM weights, said so
    assert not page.blocked, page.blocked
    opened = {f.name: f"#{f.key}-text textarea" for f in FAMILIES.values() if f.key != "bert"}
    opened.update({"Embeddings": "#emb-sentences textarea", "Compare": "#compare-models"})
    for name, content in opened.items():                # each tab opens on its own content
        page.get_by_role("tab", name=name).first.click()
        expect(page.get_by_role("tab", name=name).first).to_have_attribute("aria-selected", "true")
        expect(page.locator(content).first).to_be_visible(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "shell_compare.png"))


def test_every_table_downloads_as_csv_and_formulas_stay_text(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="BERT").first.click()
    page.locator("#bert-text textarea").fill('=HYPERLINK("http://x") said, "hi" @once')
    page.get_by_role("button", name="Tokenize").first.click()
    page.locator(".tokens .tok", has_text="=").first.wait_for(timeout=60_000)        # this text's chips, not the last
    buttons = page.locator("button.csv-download:visible")
    assert buttons.count() == 2                                    # the tokens table and the facts table
    with page.expect_download(timeout=10_000) as download:
        buttons.first.click()
    assert download.value.suggested_filename == "bert-tokens.csv"
    text = open(download.value.path(), encoding="utf-8-sig").read()
    lines = text.splitlines()
    assert lines[0] == "#,token,reads as,id,special,continues word,segment"
    assert lines[1].startswith("0,[CLS],")
    assert "'=" in text and "\n1,=," not in text               # the formula is prefixed, so it stays text
    assert '""' in text or '"' not in text.replace('""', "")  # quotes doubled inside quoted cells
    import csv
    rows = list(csv.reader(lines))
    assert all(len(row) == 7 for row in rows) and len(rows) >= 10
    assert not page.blocked, page.blocked


def test_plots_offer_plotlys_png_download(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="Pretraining lab").first.click()           # the records load with the tab
    page.wait_for_selector("#lab-curves .js-plotly-plot", timeout=60_000)
    page.locator("#lab-curves .js-plotly-plot").hover()
    button = page.locator('#lab-curves .modebar-btn[data-title="Download plot as a PNG"]')
    assert button.count() == 1
    with page.expect_download(timeout=15_000) as download:
        button.click()
    assert download.value.suggested_filename.endswith(".png")
    with open(download.value.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not page.blocked, page.blocked


def test_roberta_reads_a_mask_marker_as_its_own_mask_token(page, app_url):
    """RoBERTa's Tokens view cut "[MASK]" into "[ M A S K ]"; every view now gives it RoBERTa's <mask>."""
    page.goto(app_url)
    page.get_by_role("tab", name="RoBERTa").first.click()
    page.locator("#roberta-text textarea").fill("The cat sat on the [MASK] today.")
    page.locator("#roberta-tokens-run").click()
    page.locator("#roberta-text").locator("xpath=ancestor::div[@role='tabpanel']").first.locator(
        ".tokens .tok", has_text="today").first.wait_for(timeout=60_000)
    chips = " ".join(page.locator("[role=tabpanel]:visible .tokens .tok").all_inner_texts())
    assert "<mask>" in chips and "MASK" not in chips, chips      # one <mask> chip, not the marker's characters
