"""The Fine-tune tab in headless Chromium (network off): train, watch the loss, read the results, try new text; another
session sees none of it; Cancel stops a run; bad input gets its message and the box keeps what was typed."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import ARTIFACTS

TOASTS = "[data-testid=toast-text], .action-error"   # a message: its toast, or the note beside its button (shown once)
# Two labels, one of them HTML (it must show as written), six examples each: a k-fold split.
SMALL = "\n".join([f"I ate a {w} today\t<b>fruit</b>" for w in ("apple", "banana", "cherry", "mango", "pear", "plum")]
                  + [f"we drove the {w} to town\tvehicle" for w in ("car", "truck", "bus", "van", "tractor", "lorry")])


def _open(page, app_url: str, query: str = "models=mini-bert&epochs=1") -> None:
    page.goto(f"{app_url}?tab=finetune&{query}")
    expect(page.locator("#ft-models .token")).to_have_count(len(re.findall(r"models=([^&]*)", query)[0].split(",")),
                                                            timeout=30_000)


def _train(page, data: str | None) -> None:
    if data is not None:
        page.locator("#ft-data textarea").fill(data)
    page.locator("#ft-run").click()


def _finished(page, n: int, timeout: int = 180_000) -> None:
    expect(page.locator("#ft-progress b").first).to_have_text(re.compile(rf"^{n} of {n} models finished"),
                                                              timeout=timeout)


def test_train_try_and_another_session_sees_nothing(browser, page, app_url):
    _open(page, app_url)
    _train(page, SMALL)
    _finished(page, 1)
    status = page.locator("#ft-status").inner_text()
    assert "12 examples (<b>fruit</b>: 6, vehicle: 6)" in status and "5-fold cross-validation" in status
    table = page.locator("#ft-results").inner_text()
    assert all(m in table for m in ("feature extraction", "fine-tuning", "untrained head"))
    assert page.locator("#ft-loss .js-plotly-plot .scatterlayer .trace").count() == 1
    assert page.locator("#ft-accuracy .js-plotly-plot").count() == 1
    assert page.locator("#ft-confusion").inner_text().count("<b>fruit</b>") >= 2    # literal in the plot's labels
    page.locator("#ft-try-text textarea").fill("I ate a pear today")
    page.locator("#ft-try-run").click()
    expect(page.locator("#ft-try-out .ft-prediction")).to_have_count(2, timeout=60_000)   # features + fine-tuned
    assert page.locator("#ft-try-out .ft-token").count() >= 2 * 6
    assert "<b>fruit</b>" in page.locator("#ft-try-out").inner_text() or "vehicle" in page.locator(
        "#ft-try-out").inner_text()
    assert page.locator("#ft-status b b, #ft-try-out b b, #ft-results b").count() == 0   # no label became markup
    page.screenshot(path=str(ARTIFACTS / "finetune_trained.png"), full_page=True)

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()   # another user
    other.goto(f"{app_url}?tab=finetune")
    other.locator("#ft-try-text textarea").fill("I ate a pear today")
    other.locator("#ft-try-run").click()
    expect(other.locator(TOASTS).filter(has_text="No trained model in this session").first).to_be_attached(
        timeout=30_000)
    assert other.locator("#ft-try-out .ft-prediction").count() == 0
    assert "feature extraction" not in other.locator("#ft-results").inner_text()          # no results either
    other.context.close()
    page.locator("#ft-try-run").click()                                  # and the first user still has theirs
    expect(page.locator("#ft-try-out .ft-prediction")).to_have_count(2, timeout=60_000)
    assert not page.blocked, page.blocked


def test_cancel_stops_the_run(page, app_url):
    _open(page, app_url, "models=minilm-l6,mini-bert&methods=fine-tuning&epochs=10")
    _train(page, None)                                                   # the bundled sentiment set: 200 examples
    expect(page.locator("#ft-progress")).to_contain_text("minilm-l6: fine-tuning, step", timeout=120_000)
    page.locator("#ft-cancel").click()
    expect(page.locator("#ft-progress b").first).to_contain_text("cancelled", timeout=60_000)
    expect(page.locator("#ft-results")).to_contain_text("cancelled", timeout=30_000)
    assert "mini-bert: cancelled" in page.locator("#ft-progress").inner_text()   # the second model never started
    table = page.locator("#ft-results").inner_text()
    assert "cancelled; 10 epochs" in table and "mini-bert" not in table
    page.screenshot(path=str(ARTIFACTS / "finetune_cancelled.png"), full_page=True)


def _upload(page, path) -> None:
    clear = page.locator("#ft-upload button[aria-label='Clear']")
    if clear.count():                                                    # a file is shown: remove it first
        clear.first.click()
    with page.expect_file_chooser() as chooser:
        page.locator("#ft-upload").get_by_text("Click to Upload").click()
    chooser.value.set_files(str(path))


def test_bad_input_gets_a_message_and_the_box_keeps_it(page, app_url, tmp_path):
    _open(page, app_url)
    cases = [
        ("\n".join(f"nice day {i}\tgood" for i in range(6)), "Every example has the label 'good'"),
        ("a\tx\nb\tx\nc\tx\nd\tx\ne\t<img src=x onerror=alert(1)>", "too few: '<img src=x onerror=alert(1)>' (1)"),
        ("first line\tx\nsecond line without a tab", "Line 2: no tab"),
    ]
    for typed, message in cases:
        page.locator("#ft-data textarea").fill(typed)
        page.locator("#ft-run").click()
        expect(page.locator(TOASTS).filter(has_text=message).first).to_be_attached(timeout=30_000)
        assert page.locator("#ft-data textarea").input_value() == typed       # nothing lost of what was typed
    hostile = "<img src=x onerror=\"document.title='pwned'\">"
    models = page.locator("#ft-models input")
    models.fill(hostile)
    models.press("Enter")
    page.locator("#ft-run").click()
    expect(page.locator(TOASTS).filter(has_text=f"'{hostile}' is neither a model").first).to_be_attached(
        timeout=30_000)
    page.locator("#ft-models .token", has_text=hostile).locator(".token-remove").first.click()
    page.locator("#ft-try-text textarea").fill(hostile)
    page.locator("#ft-try-run").click()
    expect(page.locator(TOASTS).filter(has_text="No trained model in this session").first).to_be_attached(
        timeout=30_000)
    assert page.title() == "BERT Family Explorer"
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    no_text = tmp_path / "reviews.csv"
    no_text.write_text("review_body,stars\nfine,5\n")
    for path, message in ((image, "'photo.csv' is not a CSV file"), (no_text, "'reviews.csv' has no text column")):
        _upload(page, path)
        expect(page.locator(TOASTS).filter(has_text=message).first).to_be_attached(timeout=30_000)
        assert page.locator("#ft-data textarea").input_value() == cases[-1][0]
    good = tmp_path / "good.csv"
    good.write_text("text,label\n" + "\n".join(f'"row {i}, quoted",{"ab"[i % 2]}' for i in range(8)))
    _upload(page, good)
    expect(page.locator("#ft-data textarea")).to_have_value(re.compile(r"^row 0, quoted\ta\nrow 1, quoted\tb"),
                                                            timeout=30_000)
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert not page.blocked, page.blocked
