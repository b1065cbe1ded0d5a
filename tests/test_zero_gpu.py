"""ZeroGPU wiring, with a stand-in for the `spaces` package (the real one only works on a ZeroGPU Space): `spaces` is
imported before torch, every forward-pass handler runs inside spaces.GPU(duration=60), cheap handlers do not, and
half precision is chosen on a GPU only where it is safe."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model_zoo.loading import choose_dtype

ROOT = Path(__file__).resolve().parent.parent

STAND_IN = '''
import sys
TORCH_BEFORE_SPACES = "torch" in sys.modules
wrapped = []
def GPU(duration=60):
    def decorate(fn):
        wrapped.append((fn.__name__, duration))
        return fn
    return decorate
'''

PROBE = '''
import json, os, sys
import app
import spaces
app.build_app("mini")
print(json.dumps({"torch_before_spaces": spaces.TORCH_BEFORE_SPACES, "wrapped": spaces.wrapped}))
'''


@pytest.mark.slow  # a fresh interpreter imports the whole app
def test_on_zero_gpu_model_handlers_get_a_gpu_and_spaces_comes_before_torch(tmp_path):
    (tmp_path / "spaces.py").write_text(STAND_IN)
    env = {**os.environ, "SPACES_ZERO_GPU": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["torch_before_spaces"] is False
    wrapped = {name for name, _ in probe["wrapped"]}
    assert {name: d for name, d in probe["wrapped"]}.get("guess") == 60
    for forward in ("guess", "lens", "show_attention", "replace_and_detect", "show_order", "embeddings_map",
                    "tokenize_and_describe", "show_corruptions", "classify"):
        assert forward in wrapped, forward
    for cheap in ("describe_only", "show_lab", "stop_measuring", "change_head", "show_parameters"):
        assert cheap not in wrapped, cheap


def test_half_precision_only_on_a_gpu_and_never_for_xlnet():
    assert choose_dtype("cuda", "bert") == torch.float16
    assert choose_dtype("cuda:1", "electra") == torch.float16
    assert choose_dtype("cuda", "xlnet") == torch.float32      # its -1e30 attention masking overflows in fp16
    assert choose_dtype("cpu", "bert") == torch.float32
    assert choose_dtype("cpu", "bert", "bfloat16") == torch.bfloat16   # asked for explicitly
    assert choose_dtype("cuda", "xlnet", "float16") == torch.float32  # even when asked: transformers' XLNet fails


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_gives_the_fp32_answers(dtype):
    """What a GPU runs (half precision) agrees with fp32: same top guesses, probabilities within rounding; XLNet
    stays fp32. Run on CPU, where torch also computes in half precision."""
    from model_zoo import electra, fill_mask, loading

    def answers():
        masked = fill_mask.fill_mask(loading.load(fill_mask.fill_mask_checkpoint("mini-bert")),
                                     "and the lord said unto [MASK], go.", k=3).masks[0]
        gen, disc = loading.load("mini-electra-generator"), loading.load("mini-electra-discriminator")
        detected = electra.replace_and_detect(gen, disc, "In the beginning God created the heaven.", seed=1)
        return masked.readable, masked.probs, detected.detection.prob_replaced, loading.load("mini-xlnet").model.dtype

    full = answers()
    try:
        loading.configure(loading.Settings(device="cpu", offline=True, dtype=dtype))
        half = answers()
        assert loading.load("mini-bert").model.dtype == getattr(torch, dtype)
    finally:
        loading.configure(loading.Settings(device="cpu", offline=True))
    assert set(half[0]) == set(full[0]) and half[0][0] == full[0][0]
    fp32 = dict(zip(full[0], full[1]))
    for got, wanted in zip(half[0], full[0]):   # the order may differ only between near-ties (bf16 keeps 8 bits:
        assert abs(fp32[got] - fp32[wanted]) < 0.01, (half, full)   # mini-BERT v5's "me" 0.0851, "them" 0.0822)
    np.testing.assert_allclose(sorted(half[1]), sorted(full[1]), atol=0.01)
    np.testing.assert_allclose(half[2], full[2], atol=0.02)
    assert half[3] == full[3] == torch.float32
