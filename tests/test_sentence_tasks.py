"""Sentence-level objectives and tasks: NSP and SOP heads (two-class, equal to a direct forward), dynamic masking
(reproducible; 15% and 80/10/10 over many draws), DistilBERT against its teacher, and task heads that are newly
initialised said so instead of answered."""
import numpy as np
import pytest
import torch

from components import pretraining_view
from model_zoo import loading
from model_zoo import sentence_tasks as st
from model_zoo.masking import KEEP, MASK, RANDOM, bert_masking
from model_zoo.registry import Capability
from model_zoo.tokenization import InputError, tokenize

A, B = "The man went to the store.", "He bought a gallon of milk 🥛."


# ---------------------------------------------------------------------------------------------------- NSP / SOP
def test_nsp_is_two_class_and_equals_a_direct_forward(tiny_path):
    loaded = st.nsp_model(tiny_path("bert"))
    score = st.next_sentence(loaded, A, B)
    assert score.probs.shape == (2,) and abs(float(score.probs.sum()) - 1) < 1e-6
    assert score.labels[0] == "B follows A"
    encoded = loaded.tokenizer(A, B, return_tensors="pt")
    assert encoded["token_type_ids"].max() == 1  # B is segment 1
    with torch.inference_mode():
        direct = loaded.model(**encoded).seq_relationship_logits[0].softmax(-1).numpy()
        from transformers import BertForNextSentencePrediction
        other = BertForNextSentencePrediction.from_pretrained(tiny_path("bert")).eval()(**encoded).logits[0]
    np.testing.assert_allclose(score.probs, direct, atol=1e-6)
    np.testing.assert_allclose(score.probs, other.softmax(-1).numpy(), atol=1e-6)  # the same head, another class
    assert not score.head_trained  # random fixture


def test_sop_scores_both_orders_and_equals_a_direct_forward(tiny_path):
    loaded = st.sop_model(tiny_path("albert"))
    order = st.sentence_order(loaded, A, B)
    for first, second, score in ((A, B, order.forward), (B, A, order.backward)):
        assert score.probs.shape == (2,) and abs(float(score.probs.sum()) - 1) < 1e-6
        encoded = loaded.tokenizer(first, second, return_tensors="pt", return_token_type_ids=True)
        with torch.inference_mode():
            direct = loaded.model(**encoded).sop_logits[0].softmax(-1).numpy()
        np.testing.assert_allclose(score.probs, direct, atol=1e-6)
    assert order.forward.labels[0] == "in order"
    assert not np.allclose(order.forward.logits, order.backward.logits, atol=1e-7)  # order matters to the head


def test_pair_heads_refuse_bad_input(tiny_path):
    with pytest.raises(InputError, match="Both sentences"):
        st.next_sentence(st.nsp_model(tiny_path("bert")), A, "  ")
    with pytest.raises(InputError, match="at most"):
        st.sentence_order(st.sop_model(tiny_path("albert")), "word " * 400, "word " * 200)
    with pytest.raises(InputError, match="albert"):
        st.sop_model(tiny_path("bert"))


def test_missing_nsp_head_is_said_not_answered():
    """MiniLM's real weights have no NSP head: through BertForPreTraining it is newly initialised."""
    badge, html, _ = pretraining_view.nsp("minilm-l6", A, B)
    assert "NEWLY INITIALISED" in html and "B follows A</b>" not in html
    assert "NEWLY INITIALISED" in badge and "recorded-quality" not in html  # MiniLM has no card figure


def test_a_bundled_minis_answer_comes_with_its_measured_reliability():
    """mini-BERT's NSP, mini-ALBERT's SOP, mini-DistilBERT against its teacher and mini-ELECTRA's detection answer one
    input; next to it, the figure each card records out of domain and its verdict, so a near-chance head is not read
    as a working one."""
    from components import electra_view
    from model_zoo import pretraining_lab as lab
    from model_zoo.registry import CHECKPOINTS
    views = (("mini-bert", "nsp", lambda: pretraining_view.nsp("mini-bert", A, B)[1]),
             ("mini-albert", "sop", lambda: pretraining_view.sop("mini-albert", A, B)[1]),
             ("mini-distilbert", "distillation",
              lambda: pretraining_view.versus_teacher("mini-distilbert", "mini-bert", "It is ten [MASK] old.")[1]),
             ("mini-electra-discriminator", "replaced_token_detection",
              lambda: electra_view.replace_and_detect("mini-electra-generator", "mini-electra-discriminator",
                                                      "The chef cooked a meal.", 15, 0, 1.0, "")[2]))
    for key, measure, html_of in views:
        if key not in CHECKPOINTS:
            continue
        html = html_of()
        row = lab.recorded_out_of_domain(CHECKPOINTS[key], measure)
        assert "recorded-quality" in html and row.measured in html, key
        assert f"bar {row.bar.replace('>', '&gt;')}: <b>{'met' if row.met else 'NOT met'}</b>" in html, key


# ---------------------------------------------------------------------------------------------------- dynamic masking
def test_dynamic_masking_view_is_reproducible_and_differs_by_epoch(tiny_path):
    tokenizer = loading.load(tiny_path("roberta")).tokenizer
    text = "RoBERTa draws a new mask every time it sees a sentence, unlike BERT. " * 3
    first = st.masking_view(tokenizer, text, epochs=5, seed=7)
    again = st.masking_view(tokenizer, text, epochs=5, seed=7)
    assert [m.positions.tolist() for m in first.epochs] == [m.positions.tolist() for m in again.epochs]
    assert first.shown == again.shown
    assert len({tuple(m.positions) for m in first.epochs}) > 1  # a new mask per epoch
    tokens = tokenize(tokenizer, text, max_length=512)
    static = bert_masking(tokens.ids, tokens.special, tokenizer.mask_token_id, len(tokenizer), seed=7,
                          forbidden_ids=tuple(tokenizer.all_special_ids))
    assert first.static.positions.tolist() == static.positions.tolist()  # BERT: one draw, reused every epoch
    assert len(first.shown) == 6 and all(len(row) == len(tokens) for row in first.shown)
    for masking, row in zip(first.epochs, first.shown[1:]):
        for position, kind in zip(masking.positions, masking.kinds):
            assert (row[position] == "<mask>") == (kind == MASK)
    html = pretraining_view.render_masking(first, st.masking_stats(tokenizer, text, draws=50))
    assert html.count("<tr>") == 7 and "RoBERTa, epoch 5" in html


def test_dynamic_masking_obeys_15_percent_and_80_10_10(tiny_path):
    tokenizer = loading.load(tiny_path("bert")).tokenizer
    stats = st.masking_stats(tokenizer, " ".join(["river"] * 200), draws=800, seed=1)  # 200 candidates: 30 chosen
    assert stats.chosen_rate == pytest.approx(0.15, abs=1e-9)
    assert stats.split[MASK] == pytest.approx(0.8, abs=0.015)
    assert stats.split[RANDOM] == pytest.approx(0.1, abs=0.01)
    assert stats.split[KEEP] == pytest.approx(0.1, abs=0.01)
    assert stats.coverage == 1.0


# ---------------------------------------------------------------------------------------------------- DistilBERT
def test_student_vs_teacher(tiny_path):
    student = st.fill_mask_model(tiny_path("distilbert"))
    teacher = st.teacher_model(tiny_path("bert"))
    text = "Paris is the [MASK] of France, and [MASK] is its river."
    c = st.student_vs_teacher(student, teacher, text, k=5, runs=3)
    assert len(c.student.masks) == len(c.teacher.masks) == 2
    for m, (s, t) in enumerate(zip(c.student.masks, c.teacher.masks)):
        assert c.top1_agree[m] == (s.tokens[0] == t.tokens[0])
        assert c.overlap[m] == len(set(s.tokens) & set(t.tokens)) / 5
    assert c.student_ms > 0 and c.teacher_ms > 0 and c.speed_ratio == pytest.approx(c.teacher_ms / c.student_ms)
    same = st.student_vs_teacher(teacher, teacher, text, k=5, runs=1)  # a model agrees with itself
    assert same.top1_agree.all() and np.all(same.overlap == 1.0)
    html = pretraining_view.render_comparison(c, student.report, teacher.report)
    assert "median of 3" in html and "RANDOM weights" in html
    assert st.teacher_of("distilbert-base-uncased") == "bert-base-uncased"
    with pytest.raises(InputError, match="BERT"):
        st.teacher_model(tiny_path("roberta"))


# ---------------------------------------------------------------------------------------------------- tasks
def test_registry_task_checkpoints_say_not_available_offline():
    for key in ("roberta-sentiment", "distilbert-sst2", "albert-squad2"):
        task = Capability.QUESTION_ANSWERING if key == "albert-squad2" else Capability.SEQUENCE_CLASSIFICATION
        with pytest.raises(loading.ModelUnavailable, match="not available"):
            st.task_model(key, task)


def test_base_checkpoint_in_a_task_class_gets_a_random_head_warning():
    """The tutorials' trap, on real weights: MiniLM loaded for classification / QA has newly initialised heads."""
    loaded = st.task_model("minilm-l6", Capability.SEQUENCE_CLASSIFICATION)
    assert loaded.report.trained and "sequence classification" in loaded.report.untrained_capabilities
    result = st.classify(loaded, "I loved it.")
    assert result.probs.shape == (2,) and abs(float(result.probs.sum()) - 1) < 1e-6 and not result.head_trained
    badge, html, plot = pretraining_view.classify("minilm-l6", "I loved it.")
    assert "NEWLY INITIALISED" in html and "Sentiment:" not in html and plot is None
    badge, html, _ = pretraining_view.qa("minilm-l6", "Where is it?", "It is in Paris.")
    assert "NEWLY INITIALISED" in html and "Answer:" not in html


def test_qa_span_comes_from_the_context(tiny_path):
    loaded = st.task_model(tiny_path("albert"), Capability.QUESTION_ANSWERING)
    context = "The Eiffel Tower is in Paris, France. It was built in 1889."
    result = st.answer(loaded, "Where is the Eiffel Tower?", context)
    assert 0 <= result.start <= result.end <= len(context)
    assert result.text in ("", context[result.start:result.end])
    assert 0 <= result.score <= 1 and not result.head_trained
    with pytest.raises(InputError, match="question and a context"):
        st.answer(loaded, "", context)
