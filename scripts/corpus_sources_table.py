"""What each corpus source adds for the out-of-domain evaluation set, without training a model per source: the share of
the set's word tokens that the source's training split holds at least 5 times, and the perplexity of the source's
add-one-smoothed unigram model on them (words as corpus.normalise leaves them: lower-cased letters and digits; the set's
sentences as corpus.ood_sentences gives them, the ones the corpus is cleaned against). Prints the
Markdown table of assets/mini/SOURCES.md; needs the built corpus (python -m pretrain.corpus).

    python scripts/corpus_sources_table.py
"""
from __future__ import annotations

import collections
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pretrain import corpus  # noqa: E402

FIRST_CORPUS = ("wordnet", "bible")


def row(counts: collections.Counter, ood: list[str]) -> tuple[int, float, float]:
    total, types = sum(counts.values()), len(counts) + 1
    seen = sum(counts[w] >= 5 for w in ood) / len(ood)
    perplexity = math.exp(-sum(math.log((counts[w] + 1) / (total + types)) for w in ood) / len(ood))
    return total, seen, perplexity


def table() -> str:
    per_source = collections.defaultdict(collections.Counter)
    for doc_id, segments in corpus.load_with_ids("train"):
        for segment in segments:
            per_source[corpus.source_of(doc_id)].update(corpus.normalise(segment).split())
    ood = [word for sentence in corpus.ood_sentences() for word in sentence.split()]
    groups = [((name,), name) for name in corpus.SOURCES]
    groups += [(FIRST_CORPUS, "WordNet + Bible (the first corpus)"), (tuple(corpus.SOURCES), "all sources")]
    lines = ["| source | words (train) | OOD words seen >= 5 times | OOD unigram perplexity |", "|---|---|---|---|"]
    for names, label in groups:
        total, seen, perplexity = row(sum((per_source[n] for n in names), collections.Counter()), ood)
        lines.append(f"| {label} | {total / 1e6:.2f} M | {100 * seen:.1f}% | {perplexity:,.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
