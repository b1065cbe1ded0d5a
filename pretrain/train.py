"""The training loop every family shares: time- or step-bounded, resumable, deterministic per step, then export + eval.

An Objective (one per family, in mlm.py / nsp_sop.py / distill.py / electra.py / plm.py) says how to build the models,
draw the batch of step k, compute the loss, export the folders and evaluate them. This file owns the rest:
AdamW with warm-up and linear decay, a checkpoint in .mini_work/ckpt/<family>.pt every few minutes (rerunning the same
command continues from it), the loss curve, assets/mini/metrics/<family>.json and each folder's model card.

    python -m pretrain --family bert --minutes 22      # train (or continue), export, evaluate
    python -m pretrain --family bert --export-only     # export + evaluate from the latest checkpoint
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from pretrain.corpus import WORK
from pretrain.files import written_whole

MINI = Path(__file__).resolve().parents[1] / "assets" / "mini"
CKPT_DIR = WORK / "ckpt"
CANDIDATES = WORK / "candidates"  # export() writes here; --promote copies to MINI only when the OOD figures improve
SAVE_EVERY_S = 150

# Dropout: none, in every family (mini-BERT alone used to train with 0.1). Deliberate: a 2-5 M-parameter model at a
# few CPU-hours is limited by capacity and compute, not by over-fitting: mini-BERT, continued to 70 CPU-minutes on
# the broader corpus, scored 4.78 nats on fresh masks of training text against 5.07 on held-out text (a 0.29-nat
# gap at a loss near 5), so dropout would slow learning more than it could close the gap; budget-limited BERT
# pretraining drops it for the same reason (Geiping & Goldstein, 2022, "Cramming"). One setting for every family
# keeps the lab's comparison about the objectives, not about regularisation.
NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


class Objective:
    """One family's pretraining objective. Subclasses set the class attributes and implement the methods."""
    family = ""
    folders: tuple[str, ...] = ()     # assets/mini/<folder> written by export()
    tokenizer_kind = ""
    batch_size = 32
    lr = 1e-3
    warmup = 100
    # what decides a promotion: (evaluation entry, figure, +1 if higher is better / -1 if lower is)
    primary: tuple[str, str, int] = ("ood_fill_mask", "ratio_to_baseline", 1)

    def __init__(self, seed: int, device: str):
        from pretrain import tokenizers_build
        self.seed, self.device = seed, device
        self.tok = tokenizers_build.load(self.tokenizer_kind, MINI)

    def modules(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError

    def trainable(self) -> list[torch.nn.Parameter]:
        seen, params = set(), []
        for module in self.modules().values():
            for p in module.parameters():
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    def batch(self, step: int) -> dict:
        raise NotImplementedError

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def export(self) -> list[Path]:
        raise NotImplementedError

    def evaluate(self) -> dict:
        raise NotImplementedError

    def findings(self, evaluation: dict) -> list[str]:
        """What the measured numbers say beyond pass/fail, for the model card (markdown paragraphs)."""
        return []

    def card(self) -> dict:
        """{'objective': paragraph, 'architecture': line, 'bars': {metric: text}} for the model card."""
        raise NotImplementedError

    def to_device(self, batch: dict) -> dict:
        return {k: (v.to(self.device) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}

    # where export() writes and evaluate() reads: a candidate folder, promoted to assets/mini/ only when better
    out: Path = MINI

    def resumed(self, state: dict) -> None:
        """Called with a checkpoint's state before training or exporting continues it (DistilBERT checks its teacher)."""

    def start_state(self) -> dict:
        """Extra entries a new run records in its state (DistilBERT: its teacher's checksum)."""
        return {}

    def continued_start_state(self, previous: dict) -> dict:
        """start_state() for a run that continues shipped weights (--init-from-shipped); `previous` holds what the
        shipped run recorded (`previous["record"]`, its metrics). By default taken afresh: a distilled student
        continued now learns from today's teacher, and the check of a stale teacher compares against that."""
        return self.start_state()

    def fresh_start(self) -> None:
        """Called when a run starts from scratch (no checkpoint, no --init-from): ELECTRA copies mini-BERT in."""

    def corpus_name(self) -> str:
        from pretrain import corpus
        return corpus.corpus_id()

    def previous_record(self) -> dict:
        """The shipped checkpoint's training record (steps, tokens, compute, curve), continued by --init-from."""
        path = MINI / "metrics" / f"{self.family}.json"
        if not path.exists():
            return {}
        m = json.loads(path.read_text())
        return {"step": m["steps"], "tokens": m["tokens_seen"], "cpu_s": m["cpu_minutes"] * 60,
                "elapsed_s": m["wall_minutes"] * 60, "curve": m.get("curve", []), "history": m.get("history", []),
                "record": m}


def runs(family: str) -> str:
    """What earlier runs of a family's mini checkpoint measured and taught (assets/mini/history/<family>.md), for
    its model card: the story of the runs lives there, not in the code."""
    path = MINI / "history" / f"{family}.md"
    return " ".join(path.read_text(encoding="utf-8").split()) if path.exists() else ""


LOAD_TIME_KEYS = ("local_files_only",)  # how this process loaded the tokenizer, not what the tokenizer is


def save_folder(model, tokenizer, folder: Path) -> Path:
    """save_pretrained in fp16 safetensors, with the tokenizer next to it.

    The tokenizer's config is saved without LOAD_TIME_KEYS: transformers writes back the `local_files_only` it was
    loaded with, and a run under HF_HUB_OFFLINE=1 (every run here) would ship `"local_files_only": true`, which a
    user's copy of the checkpoint would then obey."""
    import copy
    folder.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to("cpu").half()
    half.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    config_path = folder / "tokenizer_config.json"
    if config_path.exists():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if any(key in config for key in LOAD_TIME_KEYS):
            for key in LOAD_TIME_KEYS:
                config.pop(key, None)
            config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def new_phase(start: int, end: int | None, peak: float, warmup: int, start_lr: float = 0.0,
              floor: float | None = None) -> dict:
    """One leg of the learning-rate schedule: warm up from start_lr to peak over `warmup` steps, then decay linearly
    to `floor` (5% of the peak unless given) at step `end` (None: not known yet, the decay waits for it)."""
    return {"start": start, "end": end, "warmup": warmup, "peak": peak, "start_lr": start_lr,
            "floor": 0.05 * peak if floor is None else floor}


def scheduled_lr(phase: dict, step: int) -> float:
    """The learning rate of `step` under `phase`: a pure function of both, so a resumed run repeats it exactly.

    >>> p = new_phase(0, 100, peak=1e-3, warmup=10)
    >>> scheduled_lr(p, 4), scheduled_lr(p, 10), scheduled_lr(p, 100)   # (5e-4, 1e-3, 5e-5)
    """
    k = step - phase["start"]
    if k < phase["warmup"]:
        return phase["start_lr"] + (phase["peak"] - phase["start_lr"]) * (k + 1) / phase["warmup"]
    if phase["end"] is None:
        return phase["peak"]
    span = max(phase["end"] - phase["start"] - phase["warmup"], 1)
    return phase["peak"] + (phase["floor"] - phase["peak"]) * min(1.0, (k - phase["warmup"]) / span)


def retarget(phase: dict, step: int, end: int) -> dict:
    """The phase with its end moved to `end`, continuing from the learning rate it gives at `step` (no jump).

    A resumed run with a new budget, or a time budget re-fitted to the measured speed, calls this: past the
    warm-up the decay restarts from the current rate and reaches the floor at the new end, so the rate never
    jumps back to the peak (the saw-tooth the old `total = 10**9` on resume caused)."""
    if phase["end"] == end:
        return phase
    if step - phase["start"] < phase["warmup"] or phase["end"] is None and step == phase["start"]:
        return {**phase, "end": end}
    lr = scheduled_lr(phase, step)
    return {"start": step, "end": end, "warmup": 0, "peak": lr, "start_lr": lr, "floor": phase["floor"]}


class _Stop:
    """Set by SIGTERM / SIGINT: the loop finishes its step, saves, exports and evaluates instead of dying."""
    requested = False

    @classmethod
    def install(cls):
        import signal

        def handler(signum, frame):
            cls.requested = True
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, handler)
            except ValueError:  # not the main thread (tests): no handler, the budget still ends the run
                pass


def load_exported(obj: Objective, folders: list[Path]) -> None:
    """Initialise obj's modules from exported folders (fp16 safetensors, as shipped in assets/mini/), in the order of
    obj.modules() and obj.folders. Used to continue training a shipped checkpoint whose optimizer state is gone."""
    for (name, module), folder in zip(obj.modules().items(), folders):
        loaded = type(module).from_pretrained(folder, dtype=torch.float32)
        missing, unexpected = module.load_state_dict(loaded.state_dict(), strict=False)
        missing = [m for m in missing if not m.endswith("position_ids")]
        if missing or unexpected:
            raise ValueError(f"{folder} does not fit {obj.family}'s {name}: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}")


def file_sha256(path: Path) -> str:
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def train(obj: Objective, ckpt_path: Path, minutes: float | None = None, steps: int | None = None,
          until: float | None = None, peak_lr: float | None = None, init_from: Path | None = None,
          stop_after: int | None = None, on_step=None, log=print, precision: str = "fp32") -> dict:
    """Train obj (or continue it from ckpt_path) and return the run state (steps, tokens, curve, schedule).

    Budgets, any of which ends the run: `steps` (the schedule's exact length, deterministic), `minutes` (CPU minutes
    of all runs of this family together, the schedule fitted to the measured speed), `until` (a wall-clock deadline,
    time.time() seconds; the schedule fitted to the wall-clock speed). `stop_after` ends this process after that many
    steps without changing the schedule (an interruption, for tests). `init_from`: start from exported weights
    (a shipped checkpoint) instead of from scratch, with a fresh optimizer and so a fresh warm-up to `peak_lr`.
    `on_step(step, lr)` is called before each optimizer step. `precision` "bf16": the forward and loss under bf16
    autocast (the GPU path; weights, gradients and AdamW stay fp32), "fp32": plain.
    """
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32 or bf16, not {precision!r}")
    device = obj.device
    for module in obj.modules().values():
        module.to(device)
    params = obj.trainable()
    peak = peak_lr or obj.lr
    optimizer = torch.optim.AdamW(params, lr=peak, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    state = {"step": 0, "elapsed_s": 0.0, "cpu_s": 0.0, "tokens": 0, "curve": [], "total_steps": steps,
             "seed": obj.seed, "phase": new_phase(0, steps, peak, obj.warmup), "history": [], "peak_lr": peak,
             **obj.start_state()}
    if ckpt_path.exists():
        saved = torch.load(ckpt_path, map_location=device, weights_only=False)
        for name, module in obj.modules().items():
            module.load_state_dict(saved["modules"][name])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        state.setdefault("history", [])
        state.setdefault("cpu_s", state["elapsed_s"])
        if "phase" not in state:  # a checkpoint from before phases: its schedule restarted at step 0
            state["phase"] = new_phase(0, state["total_steps"], obj.lr, obj.warmup)
        obj.resumed(state)
        log(f"resumed {obj.family} at step {state['step']} ({state['cpu_s'] / 60:.1f} CPU-min), "
            f"lr {scheduled_lr(state['phase'], state['step']):.2e}")
        if steps and steps != state["total_steps"]:
            state["total_steps"] = steps
            state["phase"] = retarget(state["phase"], state["step"], steps)
        elif minutes or until:
            state["total_steps"] = None  # a time budget: the length is re-fitted below, the rate carried on (retarget)
    elif init_from is not None:
        folders = [Path(init_from) / f for f in obj.folders]
        load_exported(obj, folders)
        previous = obj.previous_record()
        state.update({k: previous[k] for k in ("step", "tokens", "cpu_s", "elapsed_s", "curve") if k in previous})
        state.update(obj.continued_start_state(previous))
        state["history"] = previous.get("history", []) + [{
            "event": "continued from exported weights", "step": state["step"], "tokens": state["tokens"],
            "from": [str(f) for f in folders], "sha256": [file_sha256(f / "model.safetensors") for f in folders],
            "peak_lr": peak, "warmup": obj.warmup, "corpus": obj.corpus_name()}]
        state["total_steps"] = state["step"] + steps if steps else None
        # fresh AdamW moments: warm up again from zero, to a peak that is a deliberate choice (logged in history)
        state["phase"] = new_phase(state["step"], state["total_steps"], peak, obj.warmup)
        state["peak_lr"] = peak
        log(f"{obj.family}: continuing exported weights from {folders} at step {state['step']}")
    else:
        obj.fresh_start()
    state["corpus"] = obj.corpus_name()

    def save():
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(ckpt_path) as aside:
            torch.save({"modules": {n: m.state_dict() for n, m in obj.modules().items()},
                        "optimizer": optimizer.state_dict(), "state": state}, aside)

    # A CPU budget counts CPU time of this (single-threaded) process: on a shared machine wall time runs longer, but
    # each family gets the compute it was planned for. A wall deadline counts the clock. Both are recorded.
    budget_s = (minutes or 0) * 60
    started, cpu_started = time.perf_counter(), time.process_time()
    base_elapsed, base_cpu = state["elapsed_s"], state["cpu_s"]
    last_save, window, acc, ran = time.perf_counter(), [], {}, 0
    clock = time.time if until else time.process_time

    def remaining() -> float | None:
        if until:
            return until - time.time()
        if budget_s:
            return budget_s - (base_cpu + time.process_time() - cpu_started)
        return None

    for module in obj.modules().values():
        module.train()
    while True:
        step = state["step"]
        if state["total_steps"] and step >= state["total_steps"] or stop_after is not None and ran >= stop_after:
            state["ended_by"] = "schedule" if state["total_steps"] and step >= state["total_steps"] else "interrupted"
            break
        left = remaining()
        if left is not None and left <= 0 or _Stop.requested:
            state["ended_by"] = "stopped by a signal" if _Stop.requested else "time budget"
            break
        if left is not None and not steps and len(window) >= 30 and (step % 100 == 0 or not state["total_steps"]):
            # a time budget: fit the schedule's length to the measured speed (re-measured, the machine is shared)
            per_step = (window[-1] - window[0]) / (len(window) - 1)
            state["total_steps"] = step + max(1, int(left / per_step))
            state["phase"] = retarget(state["phase"], step, state["total_steps"])
            if step % 1000 == 0 or len(window) == 30:
                log(f"{obj.family}: {1 / per_step:.2f} steps/s -> schedule of {state['total_steps']} steps")
        lr = scheduled_lr(state["phase"], step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if on_step is not None:
            on_step(step, lr)
        torch.manual_seed(obj.seed * 1_000_003 + step)  # dropout and sampling depend only on (seed, step)
        batch = obj.to_device(obj.batch(step))
        with torch.autocast(device_type=str(device).split(":")[0], dtype=torch.bfloat16,
                            enabled=precision == "bf16"):
            loss, logs = obj.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        ran += 1
        window.append(clock())
        window = window[-101:]
        state["step"] = step + 1
        state["tokens"] += int(batch.get("n_tokens", 0))
        for k, v in logs.items():
            acc[k] = acc.get(k, 0.0) + v
        acc["_n"] = acc.get("_n", 0) + 1
        if state["step"] % 25 == 0:
            n = acc.pop("_n")
            point = {"step": state["step"], "tokens": state["tokens"],
                     "minutes": round((base_cpu + time.process_time() - cpu_started) / 60, 3),
                     "wall_minutes": round((base_elapsed + time.perf_counter() - started) / 60, 3),
                     "lr": round(lr, 7), **{k: round(v / n, 4) for k, v in acc.items()}}
            state["curve"].append(point)
            acc = {}
            if state["step"] % 100 == 0:
                log(json.dumps(point))
        state["elapsed_s"] = base_elapsed + time.perf_counter() - started
        state["cpu_s"] = base_cpu + time.process_time() - cpu_started
        if time.perf_counter() - last_save > SAVE_EVERY_S:
            save()
            last_save = time.perf_counter()
    save()
    return state


def run(family: str, minutes: float | None = None, steps: int | None = None, seed: int = 0, device: str = "auto",
        export_only: bool = False, until: float | None = None, peak_lr: float | None = None,
        init_from: Path | None = None, log=print, precision: str | None = None,
        batch_size: int | None = None, wall_minutes: float | None = None) -> dict:
    """Train (or continue) one family and export + evaluate it. On CUDA the default precision is bf16 autocast;
    `batch_size` overrides the family's (large batches for a GPU; the learning rate is then a choice: --peak-lr).
    `wall_minutes`: a wall-clock budget counted from when the data is ready (tokenising a corpus is not training)."""
    from pretrain import OBJECTIVES
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    precision = precision or ("bf16" if device.startswith("cuda") else "fp32")
    torch.manual_seed(seed)
    obj: Objective = OBJECTIVES[family](seed, device)
    if batch_size:
        obj.batch_size = batch_size
    if wall_minutes:
        until = time.time() + 60 * wall_minutes
    obj.out = CANDIDATES
    ckpt_path = CKPT_DIR / f"{family}.pt"
    _Stop.install()
    if export_only:
        if not ckpt_path.exists():
            raise FileNotFoundError(f"no checkpoint to export: {ckpt_path}")
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        for name, module in obj.modules().items():
            module.load_state_dict(state["modules"][name])
        state = state["state"]
        state.setdefault("cpu_s", state["elapsed_s"])
        obj.resumed(state)
    else:
        state = train(obj, ckpt_path, minutes=minutes, steps=steps, until=until, peak_lr=peak_lr,
                      init_from=init_from, log=log, precision=precision)
        state["precision"] = precision
    return export_and_report(obj, state, device, log)


def export_and_report(obj: Objective, state: dict, device: str, log=print) -> dict:
    """Export obj's folders to assets/mini/, evaluate them, write metrics/<family>.json and the model cards."""
    family = obj.family
    for module in obj.modules().values():
        module.eval()
    folders = obj.export()
    with torch.no_grad():
        evaluation = obj.evaluate()
    # a time budget fits the schedule to itself, so reaching it is finishing (the rate has decayed to its floor)
    finished = (bool(state["total_steps"]) and state["step"] >= state["total_steps"]
                or state.get("ended_by") == "time budget")
    metrics = {"family": family, "seed": obj.seed, "device": device, "steps": state["step"],
               "scheduled_steps": state["total_steps"], "finished_schedule": finished,
               "ended_by": state.get("ended_by"), "last_lr": round(scheduled_lr(state["phase"], state["step"]), 8),
               "tokens_seen": state["tokens"], "cpu_minutes": round(state["cpu_s"] / 60, 2),
               "wall_minutes": round(state["elapsed_s"] / 60, 2), "threads": torch.get_num_threads(),
               "batch_size": obj.batch_size, "precision": state.get("precision", "fp32"),
               "peak_lr": state.get("peak_lr") or (state["history"][-1].get("peak_lr") if state["history"] else obj.lr),
               "corpus": state.get("corpus"), "history": state.get("history", []),
               **{k: state[k] for k in obj.start_state() if k in state}, "evaluation": evaluation,
               "sizes_bytes": {f.name: sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) for f in folders},
               "curve": state["curve"]}
    (obj.out / "metrics").mkdir(parents=True, exist_ok=True)
    (obj.out / "metrics" / f"{family}.json").write_text(json.dumps(metrics, indent=1))
    from pretrain.card import write_cards
    write_cards(obj, metrics, folders)
    log(json.dumps({k: v for k, v in metrics.items() if k != "curve"}, indent=1))
    return metrics
