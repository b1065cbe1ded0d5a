"""mini-ELECTRA v2 starts from the shipped mini-BERT: the copy must be exact (same outputs), and recorded (checksum)."""
from __future__ import annotations

import torch

from pretrain import train as T
from pretrain.electra import ElectraObjective, warm_start

SENTENCE = "the cat sat on the [MASK] and looked out of the window ."


def _models(generator=ElectraObjective.GENERATOR):
    from transformers import BertForPreTraining, ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
    bert = BertForPreTraining.from_pretrained(T.MINI / "bert", dtype=torch.float32).eval()
    common = dict(vocab_size=bert.config.vocab_size, pad_token_id=bert.config.pad_token_id)
    gen = ElectraForMaskedLM(ElectraConfig(**common, **generator)).eval()
    disc = ElectraForPreTraining(ElectraConfig(**common, **ElectraObjective.DISCRIMINATOR)).eval()
    return bert, gen, disc


def test_a_full_depth_generator_starts_as_mini_bert_guessing_the_same_words():
    from transformers import AutoTokenizer
    bert, gen, disc = _models(ElectraObjective.DISCRIMINATOR)
    tok = AutoTokenizer.from_pretrained(T.MINI / "bert")
    ids = tok(SENTENCE, return_tensors="pt")
    with torch.no_grad():
        before = gen(**ids).logits
        warm_start(gen, disc, T.MINI / "bert")
        expected = bert(**ids).prediction_logits
        got = gen(**ids).logits
    assert not torch.allclose(before, expected, atol=1e-2)       # a fresh generator is not BERT
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    mask = int((ids["input_ids"][0] == tok.mask_token_id).nonzero())
    assert got[0, mask].argmax() == expected[0, mask].argmax()


def test_the_shipped_generator_takes_mini_berts_first_layers_embeddings_and_head():
    bert, gen, disc = _models()
    layers = gen.config.num_hidden_layers
    assert 0 < layers < bert.config.num_hidden_layers           # smaller than the discriminator (the paper's advice)
    warm_start(gen, disc, T.MINI / "bert")
    b, g = bert.state_dict(), gen.state_dict()
    copied = {k: k.replace("bert.", "electra.", 1) for k in b
              if k.startswith("bert.embeddings.") or k.startswith("bert.encoder.layer.")
              and int(k.split(".")[3]) < layers}
    copied.update({"cls.predictions.transform.dense.weight": "generator_predictions.dense.weight",
                   "cls.predictions.transform.LayerNorm.bias": "generator_predictions.LayerNorm.bias",
                   "cls.predictions.bias": "generator_lm_head.bias"})
    for source, target in copied.items():
        if source.endswith("position_ids"):
            continue
        assert torch.equal(b[source], g[target]), target
    assert not any(k.startswith(f"electra.encoder.layer.{layers}.") for k in g)


def test_the_discriminator_encoder_is_mini_berts_and_its_head_is_new():
    bert, gen, disc = _models()
    head_before = disc.discriminator_predictions.dense.weight.clone()
    warm_start(gen, disc, T.MINI / "bert")
    ids = torch.tensor([[2, 50, 60, 70, 3]])
    with torch.no_grad():
        torch.testing.assert_close(disc.electra(ids).last_hidden_state, bert.bert(ids).last_hidden_state,
                                   atol=1e-4, rtol=1e-4)
    assert torch.equal(disc.discriminator_predictions.dense.weight, head_before)


def test_a_new_run_records_mini_berts_checksum():
    state = ElectraObjective.start_state(object.__new__(ElectraObjective))     # no data or models needed
    assert state["warm_start_sha256"] == T.file_sha256(T.MINI / "bert" / "model.safetensors")
    assert state["warm_start"] == "assets/mini/bert"


def test_roberta_starts_from_mini_berts_encoder_and_shifted_positions():
    from transformers import BertForPreTraining, RobertaConfig, RobertaForMaskedLM
    from pretrain.roberta import RobertaObjective, warm_start as roberta_warm_start
    bert = BertForPreTraining.from_pretrained(T.MINI / "bert", dtype=torch.float32).eval()
    model = RobertaForMaskedLM(RobertaConfig(vocab_size=500, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                             **RobertaObjective.CONFIG)).eval()
    words_before = model.roberta.embeddings.word_embeddings.weight.clone()
    roberta_warm_start(model, T.MINI / "bert")
    r, b = model.roberta.embeddings, bert.bert.embeddings
    assert torch.equal(r.position_embeddings.weight[2:514], b.position_embeddings.weight)   # offset pad id + 1
    assert torch.equal(r.word_embeddings.weight, words_before)                            # its own vocabulary
    # the same vectors in, the same states out: the encoder is BERT's, positions included
    ids = torch.tensor([[0, 50, 60, 70, 2]])
    with torch.no_grad():
        embedded = r(input_ids=ids)
        positions = torch.arange(5).unsqueeze(0)
        expected = b.LayerNorm(r.word_embeddings(ids) + b.position_embeddings(positions)
                               + b.token_type_embeddings(torch.zeros_like(ids)))
        torch.testing.assert_close(embedded, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.roberta.encoder(embedded).last_hidden_state,
                                   bert.bert.encoder(expected).last_hidden_state, atol=1e-4, rtol=1e-4)


class _Knows(torch.nn.Module):
    """A stand-in masked LM: certain of `truth` at every position (perfect=True), or of nothing (uniform)."""

    def __init__(self, truth: torch.Tensor, vocab: int, perfect: bool):
        super().__init__()
        self.truth, self.vocab, self.perfect = truth, vocab, perfect
        self.device = torch.device("cpu")

    def forward(self, input_ids, attention_mask=None):
        from types import SimpleNamespace
        logits = torch.zeros(*input_ids.shape, self.vocab)
        if self.perfect:
            logits.scatter_(-1, self.truth.unsqueeze(-1), 30.0)
        return SimpleNamespace(logits=logits)


def test_the_reference_detector_scores_the_same_replacements_by_surprise():
    from transformers import AutoTokenizer
    from pretrain import evaluate as E
    tok = AutoTokenizer.from_pretrained(T.MINI / "bert")
    bert, gen, disc = _models()
    warm_start(gen, disc, T.MINI / "bert")
    ood = E.ood_rows(tok)
    rows = E.Rows(ood.ids[:40], ood.attention[:40], "40 plain sentences")
    truth = torch.tensor(rows.ids)
    knows = E.electra_auc(gen, disc, tok, rows=rows, reference=_Knows(truth, len(tok), perfect=True))
    blind = E.electra_auc(gen, disc, tok, rows=rows, reference=_Knows(truth, len(tok), perfect=False))
    assert knows["reference_roc_auc"] == 1.0 and blind["reference_roc_auc"] == 0.5   # a model that knows the text, one that knows nothing
    assert knows["roc_auc"] == blind["roc_auc"] and 0.0 < knows["replaced_fraction"] < 0.2   # same corruption either way
    assert "reference_roc_auc" not in E.electra_auc(gen, disc, tok, rows=rows)
    low, high = knows["roc_auc_interval"]            # 95%, the 40 sentences resampled whole
    assert low <= knows["roc_auc"] <= high and high - low < 0.5


def test_continuing_shipped_weights_keeps_the_warm_start_they_came_from(tmp_path, monkeypatch):
    """--init-from-shipped on ELECTRA or RoBERTa continues weights that started from an older mini-BERT: the record
    (card, lab timeline) must keep that one, not take today's mini-BERT. DistilBERT's teacher is taken afresh."""
    import json
    from pretrain.distill import DistilObjective
    electra = object.__new__(ElectraObjective)
    electra.family = "electra"
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    older = {"warm_start": "assets/mini/bert", "warm_start_sha256": "4458e2" + "0" * 58}
    (metrics / "electra.json").write_text(json.dumps({"steps": 10, "tokens_seen": 100, "cpu_minutes": 1.0,
                                                       "wall_minutes": 1.0, **older}))
    with monkeypatch.context() as patch:                         # the shipped record, read from a folder of ours
        patch.setattr(T, "MINI", tmp_path)
        previous = electra.previous_record()
    assert electra.continued_start_state(previous) == older
    assert electra.continued_start_state({}) == electra.start_state() != older      # a record without one: today's
    distil = object.__new__(DistilObjective)
    distil.teacher_sha256, distil.teacher_dir = "today", T.MINI / "bert"
    assert distil.continued_start_state({"record": {"teacher_sha256": "old"}})["teacher_sha256"] == "today"
