"""Many users at once: queue groups by kind of work, and faults that must not reach anyone else (a corrupt checkpoint,
a user who leaves mid-request). The time limit itself is tested in test_guarded."""
import shutil
import threading
import time

import gradio as gr
import pytest
from gradio_client import Client

from components.common import WORK_KINDS, assign_queue_groups, guarded
from testkit.net import free_port

MODEL_ENDPOINTS = ("bert_fill_mask", "bert_attention", "bert_logit_lens", "bert_tokenize", "electra_replace_and_detect",
                   "xlnet_permutation", "embeddings_map", "roberta_dynamic_masking", "distilbert_vs_teacher")
LIGHT_ENDPOINTS = ("bert_facts", "bert_share_link", "compare_parameters", "compare_stop", "pretraining_lab",
                   "bert_mask_word")


def test_every_event_of_the_app_is_in_the_group_of_its_kind(app_demo):
    groups = {}
    for block_fn in app_demo.fns.values():
        groups.setdefault(block_fn.concurrency_id, []).append(block_fn)
        assert block_fn.concurrency_id in WORK_KINDS, block_fn.name  # none in a group of its own
    by_api = {f.api_name: f for f in app_demo.fns.values()}
    for name in MODEL_ENDPOINTS:
        assert by_api[name].concurrency_id == "model"
        assert by_api[name].concurrency_limit == WORK_KINDS["model"]["concurrency_limit"]
    for name in LIGHT_ENDPOINTS:
        assert by_api[name].concurrency_id == "light"
    assert by_api["compare_measure"].concurrency_limit == 1  # latency is measured alone
    assert by_api["side_by_side_start"].concurrency_id == "stream"   # streamed: its steps take model slots
    assert len(groups["model"]) > 40 and len(groups["light"]) > 20


@pytest.mark.slow  # holds real forward passes for seconds
def test_light_work_never_waits_behind_forward_passes_and_model_work_is_capped():
    running, peak, lock, release = [0], [0], threading.Lock(), threading.Event()

    def forward(text: str):  # stands for a forward pass: held until the test releases it
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(30)
        with lock:
            running[0] -= 1
        return text

    seen_running = []

    def render(text: str):
        with lock:
            seen_running.append(running[0])
        return text.upper()

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        gr.Button("fill-mask").click(guarded(forward), box, out, api_name="forward")    # two different model
        gr.Button("attention").click(guarded(forward), box, out, api_name="forward_b")  # events, one group
        gr.Button("light").click(guarded(render, kind="light"), box, out, api_name="render")
    demo.queue(default_concurrency_limit=2, max_size=64)
    assert assign_queue_groups(demo) == {"model": 2, "light": 1}
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        jobs = [client.submit(f"x{i}", api_name="/forward" if i % 2 else "/forward_b") for i in range(5)]
        limit = WORK_KINDS["model"]["concurrency_limit"]
        deadline = time.monotonic() + 30
        while running[0] < limit and time.monotonic() < deadline:   # wait for the model group to be full
            time.sleep(0.01)
        assert running[0] == limit
        assert client.predict("hello", api_name="/render") == "HELLO"
        assert seen_running == [limit]                     # rendered while the model group was full ...
        assert not any(job.done() for job in jobs)         # ... and every forward pass still held or waiting
        release.set()
        assert [job.result(timeout=30) for job in jobs] == [f"x{i}" for i in range(5)]
        assert peak[0] == limit      # never more forward passes at once than the limit, whichever event asks
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_a_corrupt_checkpoint_gets_a_message_and_the_app_keeps_serving(client, tiny_dir, tmp_path):
    broken = tmp_path / "bert-corrupt"
    shutil.copytree(tiny_dir / "bert", broken)
    (broken / "model.safetensors").write_bytes(b"\xff" * 64)  # a truncated / garbled download
    with pytest.raises(Exception) as error:
        client.predict(str(broken), "Paris is the [MASK] of France.", 5, api_name="/bert_fill_mask")
    message = str(error.value)
    assert "could not be read" in message and "corrupt" in message and "Traceback" not in message
    badge, *_ = client.predict(str(tiny_dir / "bert"), "Paris is nice.", "", api_name="/bert_tokenize")
    assert "RANDOM weights" in badge                      # everyone else is still served
    shutil.copy(tiny_dir / "bert" / "model.safetensors", broken / "model.safetensors")
    badge, *_ = client.predict(str(broken), "Paris is nice.", "", api_name="/bert_tokenize")
    assert "RANDOM weights" in badge                      # a failure is not cached: the repaired folder loads


def test_a_user_who_leaves_mid_request_does_not_disturb_the_others(app_url, tiny_path, monkeypatch):
    """The leaving user's request is held inside its handler (the app runs in this process) until the user has
    left, so the leaving happens mid-request whatever the machine's speed; then everyone else is still served."""
    from components import embeddings_tab
    entered, release, real = threading.Event(), threading.Event(), embeddings_tab.compute

    def held(*args, **kwargs):
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(embeddings_tab, "compute", held)
    leaving = Client(app_url, verbose=False)
    sentences = "\n".join(f"Sentence number {i} about Paris and France." for i in range(12))
    job = leaving.submit(sentences, [tiny_path("bert"), tiny_path("roberta")], "sentences", -1, "mean of the tokens",
                         "PCA", 0, "", api_name="/embeddings_map")
    try:
        assert entered.wait(60), "the request never reached its handler"
        assert not job.done()                             # mid-request
        job.cancel()
        leaving.close()
    finally:
        release.set()
    staying = Client(app_url, verbose=False)
    badge, chips, table, facts = staying.predict(tiny_path("electra-discriminator"), "Paris is nice.", "",
                                                 api_name="/electra_tokenize")
    assert "RANDOM weights" in badge and [r[1] for r in table["data"]][1:3] == ["paris", "is"]
