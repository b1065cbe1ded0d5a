"""Is mini-ALBERT's sentence-order head at chance because of the code or because of what it learned? Continue the
shipped mini-ALBERT on SOP alone, through the objective's own pairs, head and evaluation, with the order made visible
(the original first sentence starts with "first", the second with "second"), and score held-out pairs with and
without the marker. Recorded (shipped v6, 400 steps, about 6 CPU-minutes): marked held-out pairs 52.5% -> 100% after
50 steps (and after 400); the same model on plain held-out pairs 48.0% -> 52.2% -> 48.2%. The code learns order
when the tokens show it; on this text the model has not found it. Needs the built corpus (python -m pretrain.corpus).
tests/test_pretrain_pair_heads_learn.py checks the same on tiny models, for NSP too.

    python scripts/sop_visible_order.py [--steps 400]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pretrain import data as D  # noqa: E402
from pretrain import evaluate as E  # noqa: E402
from pretrain import train as T  # noqa: E402
from pretrain.nsp_sop import AlbertObjective, pair_loss  # noqa: E402


def marked(pairs: list[tuple], first: list[int], second: list[int]) -> list[tuple]:
    """The SOP pairs with the original order's first sentence prefixed by `first`, the second by `second`."""
    out = []
    for a, b, label in pairs:
        if label == D.NO_PAIR_LABEL:
            continue
        one, two = (a, b) if label == 0 else (b, a)              # label 1: stored swapped
        one, two = np.concatenate([first, one]), np.concatenate([second, two])
        out.append((one, two, 0) if label == 0 else (two, one, 1))
    return out


def main(steps: int) -> None:
    torch.set_num_threads(1)
    obj = AlbertObjective(0, "cpu")
    T.load_exported(obj, [T.MINI / "albert"])
    model, tok = obj.model, obj.tok
    first, second = (tok(w, add_special_tokens=False)["input_ids"] for w in ("first", "second"))
    train = marked(obj.pairs, first, second)
    batches = D.length_buckets(np.array([len(a) + len(b) + 3 for a, b, _ in train]), obj.batch_size, 0, 0)
    plain = E.pair_batches(tok, "albert", False, 400, sentences=True)
    held_out = marked(plain, first, second)

    def score(when: str) -> None:
        model.eval()
        print(f"{when}: marked held-out {E.pair_accuracy(model, tok, '', False, pairs=held_out)['accuracy']:.1%}, "
              f"plain held-out {E.pair_accuracy(model, tok, '', False, pairs=plain)['accuracy']:.1%}", flush=True)
        model.train()

    score("shipped")
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    for step in range(steps):
        b = E.encode_pairs(tok, [train[i] for i in batches[step % len(batches)]])
        out = model.albert(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                           token_type_ids=b["token_type_ids"])
        loss = pair_loss(model.sop_classifier(out[1]), b["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step + 1 in (50, steps):
            score(f"after {step + 1} steps")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    main(parser.parse_args().steps)
