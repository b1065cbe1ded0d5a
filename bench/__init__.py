"""Benchmark commands, e.g. `python -m bench.run` (the Compare tab's measurements; see bench/run.py)."""
