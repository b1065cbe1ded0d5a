"""Training the families' tokenizers from lines of text, all of it in this one module: WordPiece (BERT, DistilBERT,
ELECTRA), byte-level BPE (RoBERTa) and unigram SentencePiece (ALBERT, XLNet), each returned as the transformers
tokenizer class the family's checkpoints use, with the family's special tokens at the ids its real checkpoints have.

Two callers: pretrain.tokenizers_build (the mini zoo's 8,000-piece tokenizers, trained on the training
split) and model_zoo.tiny (the test fixtures' few-hundred-piece tokenizers, trained on assets/text/fixture_corpus.txt).

Unigram pieces come from one of two engines, on purpose:
  * "tokenizers" (Hugging Face `tokenizers`' SentencePieceUnigramTokenizer): the shipped mini-ALBERT and mini-XLNet
    were trained with it, and their weights are only valid with those exact vocabularies;
  * "sentencepiece" (Google's library): the tiny fixtures' vocabularies, which about twenty test files are built on.
The two engines learn different vocabularies from the same text; moving either caller to the other engine would
change a tokenizer that something depends on, so each keeps its own (tests/test_tokenizer_training.py checks both
callers against the trainers here).

    >>> tok = byte_bpe(["the cat sat", "the dog ran"], vocab_size=300, min_frequency=1)   # doctest: +SKIP
    >>> tok.convert_ids_to_tokens(tok("the cat")["input_ids"])    # ['<s>', 'the', 'Ġcat', '</s>']
"""
from __future__ import annotations

import io
import json

WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]   # bert-base-uncased's ids 0, 100, 101, 102, 103
BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]             # roberta-base's ids 0..3 and the last
ALBERT_SPECIALS = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]       # albert-base-v2's ids 0..4
XLNET_SPECIALS = ["<unk>", "<s>", "</s>", "<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"]  # xlnet's ids 0..8
ENGINES = ("tokenizers", "sentencepiece")


def wordpiece(lines: list[str], vocab_size: int, min_frequency: int = 2):
    """An uncased WordPiece BertTokenizer trained on `lines`."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizer
    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(lines, vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                special_tokens=WORDPIECE_SPECIALS)
    return BertTokenizer(vocab=trainer.get_vocab(), do_lower_case=True)


def byte_bpe(lines: list[str], vocab_size: int, min_frequency: int = 2):
    """A byte-level BPE RobertaTokenizer trained on `lines` (cased, no prefix space). Its <mask> takes the space
    before it (lstrip, as roberta-base's does): "of <mask>" is "Ġof <mask>", the way a masked word looked in training,
    not "Ġof Ġ <mask>" with a stray space piece the model never saw."""
    from tokenizers import AddedToken, ByteLevelBPETokenizer
    from transformers import RobertaTokenizer
    trainer = ByteLevelBPETokenizer(add_prefix_space=False)
    trainer.train_from_iterator(lines, vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                special_tokens=BPE_SPECIALS)
    model = json.loads(trainer.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return RobertaTokenizer(vocab=model["vocab"], merges=merges,
                            mask_token=AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True))


def unigram_pieces(lines: list[str], vocab_size: int, specials: list[str], engine: str) -> list[tuple[str, float]]:
    """(piece, log-probability) of a unigram model trained on `lines`, `specials` first at their ids (see the module
    docstring for the two engines). "<unk>" must be among `specials`."""
    if engine == "tokenizers":
        from tokenizers import SentencePieceUnigramTokenizer
        trainer = SentencePieceUnigramTokenizer()
        trainer.train_from_iterator(lines, vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>",
                                    show_progress=False)
        return [(piece, float(score)) for piece, score in json.loads(trainer.to_str())["model"]["vocab"]]
    if engine == "sentencepiece":
        import sentencepiece as spm
        buffer = io.BytesIO()
        controls = [s for s in specials if s not in ("<unk>", "<pad>")]
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buffer, vocab_size=vocab_size,
                                       model_type="unigram", unk_id=specials.index("<unk>"),
                                       pad_id=specials.index("<pad>"), bos_id=-1, eos_id=-1, control_symbols=controls,
                                       hard_vocab_limit=False, character_coverage=1.0, minloglevel=2)
        processor = spm.SentencePieceProcessor(model_proto=buffer.getvalue())
        return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    raise ValueError(f"unknown unigram engine {engine!r}; choose from {ENGINES}")


def albert(lines: list[str], vocab_size: int, engine: str, lowercase_corpus: bool):
    """An AlbertTokenizer (lowercasing, Metaspace '▁') on unigram pieces; `lowercase_corpus` lowercases the training
    lines first (the mini zoo does; the tiny fixtures were trained on the text as written)."""
    from transformers import AlbertTokenizer
    corpus = [line.lower() for line in lines] if lowercase_corpus else lines
    return AlbertTokenizer(vocab=unigram_pieces(corpus, vocab_size, ALBERT_SPECIALS, engine), do_lower_case=True)


def xlnet(lines: list[str], vocab_size: int, engine: str):
    """A cased XLNetTokenizer on unigram pieces (<sep> <cls> at the end of a sequence, padding on the left)."""
    from transformers import XLNetTokenizer
    return XLNetTokenizer(vocab=unigram_pieces(lines, vocab_size, XLNET_SPECIALS, engine), unk_id=0,
                          do_lower_case=False)
