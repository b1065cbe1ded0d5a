"""One text for the whole app: what is typed in the side-by-side box or in any family tab's text box becomes the text
of every other one (every section of a family tab reads its tab's text, masks included)."""
from __future__ import annotations


def _spread(n: int):
    def share_text(typed: str):
        """The typed text, for each of the other `n` boxes."""
        return tuple([typed or ""] * n) if n > 1 else typed or ""
    return share_text


def wire(boxes: list) -> None:
    """Each box, when the user types in it or leaves it (not when code sets it), sets every other box. Cheap and
    unqueued: it only copies strings."""
    for box in boxes:
        others = [b for b in boxes if b is not box]
        for event in (box.input, box.blur):
            event(_spread(len(others)), [box], others, api_visibility="private", queue=False,
                  show_progress="hidden", trigger_mode="always_last")
