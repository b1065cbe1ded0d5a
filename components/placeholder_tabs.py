"""Tabs whose views are still being built say what is coming (replaced by their own modules when they land)."""
import gradio as gr


def build_embeddings() -> None:
    with gr.Tab("Embeddings", id="embeddings"):
        gr.Markdown("### Embedding map\nComing next: UMAP (or PCA) maps of several models' token and sentence "
                    "vectors side by side, with nearest neighbours.")


def build_compare() -> None:
    with gr.Tab("Compare", id="compare"):
        gr.Markdown("### Compare\nComing next: parameters, latency, memory and efficiency of every family, "
                    "measured on this machine.")
