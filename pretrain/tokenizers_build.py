"""The mini zoo's four tokenizers, trained with the `tokenizers` library on the training split, saved for AutoTokenizer
(the trainers themselves: model_zoo.tokenizer_training, shared with the test fixtures).

  wordpiece  BERT / DistilBERT / ELECTRA: WordPiece, uncased, [PAD] [UNK] [CLS] [SEP] [MASK]  -> BertTokenizer
  bpe        RoBERTa: byte-level BPE, <s> <pad> </s> <unk> <mask>                             -> RobertaTokenizer
  albert     ALBERT: unigram with Metaspace '▁', lowercased, <pad> <unk> [CLS] [SEP] [MASK]  -> AlbertTokenizer
  xlnet      XLNet: unigram with Metaspace '▁', cased, <unk> <s> </s> <cls> <sep> <pad> <mask> <eod> <eop>
             (<sep> <cls> at the END of a sequence, padding on the left)                    -> XLNetTokenizer

    python -m pretrain.tokenizers_build     # writes .mini_work/tokenizers/<kind>/ and checks each one
"""
from __future__ import annotations

import sys
from pathlib import Path

from filelock import FileLock

from model_zoo import tokenizer_training
from pretrain.corpus import WORK, texts

TOKENIZER_DIR = WORK / "tokenizers"
VOCAB_SIZE = 8000
KINDS = ("wordpiece", "bpe", "albert", "xlnet")
LEFT_PADDED = {"xlnet"}  # kinds laid out as XLNet's: <sep> <cls> at the end, padding on the left


def _wordpiece(lines: list[str]):
    return tokenizer_training.wordpiece(lines, VOCAB_SIZE, min_frequency=2)


def _bpe(lines: list[str]):
    return tokenizer_training.byte_bpe(lines, VOCAB_SIZE, min_frequency=2)


def _albert(lines: list[str]):
    return tokenizer_training.albert(lines, VOCAB_SIZE, engine="tokenizers", lowercase_corpus=True)


def _xlnet(lines: list[str]):
    return tokenizer_training.xlnet(lines, VOCAB_SIZE, engine="tokenizers")


BUILDERS = {"wordpiece": _wordpiece, "bpe": _bpe, "albert": _albert, "xlnet": _xlnet}


def check(tokenizer, kind: str) -> None:
    """Raise AssertionError unless ids round-trip, the mask token is one id and special tokens sit where they should."""
    text = "The quick brown fox jumps over the lazy dog."
    ids = tokenizer(text)["input_ids"]
    decoded = tokenizer.decode(ids, skip_special_tokens=True).strip()
    expected = text.lower() if kind in ("wordpiece", "albert") else text
    assert decoded == expected, f"{kind}: {decoded!r} != {expected!r}"
    assert tokenizer.mask_token_id is not None and len(tokenizer(tokenizer.mask_token, add_special_tokens=False)
                                                       ["input_ids"]) == 1, f"{kind}: mask is not one id"
    assert tokenizer.unk_token_id is not None and tokenizer.pad_token_id is not None
    if kind in LEFT_PADDED:
        assert ids[-2:] == [tokenizer.sep_token_id, tokenizer.cls_token_id], f"xlnet specials not at the end: {ids}"
        assert tokenizer.padding_side == "left"
    else:
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id, f"{kind}: {ids}"


def build(kinds=KINDS) -> dict[str, Path]:
    from transformers import AutoTokenizer
    lines = texts("train")
    written = {}
    for kind in kinds:
        folder = TOKENIZER_DIR / kind
        BUILDERS[kind](lines).save_pretrained(folder)
        reloaded = AutoTokenizer.from_pretrained(folder)
        check(reloaded, kind)
        print(f"{kind:10s} {type(reloaded).__name__:18s} {len(reloaded)} tokens -> {folder}")
        written[kind] = folder
    return written


SHIPPED = {"wordpiece": "bert", "bpe": "roberta", "albert": "albert", "xlnet": "xlnet"}  # kind -> assets/mini folder


def load(kind: str, mini: Path):
    """The saved tokenizer of a kind. Missing, it is taken from the shipped checkpoint that uses it (under `mini`)
    (the shipped weights are only valid with their own tokenizer, and continuing them must keep it), else trained.
    A saved copy with the shipped vocabulary but other settings is replaced by the shipped one: a fix made to the
    shipped tokenizer (mini-RoBERTa's <mask> taking the space before it) reaches every run and every export."""
    import shutil

    from transformers import AutoTokenizer

    folder = TOKENIZER_DIR / kind
    TOKENIZER_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(TOKENIZER_DIR / f".{kind}.lock")):  # several processes at once: one copies or trains it
        shipped = mini / SHIPPED[kind]
        if (shipped / "tokenizer_config.json").exists() and behind_shipped(folder, shipped):
            folder.mkdir(parents=True, exist_ok=True)
            for name in ("tokenizer.json", "special_tokens_map.json", "vocab.txt", "tokenizer_config.json"):
                if (shipped / name).exists():
                    shutil.copy(shipped / name, folder / name)
        elif not (folder / "tokenizer_config.json").exists():
            build([kind])
    return AutoTokenizer.from_pretrained(folder)


def behind_shipped(folder: Path, shipped: Path) -> bool:
    """True when the saved tokenizer is missing, or has the shipped one's vocabulary and merges but differs from it
    (an older copy of the same tokenizer). A different vocabulary is a deliberate rebuild: kept."""
    import filecmp
    import json
    if not (folder / "tokenizer_config.json").exists():
        return True
    mine, theirs = folder / "tokenizer.json", shipped / "tokenizer.json"
    if not (mine.exists() and theirs.exists()):
        return False
    same = all(filecmp.cmp(folder / n, shipped / n, shallow=False) for n in ("tokenizer.json", "tokenizer_config.json")
               if (shipped / n).exists() and (folder / n).exists())
    if same:
        return False
    vocabulary = [json.loads(path.read_text(encoding="utf-8"))["model"] for path in (mine, theirs)]
    return vocabulary[0] == vocabulary[1]


if __name__ == "__main__":
    build(sys.argv[1:] or KINDS)
