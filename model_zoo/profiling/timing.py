"""The timing harness: each model at each (batch, length) under `torch.inference_mode()`, a memory run, a warm-up,
then the median and quartiles of repeated runs; where the weights cannot be had, a randomly initialised model of the
same config is timed and labelled so (latency does not depend on the values). Also where it ran (Environment) and the
result types that the cache, the claims and the Compare tab read.
"""
from __future__ import annotations

import math
import os
import platform
import re
import statistics
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from model_zoo import loading
from model_zoo.facts import config_for, max_tokens
from model_zoo.profiling.flops import forward_flops
from model_zoo.registry import Checkpoint

RANDOM_SAME_CONFIG = "same-config random weights: latency does not depend on values"
DEFAULT_LENGTHS = (8, 32, 128)        # what the tab measures by default (about a minute for the defaults on 2 cores)
ALL_LENGTHS = (8, 32, 128, 512)
DEFAULT_BATCHES = (1,)
ALL_BATCHES = (1, 8)


@dataclass(frozen=True)
class Environment:
    """Where a measurement ran. `busy_note` says when other work shared the cores."""
    device: str          # "cpu" or "cuda: NVIDIA H100 ..."
    device_key: str      # file-name safe, for the per-device cache
    threads: int         # torch intra-op threads
    torch: str
    transformers: str
    python: str
    machine: str
    attention: str = "eager (what the app runs: attention maps need it)"
    cores: int = 0               # CPU cores visible
    load_before: float = -1.0    # 1-minute load average when the measurement started (-1: unknown)
    load_after: float = -1.0     # ... and when it ended

    @property
    def busy(self) -> bool:
        """Other work shared the cores (load above one per core): latencies are noise, verdicts are withheld."""
        return self.cores > 0 and max(self.load_before, self.load_after) > self.cores

    @property
    def busy_note(self) -> str:
        if not self.busy:
            return ""
        return (f"The machine was busy (load average up to {max(self.load_before, self.load_after):.1f} on "
                f"{self.cores} cores): other work shared the cores, so these latencies are noisy; speed verdicts are "
                f"given only where the spreads do not overlap.")


@dataclass(frozen=True)
class Measurement:
    """One model at one (batch, length): latency, throughput, memory, efficiency."""
    key: str
    family: str
    weights: str           # which weights were timed, said plainly
    dtype: str
    batch: int
    length: int
    runs: int
    median_ms: float
    p90_ms: float
    tokens_per_s: float
    flops: int
    gflops_per_s: float
    peak_memory_mb: float  # CUDA: peak allocated during the forward; CPU: resident-set growth during it (sampled)
    weights_mb: float      # parameters and buffers actually held
    q1_ms: float = 0.0     # first and third quartiles of the runs (0: not recorded, e.g. an old cached result)
    q3_ms: float = 0.0


@dataclass(frozen=True)
class CompareResult:
    environment: Environment
    measurements: tuple[Measurement, ...]
    notes: tuple[str, ...]       # skipped points, failures, the stop, the limits of the memory figure
    memory_kind: str
    finished: str                # ISO time
    stopped: bool = False
    seconds: float = 0.0


MEMORY_NOTE_CPU = ("CPU memory is the growth of the process's resident set during the first forward pass at each "
                   "size, sampled every millisecond (psutil). Its limits: the allocator reuses memory freed by earlier "
                   "runs (so growth can read low, even 0), peaks shorter than a sample are missed, and other work in "
                   "the same process counts too. The weights column is exact.")
MEMORY_NOTE_CUDA = ("GPU memory is torch.cuda.max_memory_allocated during the first forward pass at each size, above "
                    "what was held before (exact for PyTorch's allocations).")


def environment(device: str) -> Environment:
    import torch
    import transformers
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        label = f"{device}: {name}"
    else:
        name = platform.processor() or platform.machine()
        label = f"cpu ({os.cpu_count()} cores visible)"
    key = re.sub(r"[^A-Za-z0-9]+", "-", device if device == "cpu" else f"{device}-{name}").strip("-").lower()
    return Environment(device=label, device_key=key, threads=torch.get_num_threads(), torch=torch.__version__,
                       transformers=transformers.__version__, python=platform.python_version(),
                       machine=f"{platform.system()} {platform.machine()}", cores=os.cpu_count() or 0,
                       load_before=_load())


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return -1.0


def _rss() -> int:
    import psutil
    return psutil.Process().memory_info().rss


class _RssSampler:
    """The highest resident set seen while running (a thread samples every millisecond)."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def random_inputs(model, batch: int, length: int) -> dict:
    """Token ids drawn from the vocabulary (fixed seed), full attention mask, zero segment ids where accepted."""
    import inspect

    import torch
    generator = torch.Generator().manual_seed(0)
    vocab = int(model.config.vocab_size)
    ids = torch.randint(min(5, vocab - 1), vocab, (batch, length), generator=generator)  # (b, T)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    return {k: v.to(model.device) for k, v in inputs.items()}


def time_forward(model, inputs: dict, warmup: int = 1, min_runs: int = 3, max_runs: int = 30,
                 budget_s: float = 1.0, should_stop: Callable[[], bool] = lambda: False
                 ) -> tuple[list[float], int]:
    """(seconds of each timed run, peak memory growth in bytes) of `model(**inputs)` under inference mode.

    Memory is taken in a first run of its own (on CPU the allocator would otherwise reuse what the warm-up freed, and
    sampling would slow the timed runs); then `warmup` runs; then at least `min_runs` timed runs, going on until
    `budget_s` is spent or `max_runs` is reached.
    """
    import torch
    cuda = model.device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times: list[float] = []
    with torch.inference_mode():
        if cuda:
            sync()
            torch.cuda.reset_peak_memory_stats(model.device)
            before = torch.cuda.memory_allocated(model.device)
            model(**inputs)
            sync()
            peak = torch.cuda.max_memory_allocated(model.device) - before
        else:
            before = _rss()
            with _RssSampler() as sampler:
                model(**inputs)
            peak = sampler.peak - before
        for _ in range(warmup):
            model(**inputs)
        sync()
        started = time.perf_counter()
        while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - started < budget_s):
            if should_stop():
                break
            t0 = time.perf_counter()
            model(**inputs)
            sync()
            times.append(time.perf_counter() - t0)
    return times, max(0, int(peak))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class _Subject:
    """A model ready to time, and how to say which weights it holds."""
    checkpoint: Checkpoint
    model: object
    weights: str
    config: dict


def _subject(spec: str, device: str) -> _Subject:
    """The app's own loaded model when its weights can be had, else a same-config random model (labelled)."""
    import torch
    import transformers
    checkpoint = loading.resolve(spec)
    config, _ = config_for(checkpoint)
    if loading.is_available(checkpoint):
        loaded = loading.load(checkpoint)
        return _Subject(checkpoint, loaded.model, loaded.report.weights, config)
    dtype = loading.choose_dtype(device, checkpoint.family, loading.current_settings().dtype)
    torch.manual_seed(0)
    model = getattr(transformers, checkpoint.model_class)._from_config(loading.config_object(config),
                                                                        attn_implementation="eager", dtype=dtype)
    return _Subject(checkpoint, model.to(device).eval(), RANDOM_SAME_CONFIG, config)


def measure(specs: list[str], lengths=DEFAULT_LENGTHS, batches=DEFAULT_BATCHES, *, warmup: int = 1,
            min_runs: int = 3, max_runs: int = 30, budget_s: float = 1.0,
            progress: Callable[[float, str], None] = lambda fraction, message: None,
            should_stop: Callable[[], bool] = lambda: False) -> CompareResult:
    """Time every model at every (batch, length); cancellable between runs through `should_stop`."""
    import gc

    import torch
    started = time.perf_counter()
    device = loading.choose_device(loading.current_settings().device)
    env = environment(device)
    points = [(b, t) for b in sorted(set(batches)) for t in sorted(set(lengths))]
    total_steps = max(1, len(specs) * len(points))
    measurements: list[Measurement] = []
    notes: list[str] = [MEMORY_NOTE_CUDA if device.startswith("cuda") else MEMORY_NOTE_CPU]
    stopped = False
    step = 0
    for spec in specs:
        if should_stop():
            stopped = True
            break
        progress(step / total_steps, f"Preparing {spec}…")
        try:
            subject = _subject(spec, device)
        except loading.ModelError as error:
            notes.append(f"{spec}: not measured ({error})")
            step += len(points)
            continue
        model = subject.model
        weights_mb = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]) / 2**20
        dtype = str(next(model.parameters()).dtype).replace("torch.", "")
        limit = max_tokens(model.config)
        for b, t in points:
            step += 1
            if should_stop():
                stopped = True
                break
            if t > limit:
                notes.append(f"{subject.checkpoint.key}: length {t} skipped (the model takes at most {limit} tokens)")
                continue
            progress((step - 1) / total_steps, f"Timing {subject.checkpoint.key}: batch {b}, {t} tokens…")
            times, peak = time_forward(model, random_inputs(model, b, t), warmup, min_runs, max_runs, budget_s,
                                       should_stop)
            if len(times) < min_runs:
                stopped = True
                break
            median = statistics.median(times)
            flops = forward_flops(subject.config, subject.checkpoint.model_class, b, t, model).total
            measurements.append(Measurement(
                key=subject.checkpoint.key, family=subject.checkpoint.family, weights=subject.weights, dtype=dtype,
                batch=b, length=t, runs=len(times), median_ms=median * 1e3, p90_ms=percentile(times, 90) * 1e3,
                tokens_per_s=b * t / median, flops=flops, gflops_per_s=flops / median / 1e9,
                peak_memory_mb=peak / 2**20, weights_mb=weights_mb, q1_ms=percentile(times, 25) * 1e3,
                q3_ms=percentile(times, 75) * 1e3))
        if subject.weights == RANDOM_SAME_CONFIG:
            del model, subject
            gc.collect()
        if stopped:
            break
    if stopped:
        notes.append("Stopped before the end: the results above are what was measured until then.")
    env = replace(env, load_after=_load())
    progress(1.0, "Done")
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return CompareResult(env, tuple(measurements), tuple(notes),
                         "CUDA peak allocated" if device.startswith("cuda") else "RSS growth (CPU)",
                         time.strftime("%Y-%m-%dT%H:%M:%S"), stopped, time.perf_counter() - started)


def combine(results: list[CompareResult]) -> CompareResult:
    """Several runs of `measure` (one per model, say) as one result."""
    if not results:
        raise ValueError("nothing was measured")
    notes = [results[0].notes[0]] + [n for r in results for n in r.notes[1:]]
    environment = replace(results[0].environment, load_before=max(r.environment.load_before for r in results),
                          load_after=max(r.environment.load_after for r in results))
    return CompareResult(environment, tuple(m for r in results for m in r.measurements),
                         tuple(dict.fromkeys(notes)), results[0].memory_kind, results[-1].finished,
                         any(r.stopped for r in results), sum(r.seconds for r in results))
