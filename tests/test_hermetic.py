"""The suite is hermetic: its Hugging Face cache is an empty folder of its own, whatever this machine has cached."""
import os

import huggingface_hub.constants as hub


def test_the_hub_cache_is_the_suites_own_empty_folder():
    assert os.path.basename(os.environ["HF_HOME"]).startswith("explorer-hf-home-")
    assert hub.HF_HUB_CACHE.startswith(os.environ["HF_HOME"])
    assert not any(name.startswith("models--") for name in os.listdir(hub.HF_HUB_CACHE)) \
        if os.path.isdir(hub.HF_HUB_CACHE) else True
