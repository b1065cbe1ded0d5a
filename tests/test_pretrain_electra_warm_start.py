"""mini-ELECTRA v2 starts from the shipped mini-BERT: the copy must be exact (same outputs), and recorded (checksum)."""
from __future__ import annotations

import torch

from model_zoo.pretrain import train as T
from model_zoo.pretrain.electra import ElectraObjective, warm_start

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
    from model_zoo.pretrain.roberta import RobertaObjective, warm_start as roberta_warm_start
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
