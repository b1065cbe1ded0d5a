"""How much the surface of a sentence pair says about its NSP or SOP label, without a transformer: a logistic regression
on the pieces at the edges of A and B (the first two and the last of each) and, for NSP, the pieces the two share.
Trained on single-sentence pairs of the training split (data.sentence_pairs, sentence_share=1.0), scored on those of
the held-out split and on the out-of-domain story pairs the bars use. A figure near 50% out of the training pairs says
the task leaves few surface cues in this text; a model near it has learned what the surface gives and little more.
Needs the built corpus (python -m pretrain.corpus); prints a Markdown table.

    python scripts/pair_cues.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pretrain import data as D  # noqa: E402
from pretrain import evaluate as E  # noqa: E402
from model_zoo.registry import MINI_ROOT  # noqa: E402
from pretrain import tokenizers_build  # noqa: E402

TASKS = {"NSP (mini-BERT's pairs)": ("wordpiece", True), "SOP (mini-ALBERT's pairs)": ("albert", False)}
MAX_TOKENS, EDGE = 125, 2


def features(pairs: list[tuple], shared: bool) -> list[dict]:
    rows = []
    for a, b, _ in pairs:
        f = {}
        for side, ids in (("A", a), ("B", b)):
            f.update({f"{side}{i}:{ids[i]}": 1 for i in range(min(EDGE, len(ids)))})
            f[f"{side}-1:{ids[-1]}"] = 1
        if shared:
            common = set(a.tolist()) & set(b.tolist())
            f.update({f"both:{t}": 1 for t in common})
            f["overlap"] = len(common) / (1 + min(len(set(a.tolist())), len(set(b.tolist()))))
        rows.append(f)
    return rows


def accuracies(kind: str, random_next: bool) -> dict[str, tuple[int, float]]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    tok = tokenizers_build.load(kind, MINI_ROOT)

    def pairs(split: str, seed: int) -> list[tuple]:
        drawn = D.sentence_pairs(D.tokenised(tok, kind, split), MAX_TOKENS, seed, random_next, sentence_share=1.0)
        return [p for p in drawn if p[2] != D.NO_PAIR_LABEL]

    train = pairs("train", 1)
    vectors = DictVectorizer()
    model = LogisticRegression(max_iter=2000, C=0.3).fit(vectors.fit_transform(features(train, random_next)),
                                                         [p[2] for p in train])
    sets = {"training": train[:20000], "held-out": pairs("heldout", 2), "out of domain": E.ood_pairs(tok, random_next)}
    return {name: (len(s), model.score(vectors.transform(features(s, random_next)), [p[2] for p in s]))
            for name, s in sets.items()}


def table() -> str:
    lines = ["| task | training pairs | held-out pairs | out-of-domain pairs |", "|---|---|---|---|"]
    for task, (kind, random_next) in TASKS.items():
        found = accuracies(kind, random_next)
        lines.append(f"| {task} | " + " | ".join(f"{acc:.1%} of {n:,}" for n, acc in found.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
