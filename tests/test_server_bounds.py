"""The doors of a public Space are bounded: uploads over the limit are refused unwritten, old files are swept, custom
checkpoints stay within a disk budget (least recently used deleted, an oversized one refused before any byte, one
download per id), and local folders answer strangers with one message whatever the disk holds."""
from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import pytest
import requests

import app
from components import server_files
from model_zoo import disk_budget, loading
from model_zoo.disk_budget import DiskBudget, OverBudget, repo_folder


# ------------------------------------------------------------------------------------------------------ uploads
def _upload(app_url: str, name: str, size: int) -> requests.Response:
    body = (name.encode() + b"\n") * (size // (len(name) + 1) + 1)
    return requests.post(f"{app_url}gradio_api/upload", files={"files": (f"{name}.csv", body[:size], "text/csv")},
                         timeout=60)


def _files_named(name: str) -> list[Path]:
    return [p for p in server_files.upload_folder().rglob(f"{name}.csv") if p.is_file()]


def test_an_upload_over_the_limit_is_refused_and_leaves_no_file(app_url):
    name = f"too-big-{os.getpid()}-{time.time_ns()}"
    response = _upload(app_url, name, server_files.MAX_UPLOAD_BYTES + 100_000)
    assert response.status_code == 413, response.text[:200]
    assert _files_named(name) == []
    small = f"small-{os.getpid()}-{time.time_ns()}"
    accepted = _upload(app_url, small, 1_000)             # the same route takes a file within the limit
    assert accepted.status_code == 200 and len(_files_named(small)) == 1
    for path in _files_named(small):
        path.unlink()


def test_files_older_than_the_set_age_are_swept_and_young_ones_stay(tmp_path):
    old_dir, young_dir = tmp_path / "compare-old", tmp_path / "compare-young"
    old_dir.mkdir()
    young_dir.mkdir()
    (old_dir / "compare.csv").write_text("a,b\r\n")
    (young_dir / "compare.csv").write_text("a,b\r\n")
    hour_ago = time.time() - server_files.MAX_AGE_S - 60
    os.utime(old_dir / "compare.csv", (hour_ago, hour_ago))
    os.utime(old_dir, (hour_ago, hour_ago))
    assert server_files.sweep([tmp_path]) == 1
    assert not old_dir.exists()                                  # its file gone, then the empty folder
    assert (young_dir / "compare.csv").exists() and tmp_path.exists()


def test_every_written_file_lies_under_the_swept_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(server_files, "EXPORT_ROOT", tmp_path / "exports")
    folder = server_files.new_folder("attention-")
    assert folder.parent == tmp_path / "exports" and folder != server_files.new_folder("attention-")


def test_the_sweeper_thread_deletes_old_files_and_stops(tmp_path):
    old = tmp_path / "old.html"
    old.write_text("x")
    os.utime(old, (0, 0))
    stop = server_files.start_sweeper([tmp_path], every_s=0.05, max_age_s=60)
    try:
        deadline = time.time() + 20
        while old.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert not old.exists()
    finally:
        stop.set()


# ------------------------------------------------------------------------------------------------------ disk budget
def _fake_download(cache: Path, repo_id: str, size: int, calls: list | None = None, delay: float = 0.0):
    """What snapshot_download leaves: blobs, and a snapshot whose files link to them."""
    def download():
        if calls is not None:
            calls.append(repo_id)
        time.sleep(delay)
        folder = repo_folder(cache, repo_id)
        (folder / "blobs").mkdir(parents=True, exist_ok=True)
        (folder / "snapshots" / "abc").mkdir(parents=True, exist_ok=True)
        blob = folder / "blobs" / "0123"
        blob.write_bytes(b"\0" * size)
        link = folder / "snapshots" / "abc" / "model.safetensors"
        if not link.exists():
            link.symlink_to(blob)
        return str(folder / "snapshots" / "abc")
    return download


def test_the_least_recently_used_custom_checkpoint_is_deleted_to_make_room(tmp_path):
    budget = DiskBudget(tmp_path, budget=2500)
    for repo_id in ("org/a", "org/b"):
        budget.fetch(repo_id, lambda r: 1000, _fake_download(tmp_path, repo_id, 1000))
        time.sleep(0.01)
    budget.touch("org/a")                                        # a used more recently than b
    default = repo_folder(tmp_path, "google-bert/bert-base-uncased")   # in the cache, not the budget's: never deleted
    default.mkdir()
    (default / "weights").write_bytes(b"\0" * 5000)
    budget.fetch("org/c", lambda r: 1000, _fake_download(tmp_path, "org/c", 1000))
    assert not repo_folder(tmp_path, "org/b").exists()
    assert repo_folder(tmp_path, "org/a").exists() and repo_folder(tmp_path, "org/c").exists()
    assert (default / "weights").exists() and budget.used() == 2000 <= budget.budget


def test_a_checkpoint_larger_than_the_budget_is_refused_before_any_byte(tmp_path):
    budget = DiskBudget(tmp_path, budget=2500)
    calls: list[str] = []
    with pytest.raises(OverBudget, match="larger than this server's disk budget"):
        budget.fetch("org/huge", lambda r: 10_000, _fake_download(tmp_path, "org/huge", 10_000, calls))
    assert calls == [] and not repo_folder(tmp_path, "org/huge").exists()


def test_two_requests_for_one_new_id_download_it_once(tmp_path):
    budget = DiskBudget(tmp_path, budget=10_000)
    calls: list[str] = []
    download = _fake_download(tmp_path, "org/a", 1000, calls, delay=0.3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(budget.fetch("org/a", lambda r: 1000, download)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert calls == ["org/a"] and len(results) == 2 and repo_folder(tmp_path, "org/a").exists()   # one download


def test_a_second_fetch_of_a_checkpoint_on_disk_does_not_ask_its_size_again(tmp_path):
    budget = DiskBudget(tmp_path, budget=10_000)
    budget.fetch("org/a", lambda r: 1000, _fake_download(tmp_path, "org/a", 1000))
    asked: list[str] = []
    budget.fetch("org/a", lambda r: asked.append(r) or 1000, _fake_download(tmp_path, "org/a", 1000))
    assert asked == []


def test_the_loader_refuses_an_oversized_custom_checkpoint_before_downloading(monkeypatch):
    import huggingface_hub
    monkeypatch.setattr(disk_budget, "hub_download_size", lambda repo_id: 10 ** 12)
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda *a, **k: pytest.fail("downloaded a checkpoint over the budget"))
    with pytest.raises(loading.UnsupportedModel, match="disk budget"):
        loading._fetch_files("someone/huge-model", local_only=False, custom=True)


# ------------------------------------------------------------------------------------------------------ local folders
@pytest.fixture
def folder_settings():
    before = loading.current_settings()

    def use(**kw):
        loading.configure(loading.Settings(**{**before.__dict__, **kw}))
    yield use
    loading.configure(before)


def _message(spec: str) -> str:
    with pytest.raises(loading.ModelError) as error:
        loading.resolve(spec)
    return str(error.value).replace(f"'{spec}'", "<spec>")


def test_with_local_folders_off_every_path_gets_one_message(folder_settings, tiny_path):
    folder_settings(local_folders=False)
    specs = ["/etc", "/proc/self", "/no/such/folder/here", tiny_path("bert")]
    messages = {_message(spec) for spec in specs}
    assert len(messages) == 1 and "does not load models from its own folders" in messages.pop()
    assert not loading.is_model_spec("/etc") and not loading.is_model_spec(tiny_path("bert"))


def test_with_local_folders_under_roots_only_those_folders_load(folder_settings, tiny_path):
    inside = Path(tiny_path("bert"))
    folder_settings(local_folders=True, folder_roots=(str(inside.parent),))
    assert loading.resolve(str(inside)).family == "bert"
    assert loading.is_model_spec(str(inside))
    assert _message("/etc") == _message("/no/such/folder") == _message(str(inside.parent.parent))
    assert "nor a folder under" in _message("/etc")


def test_public_servers_turn_local_folders_off_unless_roots_are_named():
    def args(*argv):
        return app.parse_args(list(argv))
    assert app.folder_policy(args(), environ={}) == (True, ())                      # a laptop: any folder
    assert app.folder_policy(args(), environ={"SPACE_ID": "org/space"}) == (False, ())
    assert app.folder_policy(args("--share"), environ={}) == (False, ())
    assert app.folder_policy(args("--share", "--local-folders", "/models"), environ={}) == (True, ("/models",))
    assert isinstance(args(), argparse.Namespace) and args().disk_budget_gb == 4.0
