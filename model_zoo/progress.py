"""The one progress protocol of model_zoo: slow work takes `report(fraction, message)`, a plain callable, and calls it
with the share done (0 to 1) and what it is doing now ("Timing mini-bert: batch 1, 32 tokens…"). model_zoo never sees
gradio's Progress; components.common.reporter adapts one to the other. Streaming work (side by side, fine-tuning) yields
its partial results instead and says its stage in them."""
from __future__ import annotations

from typing import Callable

Report = Callable[[float, str], None]


def ignore(fraction: float, message: str) -> None:
    """The default: nobody is listening."""
