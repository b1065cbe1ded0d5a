"""The mini zoo (assets/mini/): every bundled checkpoint loads through the registry, fits the size bound, and shows
behaviour only trained weights can have, on the committed held-out sample. A folder not built yet is skipped."""
from __future__ import annotations

import functools
import json
import os

os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from model_zoo import fill_mask, loading  # noqa: E402
from model_zoo.masking import mask_tokens  # noqa: E402
from model_zoo.registry import CHECKPOINTS, FAMILIES, MINI_ROOT  # noqa: E402
from testkit.plain_english import PLAIN  # noqa: E402

NAMES = ("bert", "roberta", "albert", "distilbert", "electra-generator", "electra-discriminator", "xlnet")
TOKENIZER_CLASS = {"bert": "BertTokenizer", "distilbert": "BertTokenizer", "electra-generator": "BertTokenizer",
                   "electra-discriminator": "BertTokenizer", "roberta": "RobertaTokenizer",
                   "albert": "AlbertTokenizer", "xlnet": "XLNetTokenizer"}
SAMPLE = MINI_ROOT / "heldout_sample.json"
MAX_BUNDLE_BYTES = 40 * 1024 ** 2


def mini(name: str) -> loading.LoadedModel:
    if not (MINI_ROOT / name / "config.json").exists():
        pytest.skip(f"assets/mini/{name} is not built yet (python -m pretrain --family ...)")
    return loading.load(f"mini-{name}")


def sample_texts() -> list[str]:
    if not SAMPLE.exists():
        pytest.skip("assets/mini/heldout_sample.json is missing (python -m pretrain.corpus)")
    return [s for doc in json.loads(SAMPLE.read_text()) for s in doc["segments"]]


def sample_docs() -> list[list[str]]:
    sample_texts()
    return [doc["segments"] for doc in json.loads(SAMPLE.read_text())]


def masked_batch(tok, texts, max_len=64, prob=0.15, seed=0):
    """Held-out texts with ~15% of real tokens replaced by the mask token (the evaluation's rule: masking.mask_tokens
    with every chosen token masked). -> (inputs, attention, labels (-100 = not masked)), torch tensors."""
    enc = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="np")
    ids = enc["input_ids"]
    special = np.isin(ids, tok.all_special_ids)
    inputs, labels = mask_tokens(ids, special, np.random.default_rng(seed), tok.mask_token_id, len(tok), prob=prob,
                                 mask_frac=1.0, random_frac=0.0)
    return torch.tensor(inputs), torch.tensor(enc["attention_mask"]), torch.tensor(labels)


def most_frequent(name: str, tok) -> int:
    """The most frequent training token, recorded by the evaluation in metrics/<family>.json ('the' otherwise)."""
    family = "electra" if name.startswith("electra") else name
    path = MINI_ROOT / "metrics" / f"{family}.json"
    token = None
    if path.exists():
        ev = json.loads(path.read_text())["evaluation"]
        block = ev.get("fill_mask") or ev.get("generator_fill_mask") or {}
        token = block.get("most_frequent_token")
    return tok.convert_tokens_to_ids(token) if token else tok("the", add_special_tokens=False)["input_ids"][0]


@pytest.mark.parametrize("name", NAMES)
def test_loads_through_registry_as_trained(name):
    lm = mini(name)
    assert lm.checkpoint.bundled
    assert lm.report.trained and not lm.report.untrained_capabilities, lm.report.summary()
    assert type(lm.tokenizer).__name__ == TOKENIZER_CLASS[name]
    assert (MINI_ROOT / name / "README.md").exists() and (MINI_ROOT / name / "model.safetensors").exists()


@pytest.mark.parametrize("name", NAMES)
def test_tokenizer_round_trip_and_specials(name):
    tok = mini(name).tokenizer
    text = "The quick brown fox jumps over the lazy dog."
    ids = tok(text)["input_ids"]
    expected = text if name in ("roberta", "xlnet") else text.lower()
    assert tok.decode(ids, skip_special_tokens=True).strip() == expected
    assert len(tok(tok.mask_token, add_special_tokens=False)["input_ids"]) == 1
    if name == "xlnet":
        assert ids[-2:] == [tok.sep_token_id, tok.cls_token_id] and tok.padding_side == "left"
    else:
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id


def test_bundle_size_bound():
    folders = [MINI_ROOT / n for n in NAMES if (MINI_ROOT / n).exists()]
    if not folders:
        pytest.skip("no mini checkpoint built yet")
    total = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())
    assert total <= MAX_BUNDLE_BYTES, f"mini zoo is {total / 1e6:.1f} MB, above 40 MB"


@pytest.mark.parametrize("name", ["bert", "roberta", "albert", "distilbert", "electra-generator"])
def test_fill_mask_beats_most_frequent_token(name):
    lm = mini(name)
    tok = lm.tokenizer
    hits, labelled = [], []
    for seed in range(3):  # three fixed masks of the sample: ~600 masked positions, enough to separate the two
        inputs, attention, labels = masked_batch(tok, sample_texts(), seed=seed)
        with torch.no_grad():
            out = lm.model(input_ids=inputs, attention_mask=attention)
        logits = out.prediction_logits if getattr(out, "prediction_logits", None) is not None else out.logits
        keep = labels != -100
        hits.append(logits.argmax(-1)[keep] == labels[keep])
        labelled.append(labels[keep])
    accuracy = torch.cat(hits).float().mean().item()
    baseline = (torch.cat(labelled) == most_frequent(name, tok)).float().mean().item()
    assert accuracy > baseline, f"top-1 {accuracy:.3f} <= most-frequent-token baseline {baseline:.3f}"


def test_electra_discriminator_flags_generator_replacements():
    gen, disc = mini("electra-generator"), mini("electra-discriminator")
    tok = gen.tokenizer
    inputs, attention, labels = masked_batch(tok, sample_texts())
    original = torch.where(labels != -100, labels, inputs)
    with torch.no_grad():
        probs = torch.softmax(gen.model(input_ids=inputs, attention_mask=attention).logits, -1)   # (B, T, V)
        sampled = torch.multinomial(probs[labels != -100], 1, generator=torch.Generator().manual_seed(0)).squeeze(1)
        corrupted = original.clone()
        corrupted[labels != -100] = sampled
        scores = disc.model(input_ids=corrupted, attention_mask=attention).logits                 # (B, T)
    real = attention.bool() & ~torch.isin(original, torch.tensor(tok.all_special_ids))
    replaced = real & (corrupted != original)
    kept = real & (corrupted == original)
    assert replaced.sum() > 10
    gap = (scores[replaced].mean() - scores[kept].mean()).item()  # random weights: ~0; trained: clearly positive
    assert gap > 0.1, f"replaced tokens score only {gap:+.3f} above originals (mean logit)"


def _pairs(docs, swap: bool, seed: int = 0):
    """(a, b, label): consecutive segments (label 0) vs B from another document (NSP) or swapped (SOP) (label 1)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, doc in enumerate(docs):
        for a, b in zip(doc, doc[1:]):
            if rng.random() < 0.5:
                out.append((a, b, 0))
            elif swap:
                out.append((b, a, 1))
            else:
                other = docs[(i + 1 + int(rng.integers(len(docs) - 1))) % len(docs)]
                out.append((a, other[int(rng.integers(len(other)))], 1))
    return out


SOP_AT_CHANCE = pytest.mark.xfail(
    strict=True, reason="known gap (issue #14): mini-ALBERT's SOP head is at chance on plain prose pairs (its "
    "card has the figures of every run; scripts/pair_cues.py: order leaves almost no surface cue in this corpus); "
    "not a bug: with the order made visible in the tokens the same weights learn SOP, "
    "tests/test_pretrain_pair_heads_learn.py. Strict: when a retrained head passes, this marker must go.")


# A pair head is above chance on in-domain prose (mini-BERT's NSP: its pairs are re-drawn for every static-mask copy;
# the figures of every run are in its card, which also says how far the out-of-domain stories are from the bar).
@pytest.mark.parametrize("name,swap", [("bert", False), pytest.param("albert", True, marks=SOP_AT_CHANCE)])
def test_sentence_pair_head_above_chance_on_prose(name, swap):
    """Pairs of consecutive verses of the sample's held-out Bible chapters (prose), against B from another chapter
    (NSP) or the two swapped (SOP), four draws pooled (160 pairs). The sample's WordNet documents are left out:
    definition -> example was the shortcut issue #14 removed from training."""
    lm = mini(name)
    sample_texts()
    prose = [doc["segments"] for doc in json.loads(SAMPLE.read_text()) if doc["id"].startswith("web-")]
    pairs = [p for seed in range(4) for p in _pairs(prose, swap, seed)]
    enc = lm.tokenizer([a for a, _, _ in pairs], [b for _, b, _ in pairs], padding=True, truncation=True,
                       max_length=128, return_tensors="pt")
    with torch.no_grad():
        out = lm.model(**enc)
    logits = out.sop_logits if swap else out.seq_relationship_logits
    accuracy = (logits.argmax(-1) == torch.tensor([p[2] for p in pairs])).float().mean().item()
    assert len(pairs) >= 150
    assert accuracy >= 0.6, f"{'SOP' if swap else 'NSP'} accuracy {accuracy:.2f} on {len(pairs)} held-out prose pairs"


def test_xlnet_permutation_lm_beats_most_frequent_token():
    lm = mini("xlnet")
    tok, model = lm.tokenizer, lm.model
    enc = tok(sample_texts()[:64], padding=True, truncation=True, max_length=48, return_tensors="pt")
    ids, attention = enc["input_ids"], enc["attention_mask"]
    rng = np.random.default_rng(0)
    b, t = ids.shape
    perm_mask = torch.zeros(b, t, t)
    target = torch.zeros(b, 1, t)
    labels = torch.zeros(b, 1, dtype=torch.long)
    special = torch.isin(ids, torch.tensor(tok.all_special_ids))
    for row in range(b):
        real = np.flatnonzero(~special[row].numpy())
        position = int(rng.choice(real))        # one target per row: the last of its order, seeing every other token
        perm_mask[row, :, position] = 1.0
        target[row, 0, position] = 1.0
        labels[row, 0] = ids[row, position]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attention, perm_mask=perm_mask, target_mapping=target,
                       token_type_ids=enc.get("token_type_ids")).logits                           # (B, 1, V)
    accuracy = (logits.argmax(-1) == labels).float().mean().item()
    baseline = (labels == most_frequent("xlnet", tok)).float().mean().item()
    assert accuracy > baseline, f"top-1 {accuracy:.3f} <= most-frequent-token baseline {baseline:.3f}"


PLAIN_TOP_K = 5
PLAIN_AT_LEAST = 3  # of 12 (random weights place none)
PLAIN_FIRST_AT_LEAST = 3  # "a few": mini-BERT's first answer sensible on at least 3 of the 12


# (top k, at least how many of the 12): mini-RoBERTa's vocabulary is cased byte-level BPE of the same size, so fewer
# answers are one piece: a wider k. Twelve sentences are a small sample; the card's out-of-domain fill-mask figure is
# the measure, this test a floor far above random weights, which place none (what each version answered: the table in
# assets/mini/ANSWERS.md, scripts/plain_english_table.py).
PLAIN_BARS = {"bert": (PLAIN_TOP_K, PLAIN_AT_LEAST), "roberta": (10, 5)}


@functools.lru_cache(maxsize=None)  # three tests read mini-BERT's ranks: one pass over the 12 sentences
def plain_ranks(name: str) -> dict[str, int | None]:
    """For each of PLAIN, the rank (1 = first) of its best sensible answer among the model's top 50, else None: each
    family's own mask token, its pieces read as words (byte-level BPE marks a word start with 'Ġ'; lower-cased)."""
    lm = mini(name)
    tok = lm.tokenizer
    ranks = {}
    for text, sensible in PLAIN:
        enc = tok(text.replace("[MASK]", tok.mask_token), return_tensors="pt")
        position = int((enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0])
        with torch.no_grad():
            out = lm.model(**enc)
        logits = out.prediction_logits if getattr(out, "prediction_logits", None) is not None else out.logits
        order = [t.lstrip("Ġ").lower() for t in
                 tok.convert_ids_to_tokens(logits[0, position].argsort(descending=True)[:50].tolist())]
        ranks[text] = min([order.index(w) + 1 for w in sensible if w in order], default=None)
    return ranks


@pytest.mark.parametrize("name", list(PLAIN_BARS))
def test_a_mini_model_ranks_a_sensible_word_high_on_plain_english(name):
    """mini-BERT, and mini-RoBERTa since its warm start: a sensible word in the top k on enough of the 12."""
    top_k, at_least = PLAIN_BARS[name]
    ranks = plain_ranks(name)
    good = [t for t, r in ranks.items() if r is not None and r <= top_k]
    assert len(good) >= at_least, f"a sensible word in the top {top_k} for {len(good)} of {len(PLAIN)}: {ranks}"


def test_mini_bert_puts_a_sensible_word_first_on_a_few_plain_sentences():
    """Issue #14's done-when: the bundled mini-BERT's first answer is sensible on a few of the 12 (what each
    shipped version answered is in its model card and assets/mini/ANSWERS.md, scripts/plain_english_table.py)."""
    ranks = plain_ranks("bert")
    assert sum(r == 1 for r in ranks.values()) >= PLAIN_FIRST_AT_LEAST, ranks


# What fits each gap of the opening texts, judged from the sentence alone (not from any model's answers): an age
# counts in years; one opens a thing one can open and then walk into a room.
OPENABLE = {"door", "doors", "window", "windows", "gate", "gates", "curtain", "curtains", "shutters", "hatch",
            "box", "letter", "envelope", "drawer", "cupboard", "wardrobe", "closet", "bag", "book", "present", "lid"}
OPENING_SENSIBLE = {"My brother is ten [MASK] old.": [{"years"}],
                    "She opened the [MASK] and walked into the room.": [OPENABLE],
                    "My brother is ten [MASK] old and my sister is eight [MASK] old.": [{"years"}, {"years"}]}


@pytest.mark.parametrize("family", [f.key for f in FAMILIES.values()])
def test_each_fill_mask_tab_opens_on_text_its_bundled_mini_answers_sensibly(family):
    """Offline the family tabs open on the bundled minis: the opening text must not teach that the model guesses
    nonsense ("The capital of France is [MASK]." drew "written" from mini-BERT). Through the app's own fill-mask, the
    first guess at every mask is a sensible word."""
    text = FAMILIES[family].mask_example
    minis = [c for c in CHECKPOINTS.values() if c.family == family and c.bundled and c.role != "discriminator"]
    if not minis:
        pytest.skip(f"no bundled mini of {family} built")
    sensible = OPENING_SENSIBLE.get(text.replace("<mask>", "[MASK]"))
    assert sensible, f"no sensible answers recorded for {text!r}"
    result = fill_mask.fill_mask(fill_mask.fill_mask_model(minis[0].key), text, k=3)
    assert len(result.masks) == len(sensible)
    for i, (guess, words) in enumerate(zip(result.masks, sensible)):
        assert guess.readable[0].strip().lower() in words, (family, i, guess.readable)


def test_side_by_side_opens_on_text_every_bundled_mini_answers_sensibly():
    """The side-by-side view opens comparing every bundled mini on its opening text: through the view itself, each
    model's first guess is English for the gap. "room" counts: it is copied from later in the sentence, which is what a
    model reading both sides does (the old opening text, the doctor sentence, drew "doctor" from four minis)."""
    from components.side_by_side_tab import EXAMPLE
    from model_zoo import side_by_side as sbs
    minis = [c.key for c in CHECKPOINTS.values() if c.bundled and c.role != "generator"]
    if len(minis) < 2:
        pytest.skip("the bundled minis are not built")
    sensible = OPENABLE | {"room"}   # "room": copied from later in the sentence, which only a two-sided reader does
    for view in sbs.run(minis, EXAMPLE):
        pass
    answered = {c.spec: c.guesses[0].readable[0].strip().lower() for c in view.columns if c.guesses}
    assert len(answered) == len(minis), (minis, answered)
    assert all(first in sensible for first in answered.values()), answered
    assert len(set(answered.values())) > 1, answered  # a comparison worth opening on: they do not all agree


def test_xlnet_tab_opens_on_targets_that_show_what_an_order_gives_them():
    """The XLNet permutation view's opening text and targets, on the bundled mini-XLNet: predicted last, with every
    other token in view (XLNet's pretraining: targets last), each target's true token ranks in the top 3; the target a
    random order (seed 0) predicts second, from one token of context, ranks below the one it predicts last."""
    from components.xlnet_view import DEFAULT_TARGETS
    from model_zoo import permutation
    xlnet = mini("xlnet")
    text = FAMILIES["xlnet"].mask_example      # the tab's opening text
    last = permutation.predict_targets(xlnet, text, "targets last", 0, "", DEFAULT_TARGETS).predictions
    assert [p.number for p in last] == [2, 3] and all(p.true_rank <= 10 for p in last), \
        [(p.token, p.true_rank) for p in last]
    shuffled = permutation.predict_targets(xlnet, text, "random", 0, "", DEFAULT_TARGETS).predictions
    early, late = sorted(shuffled, key=lambda p: p.step)
    assert early.step <= 3 < late.step and early.true_rank > late.true_rank, \
        [(p.token, p.step, p.true_rank) for p in shuffled]
