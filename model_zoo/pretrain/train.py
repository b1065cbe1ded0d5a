"""The training loop every family shares: time- or step-bounded, resumable, deterministic per step, then export + eval.

An Objective (one per family, in mlm.py / nsp_sop.py / distill.py / electra.py / plm.py) says how to build the models,
draw the batch of step k, compute the loss, export the folders and evaluate them. This file owns the rest:
AdamW with warm-up and linear decay, a checkpoint in .mini_work/ckpt/<family>.pt every few minutes (rerunning the same
command continues from it), the loss curve, assets/mini/metrics/<family>.json and each folder's model card.

    python -m model_zoo.pretrain --family bert --minutes 22      # train (or continue), export, evaluate
    python -m model_zoo.pretrain --family bert --export-only     # export + evaluate from the latest checkpoint
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from model_zoo.pretrain.corpus import WORK

MINI = Path(__file__).resolve().parents[2] / "assets" / "mini"
CKPT_DIR = WORK / "ckpt"
SAVE_EVERY_S = 150


class Objective:
    """One family's pretraining objective. Subclasses set the class attributes and implement the methods."""
    family = ""
    folders: tuple[str, ...] = ()     # assets/mini/<folder> written by export()
    tokenizer_kind = ""
    batch_size = 32
    lr = 1e-3
    warmup = 100

    def __init__(self, seed: int, device: str):
        from model_zoo.pretrain import tokenizers_build
        self.seed, self.device = seed, device
        self.tok = tokenizers_build.load(self.tokenizer_kind)

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


def save_folder(model, tokenizer, folder: Path) -> Path:
    """save_pretrained in fp16 safetensors, with the tokenizer next to it."""
    import copy
    folder.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to("cpu").half()
    half.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def _lr(obj: Objective, step: int, total: int) -> float:
    return obj.lr * min(1.0, (step + 1) / obj.warmup) * max(0.05, 1.0 - step / max(total, 1))


def run(family: str, minutes: float | None = None, steps: int | None = None, seed: int = 0, device: str = "auto",
        export_only: bool = False, log=print) -> dict:
    from model_zoo.pretrain import OBJECTIVES
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    torch.manual_seed(seed)
    obj: Objective = OBJECTIVES[family](seed, device)
    for module in obj.modules().values():
        module.to(device)
    params = obj.trainable()
    optimizer = torch.optim.AdamW(params, lr=obj.lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    ckpt_path = CKPT_DIR / f"{family}.pt"
    state = {"step": 0, "elapsed_s": 0.0, "tokens": 0, "curve": [], "total_steps": steps, "seed": seed}
    if ckpt_path.exists():
        saved = torch.load(ckpt_path, map_location=device, weights_only=False)
        for name, module in obj.modules().items():
            module.load_state_dict(saved["modules"][name])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        log(f"resumed {family} at step {state['step']} ({state['elapsed_s'] / 60:.1f} min)")
        if steps:
            state["total_steps"] = steps
        elif minutes:
            state["total_steps"] = None  # a time budget: re-fit the schedule to it from the measured speed

    def save():
        CKPT_DIR.mkdir(parents=True, exist_ok=True)
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"modules": {n: m.state_dict() for n, m in obj.modules().items()},
                    "optimizer": optimizer.state_dict(), "state": state}, tmp)
        os.replace(tmp, ckpt_path)

    # The budget is CPU time of this (single-threaded) process: on a shared machine wall time runs longer, but each
    # family gets the compute it was planned for. Wall time is recorded beside it.
    budget_s = (minutes or 0) * 60
    started, cpu_started = time.perf_counter(), time.process_time()
    state.setdefault("cpu_s", state["elapsed_s"])
    base_elapsed, base_cpu = state["elapsed_s"], state["cpu_s"]
    last_save, window, acc = time.perf_counter(), [], {}
    for module in obj.modules().values():
        module.train()
    while not export_only:
        step = state["step"]
        if state["total_steps"] and step >= state["total_steps"]:
            break
        elapsed = base_cpu + time.process_time() - cpu_started
        if budget_s and elapsed >= budget_s:
            break
        if budget_s and not steps and len(window) >= 30 and (step % 100 == 0 or not state["total_steps"]):
            # a time budget: fit the schedule's length to the measured speed (re-measured, the machine is shared)
            per_step = (window[-1] - window[0]) / (len(window) - 1)
            state["total_steps"] = step + max(1, int((budget_s - elapsed) / per_step))
            if step % 1000 == 0 or len(state["curve"]) < 2:
                log(f"{family}: {1 / per_step:.2f} steps/s -> schedule of {state['total_steps']} steps")
        total = state["total_steps"] or 10 ** 9
        for group in optimizer.param_groups:
            group["lr"] = _lr(obj, step, total)
        torch.manual_seed(seed * 1_000_003 + step)  # dropout and sampling depend only on (seed, step)
        batch = obj.to_device(obj.batch(step))
        loss, logs = obj.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        window.append(time.process_time())
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
                     "lr": round(_lr(obj, step, total), 7), **{k: round(v / n, 4) for k, v in acc.items()}}
            state["curve"].append(point)
            acc = {}
            if state["step"] % 100 == 0:
                log(json.dumps(point))
        state["elapsed_s"] = base_elapsed + time.perf_counter() - started
        state["cpu_s"] = base_cpu + time.process_time() - cpu_started
        if time.perf_counter() - last_save > SAVE_EVERY_S:
            save()
            last_save = time.perf_counter()
    if not export_only:
        save()
    for module in obj.modules().values():
        module.eval()
    folders = obj.export()
    with torch.no_grad():
        evaluation = obj.evaluate()
    finished = bool(state["total_steps"]) and state["step"] >= state["total_steps"]
    metrics = {"family": family, "seed": seed, "device": device, "steps": state["step"],
               "scheduled_steps": state["total_steps"], "finished_schedule": finished,
               "tokens_seen": state["tokens"], "cpu_minutes": round(state["cpu_s"] / 60, 2),
               "wall_minutes": round(state["elapsed_s"] / 60, 2), "threads": torch.get_num_threads(),
               "batch_size": obj.batch_size, "peak_lr": obj.lr, "evaluation": evaluation,
               "sizes_bytes": {f.name: sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) for f in folders},
               "curve": state["curve"]}
    (MINI / "metrics").mkdir(parents=True, exist_ok=True)
    (MINI / "metrics" / f"{family}.json").write_text(json.dumps(metrics, indent=1))
    from model_zoo.pretrain.card import write_cards
    write_cards(obj, metrics, folders)
    log(json.dumps({k: v for k, v in metrics.items() if k != "curve"}, indent=1))
    return metrics
