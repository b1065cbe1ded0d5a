"""Switching heads off on every family's tiny model: nothing off is bit-identical; one head (or a layer) off equals a
reference built from the eager attention probabilities and the value projection (XLNet: equals zeroing o[:, h, :] on a
private copy, and o is never touched, even when the pass raises); ALBERT's shared layer is gated at one layer only;
concurrent users get their own answers; the batched scan equals one ablation at a time; the gradient estimate equals a
finite difference."""
import copy
import threading
from contextlib import nullcontext

import numpy as np
import pytest
import torch

from model_zoo import fill_mask as fm
from model_zoo import head_ablation as ha
from model_zoo import loading
from model_zoo.text import head_logits
from model_zoo.tokenization import InputError

FIXTURES = ["bert", "roberta", "albert", "distilbert", "electra-generator", "electra-discriminator", "xlnet"]
LINEAR = [f for f in FIXTURES if f != "xlnet"]
VALUE = {"bert": "attention.self.value", "roberta": "attention.self.value", "electra": "attention.self.value",
         "distilbert": "attention.v_lin", "albert": "attention.value"}  # each family's value projection
TEXT = "The children play football in the park after school."


@pytest.fixture(scope="module")
def lm(tiny_path):
    return lambda fixture: loading.load(tiny_path(fixture))


def _inputs(lm, text=TEXT):
    ids = torch.as_tensor(lm.tokenizer(text)["input_ids"])[None]  # (1, T)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _guess_inputs(lm):
    _, tokens, positions = fm.prepare(lm.tokenizer, lm.config, lm.family.mask_example)
    return fm.model_inputs(lm, tokens.ids, positions), positions


def _modules(model, suffix):
    return [m for name, m in model.named_modules() if name.endswith("." + suffix)]


def _run(lm, inputs, **flags):
    with torch.inference_mode():
        return lm.model(**inputs, **flags)


def _hooks_left(lm) -> int:
    sites, method = ha.sites(lm.model, lm.family)
    return sum(len(m._forward_pre_hooks) + (method in m.__dict__) for m in sites) + \
        len(lm.model.base_model._forward_pre_hooks)


# ---------------------------------------------------------------------------------------------------- nothing off
@pytest.mark.parametrize("fixture", FIXTURES)
def test_no_head_off_leaves_every_output_bit_identical(lm, fixture):
    model = lm(fixture)
    inputs = _inputs(model)
    clean = _run(model, inputs, output_hidden_states=True, output_attentions=True)
    layers, heads = ha.shape(model)
    gates = torch.ones(1, layers, heads, requires_grad=True)  # the estimate's path: every context multiplied by 1
    for context in (ha.ablate(model, []), ha.gated(model, gates)):
        with context, torch.no_grad():
            out = model.model(**inputs, output_hidden_states=True, output_attentions=True)
        assert torch.equal(head_logits(out), head_logits(clean))
        assert all(torch.equal(a, b) for a, b in zip(out.hidden_states, clean.hidden_states))
        assert all(torch.equal(a, b) for a, b in zip(out.attentions, clean.attentions))
    assert _hooks_left(model) == 0


# ---------------------------------------------------------------------------------------------------- the reference
def _reference_context(lm, inputs, layer: int, off: list[int]):
    """Layer `layer`'s heads' context, computed from the eager probabilities and the value projection with the heads
    `off` zeroed, and the context the model really fed its output projection (all heads on)."""
    values, seen = [], []
    sites, _ = ha.sites(lm.model, lm.family)
    handles = [m.register_forward_hook(lambda m, a, out: values.append(out)) for m in
               _modules(lm.model, VALUE[lm.family.key])]
    handles += [m.register_forward_pre_hook(lambda m, a: seen.append(a[0])) for m in sites]
    try:
        probs = _run(lm, inputs, output_attentions=True).attentions[layer]  # (1, H, T, T)
    finally:
        for handle in handles:
            handle.remove()
    heads = probs.shape[1]
    v = values[layer].unflatten(-1, (heads, -1))  # (1, T, H, d)
    context = torch.einsum("bhij,bjhd->bihd", probs, v)  # (1, T, H, d)
    kept = context.clone()
    kept[:, :, off] = 0.0
    return kept.flatten(-2), context.flatten(-2), seen[layer]


def _forward_with_context(lm, inputs, layer: int, context):
    """A forward whose output projection at `layer` (its call order, as for ALBERT's shared one) gets `context`."""
    sites, _ = ha.sites(lm.model, lm.family)
    calls = []

    def replace(module, args):
        calls.append(1)
        return (context, *args[1:]) if len(calls) - 1 == layer else None
    handles = [m.register_forward_pre_hook(replace) for m in sites]
    try:
        return head_logits(_run(lm, inputs))
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.parametrize("fixture", LINEAR)
@pytest.mark.parametrize("layer,off", [(0, [1]), (1, [3]), (1, [0, 1, 2, 3])])  # one head; all heads of a layer
def test_heads_off_equal_a_reference_from_probabilities_and_values(lm, fixture, layer, off):
    model = lm(fixture)
    inputs = _inputs(model)
    reference, full, real = _reference_context(model, inputs, layer, off)
    torch.testing.assert_close(full, real, atol=1e-5, rtol=1e-5)  # the reference rebuilds the real context
    expected = _forward_with_context(model, inputs, layer, reference)
    with ha.ablate(model, [(layer, h) for h in off]):
        got = head_logits(_run(model, inputs))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, head_logits(_run(model, inputs)), atol=1e-7, rtol=0)  # it did change something


def test_albert_gates_its_shared_layer_at_one_layer_only(lm):
    model = lm("albert")
    inputs = _inputs(model)
    (dense,), _ = ha.sites(model.model, model.family)

    def contexts(context):
        seen = []
        handle = dense.register_forward_hook(lambda m, a, out: seen.append(a[0].clone()))  # after the gating
        with context:
            out = _run(model, inputs, output_hidden_states=True)
        handle.remove()
        return seen, out.hidden_states
    clean, clean_states = contexts(nullcontext())
    for layer in (0, 1):
        seen, states = contexts(ha.ablate(model, [(layer, 2)]))
        for i, (context, original) in enumerate(zip(seen, clean)):
            if i < layer:
                assert torch.equal(context, original)          # layers before: untouched
            elif i == layer:
                expected = original.unflatten(-1, (4, -1)).clone()
                expected[:, :, 2] = 0.0
                assert torch.equal(context, expected.flatten(-2))  # this layer: head 2 zeroed, nothing else
        assert all(torch.equal(a, b) for a, b in zip(states[:layer + 1], clean_states[:layer + 1]))
        assert not torch.equal(states[layer + 1], clean_states[layer + 1])


# ---------------------------------------------------------------------------------------------------- XLNet
@pytest.mark.parametrize("layer,off", [(0, [2]), (1, [0, 1, 2, 3])])
def test_xlnet_equals_zeroing_o_on_a_private_copy(lm, layer, off):
    model = lm("xlnet")
    inputs, _ = _guess_inputs(model)  # the query stream (perm_mask + target_mapping) and the content stream
    private = copy.deepcopy(model.model)
    with torch.no_grad():
        private.transformer.layer[layer].rel_attn.o[:, off, :] = 0.0
        expected = private(**inputs).logits
    with ha.ablate(model, [(layer, h) for h in off]):
        got = _run(model, inputs).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got, _run(model, inputs).logits, atol=1e-7, rtol=0)


def test_xlnet_o_is_untouched_by_a_pass_that_raises(lm):
    model = lm("xlnet")
    before = [layer.rel_attn.o.detach().clone() for layer in model.model.transformer.layer]
    bad = {"input_ids": torch.tensor([[10 ** 6]])}  # outside the vocabulary: the embedding raises mid-pass
    with pytest.raises(IndexError), ha.ablate(model, [(0, 1), (1, 3)]):
        model.model(**bad)
    assert all(torch.equal(layer.rel_attn.o, o) for layer, o in zip(model.model.transformer.layer, before))
    assert _hooks_left(model) == 0


# ---------------------------------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("fixture", ["bert", "albert", "xlnet"])  # a Linear per layer, a shared one, a method
def test_two_users_at_once_each_get_their_own_answer(lm, fixture):
    model = lm(fixture)
    inputs, _ = _guess_inputs(model)
    users = {"a": [(0, 0), (1, 1)], "b": [(1, 3)], "none": None}
    alone = {}
    for name, heads in users.items():
        with ha.ablate(model, heads) if heads else nullcontext():
            alone[name] = head_logits(_run(model, inputs))
    together = threading.Barrier(len(users), timeout=60)  # every user's forward in flight before any goes on

    def meet(module, args):
        together.wait()
    handle = model.model.base_model.register_forward_pre_hook(meet)
    got, errors = {}, []

    def user(name, heads):
        try:
            with ha.ablate(model, heads) if heads else nullcontext():
                got[name] = head_logits(_run(model, inputs))
        except Exception as error:  # reported below
            errors.append(error)
    threads = [threading.Thread(target=user, args=item) for item in users.items()]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        handle.remove()
    assert not errors, errors
    for name in users:
        torch.testing.assert_close(got[name], alone[name], atol=1e-6, rtol=0)
    assert not torch.allclose(alone["a"], alone["b"], atol=1e-6, rtol=0)
    assert _hooks_left(model) == 0


# ---------------------------------------------------------------------------------------------------- guesses
@pytest.mark.parametrize("fixture", ["bert", "xlnet"])
def test_guesses_before_are_fill_masks_and_after_are_the_ablated_model(lm, fixture):
    model = lm(fixture)
    text = model.family.mask_example
    result = ha.guesses_with_heads_off(model, text, [(1, 2), (0, 0)], k=4)
    plain = fm.fill_mask(model, text, k=4)
    assert [g.readable for g in result.before] == [g.readable for g in plain.masks]
    np.testing.assert_array_equal(np.stack([g.probs for g in result.before]), np.stack([g.probs for g in plain.masks]))
    inputs, positions = _guess_inputs(model)
    with ha.ablate(model, [(0, 0), (1, 2)]):
        off = fm.mask_logits(model, _run(model, inputs), positions).softmax(-1)  # (M, V)
    for m, guess in enumerate(result.after):
        np.testing.assert_allclose(guess.probs, torch.topk(off[m], 4).values.numpy(), rtol=1e-6)
        np.testing.assert_allclose(result.before_after[m], off[m, result.before[m].ids].numpy(), rtol=1e-6)
    assert result.heads == [(0, 0), (1, 2)] and result.weights == model.report.weights


def test_heads_are_parsed_and_a_checkpoint_that_cannot_guess_says_why(lm):
    assert ha.parse_heads(["L1 H2", "L0", " L1H2 "], 2, 4) == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 2)]
    for bad in (["L2 H0"], ["L0 H4"], ["head 3"], ["L-1 H0"]):
        with pytest.raises(InputError):
            ha.parse_heads(bad, 2, 4)
    with pytest.raises(InputError, match="cannot guess a hidden word"):
        ha.guesses_with_heads_off(lm("electra-discriminator"), "The [MASK] sat.", [(0, 0)])


# ---------------------------------------------------------------------------------------------------- importance
@pytest.mark.parametrize("fixture", ["bert", "albert", "xlnet"])
def test_the_batched_scan_equals_one_ablation_at_a_time(lm, fixture):
    model = lm(fixture)
    text = model.family.mask_example
    inputs, positions = _guess_inputs(model)
    tokens = inputs["input_ids"].shape[1]
    scan = ha.head_importance(model, text, batch_tokens=3 * tokens)  # 3 rows a forward: batches of 3, 3, 2
    assert scan.rows_per_forward == 3 and not scan.stopped
    clean = fm.mask_logits(model, _run(model, inputs), positions)[0].log_softmax(-1)
    assert scan.target_id == int(clean.argmax())
    assert scan.log_prob == pytest.approx(float(clean.max()), abs=1e-5)
    for layer, head in [(0, 0), (0, 3), (1, 1), (1, 3)]:
        with ha.ablate(model, [(layer, head)]):
            off = fm.mask_logits(model, _run(model, inputs), positions)[0].log_softmax(-1)
        assert scan.drop[layer, head] == pytest.approx(float(clean[scan.target_id] - off[scan.target_id]), abs=2e-6)


@pytest.mark.parametrize("fixture", ["bert", "albert", "xlnet"])
def test_the_gradient_estimate_equals_a_finite_difference(lm, fixture):
    model = lm(fixture)
    scan = ha.head_importance(model, model.family.mask_example)
    double = loading.LoadedModel(model.checkpoint, copy.deepcopy(model.model).double(), model.tokenizer, model.report)
    if fixture == "xlnet":  # its relative position encoding is built in float32 whatever the weights: cast it
        double.model.transformer.dropout.register_forward_hook(lambda m, a, out: out.double())
    inputs, positions = _guess_inputs(double)
    layers, heads = ha.shape(model)

    def loss(layer, head, gate):
        gates = torch.ones(1, layers, heads, dtype=torch.float64)
        gates[0, layer, head] = gate
        with ha.gated(double, gates):
            log_probs = fm.mask_logits(double, _run(double, inputs), positions)[0].log_softmax(-1)
        return -float(log_probs[scan.target_id])
    for layer, head in [(0, 1), (1, 2)]:
        slope = (loss(layer, head, 1 + 1e-4) - loss(layer, head, 1 - 1e-4)) / 2e-4
        assert scan.estimate[layer, head] == pytest.approx(abs(slope), rel=1e-3, abs=1e-8)


def test_a_stopped_scan_keeps_what_it_measured(lm):
    model = lm("bert")
    calls = []
    scan = ha.head_importance(model, model.family.mask_example, stop=lambda: len(calls) >= 2,
                              report=lambda fraction, message: calls.append(fraction), batch_tokens=40)
    done = scan.rows_per_forward
    assert scan.stopped and calls == [0.0, done / 8]  # the estimate, then one batch
    assert not np.isnan(scan.drop.ravel()[:done]).any() and np.isnan(scan.drop.ravel()[done:]).all()


def test_a_long_text_is_scanned_on_the_words_around_its_mask(tiny_path):
    """Past MAX_SCAN_TOKENS the scan reads the widest window of words centred on the chosen mask, and says so; the
    result equals a scan of that window typed by hand."""
    loaded = loading.load(tiny_path("bert"))
    filler = " ".join(["the cat sat on the mat"] * 30)
    text = f"A [MASK] here. {filler} and the [MASK] went home. {filler}"
    cut, mask, note = ha.window_around_mask(loaded.tokenizer, text, 1)
    assert note and "[MASK] went home" in cut and mask == 0 and cut in text
    assert len(loaded.tokenizer(cut)["input_ids"]) <= ha.MAX_SCAN_TOKENS
    long = ha.head_importance(loaded, text, mask=1)
    direct = ha.head_importance(loaded, cut, mask=0)
    assert long.note == note and direct.note == ""
    np.testing.assert_allclose(long.drop, direct.drop, atol=1e-6)
    assert ha.window_around_mask(loaded.tokenizer, "Short [MASK].", 0) == ("Short [MASK].", 0, "")
