"""components.finetune_tab without a browser: the session's lab is bounded and freed, its gr.State expires and frees,
messages and renders show user text literally, the API refuses a file that is not CSV."""
from __future__ import annotations

import numpy as np
import pytest

from components import finetune_tab as tab
from components.common import UserError, guarded, message_text
from model_zoo import finetune as ft

SMALL = "\n".join([f"I ate a {w} today\t<b>fruit</b>" for w in ("apple", "banana", "cherry", "mango")]
                  + [f"we drove the {w} to town\tvehicle" for w in ("car", "truck", "bus", "van")])


class FakePredictor:
    def __init__(self, size: int) -> None:
        self.size, self.encoder = size, object()

    def n_bytes(self) -> int:
        return self.size

    def free(self) -> None:
        self.encoder = None


def test_a_lab_is_bounded_and_frees_what_it_holds(monkeypatch):
    monkeypatch.setattr(tab, "MAX_SESSION_BYTES", 100)
    lab = tab.Lab()
    kept, dropped = FakePredictor(80), FakePredictor(30)
    lab.add(ft.ModelRun("a", "", [], [kept]))
    lab.add(ft.ModelRun("b", "", [], [dropped]))
    assert lab.predictors() == [kept] and dropped.encoder is None and "b's fine-tuned model is not kept" in lab.notes[0]
    cancel = lab.cancel
    lab.reset(None, None, ["x"], {})                  # a new run frees the old models and stops the old run
    assert kept.encoder is None and cancel.is_set() and not lab.cancel.is_set() and lab.runs == []
    tab.free_lab(None)                                # gradio may delete a state that was never set
    other = tab.Lab()
    other.add(ft.ModelRun("c", "", [], [FakePredictor(1)]))
    tab.free_lab(other)
    assert other.predictors() == [] and other.cancel.is_set()


def test_the_state_expires_and_frees_its_models(app_demo):
    import gradio as gr
    states = [b for b in app_demo.blocks.values() if isinstance(b, gr.State) and b.delete_callback is tab.free_lab]
    assert len(states) == 1 and states[0].time_to_live == tab.SESSION_TTL_S
    assert states[0].value is None                    # nothing shared: each session builds its own Lab


@pytest.mark.parametrize("data, models, message", [
    ("a\t<b>x</b>\nb\t<b>x</b>\nc\t<b>x</b>\nd\t<b>x</b>", ["mini-bert"], "Every example has the label '<b>x</b>'"),
    (SMALL, [], "Pick at least one model."),
    (SMALL, ["a", "b", "c", "d", "e"], "At most 4 models at once"),
    (SMALL, ["<img src=x onerror=alert(1)>"], "'<img src=x onerror=alert(1)>' is neither a model"),
])
def test_start_refuses_with_the_text_shown_literally(data, models, message):
    with pytest.raises(UserError) as caught:
        guarded(tab.start, kind="light")(None, data, models, list(ft.METHODS), ft.CLS, "all", 3, "1e-4")
    assert message_text(message) in caught.value.message


def test_settings_from_an_api_caller_are_checked():
    run = guarded(tab.start, kind="light")
    for methods, pooling, layers, epochs, lr in [(["rm -rf"], ft.MEAN, "all", 3, "1e-4"), ([], ft.MEAN, "all", 3, "1e-4"),
                                                 (list(ft.METHODS), "max", "all", 3, "1e-4"),
                                                 (list(ft.METHODS), ft.MEAN, "7", 3, "1e-4"),
                                                 (list(ft.METHODS), ft.MEAN, "all", 99, "1e-4"),
                                                 (list(ft.METHODS), ft.MEAN, "all", 3, "1")]:
        with pytest.raises(UserError):
            run(None, SMALL, ["mini-bert"], methods, pooling, layers, epochs, lr)


def test_renders_show_labels_as_written():
    lab = tab.Lab()
    data = ft.parse_tsv(SMALL)
    lab.reset(data, ft.make_split(data), ["<i>m</i>"], {})
    confusion = np.array([[4, 0], [1, 3]])
    lab.add(ft.ModelRun("<i>m</i>", "w <script>", [ft.MethodResult("<i>m</i>", ft.FEATURES, 0.9, 0.9, confusion)],
                        []))
    status = tab.status_html(lab)
    assert "&lt;b&gt;fruit&lt;/b&gt;" in status and "<b>fruit" not in status and "<script>" not in status
    figure = tab.confusion_figure(lab)
    assert list(figure.data[0].x) == ["&lt;b&gt;fruit&lt;/b&gt;", "vehicle"]     # plotly decodes these, shows <b>
    prediction = ft.Prediction("<i>m</i>", ft.FEATURES, "<b>fruit</b>", data.classes, np.array([0.7, 0.3]),
                               ["[CLS]", "<img>"], np.array([0.5, -1.0]))
    html = tab.prediction_html([prediction])
    assert "<img>" not in html and "<b>fruit" not in html and "&lt;img&gt;" in html


def test_try_it_needs_a_model_of_this_session():
    with pytest.raises(UserError, match="No trained model in this session"):
        guarded(tab.try_it)(tab.Lab(), "hello")
    with pytest.raises(UserError, match="No trained model in this session"):
        guarded(tab.try_it)(None, "hello")


def test_the_api_refuses_a_file_that_is_not_csv(app_url, tmp_path):
    from gradio_client import Client, handle_file
    path = tmp_path / "holiday.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="is not a CSV file"):
        client.predict(handle_file(str(path)), api_name="/finetune_upload")
    good = tmp_path / "good.csv"
    good.write_text("Text,Label\n" + "\n".join(f"row {i},{'ab'[i % 2]}" for i in range(8)))
    assert client.predict(handle_file(str(good)), api_name="/finetune_upload").startswith("row 0\ta\nrow 1\tb")


def test_a_family_task_that_cannot_load_points_to_this_tab(app_url):
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="not available.*Fine-tune tab"):
        client.predict("roberta-sentiment", "I love it", api_name="/roberta_task")
    _, html, _ = client.predict("mini-roberta", "I love it", api_name="/roberta_task")   # a base model: random head
    assert "NEWLY INITIALISED" in html and "Fine-tune tab" in html


def test_a_model_that_cannot_load_is_reported_and_the_next_still_runs():
    lab = tab.Lab()
    data = ft.parse_tsv(SMALL)
    settings = tab._settings([ft.UNTRAINED], ft.MEAN, "all", 1, "1e-4")
    lab.reset(data, ft.make_split(data), ["no-such-org/<b>model</b>", "mini-bert"], settings)
    first = list(tab.step(0)(lab))
    assert "could not run" in first[-1][1] and "no-such-org/&lt;b&gt;model&lt;/b&gt;" in first[-1][1]
    assert "&amp;lt;" not in first[-1][1]                               # escaped once, not twice
    second = list(tab.step(1)(lab))
    assert "2 of 2 models finished" in second[-1][1] and len(lab.runs) == 1
    assert len(list(tab.step(2)(lab))) == 1 and len(lab.runs) == 1    # past the list: one no-op update
