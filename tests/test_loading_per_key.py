"""Loads are per key (#17.2): a slow load (a download, a slow disk) blocks only the requests for its own model.

The slow part of a load is `loading._fetch_files`; here it is made to wait on an Event for one checkpoint, and the
tests check what may and may not go on meanwhile. Each test uses a ModelCache of its own (the app's is untouched).
"""
import shutil
import threading
import time

import pytest

from model_zoo import loading

WAIT_S = 20  # an upper bound on any wait below; the tests finish in a second or two


class SlowFetch:
    """loading._fetch_files, made to wait for `release` when it fetches `slow_source`; counts every fetch."""

    def __init__(self, slow_source: str, real):
        self.slow_source, self.real = slow_source, real
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, source, *args, **kwargs):
        with self.lock:
            self.calls.append(source)
        if source == self.slow_source:
            self.entered.set()
            assert self.release.wait(WAIT_S), "the test never released the slow load"
        return self.real(source, *args, **kwargs)


@pytest.fixture()
def slow_fetch(monkeypatch, tiny_path):
    fetch = SlowFetch(tiny_path("bert"), loading._fetch_files)
    monkeypatch.setattr(loading, "_fetch_files", fetch)
    yield fetch
    fetch.release.set()  # never leave a thread waiting, whatever happened


def in_thread(fn, *args):
    """Start fn(*args) in a thread; returns (thread, box) where box gets {"value"} or {"error"}."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as error:  # reported by the test that reads the box
            box["error"] = error
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def wait_until(condition, what: str) -> None:
    """Wait for a state of the cache that no Event announces (requests queued on a lock), with a deadline."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_a_slow_load_blocks_neither_other_models_nor_parameter_counts(tiny_path, slow_fetch):
    cache = loading.ModelCache()
    slow, _ = in_thread(cache.get, loading.resolve(tiny_path("bert")))
    assert slow_fetch.entered.wait(WAIT_S)                  # bert's load is in its slow part, and stays there
    other = cache.get(loading.resolve(tiny_path("roberta")))  # another model loads meanwhile, in this thread
    assert other.family.key == "roberta" and slow.is_alive()
    assert loading.CONSTRUCTION_LOCK.acquire(timeout=WAIT_S)  # the construction lock is free: counts can run
    loading.CONSTRUCTION_LOCK.release()
    config = loading.read_config_dict(tiny_path("albert"))
    meta = loading.build_on_meta(config, "AlbertForMaskedLM")   # what a parameter count builds
    assert sum(p.numel() for p in meta.parameters()) > 0 and slow.is_alive()
    assert [key[0] for key in cache.loads_in_flight()] == [tiny_path("bert")]
    slow_fetch.release.set()
    slow.join(WAIT_S)
    assert not slow.is_alive()
    assert [k[0] for k in cache.keys()] == [tiny_path("roberta"), tiny_path("bert")]  # bert finished second
    assert cache.loads == 2 and cache.loads_in_flight() == {}


def test_concurrent_requests_for_one_slow_model_load_it_once(tiny_path, slow_fetch):
    cache = loading.ModelCache()
    checkpoint = loading.resolve(tiny_path("bert"))
    requests = [in_thread(cache.get, checkpoint) for _ in range(6)]
    assert slow_fetch.entered.wait(WAIT_S)
    wait_until(lambda: sum(cache.loads_in_flight().values()) == 6, "six requests on one load")
    assert len(cache.loads_in_flight()) == 1                  # one entry: the six share one load
    slow_fetch.release.set()
    for thread, _ in requests:
        thread.join(WAIT_S)
    results = [box.get("value") for _, box in requests]
    assert all(r is not None for r in results), [box.get("error") for _, box in requests]
    assert len({id(r.model) for r in results}) == 1          # one model object for all six
    assert slow_fetch.calls == [tiny_path("bert")] and cache.loads == 1
    assert cache.loads_in_flight() == {}                      # the table does not keep finished loads


def test_a_failed_load_leaves_no_entry_and_is_not_cached(tiny_path, tmp_path):
    cache = loading.ModelCache()
    broken = tmp_path / "bert-broken"
    shutil.copytree(tiny_path("bert"), broken)
    (broken / "model.safetensors").write_bytes(b"\xff" * 64)  # truncated weights
    checkpoint = loading.resolve(str(broken))
    with pytest.raises(loading.ModelUnavailable):
        cache.get(checkpoint)
    assert cache.loads_in_flight() == {} and cache.keys() == [] and cache.loads == 0


def test_clearing_the_cache_while_a_load_is_in_flight_keeps_its_waiters(tiny_path, slow_fetch):
    cache = loading.ModelCache()
    checkpoint = loading.resolve(tiny_path("bert"))
    first, first_box = in_thread(cache.get, checkpoint)
    assert slow_fetch.entered.wait(WAIT_S)
    second, second_box = in_thread(cache.get, checkpoint)
    wait_until(lambda: sum(cache.loads_in_flight().values()) == 2, "a second request waiting")
    cache.clear()                                             # what configure() does
    assert sum(cache.loads_in_flight().values()) == 2         # the loads in flight are not forgotten
    slow_fetch.release.set()
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert "value" in first_box and "value" in second_box, (first_box, second_box)
    assert first_box["value"] is not second_box["value"]       # the first load is not cached after clear()...
    assert len(cache.keys()) == 1 and cache.loads == 1         # ...so the waiting request loads and caches anew
    assert slow_fetch.calls == [tiny_path("bert")] * 2 and cache.loads_in_flight() == {}


@pytest.mark.parametrize("has_safetensors", [True, False])
def test_a_hub_download_fetches_top_level_files_and_bin_weights_only_without_safetensors(tmp_path, monkeypatch,
                                                                                      has_safetensors):
    import huggingface_hub
    (tmp_path / "config.json").write_text("{}")
    if has_safetensors:
        (tmp_path / "model.safetensors").write_bytes(b"")
    calls = []

    def snapshot_download(repo_id, **kwargs):  # what a download returns: the snapshot folder in the HF cache
        calls.append((repo_id, kwargs["allow_patterns"], kwargs["ignore_patterns"]))
        return str(tmp_path)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert loading._fetch_files("org/model", local_only=False) is True
    expected = [("org/model", loading._HUB_FILES, ["*/*"])]
    if not has_safetensors:
        expected.append(("org/model", ["pytorch_model*.bin"], ["*/*"]))
    assert calls == expected
    assert loading._fetch_files("org/model", local_only=True) is False and len(calls) == len(expected)  # offline


def test_a_failed_download_is_left_to_from_pretrained(monkeypatch):
    import huggingface_hub

    def snapshot_download(repo_id, **kwargs):
        raise OSError("404 not found")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert loading._fetch_files("org/missing", local_only=False) is False
