"""The Embeddings tab in a real headless Chromium (network off): two models side by side, hover, neighbours, CSV,
and hostile text that must never run as HTML."""
from gradio_client import Client
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

XSS = '<img src=x onerror="window.__xss=1"> bank <script>window.__xss=2</script>'


def test_embeddings_tab_draws_two_models_and_neighbours(page, app_url, tiny_path):
    page.goto(app_url)
    page.get_by_role("tab", name="Embeddings").first.click()
    page.wait_for_selector("#emb-sentences textarea")
    # a second model: the tiny XLNet fixture, typed as a custom folder into the multi-model picker
    picker = page.locator("#emb-models input").first
    picker.fill(tiny_path("xlnet"))
    picker.press("Enter")
    page.locator("#emb-sentences textarea").fill(
        page.locator("#emb-sentences textarea").input_value() + "\n" + XSS)
    page.get_by_label("PCA").check()  # UMAP's first fit compiles for ~15 s of CPU; test_embeddings.py covers UMAP
    page.locator("#emb-run").click()
    page.wait_for_selector("#emb-plot .js-plotly-plot .scatterlayer .point", timeout=120_000)
    page.wait_for_selector("#emb-notes .weights-badge.bad", timeout=30_000)
    plot = page.locator("#emb-plot .js-plotly-plot").first
    picked = page.locator("#emb-models .token").count()  # the defaults (MiniLM, and a mini model when bundled) + ours
    assert picked >= 2
    expect(plot.locator(".cartesianlayer > .subplot")).to_have_count(picked)  # one panel per model
    titles = " ".join(plot.locator(".annotation-text").all_text_contents())
    assert "minilm-l6" in titles and "RANDOM weights" in titles
    assert page.locator("#emb-notes .weights-badge.ok").count() >= 1     # the real MiniLM is labelled as such
    assert page.locator("#emb-csv a, #emb-csv .file-preview").count() >= 1
    # hover a highlighted point: its token and sentence show, as text
    target = plot.locator(".scatterlayer .trace").nth(1).locator(".point").first
    target.hover(force=True)
    hover = page.locator("#emb-plot .hoverlayer .hovertext").first
    expect(hover).to_be_visible(timeout=10_000)
    shown = hover.text_content()
    assert "(word:" in shown and "#" in shown                            # the token, its word and its sentence
    page.screenshot(path=str(ARTIFACTS / "embeddings_map.png"), full_page=True)
    page.locator("#emb-find").click()
    neighbours = page.locator("#emb-neighbours")
    for shown in ("RANDOM", "minilm-l6", "bank"):
        expect(neighbours).to_contain_text(shown, timeout=60_000)
    page.locator("#emb-neighbours").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "embeddings_neighbours.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    assert not page.blocked, page.blocked


def test_embeddings_endpoints_through_the_client(app_url):
    client = Client(app_url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/embeddings_map" in endpoints and "/embeddings_neighbours" in endpoints
    rows = client.predict("A man plays the guitar.\nSomeone is playing a guitar.\nVolcanoes erupt.", ["minilm-l6"],
                          "sentences", -1, "mean of the tokens", "0", 2, api_name="/embeddings_neighbours")
    data = rows["data"]
    assert [r[1] for r in data] == [1, 2] and data[0][4].startswith("#2 ") and data[0][5] > data[1][5]
