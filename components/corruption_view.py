"""Renders model_zoo.corruption: one card per objective, the same input as each objective's model sees it, what the
loss asks for at each position, and what the family's mini checkpoint answered. Every string is escaped."""
from __future__ import annotations

from components.common import escape
from model_zoo import corruption as C
from model_zoo.registry import FAMILIES

ROLE_TEXT = {C.MASK: "masked", C.RANDOM: "random token", C.KEEP: "kept (still predicted)",
             C.REPLACED: "replaced by the generator", C.SAMPLED_ORIGINAL: "generator sampled the original",
             C.ORIGINAL: "untouched, still a target",
             C.TARGET: "target", C.SEGMENT_A: "segment A", C.SEGMENT_B: "segment B",
             C.CONTEXT: "context (no loss)", C.SPECIAL: "special token"}

LEGEND = ('<div class="cx-legend">'
          + "".join(f'<span class="cx-slot cx-{role}"><span class="cx-shown">{escape(text)}</span></span>'
                    for role, text in ROLE_TEXT.items())
          + '<span class="cx-note">Under a token: <b>→ what the loss asks for</b>, then what the mini checkpoint '
            'answered (<span class="cx-ok">right</span> / <span class="cx-bad">wrong</span>; ✓ = an untouched token '
            'called original). '
            'XLNet: the small number is the token\'s place in the random factorisation order.</span></div>')


def render_slot(slot: C.Slot) -> str:
    step = f'<span class="cx-step">{slot.step}</span>' if slot.step is not None else ""
    below = ""
    if slot.role == C.ORIGINAL:  # ELECTRA's many untouched targets: a tick when called original, else the call
        verdict = '<span class="cx-pred cx-ok">✓</span>' if slot.correct else \
            f'<span class="cx-pred cx-bad">{escape(slot.predicted)}</span>'
        return (f'<span class="cx-slot cx-original" title="{escape(ROLE_TEXT[C.ORIGINAL])}: the discriminator must '
                f'call it original">{step}<span class="cx-shown">{escape(slot.shown)}</span>{verdict}</span>')
    if slot.target is not None and slot.role != C.CONTEXT:
        below += f'<span class="cx-want">→ {escape(slot.target)}</span>'
    if slot.predicted is not None and slot.role != C.CONTEXT:
        verdict = "cx-ok" if slot.correct else "cx-bad"
        below += f'<span class="cx-pred {verdict}">{escape(slot.predicted)}</span>'
    title = f"{ROLE_TEXT.get(slot.role, slot.role)} · your text: {slot.original}"
    return (f'<span class="cx-slot cx-{escape(slot.role)}" title="{escape(title)}">{step}'
            f'<span class="cx-shown">{escape(slot.shown)}</span>{below}</span>')


def render_row(row: C.Corruption) -> str:
    family = FAMILIES[row.family].name if row.family in FAMILIES else row.family
    label = ""
    if row.label is not None:
        verdict = "cx-ok" if row.predicted_label == row.label else "cx-bad"
        label = (f'<div class="cx-label">True label: <b>{escape(row.label)}</b> · {escape(row.checkpoint)} says '
                 f'<span class="{verdict}">{escape(row.predicted_label)} ({row.probability:.2f})</span></div>')
    notes = "".join(f'<div class="cx-note">{escape(n)}</div>' for n in row.notes)
    return (f'<div class="cx-card" data-key="{escape(row.key)}"><div class="cx-head"><b>{escape(row.objective)}</b>'
            f' · {escape(family)} · answered by <code>{escape(row.checkpoint)}</code>'
            f'<span class="cx-signal">{escape(row.signal)}</span></div>'
            f'<div class="cx-slots">{"".join(render_slot(s) for s in row.slots)}</div>{label}{notes}</div>')


def render(rows: list[C.Corruption], skipped: list[str]) -> str:
    skipped_html = "".join(f'<div class="note">{escape(s)}</div>' for s in skipped)
    return (f'<div class="cx">{LEGEND}{"".join(render_row(r) for r in rows)}{skipped_html}'
            '<div class="note">Answers come from the project\'s mini checkpoints (pretrained here on one CPU core, on '
            'WordNet glosses, the World English Bible, documentation, everyday English and stories: '
            'assets/mini/SOURCES.md): expect rough guesses; the point is what each objective sees and asks for.'
            '</div></div>')
