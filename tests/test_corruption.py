"""Each family's corruption of one input (model_zoo.corruption) on the bundled mini checkpoints: the rules of each
objective hold slot by slot, the answers are the models' own, and the rendering escapes user text."""
import pytest
import torch

from components import corruption_view
from model_zoo import corruption as C
from model_zoo import loading, permutation
from model_zoo import sentence_tasks as st
from model_zoo.tokenization import InputError, readable_token

TEXT = ("In the beginning God created the heaven and the earth. And the earth was without form, and void; and "
        "darkness was upon the face of the deep. And God said, Let there be light: and there was light.")


@pytest.fixture(scope="module")
def result():
    rows, skipped = C.corruptions(TEXT, seed=3)
    return {r.key: r for r in rows}, skipped


def real(row):
    return [s for s in row.slots if s.role != C.SPECIAL]


def test_every_objective_is_there_and_answered_by_its_mini_checkpoint(result):
    rows, skipped = result
    assert skipped == []
    assert set(rows) == {"mlm", "dynamic-1", "dynamic-2", "nsp-next", "nsp-random", "sop-order", "sop-swapped", "rtd",
                         "plm"}
    assert rows["mlm"].checkpoint == "mini-bert" and rows["rtd"].checkpoint == "mini-electra-discriminator"
    assert rows["plm"].checkpoint == "mini-xlnet" and rows["sop-order"].checkpoint == "mini-albert"


@pytest.mark.parametrize("key", ["mlm", "dynamic-1", "dynamic-2"])
def test_masked_lm_follows_berts_rule_and_reports_the_models_own_top_guess(result, key):
    row = result[0][key]
    loaded = loading.load(loading.with_class(loading.resolve("mini-bert"), "BertForMaskedLM")) if key == "mlm" \
        else loading.load("mini-roberta")
    tok = loaded.tokenizer
    slots = real(row)
    chosen = [i for i, s in enumerate(row.slots) if s.role in (C.MASK, C.RANDOM, C.KEEP)]
    assert len(chosen) == max(1, round(0.15 * len(slots)))                       # 15% of the real tokens
    for i in chosen:
        s = row.slots[i]
        assert s.target == s.original                                             # the loss asks for the original
        if s.role == C.MASK:
            assert s.shown == tok.mask_token
        elif s.role == C.RANDOM:
            assert s.shown != s.original
        else:
            assert s.shown == s.original
    assert all(s.target is None for s in row.slots if s.role in (C.CONTEXT, C.SPECIAL))
    # the reported answers are the argmax of the model at the chosen positions of the corrupted input
    ids = corrupted_ids(tok, key)
    assert [s.shown for s in row.slots] == [readable_token(tok, t) for t in tok.convert_ids_to_tokens(ids.tolist())]
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor(ids)[None]).logits[0]       # (T, V)
    best = tok.convert_ids_to_tokens(logits[chosen].argmax(-1).tolist())
    assert [row.slots[i].predicted for i in chosen] == [readable_token(tok, t) for t in best]


def corrupted_ids(tok, key):
    """The ids the model saw, redrawn by BERT's rule with the documented seeds (static: seed; dynamic: seed + epoch)."""
    from model_zoo.masking import bert_masking
    from model_zoo.tokenization import tokenize
    tokens = tokenize(tok, TEXT, max_length=128)
    seed = 3 if key == "mlm" else 3 + int(key[-1])
    return bert_masking(tokens.ids, tokens.special, tok.mask_token_id, len(tok), seed=seed,
                        forbidden_ids=tuple(tok.all_special_ids)).corrupted


def test_static_masking_repeats_and_dynamic_masking_changes(result):
    rows = result[0]
    again, _ = C.corruptions(TEXT, seed=3)
    assert [s.role for s in again[0].slots] == [s.role for s in rows["mlm"].slots]   # static: same mask, same seed
    first = [i for i, s in enumerate(rows["dynamic-1"].slots) if s.target is not None]
    second = [i for i, s in enumerate(rows["dynamic-2"].slots) if s.target is not None]
    assert first != second                                                            # a new mask in epoch 2


def test_pairs_use_the_texts_segments_and_the_heads_own_probabilities(result):
    rows = result[0]
    a, b, at_sentence = C.split_segments(TEXT)
    assert at_sentence and TEXT.startswith(a) and TEXT.endswith(b)
    nsp = st.nsp_model("mini-bert")
    expected = st.next_sentence(nsp, a, b)
    assert rows["nsp-next"].label == "IsNext" and rows["nsp-random"].label == "NotNext"
    assert rows["nsp-next"].probability == pytest.approx(float(expected.probs.max()), abs=1e-6)
    random_b = " ".join(s.shown for s in rows["nsp-random"].slots if s.role == C.SEGMENT_B)
    assert random_b and random_b not in TEXT.lower()
    order, swapped = rows["sop-order"], rows["sop-swapped"]
    first_a = [s.shown for s in order.slots if s.role == C.SEGMENT_A]
    assert [s.shown for s in swapped.slots if s.role == C.SEGMENT_B] == first_a       # same segments, swapped
    sop = st.sop_model("mini-albert")
    assert swapped.probability == pytest.approx(float(st.sentence_order(sop, b, a).forward.probs.max()), abs=1e-6)


def test_replaced_token_detection_labels_every_token(result):
    row = result[0]["rtd"]
    slots = real(row)
    assert all(s.target in ("original", "replaced") for s in slots)                    # the loss is on every token
    assert all((s.target == "replaced") == (s.shown != s.original) for s in slots)
    assert all((s.role == C.REPLACED) == (s.target == "replaced") for s in slots)
    assert sum(s.role in (C.REPLACED, C.SAMPLED_ORIGINAL) for s in slots) == max(1, round(0.15 * len(slots)))


def test_permutation_lm_predicts_the_last_part_of_the_order_without_seeing_it(result):
    row = result[0]["plm"]
    slots = real(row)
    targets = [s for s in slots if s.role == C.TARGET]
    context = [s for s in slots if s.role == C.CONTEXT]
    assert len(targets) == max(1, round(0.15 * len(slots)))
    assert min(t.step for t in targets) > max(c.step for c in context)               # the last steps of the order
    assert sorted(s.step for s in slots) == list(range(1, len(slots) + 1))            # a permutation
    assert all(t.shown == "?" and t.target == t.original for t in targets)
    xlnet = loading.load("mini-xlnet")
    numbers = [i + 1 for i, s in enumerate(slots) if s.role == C.TARGET]
    again = permutation.predict_targets(xlnet, TEXT, "random", seed=3, targets_text=" ".join(map(str, numbers)))
    assert [p.top_tokens[0] for p in again.predictions] == [t.predicted for t in targets]


def test_one_sentence_is_cut_between_words_and_bad_input_is_a_message():
    a, b, at_sentence = C.split_segments("the quick brown fox jumps")
    assert (a, b, at_sentence) == ("the quick", "brown fox jumps", False)
    with pytest.raises(InputError, match="empty"):
        C.corruptions("   ")
    with pytest.raises(InputError, match="at most"):
        C.corruptions("word " * 200)


def test_rendering_escapes_user_text():
    rows, skipped = C.corruptions('<img src=x onerror="alert(1)"> & "quotes" go here. Second <b>part</b>.', seed=0)
    html = corruption_view.render(rows, skipped)
    assert "<img" not in html and "<b>part" not in html and "&lt;" in html
    assert html.count('class="cx-card"') == 9


XSS = '<img src=x onerror="window.__xss=1"> The cat sat. <script>window.__xss=2</script> It purred.'


def test_the_lab_shows_every_corruption_in_a_browser_and_runs_no_user_html(page, app_url):
    from playwright.sync_api import expect

    from tests.conftest import ARTIFACTS
    page.goto(app_url)
    page.get_by_role("tab", name="Pretraining lab").first.click()
    page.locator("#lab-text textarea").fill(XSS)
    page.locator("#lab-corrupt").click()
    page.wait_for_selector("#lab-corruptions .cx-card", timeout=90_000)
    expect(page.locator("#lab-corruptions .cx-card")).to_have_count(9)
    assert page.locator('#lab-corruptions .cx-card[data-key="rtd"] .cx-want').count() >= 5   # every token a target
    assert page.evaluate("window.__xss") is None
    assert page.locator("#lab-corruptions img").count() == 0
    page.locator("#lab-corruptions").screenshot(path=str(ARTIFACTS / "lab_corruptions.png"))
    assert not page.blocked, page.blocked
