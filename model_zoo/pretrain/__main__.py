"""Command line: python -m model_zoo.pretrain --family electra --minutes 20 [--steps N] [--seed 0] [--device cpu]."""
from __future__ import annotations

import argparse

import torch

from model_zoo.pretrain import FAMILIES
from model_zoo.pretrain.train import run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model_zoo.pretrain", description=__doc__)
    parser.add_argument("--family", required=True, choices=FAMILIES)
    parser.add_argument("--minutes", type=float, default=None, help="CPU-time budget in minutes, all runs of this family together (this process, single-threaded)")
    parser.add_argument("--steps", type=int, default=None, help="exact schedule length (deterministic with --seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (the default leaves other cores free)")
    parser.add_argument("--export-only", action="store_true", help="export + evaluate the latest checkpoint")
    args = parser.parse_args(argv)
    if not (args.minutes or args.steps or args.export_only):
        parser.error("give --minutes or --steps (or --export-only)")
    torch.set_num_threads(args.threads)
    run(args.family, minutes=args.minutes, steps=args.steps, seed=args.seed, device=args.device,
        export_only=args.export_only, log=lambda s: print(s, flush=True))


if __name__ == "__main__":
    main()
