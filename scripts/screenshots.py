"""Screenshots of the app as a user sees it (offline, default models), for the README and for looking at by eye.

    python scripts/screenshots.py [out_dir] [file ...]     # default: assets/screenshots, every file
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DONE = "#sbs-progress >> text=/(\\d+) of \\1 models done/"  # the side-by-side view: every column in
# (file, tab name, section tab name or None, button selector, wait-for selector[, (text box selector, text)])
SHOTS = [
    ("side_by_side.png", "Side by side", None, "#sbs-run", DONE,
     ("#sbs-text textarea", "She opened the [MASK] and walked into the room.")),
    ("side_by_side_surprise.png", "Side by side", None, "#sbs-run", DONE,
     ("#sbs-text textarea", "The doctor told the nurse that she was late.")),
    ("bert_tokens.png", "BERT", "Tokens & facts", "text=Tokenize", ".tokens .tok"),
    ("bert_fill_mask.png", "BERT", "Fill-mask", "#bert-fm-run", "#bert-fm-bars .js-plotly-plot"),
    ("bert_attention.png", "BERT", "Attention", "#bert-attention-run", "#bert-attention-heatmap .js-plotly-plot"),
    ("electra_rtd.png", "ELECTRA", "ELECTRA: replaced-token detection", "#electra-run", "#electra-heat .tok, #electra-heat span"),
    ("xlnet_permutation.png", "XLNet", "XLNet: permutation orders", "#xlnet-run", "#xlnet-mask .js-plotly-plot"),
    ("embeddings.png", "Embeddings", None, "#emb-run", "#emb-plot .js-plotly-plot"),
    ("compare.png", "Compare", None, None, "#compare-params table"),
    ("pretraining_lab.png", "Pretraining lab", None, "#lab-run", "#lab-electra .js-plotly-plot"),
    ("lab_corruptions.png", "Pretraining lab", None, "#lab-corrupt", "#lab-corruptions .cx-card"),
]


def main(out: Path, only: list[str] | None = None) -> None:
    import app
    from components import app_state
    from model_zoo import loading
    from playwright.sync_api import sync_playwright
    from testkit.net import free_port

    app_state.use(app_state.AppState(loading=loading.Runtime(loading.Settings(device="cpu", offline=True))))
    demo = app.build_app("auto")
    app.configure_queue(demo)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.launch_kwargs())
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        for name, tab, section, button, ready, *typed in SHOTS:
            if only and name not in only:
                continue
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name=tab, exact=True).first.click()
            if section:
                page.get_by_role("tab", name=section, exact=True).first.click()
            for selector, text in typed:
                page.locator(selector).fill(text)
            if button:
                page.locator(button).first.click()
            try:
                page.wait_for_selector(ready, timeout=120_000)
            except Exception as error:  # keep going: the screenshot shows what went wrong
                print(f"{name}: {error}".splitlines()[0])
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / name), full_page=True)
            print("wrote", out / name)
        browser.close()
    demo.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "assets" / "screenshots", sys.argv[2:])
