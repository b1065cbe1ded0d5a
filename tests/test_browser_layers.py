"""The Layers tab in a real headless Chromium (network off): probes of two models drawn by layer with the majority
baseline, which weights answered, a share link that restores and reruns the view, the user's own minimal pair, and hostile text shown as text."""
from urllib.parse import urlencode

from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

XSS = '<img src=x onerror="window.__xss=1">'


def test_layers_tab_probes_two_models_and_scores_a_pair(page, app_url, tiny_path, tmp_path):
    # a share link opens the tab with its options and runs it
    models = f"minilm-l6, {tiny_path('bert')}"
    page.goto(f"{app_url}?{urlencode(dict(tab='layers', models=models, data='natural', task='upos', run='1'))}")
    expect(page.locator("#layers-models textarea")).to_have_value(models, timeout=30_000)
    notes = page.locator("#layers-notes")
    expect(notes.locator("li")).to_have_count(2, timeout=240_000)              # both models answered
    expect(notes).to_contain_text("expected layer")
    expect(notes).to_contain_text("RANDOM")                                     # the tiny fixture says so
    plot = page.locator("#layers-plot .js-plotly-plot").first
    expect(plot.locator(".scatterlayer .trace")).to_have_count(6, timeout=30_000)   # 2 models x 3 lines
    assert "majority baseline" in " ".join(plot.locator(".annotation-text").all_text_contents())
    expect(page.locator("#layers-table")).to_contain_text("minilm-l6")
    page.screenshot(path=str(ARTIFACTS / "layers_probes.png"), full_page=True)
    page.locator("#layers-pair textarea").fill(f"The dogs {XSS} [run|runs] fast.")
    page.locator("#layers-pair-run").click()
    answers = page.locator("#layers-answers")
    expect(answers).to_contain_text("no masked-LM head", timeout=60_000)        # MiniLM says why it cannot
    expect(answers).to_contain_text("masked LM")
    answers.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "layers_pair.png"), full_page=True)
    assert page.evaluate("window.__xss") is None
    # the generated minimal pairs, through the same two models
    page.locator("#layers-pairs-run").click()
    pairs = page.locator("#layers-pairs")
    expect(pairs).to_contain_text("agreement, 2 attractors", timeout=120_000)
    expect(pairs).to_contain_text("no masked-LM head")
    # a user's file: a malformed CoNLL-U is refused with the line that is wrong, and the tab keeps working
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = The dog runs.\n1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n"
                   "x\tdog\tdog\tNOUN\t_\t_\t3\tnsubj\t_\t_\n\n")
    page.locator("#layers-upload input[type=file]").set_input_files(str(bad))
    expect(page.locator("[data-testid=toast-text], .action-error").filter(has_text="line 3").first).to_be_attached(
        timeout=60_000)
    expect(page.locator("#layers-data input[value=upload]")).to_be_checked()
    assert not page.blocked, page.blocked
