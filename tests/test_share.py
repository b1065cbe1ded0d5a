"""Share links: a link reproduces the tab, model and text; hostile text stays text."""
from urllib.parse import parse_qs, quote, urlparse

from gradio_client import Client

from tests.conftest import ARTIFACTS


def test_link_carries_the_view(app_url, tiny_path):
    client = Client(app_url, verbose=False)
    link = client.predict(tiny_path("xlnet"), "Hello <b>world</b>", "", api_name="/xlnet_share_link")
    query = parse_qs(urlparse(link).query)
    assert query["tab"] == ["xlnet"] and query["model"] == [tiny_path("xlnet")]
    assert query["text"] == ["Hello <b>world</b>"]
    assert link.startswith("http://127.0.0.1")


def test_opening_a_link_selects_the_tab_and_fills_the_inputs(page, app_url):
    hostile = "<img src=x onerror=window.__xss=1> shared text"
    page.goto(f"{app_url}?tab=albert&model=albert-base-v2&text={quote(hostile)}")
    box = page.locator("#albert-text textarea")
    box.wait_for(state="visible", timeout=30_000)
    page.wait_for_function("document.querySelector('#albert-text textarea').value.includes('shared text')",
                           timeout=30_000)
    assert box.input_value() == hostile
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=str(ARTIFACTS / "share_link_albert.png"))
