"""A seventh family is one registry entry, one config and one fixture (issue 17): ModernBERT, built here from its real
config class, gets its tab, and every generic view works on it with no code that knows its name."""
from __future__ import annotations

import numpy as np
import pytest

from model_zoo import attention, embeddings, fill_mask, loading, profiling, registry, side_by_side, tiny
from model_zoo.registry import Capability as C, Checkpoint, Family, TokenizerKind


@pytest.fixture(scope="module")
def modernbert(tmp_path_factory):
    import transformers as tf
    tokenizer = tiny.byte_bpe_tokenizer()
    config = tf.ModernBertConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                 num_attention_heads=4, max_position_embeddings=128,
                                 pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                                 eos_token_id=tokenizer.eos_token_id, cls_token_id=tokenizer.cls_token_id,
                                 sep_token_id=tokenizer.sep_token_id)
    model = tf.ModernBertForMaskedLM(config)
    model.config.explorer_random_weights = True
    folder = tmp_path_factory.mktemp("modernbert")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    # the one registry entry (family, its classes, a checkpoint); restored afterwards
    saved = (dict(registry.FAMILIES), dict(registry.SUPPORTED_CLASSES), dict(registry.CLASS_CAPABILITIES),
             dict(registry.CHECKPOINTS))
    registry.FAMILIES["modernbert"] = Family(
        "modernbert", "ModernBERT", ("modernbert",), TokenizerKind.BYTE_BPE, "Warner et al., 2024",
        "Masked language modelling (30% of tokens), rotary positions, alternating local and global attention.",
        "A BERT rebuilt with a decade of improvements.", "ModernBertForMaskedLM", {"head": C.FILL_MASK,
                                                                                   "decoder": C.FILL_MASK},
        pair_input=False, mlm_class="ModernBertForMaskedLM", token_types=False,
        mask_example="The capital of France is <mask>.")
    registry.SUPPORTED_CLASSES["modernbert"] = ("ModernBertForMaskedLM", "ModernBertModel")
    registry.CLASS_CAPABILITIES.update({"ModernBertForMaskedLM": frozenset({C.FILL_MASK}),
                                        "ModernBertModel": frozenset()})
    registry.CHECKPOINTS["tiny-modernbert"] = Checkpoint("tiny-modernbert", "modernbert", str(folder),
                                                         "ModernBertForMaskedLM", frozenset({C.ATTENTION, C.FILL_MASK}),
                                                         "A tiny random ModernBERT (test fixture).", default=True)
    yield "tiny-modernbert"
    for live, old in zip((registry.FAMILIES, registry.SUPPORTED_CLASSES, registry.CLASS_CAPABILITIES,
                          registry.CHECKPOINTS), saved):
        live.clear()
        live.update(old)


def test_every_generic_view_works_on_a_seventh_family(modernbert):
    loaded = loading.load(modernbert)
    assert not loaded.report.trained                                   # labelled random, as every fixture
    found = attention.compute(loaded, "A modern encoder reads this.")
    np.testing.assert_allclose(found.attention.sum(-1), 1.0, atol=1e-4)   # (layers, heads, T, T) rows sum to 1
    guesses = fill_mask.fill_mask(fill_mask.fill_mask_model(modernbert), "The capital of France is <mask>.", k=3)
    assert len(guesses.masks) == 1 and len(guesses.masks[0].readable) == 3 and not guesses.head_trained
    column = side_by_side.side_by_side([modernbert, "mini-bert"], "The capital of France is [MASK].").columns[0]
    assert not column.error and column.guesses is not None and column.family == "ModernBERT"
    vectors = embeddings.extract(loaded, ["One sentence.", "Another one."], level="sentences").vectors
    assert vectors.shape == (2, 32)
    assert profiling.parameter_breakdown(registry.CHECKPOINTS[modernbert]).total == sum(
        p.numel() for p in loaded.model.parameters())


def test_the_app_builds_its_tab_and_sections(modernbert):
    import app
    demo = app.build_app("auto")
    every = [getattr(block, "elem_id", None) for block in demo.blocks.values()]
    ids = set(every)
    for elem in ("modernbert-model", "modernbert-text", "modernbert-tokens-run", "modernbert-attention-run",
                 "modernbert-fm-run"):
        assert elem in ids, elem
    # sections offered by capability, not by name: one replaced-token-detection and one permutation section in all
    assert every.count("electra-run") == 1 and every.count("xlnet-run") == 1
