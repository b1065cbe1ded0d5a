"""Command line: python -m pretrain --family bert --minutes 20 [--steps N] [--until 23:10] [--init-from-shipped]
[--peak-lr 5e-4] [--seed 0] [--device cpu]; then --promote to ship the candidate if its out-of-domain figures are better.
On a GPU: --device cuda --wall-minutes 2 --batch-size 256 (bf16 autocast by default there; scripts/pretrain_gpu.sh).

Training exports to .mini_work/candidates/<folder> and evaluates there; assets/mini/ changes only with --promote.
"""
from __future__ import annotations

import argparse
import datetime as dt

import torch

from pretrain import FAMILIES


def _deadline(text: str) -> float:
    """'HH:MM' (UTC, today; tomorrow if already past) -> time.time() seconds."""
    now = dt.datetime.now(dt.timezone.utc)
    hour, minute = (int(x) for x in text.split(":"))
    when = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if when <= now:
        when += dt.timedelta(days=1)
    return when.timestamp()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pretrain", description=__doc__)
    parser.add_argument("--family", required=True, choices=FAMILIES)
    parser.add_argument("--minutes", type=float, default=None, help="CPU-time budget in minutes, all runs of this family together (this process, single-threaded)")
    parser.add_argument("--steps", type=int, default=None, help="exact schedule length (deterministic with --seed)")
    parser.add_argument("--until", default=None, help="wall-clock deadline HH:MM (UTC); the schedule is fitted to it")
    parser.add_argument("--init-from-shipped", action="store_true",
                        help="no checkpoint yet: start from the weights in assets/mini/ (fresh optimizer, new warm-up)")
    parser.add_argument("--peak-lr", type=float, default=None, help="peak learning rate of a new run or continuation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the default leaves other cores free)")
    parser.add_argument("--wall-minutes", type=float, default=None,
                        help="a wall-clock budget from now (the GPU path: CPU time says nothing of GPU work)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default=None,
                        help="bf16 autocast for the forward and loss (default on CUDA), fp32 (default on CPU)")
    parser.add_argument("--batch-size", type=int, default=None, help="override the family's batch (GPU: large)")
    parser.add_argument("--export-only", action="store_true", help="export + evaluate the latest checkpoint")
    parser.add_argument("--promote", action="store_true",
                        help="copy the evaluated candidate into assets/mini/ if its out-of-domain figures are better")
    parser.add_argument("--force", action="store_true", help="with --promote: ship even if not better")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    log = lambda s: print(s, flush=True)  # noqa: E731
    if args.promote:
        from pretrain.promote import promote
        promote(args.family, force=args.force, log=log)
        return
    if not (args.minutes or args.steps or args.until or args.wall_minutes or args.export_only):
        parser.error("give --minutes, --wall-minutes, --steps or --until (or --export-only, --promote)")
    from pretrain.train import MINI, run
    run(args.family, minutes=args.minutes, steps=args.steps, seed=args.seed, device=args.device,
        export_only=args.export_only, peak_lr=args.peak_lr, init_from=MINI if args.init_from_shipped else None,
        until=_deadline(args.until) if args.until else None, wall_minutes=args.wall_minutes,
        log=log, precision=args.precision, batch_size=args.batch_size)


if __name__ == "__main__":
    main()
