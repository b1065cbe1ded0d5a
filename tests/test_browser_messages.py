"""Hostile text reaches the user's messages as text, never as markup: typed into every box whose handler can answer with
an error, or planted in a share link. Headless Chromium, network off, one page for each test.

The three payloads travel together, joined by spaces, through every box and every link: a message that were markup
would show an image, a link or a script of any one of them, and would lose the literal text. (One page per payload
took three times as long, minutes on a busy 2-core machine, for the same assertions.)

Gradio renders a toast's text as (sanitised) HTML, so every message is escaped once (components.common.message_text)
and Gradio 6.31 shows the characters as written. A link's value that does not fit its box is dropped with a note that
names the option, never the value (components.share).

To cover a new box, add one line to CASES: what it is, the top-level tab id, the section id (or None), the box's
elem_id, the elem_id of the button that answers, and what the message shows literally ("{payload}" by default, fixed
text, or a function of the payload where the handler quotes part of it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

PAYLOADS = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "</script><script>document.title='pwned'</script>",
    '<a href="https://example.invalid/login">Session expired, sign in</a>',
]
HOSTILE = " ".join(PAYLOADS)
NO_MASK = "No mask in the text: write [MASK], <mask> or ___"   # the app's own message: "<mask>" must survive


def _first_target(payload: str) -> str:     # permutation.parse_targets quotes the first part that is not a number
    first = re.split(r"[\s,;]+", payload.strip())[0]
    return f"Target '{first}' is outside the sentence"


def _unknown_words(payload: str) -> str:    # electra.positions_of_words lists the words it did not find, lowercased
    return "Not in the sentence: " + ", ".join(w.lower() for w in re.split(r"[,\s]+", payload.strip()) if w)


def _first_model(payload: str) -> str:      # Compare's "Also" is a comma-separated list: the first item is refused
    return payload.split(",")[0].strip()


@dataclass(frozen=True)
class Case:
    what: str
    tab: str                      # top-level tab id
    section: str | None           # section id inside a family tab
    input: str                    # elem_id of the box the payload goes into
    button: str                   # elem_id of the button that answers
    shows: object = "{payload}"   # what the message shows literally: a format string, or payload -> text
    messages: int = 1             # messages it causes
    untick: str | None = None     # elem_id of a checkbox group to clear first, so that the box is all there is

    def shown(self, payload: str) -> str:
        return self.shows(payload) if callable(self.shows) else self.shows.format(payload=payload)


def _family(f: str, task: bool = False, attention: bool = False, fill_mask: bool = False) -> list[Case]:
    cases = [Case(f"{f} model box", f, "tokens", f"{f}-model", f"{f}-tokens-run")]   # said once: the status says
    # why the picked model cannot be used (no toast), the button's action says it again as its message
    if attention:
        cases.append(Case(f"{f} attention layers", f, "attention", f"{f}-attention-layers", f"{f}-attention-run"))
    if fill_mask:
        cases.append(Case(f"{f} text, fill-mask", f, "fill-mask", f"{f}-text", f"{f}-fm-run", NO_MASK))
    if task:
        cases.append(Case(f"{f} task model", f, "pretraining", f"{f}-task-model", f"{f}-task-run"))
    return cases


# Grouped by tab, so that a page switches tabs as little as possible.
CASES = [
    *_family("bert", attention=True, fill_mask=True),
    *_family("roberta", task=True, fill_mask=True),
    *_family("albert", task=True),
    *_family("distilbert", task=True),
    Case("DistilBERT teacher", "distilbert", "pretraining", "distilbert-pt-teacher", "distilbert-pt-run"),
    *_family("electra", task=True),
    Case("ELECTRA generator", "electra", "electra", "electra-generator", "electra-run"),
    Case("ELECTRA words", "electra", "electra", "electra-words", "electra-run", _unknown_words),
    *_family("xlnet", attention=True),
    Case("XLNet targets", "xlnet", "permutation", "xlnet-targets", "xlnet-run", _first_target),
    Case("embeddings query", "embeddings", None, "emb-query", "emb-find"),
    Case("embeddings models", "embeddings", None, "emb-models", "emb-run"),
    # Compare measures the ticked models and names a bad "Also" id in its status; with none ticked, it is refused.
    Case("compare Also", "compare", None, "compare-custom", "compare-measure", _first_model, untick="compare-models"),
]

# Links that carry the payload: what, the query after "?", the note the opened tab shows, and the messages that follow
# (each showing its text literally).
LINKS = [
    ("a family's model (the issue's example)", "tab=bert&section=tokens&model={payload}&run=1",
     "A value in the link did not fit and was ignored: model.", []),
    ("ELECTRA's generator (dropped) and words (text: kept, then quoted by the error)",
     "tab=electra&section=electra&electra.generator={payload}&electra.words={payload}&run=1",
     "A value in the link did not fit and was ignored: electra.generator.", [_unknown_words]),
    ("Compare's models and Also", "tab=compare&models={payload}&custom={payload}",
     "Values in the link did not fit and were ignored: models, custom.", []),
    ("Side by side's models", "tab=side-by-side&models={payload}",
     "A value in the link did not fit and was ignored: models.", []),
]

TOASTS = "[data-testid=toast-text]"
MESSAGE_WAIT_MS = 120_000   # 30 s once ran out in CI (one case of 21, unnamed then; each takes 0.4-1.2 s alone)
# Every message the page shows, as text, kept in window.__messages: a toast may expire before the next one comes.
RECORD_MESSAGES = """
window.__messages = [];
document.addEventListener("DOMContentLoaded", () => new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) {
    if (node.nodeType !== 1) continue;
    const found = node.matches('%s') ? [node] : [...node.querySelectorAll('%s')];
    found.forEach((toast) => window.__messages.push(toast.textContent));
  }
}).observe(document.body, {childList: true, subtree: true}));
""" % (TOASTS, TOASTS)
# Elements a payload would create if a message were markup: an image of src x, a link to example.invalid, a script or
# anything else that mentions 'pwned' (the page's own scripts do not).
PLANTED = """() => [...document.querySelectorAll('img, a, script, iframe, object, embed')].filter(e =>
    /(^|\\/)x$/.test(e.getAttribute('src') || '') || /example\\.invalid/.test(e.getAttribute('href') || '')
    || /pwned/.test(e.textContent || '')).map(e => e.outerHTML.slice(0, 200))"""


def _open(page, tab: str, section: str | None) -> None:
    """Select a top-level tab, then a section inside it (a section's id may equal a tab's: ELECTRA's "electra")."""
    for button in [f"button[role=tab][data-tab-id='{tab}']",
                   *([f"[role=tabpanel] button[role=tab][data-tab-id='{section}']"] if section else [])]:
        button = page.locator(f"{button} >> visible=true").first
        if button.get_attribute("aria-selected") != "true":
            button.click()
            expect(button).to_have_attribute("aria-selected", "true")


def _box(page, case: Case):
    return page.locator(f"#{case.input} textarea, #{case.input} input").first


def _type(box, text: str) -> None:
    box.fill(text)
    if box.evaluate("e => e.tagName") == "INPUT":   # a dropdown that takes a typed value: Enter commits it
        box.press("Enter")


CLICK_BOXES = "([id, which]) => { const boxes = document.querySelectorAll(`#${id} input[type=checkbox]`);" \
              " which.forEach((i) => boxes[i].click()); }"


def _untick(page, group: str | None) -> list[int]:
    """Clear a checkbox group at once (one click each, not waiting on the events they fire); the positions ticked."""
    if group is None:
        return []
    ticked = page.evaluate("id => [...document.querySelectorAll(`#${id} input[type=checkbox]`)]"
                           ".flatMap((box, i) => box.checked ? [i] : [])", group)
    page.evaluate(CLICK_BOXES, [group, ticked])
    expect(page.locator(f"#{group} input[type=checkbox]:checked")).to_have_count(0)
    return ticked


def _restore(page, case: Case, before: str, ticked: list[int], payload: str) -> None:
    """Put the box (and a group cleared for it) back as it was, so the next case starts from the page's defaults."""
    chip = page.locator(f"#{case.input} .token", has_text=payload)
    if chip.count():                                  # a multiselect: remove the payload's chip
        chip.locator(".token-remove").first.click()
        expect(chip).to_have_count(0)
    else:
        _type(_box(page, case), before)
    if ticked:
        page.evaluate(CLICK_BOXES, [case.untick, ticked])
        expect(page.locator(f"#{case.untick} input[type=checkbox]:checked")).to_have_count(len(ticked))


def _messages_since(page, start: int) -> list[str]:
    return page.evaluate("start => window.__messages.slice(start)", start)


def _expect_messages(page, start: int, shown: list[str], where: str) -> None:
    """Messages came after the `start`-th: each text of `shown`, as written (markup characters included), in at least
    as many as it appears in `shown`, and no message of any other kind (no "Something went wrong")."""
    for text in set(shown):
        try:   # each action answers within a second on an idle machine; the cap is for a machine busy with other tests
            page.wait_for_function("([start, text, n]) => window.__messages.slice(start).filter(m => "
                                   "m.includes(text)).length >= n", arg=[start, text, shown.count(text)],
                                   timeout=MESSAGE_WAIT_MS)
        except PlaywrightTimeoutError:
            pytest.fail(f"{where}: no message showing {text!r} within {MESSAGE_WAIT_MS / 1000:.0f} s; "
                        f"messages since: {_messages_since(page, start)}")
    came = _messages_since(page, start)
    assert all(any(text in message for text in shown) for message in came), (where, came)


def _assert_nothing_planted(page, where: str) -> None:
    assert page.evaluate(PLANTED) == [], where
    assert page.title() == "BERT Family Explorer", where
    assert not page.blocked, (where, page.blocked)                      # nothing left 127.0.0.1
    assert not [url for url in page.requests if re.search(r"/x($|\?)", url)], where   # no <img src=x> fetched


def test_hostile_text_shows_as_text_in_every_message(page, app_url):
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.add_init_script(RECORD_MESSAGES)
    page.goto(app_url)
    page.wait_for_selector("button[role=tab][data-tab-id='bert']")
    for case in CASES:
        _open(page, case.tab, case.section)
        ticked = _untick(page, case.untick)
        before = _box(page, case).input_value()
        start = page.evaluate("window.__messages.length")
        _type(_box(page, case), HOSTILE)
        page.locator(f"#{case.button}").click()
        _expect_messages(page, start, [case.shown(HOSTILE)] * case.messages, case.what)
        _assert_nothing_planted(page, case.what)
        _restore(page, case, before, ticked, HOSTILE)


def test_a_link_cannot_plant_markup(page, app_url):
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.add_init_script(RECORD_MESSAGES)
    for what, query, note, messages in LINKS:
        where = f"link with {what}"
        page.goto("about:blank")        # leave the last link's page (its run may still be going) before the next
        page.goto(app_url + "?" + query.format(payload=quote(HOSTILE)))
        expect(page.locator(".link-note >> visible=true").first).to_have_text(note, timeout=30_000)
        shown = [m(HOSTILE) if callable(m) else m for m in messages]
        if shown:
            _expect_messages(page, 0, shown, where)
        _assert_nothing_planted(page, where)
        if not shown:   # every hostile value was dropped: it is nowhere, in no box, no message
            values = page.evaluate("() => [...document.querySelectorAll('input, textarea')].map(e => e.value)")
            assert not any(p in value for value in values for p in PAYLOADS), where
            # the page's own address holds the payload (percent-encoded), and plotly repeats it in its clip-path
            # url(...) references: that is the link, not markup; anywhere else the payload must not appear
            content = page.content().replace(page.url.replace("&", "&amp;"), "").replace(page.url, "")
            assert "example.invalid" not in content and "pwned" not in content, where
