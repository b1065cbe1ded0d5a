"""The Attention section in a real headless Chromium with the network off: bertviz's head and model views render in
their iframe from the app's own JavaScript, the plotly maps render, hostile text stays text, nothing leaves the host."""
import pytest

from tests.conftest import ARTIFACTS

XSS = "<img src=x onerror=window.__xss=1> <script>window.__xss=2</script> \"quotes' & more"

pytestmark = pytest.mark.slow


def _open_attention(page, app_url, family: str, tab: str):
    page.goto(app_url)
    page.get_by_role("tab", name=tab, exact=True).first.click()
    page.locator(f"#{family}-text textarea").wait_for()


def _texts(frame, selector: str) -> list[str]:
    return frame.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")


def _run(page, family: str):
    page.locator(f"#{family}-attention-run").click()
    page.locator(f"#{family}-bertviz iframe").wait_for(timeout=60_000)
    frame = page.locator(f"#{family}-bertviz iframe").element_handle().content_frame()
    frame.wait_for_selector("#bv-head #vis svg line", state="attached", timeout=30_000)
    return frame


def test_bertviz_and_plotly_views_render_offline_and_never_run_user_html(page, app_url):
    _open_attention(page, app_url, "bert", "BERT")
    model = page.locator("#bert-model input")  # the real MiniLM (12 heads, 6 layers), whatever the default is
    model.fill("minilm-l6")
    model.press("Enter")
    page.locator("#bert-text textarea").fill(XSS)
    page.locator("#bert-pair textarea").fill("It was <b>cold</b> outside.")
    page.get_by_role("tab", name="Attention").first.click()
    frame = _run(page, "bert")

    # head view: token texts and one line per (head, token, token) of the first layer
    texts = _texts(frame, "#bv-head #vis text")
    assert "[CLS]" in texts and "[SEP]" in texts and "<" in texts  # the tag's pieces, drawn as text
    assert "onerror" in "".join(texts) and "script" in "".join(texts)
    n = len(_texts(frame, "#bv-head #left text"))
    assert frame.locator("#bv-head #attention line").count() == 12 * n * n  # MiniLM: 12 heads
    frame.locator("#bv-head #filter").select_option("1")  # sentence A -> sentence A
    frame.wait_for_function(f"document.querySelectorAll('#bv-head #left text').length < {n}", timeout=30_000)
    frame.locator("#bv-head #filter").select_option("0")
    page.wait_for_timeout(300)
    page.locator("#bert-bertviz").screenshot(path=str(ARTIFACTS / "attention_head_view.png"))
    # the frame fits its views (it used to keep a fixed 760 px, ~350 px of them blank)
    # (the body's extent: the document's own scrollHeight is never below the frame's height, so it cannot tell)
    for _ in range(100):   # the views may still be growing: compare with the content's height as it is now
        content = frame.evaluate("document.body.getBoundingClientRect().bottom")
        height = page.evaluate("document.querySelector('#bert-bertviz iframe').getBoundingClientRect().height")
        if abs(height - content) <= 40:
            break
        page.wait_for_timeout(100)
    assert 0 <= height - content <= 40, (height, content)

    # model view: drawn on request, one thumbnail per head of every layer
    frame.locator("#show-model").click()
    frame.wait_for_selector("#bv-model #vis svg line", state="attached", timeout=30_000)
    drawn_layers = min(6, 100_000 // (12 * n * n))  # MiniLM: 6 layers x 12 heads, within the line budget
    assert frame.locator("#bv-model .attn_background").count() == drawn_layers * 12
    page.locator("#bert-bertviz").screenshot(path=str(ARTIFACTS / "attention_model_view.png"))

    # plotly: heatmap, statistics, rollout
    for plot in ("heatmap", "stats", "rollout"):
        page.locator(f"#bert-attention-{plot} .main-svg").first.wait_for(timeout=30_000)
    heat_text = page.locator("#bert-attention-heatmap").text_content()
    assert "1 · <" in heat_text and "window" in heat_text and "&lt;" not in heat_text  # the token, as text
    page.locator("#bert-attention-heatmap").screenshot(path=str(ARTIFACTS / "attention_heatmap.png"))
    page.locator("#bert-attention-stats").screenshot(path=str(ARTIFACTS / "attention_stats.png"))
    page.locator("#bert-bertviz").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # Chromium throttles off-screen cross-origin frames: let it paint again
    page.screenshot(path=str(ARTIFACTS / "attention_bert_page.png"))

    assert page.evaluate("window.__xss") is None
    assert frame.evaluate("window.__xss") is None
    assert page.locator("#bert-attention-note").inner_text().count("KB") == 1
    assert page.blocked == [], page.blocked
    assert page.console_errors == [], page.console_errors


def test_xlnet_shows_trailing_specials_where_they_are_and_both_streams(page, app_url, tiny_path):
    _open_attention(page, app_url, "xlnet", "XLNet")
    model = page.locator("#xlnet-model input")
    model.fill(tiny_path("xlnet"))
    model.press("Enter")
    page.locator("#xlnet-text textarea").fill("Paris is a lovely city.")
    page.locator("#xlnet-pair textarea").fill("")
    page.get_by_role("tab", name="Attention").last.click()
    frame = _run(page, "xlnet")
    left = _texts(frame, "#bv-head #left text")
    assert left[-2:] == ["<sep>", "<cls>"] and left[0] != "<cls>"
    assert "RANDOM" in page.locator("#xlnet-attention-note").inner_text()
    page.get_by_label("query").check()
    page.wait_for_function("() => (document.querySelector('#xlnet-attention-note') || {}).innerText"
                           "?.includes('Query stream')", timeout=60_000)
    frame = page.locator("#xlnet-bertviz iframe").element_handle().content_frame()
    frame.wait_for_selector("#bv-head #vis svg line", state="attached", timeout=30_000)
    query_rows = _texts(frame, "#bv-head #left text")
    assert len(query_rows) < len(left) and "<cls>" not in query_rows  # only the predicted positions attend
    page.screenshot(path=str(ARTIFACTS / "attention_xlnet_query.png"), full_page=True)
    assert page.blocked == [], page.blocked
    assert page.console_errors == [], page.console_errors


def test_the_standalone_download_renders_with_no_server_and_no_network(page, tiny_path, tmp_path):
    from components.attention_view import download_views
    from model_zoo import attention as attn
    from model_zoo import loading
    loaded = loading.load(tiny_path("bert"))
    result = attn.compute(loaded, "A <b>bold</b> <img src=x onerror=window.__xss=1> test.", None)
    path = download_views((result, "content"), "")
    document = open(path, encoding="utf-8").read()
    assert "gradio_api/file=" not in document and "cdnjs" not in document and "<script src=" not in document
    page.goto(f"file://{path}")
    page.wait_for_selector("#bv-head #vis svg line", state="attached", timeout=30_000)
    n = len(result.labels)
    assert page.locator("#bv-head #attention line").count() == result.n_heads * n * n
    page.click("#show-model")
    page.wait_for_selector("#bv-model #vis svg", state="attached", timeout=30_000)
    assert page.evaluate("window.__xss") is None
    assert page.blocked == [] and page.console_errors == [], (page.blocked, page.console_errors)
    page.screenshot(path=str(ARTIFACTS / "attention_standalone.png"))
