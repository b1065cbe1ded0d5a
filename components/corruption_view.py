"""Renders model_zoo.corruption: one card per objective, the same input as each objective's model sees it, what the
loss asks for at each position, and what the family's mini checkpoint answered. Every string is escaped."""
from __future__ import annotations

from components.markup import tag
from model_zoo import corruption as C
from model_zoo.registry import FAMILIES

ROLE_TEXT = {C.MASK: "masked", C.RANDOM: "random token", C.KEEP: "kept (still predicted)",
             C.REPLACED: "replaced by the generator", C.SAMPLED_ORIGINAL: "generator sampled the original",
             C.ORIGINAL: "untouched, still a target",
             C.TARGET: "target", C.SEGMENT_A: "segment A", C.SEGMENT_B: "segment B",
             C.CONTEXT: "context (no loss)", C.SPECIAL: "special token"}

LEGEND = tag("div", *(tag("span", tag("span", text, class_="cx-shown"), class_=f"cx-slot cx-{role}")
                      for role, text in ROLE_TEXT.items()),
             tag("span", "Under a token: ", tag("b", "→ what the loss asks for"), ", then what the mini checkpoint "
                 "answered (", tag("span", "right", class_="cx-ok"), " / ", tag("span", "wrong", class_="cx-bad"),
                 "; ✓ = an untouched token called original). XLNet: the small number is the token's place in the "
                 "random factorisation order.", class_="cx-note"), class_="cx-legend")


def render_slot(slot: C.Slot) -> str:
    step = tag("span", str(slot.step), class_="cx-step") if slot.step is not None else ""
    shown = tag("span", slot.shown, class_="cx-shown")
    if slot.role == C.ORIGINAL:  # ELECTRA's many untouched targets: a tick when called original, else the call
        verdict = tag("span", "✓" if slot.correct else slot.predicted,
                      class_=["cx-pred", "cx-ok" if slot.correct else "cx-bad"])
        return tag("span", step, shown, verdict, class_="cx-slot cx-original",
                   title=f"{ROLE_TEXT[C.ORIGINAL]}: the discriminator must call it original")
    below = []
    if slot.target is not None and slot.role != C.CONTEXT:
        below.append(tag("span", f"→ {slot.target}", class_="cx-want"))
    if slot.predicted is not None and slot.role != C.CONTEXT:
        below.append(tag("span", slot.predicted, class_=["cx-pred", "cx-ok" if slot.correct else "cx-bad"]))
    return tag("span", step, shown, *below, class_=f"cx-slot cx-{slot.role}",
               title=f"{ROLE_TEXT.get(slot.role, slot.role)} · your text: {slot.original}")


def render_row(row: C.Corruption) -> str:
    family = FAMILIES[row.family].name if row.family in FAMILIES else row.family
    label = ""
    if row.label is not None:
        verdict = "cx-ok" if row.predicted_label == row.label else "cx-bad"
        label = tag("div", "True label: ", tag("b", row.label), f" · {row.checkpoint} says ",
                    tag("span", f"{row.predicted_label} ({row.probability:.2f})", class_=verdict), class_="cx-label")
    notes = (tag("div", n, class_="cx-note") for n in row.notes)
    head = tag("div", tag("b", row.objective), f" · {family} · answered by ", tag("code", row.checkpoint),
               tag("span", row.signal, class_="cx-signal"), class_="cx-head")
    return tag("div", head, tag("div", *(render_slot(s) for s in row.slots), class_="cx-slots"), label, *notes,
               class_="cx-card", data_key=row.key)


def render(rows: list[C.Corruption], skipped: list[str]) -> str:
    return tag("div", LEGEND, *(render_row(r) for r in rows), *(tag("div", s, class_="note") for s in skipped),
               tag("div", "Answers come from the project's mini checkpoints (pretrained here on one CPU core, on "
                   "WordNet glosses, the World English Bible, documentation, everyday English and stories: "
                   "assets/mini/SOURCES.md): expect rough guesses; the point is what each objective sees and asks "
                   "for.", class_="note"), class_="cx")
