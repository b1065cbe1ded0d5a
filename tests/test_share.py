"""Share links: a link reproduces the tab, model, text, section and options, and runs the view; values that do not
fit are ignored; hostile text stays text."""
from urllib.parse import parse_qs, quote, urlparse

import gradio as gr
from gradio_client import Client

from components import share
from components.share import LinkTarget, fitting_value, link_for, read_link

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


def test_values_from_a_link_must_fit_their_component():
    k = gr.Slider(1, 20, value=5, step=1)
    assert fitting_value(k, "7") == 7 and isinstance(fitting_value(k, "7"), int)
    assert fitting_value(k, "999") is None and fitting_value(k, "nan") is None and fitting_value(k, "x") is None
    temperature = gr.Slider(0, 2, value=1.0, step=0.05)
    assert fitting_value(temperature, "0.35") == 0.35
    seed = gr.Number(value=0, precision=0)
    assert fitting_value(seed, "12") == 12
    order = gr.Radio(["natural", "random"], value="random")
    assert fitting_value(order, "natural") == "natural" and fitting_value(order, "<script>") is None
    typed = gr.Dropdown(choices=[("a label", "mini-bert")], value="mini-bert", allow_custom_value=True)
    assert fitting_value(typed, "my/model") == "my/model"
    assert fitting_value(gr.Textbox(), "x" * 5000) == "x" * 2000
    lengths = gr.CheckboxGroup([8, 32, 128])
    assert fitting_value(lengths, "8,128") == [8, 128] and fitting_value(lengths, "8,999") is None


HOSTILE = '<a href="https://example.invalid/login">Session expired, sign in</a>'


def test_a_model_box_takes_a_registry_key_a_hub_id_or_a_folder_from_a_link(tiny_path):
    model = gr.Dropdown(choices=[("mini", "mini-bert")], value="mini-bert", allow_custom_value=True)
    for fits in ("mini-bert", "google-bert/bert-base-uncased", "prajjwal1/bert-tiny", tiny_path("bert")):
        assert fitting_value(model, fits, share.model_spec) == fits
    for hostile in (HOSTILE, "<img src=x>", "a/b/c", "../no-such-folder", "/no/such/folder", " ", "x" * 300):
        assert fitting_value(model, hostile, share.model_spec) is None, hostile
    many = gr.Dropdown(choices=["mini-bert"], multiselect=True, allow_custom_value=True)
    assert fitting_value(many, f"mini-bert,{tiny_path('bert')}", share.model_spec) == ["mini-bert", tiny_path("bert")]
    assert fitting_value(many, f"mini-bert,{HOSTILE}", share.model_spec) is None   # one bad item drops the list
    also = gr.Textbox()
    assert fitting_value(also, "mini-bert, prajjwal1/bert-tiny", share.model_list) == "mini-bert, prajjwal1/bert-tiny"
    assert fitting_value(also, f"mini-bert, {HOSTILE}", share.model_list) is None
    layers = gr.Textbox()
    assert fitting_value(layers, "0-3, 11", share.numbers) == "0-3, 11" and fitting_value(layers, "all", share.numbers)
    assert fitting_value(layers, "<img src=x>", share.numbers) is None


def test_a_link_drops_what_does_not_fit_and_names_only_the_option():
    model, k = gr.Dropdown(choices=["mini-bert"], allow_custom_value=True), gr.Slider(1, 20, step=1)
    target = LinkTarget(tab="bert", options={"model": model, "fill-mask.k": k}, sections={"fill-mask": "bert-fm-run"},
                        checks={"model": share.model_spec})
    updates, dropped = read_link([target], {"tab": "bert", "section": "fill-mask", "model": HOSTILE,
                                            "fill-mask.k": "99"})
    assert dropped == ["model", "fill-mask.k"]
    assert updates[1:] == [gr.update(), gr.update()]          # neither box changes
    note = share.dropped_note(dropped)
    assert note == "Values in the link did not fit and were ignored: model, fill-mask.k."
    _, dropped = read_link([target], {"tab": "<b>x</b>", "model": HOSTILE})
    assert dropped == ["tab"]                                   # another tab's options are not read at all
    _, dropped = read_link([target], {"tab": "bert", "section": "nope", "model": "mini-bert", "utm": "x"})
    assert dropped == ["section"]


def test_the_note_shows_in_the_opened_tab_and_never_repeats_the_value():
    with gr.Blocks():
        with gr.Tabs() as tabs:
            with gr.Tab("BERT", id="bert"):
                model = gr.Dropdown(choices=["mini-bert"], allow_custom_value=True)
                button, box = share.link_box("this tab", "bert")
            with gr.Tab("Other", id="other"):
                other = gr.Textbox()
    bert = LinkTarget(tab="bert", options={"model": model}, checks={"model": share.model_spec})
    plain = LinkTarget(tab="other", options={"text": other})
    outputs = share.link_outputs(tabs, [bert, plain])
    assert bert.note is not None and "link-note" in bert.note.elem_classes and plain.note is None
    assert outputs == [tabs, model, bert.note, other]
    updates, dropped = read_link([bert, plain], {"tab": "bert", "model": HOSTILE})
    note = updates[2]
    assert dropped == ["model"] and note["visible"] is True
    assert note["value"] == '<div class="note">A value in the link did not fit and was ignored: model.</div>'
    updates, _ = read_link([bert, plain], {"tab": "bert", "model": "mini-bert"})
    assert updates[1:] == [gr.update(value="mini-bert"), gr.update(), gr.update()]   # nothing dropped: no note


def test_a_link_keeps_only_the_options_of_its_section():
    target = LinkTarget(tab="bert", options={"model": gr.Dropdown(), "fill-mask.k": gr.Slider(),
                                             "attention.layer": gr.Slider()},
                        sections={"fill-mask": "bert-fm-run", "attention": "bert-attention-run", "tokens": None})
    link = link_for(target, "fill-mask", {"model": "mini-bert", "fill-mask.k": 7, "attention.layer": 3,
                                          "fill-mask.empty": ""})
    query = parse_qs(urlparse(link).query)
    assert query == {"tab": ["bert"], "section": ["fill-mask"], "model": ["mini-bert"], "fill-mask.k": ["7"],
                     "run": ["1"]}
    assert "run" not in parse_qs(urlparse(link_for(target, "tokens", {})).query)   # no button: nothing to press
    lists = LinkTarget(tab="embeddings", options={"models": gr.Dropdown(multiselect=True)}, run="emb-run")
    assert parse_qs(urlparse(link_for(lists, "", {"models": ["a", "b"]})).query)["models"] == ["a,b"]


def test_opening_a_shared_section_sets_its_options_and_runs_it(page, app_url, tiny_path):
    hostile = "<img src=x onerror=window.__xss=1> is the [MASK] of France."
    page.goto(f"{app_url}?tab=bert&model={quote(tiny_path('bert'))}&text={quote(hostile)}&section=fill-mask"
              f"&fill-mask.k=7&attention.layer=3&run=1")
    page.wait_for_selector("#bert-fm-bars .js-plotly-plot", timeout=60_000)   # it ran, without a click
    assert page.locator("#bert-text textarea").input_value() == hostile
    assert page.locator("#bert-fm-k input[type=number]").input_value() == "7"
    assert "RANDOM" in page.locator(".weights-badge").first.inner_text()       # the shared (tiny) model answered
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=str(ARTIFACTS / "share_link_fill_mask.png"))
    assert not page.blocked, page.blocked


def made_link(page, key: str) -> dict:
    """Open the visible "Share a link" accordion, press Make link, and return the link's query."""
    page.locator("text=Share a link to this view >> visible=true").first.click()
    page.locator(f"#{key}-make-link").click()
    page.wait_for_function(f"document.querySelector('#{key}-link textarea').value.includes('section=')",
                           timeout=30_000)
    return parse_qs(urlparse(page.locator(f"#{key}-link textarea").input_value()).query)


def test_the_link_button_captures_the_section_on_show_and_its_options(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="XLNet").first.click()
    page.get_by_role("tab", name="XLNet: permutation orders").first.click()
    page.locator("#xlnet-targets textarea, #xlnet-targets input").first.fill("1 2")
    query = made_link(page, "xlnet")
    assert query["section"] == ["permutation"] and query["permutation.targets"] == ["1 2"]
    assert query["permutation.order"] == ["random"] and query["run"] == ["1"]


def test_an_embeddings_link_reproduces_the_map(page, app_url, tiny_path):
    sentences = "The bank of the river.\nThe bank lends money.\nA river bank in spring.\nMoney in the bank."
    page.goto(f"{app_url}?tab=embeddings&sentences={quote(sentences)}&models={quote(tiny_path('bert'))}"
              f"&level=sentences&method=PCA&seed=3&run=1")
    page.wait_for_selector("#emb-plot .js-plotly-plot", timeout=90_000)
    assert page.locator("#emb-sentences textarea").input_value() == sentences
    assert "RANDOM" in page.locator("#emb-notes").inner_text()
    assert not page.blocked, page.blocked


def test_a_link_made_after_opening_a_link_keeps_its_section(page, app_url, tiny_path):
    page.goto(f"{app_url}?tab=bert&model={quote(tiny_path('bert'))}&section=attention&attention.layer=1")
    # The state that matters: the opened link has been applied (the slider and the section state come in one update).
    page.wait_for_function("document.querySelector('#bert-attention-layer input[type=number]')?.value === '1'",
                           timeout=30_000)
    query = made_link(page, "bert")
    assert query["section"] == ["attention"] and query["attention.layer"] == ["1"]
