"""The inference layer: registry, loading and one module per capability. Returns plain data; never imports gradio."""
