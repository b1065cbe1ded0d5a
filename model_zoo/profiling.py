"""Profiling the family side by side: exact parameters (offline), analytic FLOPs, measured latency, memory, GFLOP/s.

Parameters come from the checkpoint's config on the meta device (no memory, no weights), so they are exact offline.
FLOPs are counted analytically per family (matrix products only: 2 FLOPs per multiply-add; embedding lookups,
softmax, norms, biases and activations are not counted). Latency is measured under `torch.inference_mode()` with a
warm-up, then the median and p90 of repeated runs; where the weights cannot be had, a randomly initialised model of
the same config is timed and labelled so (latency does not depend on the values).

    >>> p = parameter_breakdown(CHECKPOINTS["albert-base-v2"])      # doctest: +SKIP
    >>> p.total, p.per_forward                                      # (11_813_810, 89_781_554)
    >>> forward_flops(config, "BertForPreTraining", batch=1, length=128).total   # doctest: +SKIP
"""
from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import threading
import time
from dataclasses import replace, asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from model_zoo import loading
from model_zoo.config_fields import field, required
from model_zoo.facts import config_for, max_tokens
from model_zoo.registry import CHECKPOINTS, Checkpoint, family_of_model_type

RANDOM_SAME_CONFIG = "same-config random weights: latency does not depend on values"
DEFAULT_LENGTHS = (8, 32, 128)        # what the tab measures by default (about a minute for the defaults on 2 cores)
ALL_LENGTHS = (8, 32, 128, 512)
DEFAULT_BATCHES = (1,)
ALL_BATCHES = (1, 8)
CACHE_DIR = Path(os.environ.get("EXPLORER_CACHE_DIR", Path.home() / ".cache" / "bert-family-explorer"))

# The parts a parameter can belong to, in the order they are stacked in the bars.
PARTS = ("token embeddings", "position embeddings", "type embeddings", "embedding projection",
         "embedding norm/other", "encoder layers", "pooler", "heads")


def default_keys() -> list[str]:
    """The default checkpoints (the six families; ELECTRA's generator and discriminator both)."""
    return [c.key for c in CHECKPOINTS.values() if c.default]


# ---------------------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class ParameterBreakdown:
    key: str
    family: str
    model_class: str
    total: int                     # stored parameters (tied matrices counted once), = sum(p.numel())
    parts: dict[str, int]          # PARTS -> count; sums to total
    per_forward: int               # parameters applied in one forward pass (ALBERT: the shared layer L times)
    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int
    shared_layers: bool
    config_source: str

    @property
    def bytes_fp32(self) -> int:
        return self.total * 4

    @property
    def bytes_fp16(self) -> int:
        return self.total * 2


def part_of(name: str) -> str:
    """Which part of the model a parameter name belongs to (names with or without the base-model prefix)."""
    if "embedding_hidden_mapping_in" in name or "embeddings_project" in name:
        return "embedding projection"          # ALBERT's E -> H (and ELECTRA's, where E != H)
    if "word_embedding" in name:
        return "token embeddings"
    if "position_embeddings" in name:
        return "position embeddings"
    if "token_type_embeddings" in name:
        return "type embeddings"
    if re.search(r"(^|\.)embeddings\.", name) or re.search(r"(^|\.)mask_emb$", name):
        return "embedding norm/other"          # the embeddings' LayerNorm; XLNet's mask embedding
    if re.search(r"(^|\.)(encoder\.|transformer\.layer\.|layer\.\d)", name):
        return "encoder layers"
    if re.search(r"(^|\.)pooler\.", name):
        return "pooler"
    return "heads"


def breakdown_of_model(model, key: str, family: str, config: dict, config_source: str) -> ParameterBreakdown:
    """The breakdown of a built model (meta or real): named parameters, each tied matrix once."""
    parts = dict.fromkeys(PARTS, 0)
    shared_group = 0
    for name, p in model.named_parameters():  # remove_duplicate=True: tied decoder weights appear once
        parts[part_of(name)] += p.numel()
        if "albert_layer_groups" in name:
            shared_group += p.numel()
    total = sum(parts.values())
    layers = required(config, "layers")
    groups = int(config.get("num_hidden_groups", 1) or 1)
    # ALBERT: each layer group is applied layers / groups times in one forward pass.
    per_forward = total + shared_group * (layers // groups - 1) if shared_group else total
    hidden = required(config, "hidden")
    return ParameterBreakdown(
        key=key, family=family, model_class=type(model).__name__, total=total, parts=parts, per_forward=per_forward,
        layers=layers, hidden=hidden, heads=required(config, "heads"),
        intermediate=int(field(config, "intermediate", 4 * hidden)),
        vocab=int(config["vocab_size"]), shared_layers=bool(shared_group), config_source=config_source)


def meta_model(config: dict, model_class: str):
    """`model_class` built from `config` on the meta device: shapes without memory (under the loader's
    construction lock: a meta-device build racing a real load would leave that model on the meta device)."""
    return loading.build_on_meta(config, model_class)


@lru_cache(maxsize=64)
def parameter_breakdown(checkpoint: Checkpoint) -> ParameterBreakdown:
    """Exact parameters of a checkpoint from its config alone (works offline for the defaults)."""
    config, source = config_for(checkpoint)
    return breakdown_of_model(meta_model(config, checkpoint.model_class), checkpoint.key, checkpoint.family, config,
                              source)


def parameter_breakdowns(specs: list[str]) -> list[ParameterBreakdown]:
    return [parameter_breakdown(loading.resolve(spec)) for spec in specs]


# ---------------------------------------------------------------------------------------------------- FLOPs
@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one forward pass (2 per multiply-add, matrix products only), by where they are spent."""
    batch: int
    length: int
    embedding_projection: int   # ALBERT / ELECTRA: E -> H
    attention_projections: int  # Q, K, V and the output projection
    attention_scores: int       # Q K^T and the weighted sum of V
    relative_attention: int     # XLNet only: position projection, position and segment terms
    feed_forward: int
    heads: int                  # pooler and task heads (the vocabulary projection dominates for MLM heads)

    @property
    def total(self) -> int:
        return (self.embedding_projection + self.attention_projections + self.attention_scores
                + self.relative_attention + self.feed_forward + self.heads)


# Head modules applied to one vector per sequence (the [CLS]/summary position), not to every token.
_SEQUENCE_LEVEL = re.compile(r"(^|\.)(pooler|seq_relationship|sop_classifier|pre_classifier|classifier|"
                             r"sequence_summary)(\.|$)")


def _head_flops(model, batch: int, length: int) -> int:
    """Every Linear outside the embeddings and encoder: 2 x in x out x (tokens it is applied to)."""
    import torch
    flops = 0
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or part_of(name + ".weight") not in ("pooler", "heads"):
            continue
        rows = batch if _SEQUENCE_LEVEL.search(name) else batch * length
        flops += 2 * rows * module.in_features * module.out_features
    return flops


def forward_flops(config: dict, model_class: str, batch: int, length: int, model=None) -> FlopCount:
    """Analytic FLOPs of one forward pass of `model_class` on `batch` sequences of `length` tokens, no padding.

    Per layer (H hidden, I feed-forward, n = batch x length tokens):
      Q, K, V and output projections 4 x 2nH^2; scores Q K^T and weights x V 2 x 2 batch length^2 H;
      feed-forward 2 x 2nHI. XLNet adds the relative-position projection of its 2 x length positions (2 x 2nH^2),
      the position term against those 2 x length keys (2 x 2 batch length^2 H) and the segment term
      (2 x 2nH + 2 x 2 batch heads length^2). ALBERT and ELECTRA project embeddings E -> H (2nEH).
    Heads are counted from the model's own Linear modules (built on the meta device when not given).
    """
    model_type = config["model_type"]
    layers = required(config, "layers")
    hidden = required(config, "hidden")
    inner = int(field(config, "intermediate", 4 * hidden))
    n_heads = required(config, "heads")
    embedding = int(field(config, "embedding", hidden))
    b, t, n = batch, length, batch * length
    family = family_of_model_type(model_type)
    # a factorised embedding (ALBERT) projects E -> H even when E == H
    projection = 2 * n * embedding * hidden if embedding != hidden or (family and family.shared_layers) else 0
    attention_projections = layers * 4 * 2 * n * hidden * hidden
    attention_scores = layers * 2 * 2 * b * t * t * hidden
    feed_forward = layers * 2 * 2 * n * hidden * inner
    relative = 0
    if family and family.relative_positions:
        relative = layers * (2 * 2 * n * hidden * hidden      # k_head_r: 2t relative positions through W_r
                             + 2 * 2 * b * t * t * hidden      # position term: queries against 2t positions
                             + 2 * 2 * n * hidden              # segment term: queries against 2 segment vectors
                             + 2 * 2 * b * n_heads * t * t)    # ... spread to every (i, j) pair
    model = model if model is not None else meta_model(config, model_class)
    return FlopCount(b, t, projection, attention_projections, attention_scores, relative, feed_forward,
                     _head_flops(model, b, t))


# ---------------------------------------------------------------------------------------------------- measuring
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


# ---------------------------------------------------------------------------------------------------- the cache
def cache_path(device_key: str, cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or CACHE_DIR) / f"compare-{device_key}.json"


def result_to_json(result: CompareResult) -> dict:
    return asdict(result)


def result_from_json(data: dict) -> CompareResult:
    return CompareResult(environment=Environment(**data["environment"]),
                         measurements=tuple(Measurement(**m) for m in data["measurements"]),
                         notes=tuple(data["notes"]), memory_kind=data["memory_kind"], finished=data["finished"],
                         stopped=data.get("stopped", False), seconds=data.get("seconds", 0.0))


def save_cached(result: CompareResult, cache_dir: Path | None = None) -> Path:
    path = cache_path(result.environment.device_key, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result_to_json(result), indent=1))
    return path


def load_cached(device: str | None = None, cache_dir: Path | None = None) -> CompareResult | None:
    """The last measurement made on this device, or None (a broken file counts as none)."""
    device = device or loading.choose_device(loading.current_settings().device)
    try:
        path = cache_path(environment(device).device_key, cache_dir)
        return result_from_json(json.loads(path.read_text())) if path.exists() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    claim: str
    source: str
    measured: str
    verdict: str          # "holds", "does not hold", "roughly", or "not measured"


NOT_MEASURABLE = "not measurable here"


def speed_claim(result: CompareResult | None, slow_key: str, fast_key: str, claimed: float) -> tuple[str, str]:
    """(what was measured, verdict) for "fast_key is `claimed` times as fast as slow_key".

    At each size both were timed: the ratio of medians, and an interval from the quartiles (slow q1 / fast q3 to
    slow q3 / fast q1). A verdict needs at least two sizes that agree, each with its interval wholly above the claim
    ("holds") or wholly below it ("does not hold"); an interval that straddles it, sizes that disagree, or a missing
    spread give "not measurable here", with the figures."""
    if result is None:
        return "not timed yet (time both models to check)", "not measured"
    slow = {(m.batch, m.length): m for m in result.measurements if m.key == slow_key}
    fast = {(m.batch, m.length): m for m in result.measurements if m.key == fast_key}
    points = sorted(set(slow) & set(fast), key=lambda p: (p[1], p[0]))
    if not points:
        return "not timed yet (time both models to check)", "not measured"
    parts, verdicts = [], []
    for point in points:
        s, f = slow[point], fast[point]
        ratio = s.median_ms / f.median_ms
        if s.q1_ms > 0 and f.q1_ms > 0 and s.runs >= 3 and f.runs >= 3:
            low, high = s.q1_ms / f.q3_ms, s.q3_ms / f.q1_ms
            verdicts.append("holds" if low >= claimed else "does not hold" if high < claimed else NOT_MEASURABLE)
            parts.append(f"batch {point[0]} x {point[1]} tokens: {ratio:.2f}x [{low:.2f}-{high:.2f}]")
        else:
            verdicts.append(NOT_MEASURABLE)
            parts.append(f"batch {point[0]} x {point[1]} tokens: {ratio:.2f}x (no spread recorded)")
    measured = "; ".join(parts) + f" (claim: {claimed:.1f}x; median ratio [interval from the quartiles])"
    if len(points) < 2:
        return measured + "; one size only: measure at least two", NOT_MEASURABLE
    env = result.environment
    busy = f"; the machine was busy (load {max(env.load_before, env.load_after):.1f} on {env.cores} cores)" \
        if env.busy else ""
    if env.device.startswith("cuda"):
        lengths = [p[1] * p[0] for p in points]
        if slow[points[-1]].median_ms < 2 * slow[points[0]].median_ms and max(lengths) >= 4 * min(lengths):
            return (measured + "; the GPU is launch-bound at these sizes (time hardly grows with the input): "
                    "measure larger batches", NOT_MEASURABLE)
    if len(set(verdicts)) == 1 and verdicts[0] != NOT_MEASURABLE:
        return measured + busy, verdicts[0]
    return measured + busy, NOT_MEASURABLE


def claims_check(params: dict[str, ParameterBreakdown], result: CompareResult | None = None) -> list[Claim]:
    """The tutorials' claims about the family, each against what this machine and these configs say."""
    claims = []
    bert, distil = params.get("bert-base-uncased"), params.get("distilbert-base-uncased")
    if bert and distil:
        smaller = 1 - distil.total / bert.total
        claims.append(Claim("DistilBERT is 40% smaller than BERT", "Sanh et al., 2019",
                            f"{distil.total / 1e6:.1f}M vs {bert.total / 1e6:.1f}M parameters: {smaller:.0%} smaller",
                            "holds" if abs(smaller - 0.40) <= 0.05 else "does not hold"))
        measured, verdict = speed_claim(result, bert.key, distil.key, 1.6)
        claims.append(Claim("DistilBERT is 60% faster than BERT", "Sanh et al., 2019", measured, verdict))
    albert = params.get("albert-base-v2")
    if bert and albert:
        ok = abs(albert.total / 12e6 - 1) <= 0.1 and abs(bert.total / 110e6 - 1) <= 0.1
        claims.append(Claim("ALBERT-base has 12M parameters against BERT-base's 110M", "Lan et al., 2019",
                            f"{albert.total / 1e6:.1f}M vs {bert.total / 1e6:.1f}M stored; but ALBERT applies "
                            f"{albert.per_forward / 1e6:.1f}M per forward pass (one layer used {albert.layers} times),"
                            f" so it is not cheaper to run", "holds" if ok else "does not hold"))
    electra = params.get("electra-small-discriminator")
    if bert and electra:
        ratio = electra.total / bert.total
        measured = (f"weights {electra.bytes_fp32 / 2**20:.0f} MB vs {bert.bytes_fp32 / 2**20:.0f} MB in fp32 "
                    f"({ratio:.0%})")
        timed = result.measurements if result else ()
        theirs = {(m.batch, m.length): m for m in timed if m.key == bert.key}
        both = [m for m in timed if m.key == electra.key and (m.batch, m.length) in theirs]
        if both:
            e = max(both, key=lambda m: m.batch * m.length)
            b = theirs[(e.batch, e.length)]
            measured += (f"; weights + growth while running at batch {e.batch}, {e.length} tokens: "
                         f"{e.weights_mb + e.peak_memory_mb:.0f} MB vs {b.weights_mb + b.peak_memory_mb:.0f} MB")
        claims.append(Claim("ELECTRA-Small needs a fraction of BERT's memory", "Clark et al., 2020", measured,
                            "holds" if ratio <= 0.25 else "does not hold"))
    roberta = params.get("roberta-base")
    if bert and roberta:
        same = (roberta.layers, roberta.hidden, roberta.heads, roberta.intermediate) == \
               (bert.layers, bert.hidden, bert.heads, bert.intermediate)
        same_layers = roberta.parts["encoder layers"] == bert.parts["encoder layers"]
        embedding_gap = sum(roberta.parts[p] for p in PARTS[:5]) - sum(bert.parts[p] for p in PARTS[:5])
        claims.append(Claim("RoBERTa keeps BERT's architecture", "Liu et al., 2019",
                            f"{roberta.layers} layers, {roberta.hidden} hidden, {roberta.heads} heads, "
                            f"{roberta.intermediate} feed-forward in both; encoder layers "
                            f"{roberta.parts['encoder layers']:,} vs {bert.parts['encoder layers']:,}; embeddings "
                            f"differ by {embedding_gap / 1e6:+.1f}M (vocabulary {roberta.vocab:,} vs {bert.vocab:,})",
                            "holds" if same and same_layers else "does not hold"))
    return claims
