"""The papers' and tutorials' claims about the family, each checked against these configs and this machine's timings.

The claims are data (CLAIMS): what is claimed, about which family (its default checkpoint, of the given role, is the
one measured, and its registry entry's paper is the source), compared with which family, and the claimed figures.
No checkpoint or family is looked up by a name written in code: the registry says which checkpoint is a family's
default (`default_checkpoint`). Each kind of check is a small function of (subject, baseline, timings, figures).

    >>> claims = claims_check({p.key: p for p in parameter_breakdowns(default_keys())})   # doctest: +SKIP
    >>> claims[0].claim, claims[0].verdict                  # ('DistilBERT is 40% smaller than BERT', 'holds')
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from model_zoo.profiling.parameters import PARTS, ParameterBreakdown
from model_zoo.profiling.timing import CompareResult
from model_zoo.registry import FAMILIES, default_checkpoint


@dataclass(frozen=True)
class Claim:
    claim: str
    source: str
    measured: str
    verdict: str          # "holds", "does not hold", "roughly", or "not measured"


NOT_MEASURABLE = "not measurable here"


def speed_claim(result: CompareResult | None, slow_key: str, fast_key: str, claimed: float) -> tuple[str, str]:
    """(what was measured, verdict) for "fast_key is `claimed` times as fast as slow_key".

    At each size both were timed: the ratio of medians, and an interval from the quartiles (slow q1 / fast q3 to
    slow q3 / fast q1). A verdict needs at least two sizes that agree, each with its interval wholly above the claim
    ("holds") or wholly below it ("does not hold"); an interval that straddles it, sizes that disagree, or a missing
    spread give "not measurable here", with the figures."""
    if result is None:
        return "not timed yet (time both models to check)", "not measured"
    slow = {(m.batch, m.length): m for m in result.measurements if m.key == slow_key}
    fast = {(m.batch, m.length): m for m in result.measurements if m.key == fast_key}
    points = sorted(set(slow) & set(fast), key=lambda p: (p[1], p[0]))
    if not points:
        return "not timed yet (time both models to check)", "not measured"
    parts, verdicts = [], []
    for point in points:
        s, f = slow[point], fast[point]
        ratio = s.median_ms / f.median_ms
        if s.q1_ms > 0 and f.q1_ms > 0 and s.runs >= 3 and f.runs >= 3:
            low, high = s.q1_ms / f.q3_ms, s.q3_ms / f.q1_ms
            verdicts.append("holds" if low >= claimed else "does not hold" if high < claimed else NOT_MEASURABLE)
            parts.append(f"batch {point[0]} x {point[1]} tokens: {ratio:.2f}x [{low:.2f}-{high:.2f}]")
        else:
            verdicts.append(NOT_MEASURABLE)
            parts.append(f"batch {point[0]} x {point[1]} tokens: {ratio:.2f}x (no spread recorded)")
    measured = "; ".join(parts) + f" (claim: {claimed:.1f}x; median ratio [interval from the quartiles])"
    if len(points) < 2:
        return measured + "; one size only: measure at least two", NOT_MEASURABLE
    env = result.environment
    busy = f"; the machine was busy (load {max(env.load_before, env.load_after):.1f} on {env.cores} cores)" \
        if env.busy else ""
    if env.device.startswith("cuda"):
        lengths = [p[1] * p[0] for p in points]
        if slow[points[-1]].median_ms < 2 * slow[points[0]].median_ms and max(lengths) >= 4 * min(lengths):
            return (measured + "; the GPU is launch-bound at these sizes (time hardly grows with the input): "
                    "measure larger batches", NOT_MEASURABLE)
    if len(set(verdicts)) == 1 and verdicts[0] != NOT_MEASURABLE:
        return measured + busy, verdicts[0]
    straddles = [f"batch {b} x {n} tokens" for (b, n), v in zip(points, verdicts) if v == NOT_MEASURABLE]
    why = (f"; no verdict: at {', '.join(straddles)} the interval contains the claimed {claimed:.1f}x (the timings' "
           f"spread allows either answer)" if straddles else
           "; no verdict: the sizes disagree (" + ", ".join(verdicts) + ")")
    return measured + why + busy, NOT_MEASURABLE


# ---------------------------------------------------------------------------------------------------- the checks
# Each: (subject, baseline, timings or None, claimed figures) -> (what was measured, verdict).
def _smaller(subject: ParameterBreakdown, baseline: ParameterBreakdown, result, figures) -> tuple[str, str]:
    """The subject stores `figures[0]` fewer parameters than the baseline (within 5 points)."""
    smaller = 1 - subject.total / baseline.total
    return (f"{subject.total / 1e6:.1f}M vs {baseline.total / 1e6:.1f}M parameters: {smaller:.0%} smaller",
            "holds" if abs(smaller - figures[0]) <= 0.05 else "does not hold")


def _faster(subject: ParameterBreakdown, baseline: ParameterBreakdown, result, figures) -> tuple[str, str]:
    """The subject runs `figures[0]` times as fast as the baseline (see speed_claim)."""
    return speed_claim(result, baseline.key, subject.key, figures[0])


def _stored_parameters(subject: ParameterBreakdown, baseline: ParameterBreakdown, result, figures) -> tuple[str, str]:
    """The subject stores `figures[0]` parameters and the baseline `figures[1]` (each within 10%); and what one forward
    pass applies, which weight sharing multiplies."""
    ok = abs(subject.total / figures[0] - 1) <= 0.1 and abs(baseline.total / figures[1] - 1) <= 0.1
    return (f"{subject.total / 1e6:.1f}M vs {baseline.total / 1e6:.1f}M stored; but {FAMILIES[subject.family].name} "
            f"applies {subject.per_forward / 1e6:.1f}M per forward pass (one layer used {subject.layers} times), so it "
            f"is not cheaper to run", "holds" if ok else "does not hold")


def _memory_fraction(subject: ParameterBreakdown, baseline: ParameterBreakdown, result, figures) -> tuple[str, str]:
    """The subject's weights are at most `figures[0]` of the baseline's; with timings, memory while running too."""
    ratio = subject.total / baseline.total
    measured = (f"weights {subject.bytes_fp32 / 2**20:.0f} MB vs {baseline.bytes_fp32 / 2**20:.0f} MB in fp32 "
                f"({ratio:.0%})")
    timed = result.measurements if result else ()
    theirs = {(m.batch, m.length): m for m in timed if m.key == baseline.key}
    both = [m for m in timed if m.key == subject.key and (m.batch, m.length) in theirs]
    if both:
        e = max(both, key=lambda m: m.batch * m.length)
        b = theirs[(e.batch, e.length)]
        measured += (f"; weights + growth while running at batch {e.batch}, {e.length} tokens: "
                     f"{e.weights_mb + e.peak_memory_mb:.0f} MB vs {b.weights_mb + b.peak_memory_mb:.0f} MB")
    return measured, "holds" if ratio <= figures[0] else "does not hold"


def _same_architecture(subject: ParameterBreakdown, baseline: ParameterBreakdown, result, figures) -> tuple[str, str]:
    """Same layers, widths, heads and encoder parameters as the baseline; the embeddings may differ."""
    same = (subject.layers, subject.hidden, subject.heads, subject.intermediate) == \
           (baseline.layers, baseline.hidden, baseline.heads, baseline.intermediate)
    same_layers = subject.parts["encoder layers"] == baseline.parts["encoder layers"]
    embedding_gap = sum(subject.parts[p] for p in PARTS[:5]) - sum(baseline.parts[p] for p in PARTS[:5])
    return (f"{subject.layers} layers, {subject.hidden} hidden, {subject.heads} heads, {subject.intermediate} "
            f"feed-forward in both; encoder layers {subject.parts['encoder layers']:,} vs "
            f"{baseline.parts['encoder layers']:,}; embeddings differ by {embedding_gap / 1e6:+.1f}M (vocabulary "
            f"{subject.vocab:,} vs {baseline.vocab:,})", "holds" if same and same_layers else "does not hold")


# ---------------------------------------------------------------------------------------------------- the claims
@dataclass(frozen=True)
class PaperClaim:
    claim: str               # as the papers and tutorials put it
    family: str              # Family.key of the family it is about; its paper is the source
    check: Callable[..., tuple[str, str]]
    figures: tuple[float, ...] = ()   # the claimed numbers the check compares with
    role: str = ""           # which of the family's default checkpoints (ELECTRA: the discriminator)
    against: str = "bert"    # Family.key of the family it is compared with (its main default checkpoint)


CLAIMS: tuple[PaperClaim, ...] = (  # in the order the Compare tab lists them
    PaperClaim("DistilBERT is 40% smaller than BERT", "distilbert", _smaller, (0.40,)),
    PaperClaim("DistilBERT is 60% faster than BERT", "distilbert", _faster, (1.6,)),
    PaperClaim("ALBERT-base has 12M parameters against BERT-base's 110M", "albert", _stored_parameters,
               (12e6, 110e6)),
    PaperClaim("ELECTRA-Small needs a fraction of BERT's memory", "electra", _memory_fraction, (0.25,),
               role="discriminator"),
    PaperClaim("RoBERTa keeps BERT's architecture", "roberta", _same_architecture),
)


def _default_key(family: str, role: str = "") -> str:
    try:
        return default_checkpoint(family, role).key
    except KeyError:  # a registry without that default checkpoint: the claim is not checked
        return ""


def claims_check(params: dict[str, ParameterBreakdown], result: CompareResult | None = None) -> list[Claim]:
    """Each claim of CLAIMS whose two checkpoints are in `params` (keyed by checkpoint key), against what this
    machine and these configs say."""
    claims = []
    for c in CLAIMS:
        subject, baseline = params.get(_default_key(c.family, c.role)), params.get(_default_key(c.against))
        if subject and baseline:
            measured, verdict = c.check(subject, baseline, result, c.figures)
            claims.append(Claim(c.claim, FAMILIES[c.family].paper, measured, verdict))
    return claims
