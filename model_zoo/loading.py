"""Loading checkpoints: resolve what the user asked for, validate it, load it once, cache it.

The state of loading is one `Runtime` (settings, model cache, disk budget): app.py builds it and installs it with
`use`; tests build their own. Importing this module makes none (the first call that needs one makes a default).

A spec is a registry key ("bert-base-uncased"), a Hub id ("google-bert/bert-base-uncased") or a local folder. Custom
checkpoints are read config-first: an unsupported architecture or one above the size bound is refused before any
weight is fetched, and `trust_remote_code` is never passed. Offline (no Hub), loads use only local files and fail in
seconds with a message that says how to provide the model.

    >>> lm = load("bert-base-uncased")          # doctest: +SKIP
    >>> lm.report.weights                       # "pretrained: google-bert/bert-base-uncased"
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from model_zoo.disk_budget import HUB_FILES
from model_zoo.registry import (FAMILIES, SUPPORTED_CLASSES, Capability, Checkpoint, capabilities_of,
                                family_of_model_type, find_checkpoint, role_of_class)

BUNDLED_CONFIGS = Path(__file__).resolve().parent.parent / "assets" / "configs"
RANDOM_WEIGHTS_MARK = "explorer_random_weights"  # set in config.json of fixtures whose weights are random
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


class ModelError(Exception):
    """A model cannot be used; the message is written for the user."""


class ModelUnavailable(ModelError):
    """The weights cannot be had here (offline and not cached, or not found)."""


class UnsupportedModel(ModelError):
    """An architecture we do not support, a checkpoint too large, or a malformed id."""


@dataclass
class Settings:
    device: str = "auto"            # "auto" (CUDA if present), "cpu", "cuda", "cuda:1", ...
    dtype: str = "auto"             # "auto" (fp32 on CPU, fp16 on GPU where safe), "float32", "float16", "bfloat16"
    offline: bool | None = None     # None: probe the Hub once; True: local files only
    max_params: int = 600_000_000   # custom checkpoints above this are refused
    max_models: int = 8             # LRU bound on cached models
    max_bytes: int = 6 * 1024 ** 3  # LRU bound on cached weights
    hub_timeout_s: float = 3.0
    local_folders: bool = True      # may a user load a folder of this machine? (off on a public Space, app.py)
    folder_roots: tuple[str, ...] = ()  # when folders are on and this is not empty: only folders under these
    disk_budget: int = 4 * 1024 ** 3    # bytes of custom Hub checkpoints kept on disk (model_zoo/disk_budget.py)


@dataclass(frozen=True)
class LoadReport:
    """What was loaded, said plainly so the UI never passes random weights off as a trained model."""
    source: str                       # Hub id or folder the weights came from
    device: str
    dtype: str
    weights: str                      # human label: "pretrained: <id>", "RANDOM weights (test fixture)", ...
    trained: bool                     # False when the weights are known to be random
    newly_initialized: tuple[str, ...] = ()   # parameter names missing from the checkpoint
    untrained_capabilities: tuple[str, ...] = ()  # capabilities whose head was newly initialised
    load_seconds: float = 0.0
    n_parameters: int = 0
    attn_implementation: str = "eager"

    def head_is_trained(self, capability: Capability) -> bool:
        return self.trained and capability.value not in self.untrained_capabilities

    def summary(self) -> str:
        text = f"{self.weights} · {self.device} · {self.dtype} · {self.n_parameters / 1e6:.1f}M parameters"
        if self.untrained_capabilities:
            text += " · NEWLY INITIALISED (random) heads: " + ", ".join(self.untrained_capabilities)
        return text


@dataclass
class LoadedModel:
    checkpoint: Checkpoint
    model: Any            # a transformers PreTrainedModel in eval mode
    tokenizer: Any        # its tokenizer
    report: LoadReport

    @property
    def family(self):
        return FAMILIES[self.checkpoint.family]

    @property
    def config(self):
        return self.model.config

    @property
    def device(self):
        return self.model.device


# ---------------------------------------------------------------------------------------------------- settings
_runtime: "Runtime | None" = None
_runtime_lock = threading.Lock()


def use(runtime: "Runtime") -> "Runtime":
    """Install the runtime every load reads from now on (app.py: once; tests: their own). Returns it."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime
    return runtime


def runtime() -> "Runtime":
    """The installed runtime (a default one, made on first use, when none was installed)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime


def configure(settings: Settings) -> "Runtime":
    """A fresh runtime with these settings, installed: an empty cache, nothing loaded."""
    return use(Runtime(settings))


def current_settings() -> Settings:
    return runtime().settings


def hub_reachable() -> bool:
    """Can the Hub be reached? Decided once per runtime, within a few seconds (never the ~46 s default of a failing
    download)."""
    state = runtime()
    if state.hub is None:
        state.hub = _probe_hub(state.settings)
    return state.hub


def _probe_hub(settings: Settings) -> bool:
    if settings.offline is not None:
        return not settings.offline
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    host = re.sub(r"^https?://", "", os.environ.get("HF_ENDPOINT", "https://huggingface.co")).split("/")[0]

    def connect() -> bool:
        with socket.create_connection((host, 443), timeout=settings.hub_timeout_s):
            return True
    with ThreadPoolExecutor(1) as pool:  # DNS lookups ignore socket timeouts: bound the whole thing
        future = pool.submit(connect)
        try:
            return future.result(timeout=settings.hub_timeout_s + 0.5)
        except Exception:
            return False


def choose_device(requested: str = "auto") -> str:
    import torch
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"Device {requested!r} was asked for, but no CUDA GPU is available here.")
    return requested


def choose_dtype(device: str, family: str, requested: str = "auto"):
    """fp16 on a GPU, fp32 on CPU, or what was asked for; XLNet always fp32: its -1e30 masking overflows in half
    precision, and transformers' XLNet builds its relative position encodings in fp32 ("expected scalar type Float
    but found Half" in fp16 or bf16)."""
    import torch
    if not FAMILIES[family].half_precision:
        return torch.float32
    if requested != "auto":
        return getattr(torch, requested)
    return torch.float16 if device.startswith("cuda") else torch.float32


# ---------------------------------------------------------------------------------------------------- resolving
OFFLINE_DETAIL = "How to provide it"   # the first words of the developer's part of the message (views fold it)


def offline_alternative(what: str) -> str:
    """What works here instead of `what`: its family's bundled mini checkpoint, else the bundled ones."""
    from model_zoo.registry import CHECKPOINTS
    known = find_checkpoint(what)
    minis = [c.key for c in CHECKPOINTS.values() if c.bundled and c.role != "generator"
             and (known is None or c.family == known.family)]
    return " or ".join(minis[:1] if known else minis[:3]) or "a model in the list"


def _unavailable_message(what: str) -> str:
    """One message: its first line for the user (what to do now), then the developer's detail."""
    cache = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
    return (f"'{what}' is not downloaded and this machine is offline: use {offline_alternative(what)} instead "
            f"(bundled, works offline), or provide the model.\n{OFFLINE_DETAIL}: the model is not available here: the Hugging Face Hub "
            f"cannot be reached and it is not in the local cache ({cache}). (1) Run the app once with internet access "
            f"so it is cached; (2) point HF_HOME at a cache that holds it; or (3) download it to a folder (for "
            f"example `hf download {what} --local-dir ./{what.split('/')[-1]}`) and enter that folder's path as a "
            f"custom model.")


def _package_path(checkpoint: Checkpoint) -> Path | None:
    if not checkpoint.source_package:
        return None
    try:
        module = importlib.import_module(checkpoint.source_package)
    except ImportError:
        return None
    path = Path(module.get_model_path())
    if checkpoint.sha256_prefix:
        digest = _sha256(path / "model.safetensors")
        if not digest.startswith(checkpoint.sha256_prefix):
            raise ModelError(f"The weights shipped by {checkpoint.source_package} fail their checksum "
                             f"(expected sha256 {checkpoint.sha256_prefix}..., got {digest[:8] or 'no file'}).")
    return path


@lru_cache(maxsize=16)
def _sha256(path: Path) -> str:
    """The file's sha256, computed once per process (90 MB take ~0.2 s)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def source_of(checkpoint: Checkpoint) -> str:
    """Where the weights are read from: a local folder when one exists, else the Hub id."""
    local = _package_path(checkpoint)
    return str(local) if local else checkpoint.hub_id


def is_folder(spec: str) -> bool:
    """Is this user-given spec an existing folder? (False for anything that is not a sane path, never an error.)"""
    if not spec or len(spec) > 1024 or "\x00" in spec:
        return False
    try:
        return Path(spec).expanduser().is_dir()
    except (OSError, ValueError):
        return False


def user_folder(spec: str) -> Path | None:
    """The folder a user's spec names, where this server lets users load its folders (Settings.local_folders) and
    the folder lies under one of Settings.folder_roots (when any are named); else None. With folders off, the disk
    is never looked at, so what a stranger types learns nothing about it."""
    if not current_settings().local_folders or not is_folder(spec):
        return None
    path = Path(spec).expanduser().resolve()
    roots = [Path(root).expanduser().resolve() for root in current_settings().folder_roots]
    return path if not roots or any(path.is_relative_to(root) for root in roots) else None


def not_a_model_message(spec: str) -> str:
    """What a spec that is neither a registry key, a Hub id nor an allowed folder gets: one message whatever the
    disk holds (the same for an existing folder outside the allowed roots and for a path that does not exist)."""
    hub = "a model of the registry or a Hub id (like 'google-bert/bert-base-uncased')"
    if not current_settings().local_folders:
        return f"'{spec}' is not {hub}; this server does not load models from its own folders."
    if current_settings().folder_roots:
        return f"'{spec}' is not {hub} nor a folder under {', '.join(current_settings().folder_roots)}."
    return f"'{spec}' is neither {hub} nor an existing folder."


def parse_specs(models) -> list[str]:
    """The models a box or an API caller named: a list, or one comma-separated string; stripped, blanks and repeats
    dropped, in order. Each is resolved later (which refuses what is not a model with a message)."""
    if isinstance(models, str):
        models = models.split(",")
    return list(dict.fromkeys(str(m).strip() for m in (models or []) if str(m).strip()))


def checked_specs(models, limit: int) -> list[str]:
    """parse_specs, refused with a user's message (ModelError) when it names no model, more than `limit`, or
    something that is not a model."""
    specs = parse_specs(models)
    if not specs:
        raise ModelError("Pick at least one model.")
    if len(specs) > limit:
        raise ModelError(f"At most {limit} models at once ({len(specs)} chosen).")
    for spec in specs:
        if not is_model_spec(spec):
            raise ModelError(not_a_model_message(spec))
    return specs


def is_model_spec(spec: str) -> bool:
    """Could `spec` name a model here: a registry key or Hub id, a Hub id's shape ('org/name'), or an allowed folder?
    Says nothing about whether it loads; it is what a model box accepts (share links check their values with it)."""
    spec = (spec or "").strip()
    return bool(spec) and bool(find_checkpoint(spec) or _HUB_ID.match(spec) or user_folder(spec))


def read_config_dict(source: str) -> dict:
    """config.json of an allowed folder or a Hub id, as a dict. Offline and uncached, raises ModelUnavailable fast."""
    folder = user_folder(source)
    if folder:
        path = folder / "config.json"
        if not path.exists():
            raise UnsupportedModel(f"The folder '{source}' has no config.json: it is not a transformers checkpoint.")
        return json.loads(path.read_text())
    if not _HUB_ID.match(source):
        raise UnsupportedModel(not_a_model_message(source))
    from huggingface_hub import hf_hub_download
    try:
        path = hf_hub_download(source, "config.json", local_files_only=not hub_reachable())
    except Exception as error:
        if not hub_reachable():
            raise ModelUnavailable(_unavailable_message(source)) from error
        raise ModelUnavailable(f"Could not fetch the config of '{source}' from the Hub: {type(error).__name__}: "
                               f"{str(error).splitlines()[0][:200]}") from error
    return json.loads(Path(path).read_text())


def is_local(checkpoint: Checkpoint, source: str) -> bool:
    """Is `source` (source_of(checkpoint)) a folder to read? The registry's own folders (bundled minis, packaged
    weights) always; a user's folder only where this server allows it (user_folder)."""
    return is_folder(source) if find_checkpoint(checkpoint.key) else user_folder(source) is not None


def checkpoint_config_dict(checkpoint: Checkpoint) -> tuple[dict, str]:
    """(config dict, where it was read): a folder directly, a Hub id through read_config_dict's rules."""
    source = source_of(checkpoint)
    if is_local(checkpoint, source):
        return json.loads((Path(source) / "config.json").read_text()), source
    return read_config_dict(source), source


def bundled_config_dict(checkpoint: Checkpoint) -> dict | None:
    """The config kept in the repo for a default checkpoint, so its facts show even offline."""
    path = BUNDLED_CONFIGS / f"{checkpoint.key}.json"
    return json.loads(path.read_text()) if path.exists() else None


def resolve(spec: str) -> Checkpoint:
    """A registry entry, or a validated Checkpoint describing a custom Hub id or folder.

    Raises UnsupportedModel (with a message for the user) for unsupported architectures and checkpoints over the
    size bound, and ModelUnavailable when the config itself cannot be had.
    """
    spec = (spec or "").strip()
    if not spec:
        raise UnsupportedModel("No model was given: pick one from the list or type a Hub id or a folder path.")
    known = find_checkpoint(spec)
    if known:
        return known
    config = read_config_dict(spec)
    model_type = config.get("model_type", "")
    family = family_of_model_type(model_type)
    if family is None:
        supported = ", ".join(t for f in FAMILIES.values() for t in f.model_types)
        raise UnsupportedModel(f"'{spec}' is a '{model_type or 'unknown'}' model; this app supports {supported}.")
    architectures = config.get("architectures") or []
    model_class = next((a for a in architectures if a in SUPPORTED_CLASSES[family.key]), family.default_class)
    if architectures and not any(a in SUPPORTED_CLASSES[family.key] for a in architectures):
        if any("auto_map" in k for k in config):
            raise UnsupportedModel(f"'{spec}' needs custom code (auto_map); this app never runs remote code.")
    n_params = count_parameters(config, model_class)
    if n_params > current_settings().max_params:
        raise UnsupportedModel(f"'{spec}' has {n_params / 1e6:.0f}M parameters, above this app's bound of "
                               f"{current_settings().max_params / 1e6:.0f}M (set --max-params to change it).")
    capabilities = capabilities_of(model_class)
    role = role_of_class(model_class)
    return Checkpoint(key=spec, family=family.key, hub_id=spec, model_class=model_class,
                      capabilities=frozenset(capabilities), role=role,
                      description=f"Custom {family.name} checkpoint ({model_class}).",
                      trained_weights=not config.get(RANDOM_WEIGHTS_MARK, False))


def config_object(config: dict):
    """A transformers config object from a config dict (only for supported model types)."""
    from transformers import CONFIG_MAPPING
    config = dict(config)
    model_type = config.pop("model_type")
    return CONFIG_MAPPING[model_type](**config)


# Building models (from_pretrained, or on the meta device) switches process-wide defaults in torch/transformers
# (default device, init patches): two threads doing it at once can build one another's models on the meta device.
# Every construction in the app goes through this lock.
CONSTRUCTION_LOCK = threading.RLock()


def build_on_meta(config: dict, model_class: str):
    """`model_class` built from `config` on the meta device: shapes and parameter counts, no memory, no weights."""
    import torch
    import transformers
    with CONSTRUCTION_LOCK:
        import_model_classes()
        with torch.device("meta"):
            return getattr(transformers, model_class)(config_object(config))


def count_parameters(config: dict, model_class: str) -> int:
    """Exact parameter count of `model_class` built from `config` (on the meta device)."""
    return _count_parameters(json.dumps(config, sort_keys=True), model_class)


@lru_cache(maxsize=256)
def _count_parameters(config_json: str, model_class: str) -> int:
    return sum(p.numel() for p in build_on_meta(json.loads(config_json), model_class).parameters())


# ---------------------------------------------------------------------------------------------------- loading
def _untrained_capabilities(family_key: str, missing: list[str]) -> tuple[str, ...]:
    prefixes = FAMILIES[family_key].head_prefixes
    found: set[str] = set()
    for name in missing:
        for prefix, capability in prefixes.items():
            if name == prefix or name.startswith(prefix + "."):
                found.add(capability.value)
    return tuple(sorted(found))


_HUB_FILES = list(HUB_FILES)  # configs, tokenizers (vocab, merges, SentencePiece), safetensors weights
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _fetch_files(source: str, local_only: bool, local: bool = False, custom: bool = False) -> bool:
    """Bring a checkpoint's files here, with no lock held; True when they are all here (in the HF cache) afterwards.

    A Hub id (Hub reachable): its top-level config, tokenizer and weight files are downloaded into the HF cache
    (PyTorch .bin weights only where there are no safetensors). A local folder: its weight files are read through
    once, so that a slow disk is waited for here rather than under the construction lock. Offline: nothing to do.
    A failed download is left to from_pretrained, which reports it as before (False). A custom Hub id (`custom`)
    downloads within the disk budget (custom_disk_budget): UnsupportedModel, before any byte, if it cannot fit.
    """
    if local:
        for path in Path(source).expanduser().iterdir():
            if path.suffix in _WEIGHT_SUFFIXES and path.is_file():
                with path.open("rb") as weights:
                    while weights.read(1 << 24):   # 16 MiB at a time into the page cache
                        pass
        return False   # a folder is read with local_files_only already
    if local_only:
        return False
    from huggingface_hub import snapshot_download

    from model_zoo.disk_budget import OverBudget, hub_download_size

    def download() -> None:
        folder = Path(snapshot_download(source, allow_patterns=_HUB_FILES, ignore_patterns=["*/*"]))
        if not any(folder.glob("*.safetensors")):
            snapshot_download(source, allow_patterns=["pytorch_model*.bin"], ignore_patterns=["*/*"])
    try:
        if custom:
            custom_disk_budget().fetch(source, hub_download_size, download)
        else:
            download()
    except OverBudget as error:
        raise UnsupportedModel(str(error)) from error
    except Exception:  # not found, gated, network gone: from_pretrained says so in its own words
        return False
    return True


def custom_disk_budget():
    """The disk budget of custom Hub checkpoints in the HF cache (Settings.disk_budget; model_zoo/disk_budget.py)."""
    from huggingface_hub import constants

    from model_zoo.disk_budget import DiskBudget
    state = runtime()
    with state.lock:
        budget = state.budget
        if budget is None or (budget.budget, budget.cache_dir) != (state.settings.disk_budget,
                                                                     Path(constants.HF_HUB_CACHE)):
            state.budget = DiskBudget(Path(constants.HF_HUB_CACHE), state.settings.disk_budget,
                                      protected=lambda repo_id: find_checkpoint(repo_id) is not None)
        return state.budget


def _load_uncached(checkpoint: Checkpoint, device: str, dtype_name: str) -> LoadedModel:
    import transformers
    from transformers import AutoTokenizer

    started = time.perf_counter()
    source = source_of(checkpoint)
    local = is_local(checkpoint, source)
    local_only = local or not hub_reachable()
    with CONSTRUCTION_LOCK:
        import_model_classes()  # once per process, in one thread (see import_model_classes)
        model_class = getattr(transformers, checkpoint.model_class)
    dtype = choose_dtype(device, checkpoint.family, dtype_name)
    # The slow part (a download, a first read from disk) runs outside every global lock: only this checkpoint's own
    # requests wait for it (ModelCache.get). Under the lock, from_pretrained then reads files already here.
    custom = not local and find_checkpoint(checkpoint.key) is None
    fetched = _fetch_files(source, local_only, local, custom)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only or fetched)
        with CONSTRUCTION_LOCK:
            model, info = model_class.from_pretrained(source, local_files_only=local_only or fetched,
                                                      output_loading_info=True, attn_implementation="eager",
                                                      dtype=dtype)
    except OSError as error:
        if not local and not hub_reachable():
            raise ModelUnavailable(_unavailable_message(checkpoint.hub_id)) from error
        raise ModelUnavailable(f"Could not load '{checkpoint.hub_id}': {str(error).splitlines()[0][:300]}") from error
    except ModelError:
        raise
    except Exception as error:  # corrupt or truncated weights, a tokenizer file that does not parse, ...
        first_line = (str(error).splitlines() or [""])[0][:300]
        raise ModelUnavailable(f"The files of '{checkpoint.hub_id}' could not be read ({type(error).__name__}: "
                               f"{first_line}). They may be incomplete or corrupt: download them again, or pick "
                               f"another model.") from error
    model.to(device).eval()
    missing = sorted(info.get("missing_keys", ()))
    random_fixture = bool(getattr(model.config, RANDOM_WEIGHTS_MARK, False)) or not checkpoint.trained_weights
    if random_fixture:
        weights = "RANDOM weights (a test fixture): its outputs mean nothing"
    elif checkpoint.bundled:
        weights = (f"the project's own mini {FAMILIES[checkpoint.family].name}, pretrained offline on CPU for minutes "
                   f"to hours: expect rough guesses (its model card: assets/mini/{Path(source).name}/README.md)")
    elif local and not checkpoint.source_package:
        weights = f"weights from the local folder {source}"
    else:
        weights = f"pretrained: {checkpoint.hub_id}"
    report = LoadReport(source=source, device=str(device), dtype=str(dtype).replace("torch.", ""), weights=weights,
                        trained=not random_fixture, newly_initialized=tuple(missing),
                        untrained_capabilities=_untrained_capabilities(checkpoint.family, missing),
                        load_seconds=time.perf_counter() - started,
                        n_parameters=sum(p.numel() for p in model.parameters()),
                        attn_implementation=getattr(model.config, "_attn_implementation", "eager"))
    return LoadedModel(checkpoint, model, tokenizer, report)


class _InFlight:
    """One checkpoint being loaded: its requests queue on `lock`; `users` counts those holding or waiting for it."""
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


class ModelCache:
    """LRU cache of loaded models, bounded in count and bytes; one load per model even under concurrent requests.

    Loads are per key: two models load at once, requests for one model wait for its single load, and the table of
    loads in flight holds only those (an entry goes when its last request does). `clear()` (configure) empties the
    cache without touching loads in flight; what they load then is returned to their requests but not cached.
    """

    def __init__(self) -> None:
        self._models: OrderedDict[tuple, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()          # guards the two tables and the counters; never held during a load
        self._in_flight: dict[tuple, _InFlight] = {}
        self._generation = 0                   # bumped by clear(): a load started before it is not cached
        self.loads = 0  # how many real loads happened (tests and the load test read it)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
            self._generation += 1
            self.loads = 0

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._models)

    def loads_in_flight(self) -> dict[tuple, int]:
        """{key: requests holding or waiting for its load}, for the loads going on now (empty when idle)."""
        with self._lock:
            return {key: entry.users for key, entry in self._in_flight.items()}

    def get(self, checkpoint: Checkpoint) -> LoadedModel:
        settings = runtime().settings
        device = choose_device(settings.device)
        key = (checkpoint.key, checkpoint.hub_id, checkpoint.model_class, device, settings.dtype)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            entry = self._in_flight.setdefault(key, _InFlight())
            entry.users += 1
        try:
            with entry.lock:
                with self._lock:
                    if key in self._models:   # loaded by the request this one waited for
                        self._models.move_to_end(key)
                        return self._models[key]
                    generation = self._generation
                loaded = _load_uncached(checkpoint, device, settings.dtype)
                with self._lock:
                    if generation == self._generation:
                        self.loads += 1
                        self._models[key] = loaded
                        self._evict(settings)
                return loaded
        finally:
            with self._lock:
                entry.users -= 1
                if entry.users == 0:
                    del self._in_flight[key]

    def _evict(self, settings: Settings) -> None:
        def size(lm: LoadedModel) -> int:
            return sum(p.numel() * p.element_size() for p in lm.model.parameters())
        while len(self._models) > 1 and (len(self._models) > settings.max_models
                                         or sum(size(m) for m in self._models.values()) > settings.max_bytes):
            self._models.popitem(last=False)


@dataclass
class Runtime:
    """What loading holds while an app runs: its settings, the models it keeps loaded, the disk budget of custom
    checkpoints (made on first use)."""
    settings: Settings = field(default_factory=Settings)
    models: ModelCache = field(default_factory=lambda: ModelCache())
    budget: Any = None
    hub: bool | None = None     # can the Hub be reached? (probed on first need)
    derived: OrderedDict = field(default_factory=OrderedDict)  # what is computed once per model and kept (LRU; its
                                                               # owner bounds it): probing's word vectors
    lock: Any = field(default_factory=threading.Lock, repr=False)


def cache() -> ModelCache:
    return runtime().models


def load(spec: str | Checkpoint) -> LoadedModel:
    """Load (or fetch from the cache) a registry key, Hub id or folder. Raises ModelError with a user message."""
    checkpoint = spec if isinstance(spec, Checkpoint) else resolve(spec)
    return runtime().models.get(checkpoint)


def with_class(checkpoint: Checkpoint, model_class: str) -> Checkpoint:
    """The same checkpoint loaded through another supported class (e.g. BertForMaskedLM for a pipeline)."""
    if model_class not in SUPPORTED_CLASSES[checkpoint.family]:
        raise UnsupportedModel(f"{model_class} is not a supported class for {checkpoint.family}.")
    return replace(checkpoint, model_class=model_class,
                   capabilities=capabilities_of(model_class))



def is_available(checkpoint: Checkpoint) -> bool:
    """Can the weights be had without waiting on the network? (a local folder, a package, the HF cache, or the Hub)"""
    source = source_of(checkpoint)
    if is_folder(source):
        return True
    if hub_reachable():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
        return isinstance(try_to_load_from_cache(source, "config.json"), str)
    except Exception:
        return False


def model_choices(family: str, mode: str = "auto") -> tuple[list[Checkpoint], Checkpoint]:
    """The checkpoints a family tab offers, and the one it opens with.

    mode "hub": the Hub checkpoints; "mini": the project's bundled ones; "auto" (default): both, opening with the Hub
    checkpoint when it can be had (Hub reachable or cached), else the bundled mini one, else a real offline model.
    """
    from model_zoo.registry import checkpoints_of
    every = checkpoints_of(family)
    mini = [c for c in every if c.bundled]
    hub = [c for c in every if not c.bundled]
    offered = {"hub": hub, "mini": mini or hub}.get(mode, hub + mini)
    defaults = [c for c in offered if c.default]
    if mode != "mini" and defaults and is_available(defaults[0]):
        return offered, defaults[0]
    if mini:
        return offered, next((c for c in mini if c.role in ("", "discriminator")), mini[0])
    offline_real = [c for c in offered if c.source_package]
    return offered, (offline_real or defaults or offered)[0]


@lru_cache(maxsize=1)
def import_model_classes() -> None:
    """Import every supported transformers class, once, in one thread: transformers' lazy module is not safe when
    several request threads trigger its first imports at once (seen as AttributeError under load). The loader calls
    it under its lock; app.py calls it at start-up so the first request does not pay for it."""
    import transformers
    for classes in SUPPORTED_CLASSES.values():
        for name in classes:
            getattr(transformers, name)
    for name in ("AutoTokenizer", "AutoConfig", "CONFIG_MAPPING", "pipeline"):
        getattr(transformers, name)
