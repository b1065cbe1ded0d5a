"""One text for the whole app: what is typed in the side-by-side box or in any family tab's main box becomes the text
of every other one. Boxes of sections that need masks (fill-mask, why, heads off) take it only when it has one; what
is typed in one of those becomes the text of the others."""
from __future__ import annotations

from model_zoo.text import PLACEHOLDER


def _spread(n_main: int):
    def share_text(typed: str, *mask_texts: str):
        """(typed, *mask boxes) -> the typed text for the other main boxes; each mask box: the typed text when it
        holds a mask, else its own."""
        typed = typed or ""
        has_mask = bool(PLACEHOLDER.search(typed))
        return (*[typed] * n_main, *[typed if has_mask else own for own in mask_texts])
    return share_text


def _copies(n: int):
    def share_masked_text(typed: str):
        """A text typed in one mask box, for each of the other `n`."""
        return tuple([typed or ""] * n) if n > 1 else typed or ""
    return share_masked_text


def wire(main_boxes: list, mask_boxes: list) -> None:
    """Each main box, when the user types in it or leaves it (not when code sets it), sets every other main box and
    the mask boxes; each mask box sets the other mask boxes. Cheap and unqueued: it only copies strings."""
    for box in main_boxes:
        others = [b for b in main_boxes if b is not box]
        for event in (box.input, box.blur):
            event(_spread(len(others)), [box, *mask_boxes], [*others, *mask_boxes], api_visibility="private",
                  queue=False, show_progress="hidden", trigger_mode="always_last")
    for box in mask_boxes:
        others = [b for b in mask_boxes if b is not box]
        if others:
            for event in (box.input, box.blur):
                event(_copies(len(others)), [box], others, api_visibility="private", queue=False,
                      show_progress="hidden", trigger_mode="always_last")
