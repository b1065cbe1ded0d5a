"""Shared fixtures: offline settings, tiny random models of every family on disk, a launched app, a browser."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing in the suite reaches the network
# Hermetic: an empty Hugging Face cache of the suite's own, whatever the machine has cached (set before any import
# of huggingface_hub, which reads these once).
_HF_HOME = tempfile.mkdtemp(prefix="explorer-hf-home-")
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_HUB_CACHE"] = os.path.join(_HF_HOME, "hub")
os.environ.pop("TRANSFORMERS_CACHE", None)
os.environ["EXPLORER_CACHE_DIR"] = os.path.join(_HF_HOME, "explorer")  # the Compare tab's cached measurements too
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "explorer-numba-cache"))
# pytest-xdist runs the suite in one worker per core (pytest.ini): each worker's torch gets its share of the cores,
# not all of them (set before torch is imported; a value set by hand wins).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _share)))

import pytest  # noqa: E402

from model_zoo import loading, tiny  # noqa: E402
from testkit.net import free_port  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots (git-ignored)


@pytest.fixture(scope="session", autouse=True)
def offline_settings():
    """The suite's own app state: offline, on CPU."""
    from components import app_state
    app_state.use(app_state.AppState(loading=loading.Runtime(loading.Settings(device="cpu", offline=True))))
    yield


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """Every family's tiny random checkpoint saved to disk: tiny_dir / "bert", ... (see model_zoo.tiny.FIXTURES)."""
    root = tmp_path_factory.mktemp("tiny")
    tiny.save_all(root)
    return root


@pytest.fixture(scope="session")
def tiny_path(tiny_dir):
    """tiny_path("roberta") -> the folder as a string, ready for loading.load()."""
    return lambda name: str(tiny_dir / name)


@pytest.fixture(scope="session")
def small_corpus_dir(tmp_path_factory) -> tuple[dict, Path]:
    """(stats, folder): the pretraining corpus built from tests/fixtures/corpus/ through the real readers."""
    from testkit import small_corpus
    folder = tmp_path_factory.mktemp("mini_work") / "corpus"
    return small_corpus.build(folder), folder


@pytest.fixture(scope="module")
def small_corpus(small_corpus_dir):
    """The trainer reads the fixture corpus (and caches its tokenised arrays beside it) for one test module."""
    from pretrain import corpus, data
    stats, folder = small_corpus_dir
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus, "CORPUS_DIR", folder)
        patch.setattr(data, "DATA_DIR", folder.parent / "data")
        yield stats, folder


@pytest.fixture(scope="session")
def app_demo():
    """The real app's Blocks with its real queue (groups by kind of work), not launched."""
    import app
    demo = app.build_app("auto")
    app.configure_queue(demo)
    return demo


@pytest.fixture(scope="session")
def app_url(app_demo):
    """The real app, launched in this process on a free loopback port."""
    import app
    demo = app_demo
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_kwargs())
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright, with every non-loopback request blocked."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                           "--disable-background-networking", "--disable-component-update",
                                           "--disable-sync"])
        yield instance
        instance.close()


@pytest.fixture()
def page(browser):
    """A page that may only talk to 127.0.0.1; it records console errors and blocked requests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, reduced_motion="reduce")
    page = context.new_page()
    page.console_errors = []
    page.blocked = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "file://")):
            return r.continue_()
        page.blocked.append(url)
        return r.abort()
    context.route("**/*", route)
    ARTIFACTS.mkdir(exist_ok=True)
    yield page
    context.close()


def pytest_collection_modifyitems(config, items):
    """Everything that launches the app or a browser is slow (`pytest -m "not slow"` is the fast inner loop)."""
    for item in items:
        if item.module.__name__.split(".")[-1].startswith("test_browser_") or {"app_url", "app_demo", "page"} & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
