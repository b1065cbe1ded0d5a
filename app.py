"""BERT Family Explorer: parse the flags, compose the tabs, launch. Nothing heavy happens at import.

    python app.py                      # http://127.0.0.1:7860
    python app.py --offline --models mini --device cpu
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"

if os.environ.get("SPACES_ZERO_GPU"):  # ZeroGPU wants `spaces` imported before torch
    import spaces  # noqa: F401


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1, ...")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    parser.add_argument("--offline", action="store_true", help="never contact the Hugging Face Hub")
    parser.add_argument("--models", default="auto", choices=["auto", "hub", "mini"],
                        help="Hub checkpoints, the bundled mini ones, or both (Hub when reachable)")
    parser.add_argument("--max-params", type=float, default=600e6, help="refuse custom checkpoints above this")
    parser.add_argument("--max-models", type=int, default=8, help="models kept loaded at once (LRU)")
    parser.add_argument("--disk-budget-gb", type=float, default=4.0,
                        help="disk kept for custom Hub checkpoints; least recently used deleted beyond it")
    parser.add_argument("--local-folders", nargs="+", metavar="ROOT", default=None,
                        help="let users load checkpoint folders under these roots (on a laptop any folder is "
                             "allowed without this flag; on a public Space or with --share none is)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads per forward pass (0: cores / forward passes allowed at once)")
    return parser.parse_args(argv)


def build_app(models_mode: str = "auto"):
    """The whole Blocks app (importable by tests and by a Space's runtime)."""
    import gradio as gr

    from components import common, compare_tab, embeddings_tab, family_tab, pretraining_lab_tab, share, shared_text
    from components import side_by_side_tab
    from components import finetune_tab, layers_tab
    from components import heads_tab
    from model_zoo import loading
    from model_zoo.registry import FAMILIES

    loading.import_model_classes()
    common.use_plot_style()

    with gr.Blocks(title="BERT Family Explorer") as demo:
        gr.Markdown("# BERT Family Explorer\nType your own text and see how BERT, RoBERTa, ALBERT, DistilBERT, "
                    "ELECTRA and XLNet read it. Every output says which weights produced it.",
                    elem_id="title")
        contexts = []
        with gr.Tabs() as tabs:
            side_by_side = side_by_side_tab.build(models_mode)
            for family in FAMILIES.values():
                contexts.append(family_tab.build(family, models_mode))
            targets = [side_by_side] + [ctx.link_target() for ctx in contexts]
            targets.append(embeddings_tab.build(models_mode))
            targets.append(compare_tab.build(models_mode))
            targets.append(pretraining_lab_tab.build(models_mode))
            targets.append(finetune_tab.build(models_mode))
            targets.append(layers_tab.build(models_mode))
            targets.append(heads_tab.build(models_mode))
        shared_text.wire([side_by_side.options["text"]] + [ctx.text for ctx in contexts])
        demo.load(share.link_opener(targets), None, share.link_outputs(tabs, targets), api_visibility="private",
                  queue=False) \
            .then(None, None, None, js=share.run_js(targets), api_visibility="private")
        for ctx in contexts:
            for fn, inputs, outputs in ctx.on_load:
                demo.load(fn, inputs, outputs, api_visibility="private")
    return demo


def configure_queue(demo) -> dict[str, int]:
    """One queue for everyone, in groups by kind of work (components.common.WORK_KINDS): forward passes run a few at a
    time (EXPLORER_MODEL_CONCURRENCY, 2 for 2 cores; GPU work serialises anyway), cheap rendering never waits behind
    them, latency measurement runs alone. max_size bounds waiting users; each kind has its own time limit."""
    from components.common import assign_queue_groups
    demo.queue(default_concurrency_limit=2, max_size=64)
    return assign_queue_groups(demo)


def theme():
    """Gradio's Soft theme on an indigo one step darker, so that every text on it is readable (WCAG 2.1 AA, 4.5:1):
    its labels (indigo 500 on indigo 100: 3.62:1) and white on its buttons (4.46:1) fell short."""
    import gradio as gr
    indigo = gr.themes.Color(c50="#eef2ff", c100="#e0e7ff", c200="#c7d2fe", c300="#a5b4fc", c400="#818cf8",
                             c500="#4f46e5", c600="#4338ca", c700="#3730a3", c800="#312e81", c900="#1e1b4b",
                             c950="#17153b", name="indigo-darker")
    return gr.themes.Soft(primary_hue=indigo).set(button_primary_background_fill_hover="*primary_600")  # (was 400)


def launch_kwargs() -> dict:
    from components.server_files import MAX_UPLOAD_BYTES
    return dict(theme=theme(), css=(ASSETS / "style.css").read_text(), allowed_paths=[str(ASSETS)],
                js=(ASSETS / "app.js").read_text(), max_file_size=MAX_UPLOAD_BYTES,
                footer_links=["api", "gradio", "settings"])   # Gradio's own footer (its run history link left out)


def is_public(args: argparse.Namespace, environ=os.environ) -> bool:
    """Served to strangers: a Hugging Face Space (its runtime sets SPACE_ID) or a --share link."""
    return bool(environ.get("SPACE_ID")) or args.share


def folder_policy(args: argparse.Namespace, environ=os.environ) -> tuple[bool, tuple[str, ...]]:
    """(may users load local folders, only under which roots): any folder on a laptop; none when public; under
    the roots of --local-folders wherever that flag is given."""
    roots = tuple(args.local_folders or ())
    return bool(roots) or not is_public(args, environ), roots


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if args.offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    from components import app_state, server_files
    from model_zoo import loading
    local_folders, folder_roots = folder_policy(args)
    settings = loading.Settings(device=args.device, dtype=args.dtype, offline=True if args.offline else None,
                                max_params=int(args.max_params), max_models=args.max_models,
                                local_folders=local_folders, folder_roots=folder_roots,
                                disk_budget=int(args.disk_budget_gb * 1024 ** 3))
    app_state.use(app_state.AppState(loading=loading.Runtime(settings)))   # the app's state, in one object
    import threading

    import torch
    torch.set_num_threads(args.threads or torch_threads())
    demo = build_app(args.models)
    configure_queue(demo)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, prevent_thread_lock=True,
                **launch_kwargs())
    # UMAP's numba compiles once per process: after the page is served, at the lowest CPU priority, so that it
    # neither delays the first page nor competes with users' requests for the cores.
    threading.Thread(target=_warm_up_quietly, name="umap-warm-up", daemon=True).start()
    server_files.start_sweeper()   # uploads and written files deleted after server_files.MAX_AGE_S
    demo.block_thread()


def torch_threads() -> int:
    """Threads per forward pass so that the forward passes the queue runs at once share the cores without
    oversubscribing them (2 cores, 2 at once: 1 thread each; two 2-thread passes on 2 cores wait on each other)."""
    from components.common import WORK_KINDS
    return max(1, (os.cpu_count() or 1) // WORK_KINDS["model"]["concurrency_limit"])


def _warm_up_quietly() -> None:
    import threading
    from model_zoo import projection
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: a thread's own nice value
    except (AttributeError, OSError):
        pass
    projection.warm_up()


if __name__ == "__main__":
    main()
