"""A failed action in the browser: one message next to its button that stays until the button runs again, no red
pill over the outputs or the weights badge, and a bad model picked in a box said once, in the status beside it.
A running action repeats its progress ("Loading mini-bert…") under its button, as text."""
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS


def _fill_mask(page) -> None:
    page.locator("button[role=tab][data-tab-id='bert']").click()
    page.locator("button[role=tab][data-tab-id='fill-mask'] >> visible=true").first.click()


def test_a_failed_action_says_why_next_to_its_button_until_it_runs_again(page, app_url):
    page.goto(app_url)
    _fill_mask(page)
    page.locator("#bert-text textarea").fill("No mask here, <b>bold</b>.")
    page.locator("#bert-fm-run").click()
    note = page.locator("#bert-fm-run + .action-error")
    expect(note).to_contain_text("write [MASK], <mask> or ___", timeout=60_000)     # the app's own <mask>, literal
    expect(page.locator("[data-testid=status-tracker] .error >> visible=true")).to_have_count(0)   # no red pills
    expect(page.locator("[data-testid=toast-body] >> visible=true")).to_have_count(0)   # said once: no toast too
    expect(page.locator("#bert-fm-warning, .weights-badge >> visible=true").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "action_error.png"))
    page.locator("#bert-text textarea").fill("The capital of France is [MASK].")
    page.locator("#bert-fm-run").click()
    expect(note).to_have_count(0, timeout=10_000)                  # cleared when the action runs again
    page.wait_for_selector("#bert-fm-bars .js-plotly-plot", timeout=60_000)
    expect(page.locator(".action-error")).to_have_count(0)
    assert not page.blocked, page.blocked


def test_a_bad_model_picked_is_said_once_in_the_status_beside_the_box(page, app_url):
    page.add_init_script("window.__toasts = 0; document.addEventListener('DOMContentLoaded', () => new MutationObserver("
                         "(c) => c.forEach(x => x.addedNodes.forEach(n => { if (n.nodeType === 1 && n.matches("
                         "'[data-testid=toast-body]')) window.__toasts++; }))).observe(document.body, "
                         "{childList: true, subtree: true}));")
    page.goto(app_url)
    page.locator("button[role=tab][data-tab-id='bert']").click()
    box = page.locator("#bert-model input")
    box.fill("no-such-org/<i>model</i>")
    box.press("Enter")
    status = page.locator("#bert-model").locator("xpath=ancestor::div[contains(@class,'row')][1]").locator(
        ".weights-badge.bad")
    expect(status).to_contain_text("no-such-org/<i>model</i>", timeout=30_000)
    assert page.evaluate("window.__toasts") == 0                    # no toast for merely picking it


def test_a_running_action_repeats_its_progress_under_its_button_as_text(page, app_url):
    """The page script mirrors the progress gradio draws over the outputs (often below the fold) under the button
    that started the action. Driven by a progress element placed in the button's panel, so nothing depends on how
    long a real request takes; the real one is looked at in the screenshots."""
    page.goto(app_url)
    _fill_mask(page)
    page.locator("#bert-text textarea").fill("The capital of France is [MASK].")
    run = page.locator("#bert-fm-run")
    run.click()
    page.wait_for_selector("#bert-fm-bars .js-plotly-plot", timeout=60_000)
    note = page.locator(".action-progress")
    expect(note).to_have_count(0)                                     # nothing running: no note
    payload = 'Loading <img src=x id=planted> (first use only)…'
    page.evaluate("""(text) => {
        const panel = document.querySelector('#bert-fm-run').closest('[role=tabpanel]');
        for (const [share, id] of [[5, 'fake-behind'], [50, 'fake-current']]) {
            const level = document.createElement('div');
            level.className = 'progress-level-inner'; level.id = id;
            level.textContent = (share === 50 ? text : 'an older step') + ' - ' + share + '.0%';
            panel.appendChild(level);
        }
    }""", payload)
    expect(note).to_have_text(payload, timeout=10_000)           # the most advanced step, literal, no percentage
    assert page.locator("#planted").count() == 0
    button, box = run.bounding_box(), note.bounding_box()
    assert button["y"] + button["height"] <= box["y"] <= button["y"] + button["height"] + 12
    assert abs(box["x"] - button["x"]) < 2
    page.evaluate("document.querySelectorAll('#fake-behind, #fake-current').forEach(e => e.remove())")
    expect(note).to_have_count(0, timeout=10_000)                # gone when the work ends


def test_offline_the_task_sections_say_why_they_cannot_run_instead_of_failing(page, app_url):
    """Offline, the fine-tuned task checkpoints are not here: each section says so once, its button waits."""
    page.goto(app_url)
    page.get_by_role("tab", name="RoBERTa").first.click()
    page.locator("button[role=tab]:visible", has_text="Pretraining task").first.click()
    note = page.locator("#roberta-task-offline")
    expect(note).to_contain_text("cannot run here", timeout=30_000)
    expect(note).to_contain_text("Fine-tune")
    expect(page.locator("#roberta-task-run")).to_be_disabled()


def test_a_default_picked_offline_says_at_once_that_it_is_not_available(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="BERT", exact=True).first.click()
    model = page.locator("#bert-model input")
    model.fill("bert-base-uncased")
    model.press("Enter")
    expect(page.locator("#bert-status")).to_contain_text("Not available offline", timeout=90_000)
    expect(page.locator("#bert-status")).to_contain_text("mini-bert")
