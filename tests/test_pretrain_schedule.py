"""The training loop's learning-rate schedule survives interruption: a resumed run repeats the uninterrupted run's rates
and weights step for step, and a resumed run with a longer budget continues the decay instead of jumping to the peak.
A tiny linear-regression objective keeps each run to a fraction of a second."""
from __future__ import annotations

import pytest
import torch

from pretrain import train as T


class Tiny(T.Objective):
    """y = x @ w on fixed random data; batch(step) depends only on (seed, step), like the real objectives."""
    family, batch_size, lr, warmup = "tiny", 8, 1e-2, 5

    def __init__(self, seed: int = 0):  # no tokenizer: skip Objective.__init__
        self.seed, self.device = seed, "cpu"
        torch.manual_seed(123)
        self.model = torch.nn.Linear(4, 1)
        self.w = torch.randn(4, 1)

    def modules(self):
        return {"model": self.model}

    def batch(self, step: int) -> dict:
        g = torch.Generator().manual_seed(self.seed * 7919 + step)
        x = torch.randn(self.batch_size, 4, generator=g)
        return {"x": x, "y": x @ self.w, "n_tokens": self.batch_size}

    def loss(self, b):
        loss = torch.nn.functional.mse_loss(self.model(b["x"]), b["y"])
        return loss, {"loss": float(loss.detach())}

    def corpus_name(self) -> str:
        return "tiny"


def run(tmp_path, name: str, **kw) -> tuple[dict[int, float], Tiny, dict]:
    obj, lrs = Tiny(), {}
    state = T.train(obj, tmp_path / f"{name}.pt", on_step=lambda step, lr: lrs.__setitem__(step, lr),
                    log=lambda s: None, **kw)
    return lrs, obj, state


def test_resumed_run_repeats_the_uninterrupted_schedule_and_weights(tmp_path):
    whole, whole_obj, _ = run(tmp_path, "whole", steps=40)
    first, _, _ = run(tmp_path, "parts", steps=40, stop_after=13)       # interrupted after 13 steps
    second, parts_obj, state = run(tmp_path, "parts", steps=40)          # the same command again: resumes
    assert sorted(first) == list(range(13)) and sorted(second) == list(range(13, 40))
    assert {**first, **second} == pytest.approx(whole, rel=1e-12)
    assert state["step"] == 40
    for a, b in zip(whole_obj.model.parameters(), parts_obj.model.parameters()):
        assert torch.equal(a, b)                                          # same data, same rates: same weights


def test_schedule_warms_up_then_decays_to_the_floor(tmp_path):
    lrs, _, _ = run(tmp_path, "shape", steps=40)
    rates = [lrs[k] for k in range(40)]
    assert rates[:5] == pytest.approx([1e-2 * (k + 1) / 5 for k in range(5)])   # linear warm-up to the peak
    assert all(a >= b for a, b in zip(rates[4:], rates[5:]))                       # then never up again
    assert rates[-1] == pytest.approx(1e-2 * (0.05 + 0.95 / 35))                   # one step before the floor


def test_a_longer_budget_on_resume_continues_the_decay_without_a_jump(tmp_path):
    short, _, _ = run(tmp_path, "grow", steps=30)                         # finished: the rate is near its floor
    longer, _, _ = run(tmp_path, "grow", steps=60)                        # resumed with a new, longer budget
    assert sorted(longer) == list(range(30, 60))
    # the old code restarted at the peak (1e-2) here; now the first resumed step continues from where it stopped
    assert longer[30] == pytest.approx(T.scheduled_lr(T.new_phase(0, 30, 1e-2, 5), 30))
    assert longer[30] <= short[29]
    assert all(a >= b for a, b in zip([longer[k] for k in range(30, 59)], [longer[k] for k in range(31, 60)]))


def test_retarget_is_continuous_mid_decay():
    phase = T.new_phase(0, 100, 1e-3, 10)
    for step in (10, 37, 99):
        for end in (120, 500):
            moved = T.retarget(phase, step, end)
            assert T.scheduled_lr(moved, step) == pytest.approx(T.scheduled_lr(phase, step))
            assert T.scheduled_lr(moved, end) == pytest.approx(phase["floor"])
    during_warmup = T.retarget(phase, 3, 500)                              # the warm-up is kept as it was
    assert [T.scheduled_lr(during_warmup, k) for k in range(10)] == [T.scheduled_lr(phase, k) for k in range(10)]


def test_a_time_budget_never_restarts_at_the_peak(tmp_path, monkeypatch):
    """The regression: a resumed run with a time budget used total = 10**9, i.e. the peak rate with no warm-up."""
    first, _, _ = run(tmp_path, "timed", steps=30)
    clock = iter(range(10 ** 6))
    monkeypatch.setattr(T.time, "process_time", lambda: next(clock) * 0.01)  # 0.01 CPU-s per call, deterministic
    resumed, _, _ = run(tmp_path, "timed", minutes=0.05)                  # 3 fake CPU-seconds more
    assert resumed and max(resumed.values()) <= first[29] * 1.0000001


def test_bf16_autocast_trains_fp32_weights_to_the_same_place(tmp_path):
    """The GPU path's precision (bf16 autocast around the forward and loss) runs here on the CPU: the weights stay
    fp32 and the run lands near the fp32 run (bf16 rounds the matmuls only)."""
    fp32_obj = Tiny()
    T.train(fp32_obj, tmp_path / "fp32.pt", steps=40, log=lambda s: None)
    bf16_obj = Tiny()
    state = T.train(bf16_obj, tmp_path / "bf16.pt", steps=40, log=lambda s: None, precision="bf16")
    assert state["step"] == 40
    for a, b in zip(fp32_obj.model.parameters(), bf16_obj.model.parameters()):
        assert b.dtype == torch.float32
        assert not torch.equal(a, b)                                       # bf16 really ran
        torch.testing.assert_close(a, b, atol=0.05, rtol=0.05)
    with pytest.raises(ValueError):
        T.train(Tiny(), tmp_path / "x.pt", steps=2, log=lambda s: None, precision="fp8")


def test_an_exported_tokenizer_does_not_carry_how_this_run_loaded_it(tmp_path, monkeypatch):
    """Every run here is offline (HF_HUB_OFFLINE=1), and transformers saves the `local_files_only` a tokenizer was
    loaded with: the shipped folders got `"local_files_only": true`, which a user's copy would obey. save_folder
    drops it; the shipped tokenizers carry none; the exported tokenizer still tokenizes as the original does."""
    import json

    from transformers import AutoTokenizer
    from model_zoo import tiny
    source = tiny.save("bert", tmp_path / "tiny")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok = AutoTokenizer.from_pretrained(source, local_files_only=True)
    probe = tmp_path / "probe"
    tok.save_pretrained(probe)
    assert json.loads((probe / "tokenizer_config.json").read_text())["local_files_only"] is True  # the trap is real
    out = T.save_folder(tiny.build("bert")[0], tok, tmp_path / "exported")
    config = json.loads((out / "tokenizer_config.json").read_text())
    assert not set(T.LOAD_TIME_KEYS) & set(config)
    reloaded = AutoTokenizer.from_pretrained(out)
    text = "The cat sat on the mat."
    assert reloaded(text)["input_ids"] == tok(text)["input_ids"]
    for shipped in T.MINI.glob("*/tokenizer_config.json"):
        assert not set(T.LOAD_TIME_KEYS) & set(json.loads(shipped.read_text())), shipped
