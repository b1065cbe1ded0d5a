"""The last measurement made on each device, kept as JSON under CACHE_DIR (compare-<device>.json), so the Compare
tab opens with it. A broken file counts as none.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from model_zoo import loading
from model_zoo.profiling.timing import CompareResult, Environment, Measurement, environment

CACHE_DIR = Path(os.environ.get("EXPLORER_CACHE_DIR", Path.home() / ".cache" / "bert-family-explorer"))


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
