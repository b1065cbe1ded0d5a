"""Switching heads off in the real app: a shared link opens the Heads tab and scans every head of several models side
by side in headless Chromium (a model that cannot guess says so in its row), the attention view's heads can be ticked off and reset, and
two gradio_client users ablating different heads at once each get their own guesses."""
import re
import threading
from urllib.parse import quote

import pytest
from gradio_client import Client

from components import attention_view
from model_zoo import head_ablation as ha
from model_zoo import loading
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.slow
HOSTILE = "<img src=x onerror=window.__xss=1> She opened the [MASK] and walked in."


def test_heads_tab_scans_and_the_attention_view_switches_heads_off(page, app_url):
    page.goto(f"{app_url}?tab=heads&text={quote(HOSTILE)}&models={quote('mini-bert, mini-xlnet, minilm-l6')}&run=1")
    page.evaluate("window.__xss = undefined")                           # a shared link fills the tab and runs it
    page.wait_for_function("(document.querySelector('#heads-status') || {}).textContent?.includes('3 of 3 models "
                           "done')", timeout=180_000)
    summary = page.locator("#heads-summary").inner_text()
    assert "cannot guess a hidden word" in summary                      # MiniLM has no mask head: its row says so
    assert page.locator("#heads-plot .js-plotly-plot .heatmaplayer").count() == 4   # 2 models x (drop | estimate)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#heads-status img, #heads-plot img, #heads-summary img").count() == 0   # text stayed text
    page.screenshot(path=str(ARTIFACTS / "heads_tab.png"), full_page=True)

    page.get_by_role("tab", name="BERT", exact=True).first.click()
    page.get_by_role("tab", name="Attention").first.click()
    page.locator("#bert-heads-grid input[name='L0 H1']").check()
    page.locator("#bert-heads-layers input[name='L1']").check()
    page.locator("#bert-heads-run").click()
    result = page.locator("#bert-heads-result")
    result.locator("table.heads-table").first.wait_for(timeout=120_000)
    assert "Switched off: L0 H1, L1 (all heads)" in result.inner_text()
    assert result.locator("td.heads-up, td.heads-down, td.heads-same").count() == 5   # mini-BERT's one mask, k = 5
    result.screenshot(path=str(ARTIFACTS / "heads_off_attention_view.png"))
    page.locator("#bert-heads-reset").click()
    page.wait_for_function("!document.querySelector('#bert-heads-result table') && "
                           "!document.querySelector('#bert-heads-grid input:checked')", timeout=30_000)
    assert not page.blocked, page.blocked


def test_a_click_on_a_head_ticks_it_and_a_link_switches_heads_off(page, app_url):
    page.goto(f"{app_url}?tab=bert&section=attention&run=1")
    stats = page.locator("#bert-attention-stats .js-plotly-plot[data-head-clicks]")
    stats.wait_for(timeout=120_000)
    stats.scroll_into_view_if_needed()
    # the centre of layer 0, head 1 in the first panel, read from the plot's own axes
    x, y = page.evaluate("""() => {
        const gd = document.querySelector('#bert-attention-stats .js-plotly-plot'), box = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [box.left + xa._offset + xa.l2p(1), box.top + ya._offset + ya.l2p(0)]; }""")
    box = "document.querySelector(\"#bert-heads-grid input[name='L0 H1']\").checked"
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function(box, timeout=10_000)
    assert page.locator("#bert-heads-grid input:checked").count() == 1
    page.mouse.click(x, y)                                              # a second click unticks it
    page.wait_for_function(f"!{box}", timeout=10_000)

    page.goto(f"{app_url}?tab=bert&section=attention&attention.heads={quote('L0 H1,L1 H0')}&run=1")
    result = page.locator("#bert-heads-result")                        # the link presses "Guess with these heads off"
    result.locator("table.heads-table").first.wait_for(timeout=120_000)
    assert "Switched off: L0 H1, L1 H0" in result.inner_text()
    assert not page.blocked, page.blocked


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


def test_two_clients_ablating_different_heads_at_once_get_their_own_guesses(app_url, tiny_path):
    folder, text = tiny_path("bert"), "The capital of France is [MASK]."
    users = {"a": ["L0 H0", "L1 H1"], "b": ["L1"]}
    loaded = loading.load(folder)
    expected = {}
    for name, labels in users.items():
        result = ha.guesses_with_heads_off(loaded, text, ha.parse_heads(labels, *ha.shape(loaded)), 5)
        expected[name] = _cells(attention_view.heads_html(result))
    got, errors = {}, []
    together = threading.Barrier(len(users), timeout=60)

    def user(name, labels):
        try:
            client = Client(app_url, verbose=False)
            together.wait()                                   # both requests sent at once
            got[name] = client.predict(folder, text, [], labels, 5, api_name="/bert_heads_off")[1]
        except Exception as error:  # reported below
            errors.append(error)
    threads = [threading.Thread(target=user, args=item) for item in users.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    assert expected["a"] != expected["b"]
    for name in users:
        assert _cells(got[name]) == expected[name]
