"""Gradio views: one module per view or tab. They render model_zoo's dataclasses and never import torch."""
