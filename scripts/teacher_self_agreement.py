"""How stable is mini-BERT's own top-1? A yardstick for mini-DistilBERT's agreement bar (issue #14: >= 70% with the
shipped mini-BERT): earlier shipped versions of mini-BERT itself (same architecture, same lineage, taken from git)
scored against the shipped one exactly as the student is (evaluate.distil_agreement on the out-of-domain sentences),
with the agreement per band of the shipped teacher's confidence in its own top-1. Prints a Markdown table.

    python scripts/teacher_self_agreement.py [COMMIT ...]    # default: the two mini-BERTs shipped before this one
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
BERT = "assets/mini/bert"


def git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def earlier_versions(n: int = 2) -> list[str]:
    """The commits that shipped the n mini-BERTs before the current one (newest first)."""
    return git("log", "--format=%h", "--", f"{BERT}/model.safetensors").decode().split()[1:n + 1]


def main(commits: list[str]) -> None:
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM, DistilBertForMaskedLM

    from pretrain import evaluate as E
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(ROOT / BERT)
    teacher = BertForMaskedLM.from_pretrained(ROOT / BERT).eval()
    rows = E.ood_rows(tok)
    student = ROOT / "assets/mini/distilbert"
    others = [("mini-DistilBERT (shipped)", lambda: DistilBertForMaskedLM.from_pretrained(student))]
    with tempfile.TemporaryDirectory() as tmp:
        for commit in commits:
            folder = Path(tmp) / commit
            folder.mkdir()
            for name in FILES:
                (folder / name).write_bytes(git("show", f"{commit}:{BERT}/{name}"))
            others.append((f"mini-BERT shipped at {commit}",
                           lambda folder=folder: BertForMaskedLM.from_pretrained(folder)))
        print(f"Top-1 agreement with the shipped mini-BERT on {rows.name}; in each band of the shipped model's "
              "probability of its own top-1: agreement (share of positions)\n")
        print("| model | agreement | " + " | ".join(f"p {lo}" for lo in ("0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8",
                                                                          "0.8-1")) + " |")
        print("|---|---|" + "---|" * 5)
        for name, load in others:
            m = E.distil_agreement(load().eval(), teacher, tok, rows=rows, timing=False)
            bands = " | ".join(f"{b['agreement']:.1%} ({b['share']:.0%})" for b in m["agreement_by_teacher_confidence"])
            print(f"| {name} | {m['top1_agreement_with_teacher']:.1%} | {bands} |")


if __name__ == "__main__":
    main(sys.argv[1:] or earlier_versions())
