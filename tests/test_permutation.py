"""XLNet permutation orders on a tiny random XLNet: masks, target mappings, scores against transformers' own loss."""
import numpy as np
import pytest
import torch

from model_zoo import loading, permutation
from model_zoo.permutation import make_order, parse_order, perm_mask_for, query_stream_inputs, target_mapping_for
from model_zoo.tokenization import InputError

TEXT = "the cat sat on the mat"  # 8 real tokens with the tiny SentencePiece vocabulary, then <sep> <cls>


@pytest.fixture(scope="module")
def xlnet(tiny_path):
    return loading.load(tiny_path("xlnet"))


# ------------------------------------------------------------------------------------------ masks, no model needed
SPECIAL = np.array([0, 0, 0, 0, 0, 1, 1], dtype=bool)  # five real tokens, then <sep> <cls> as XLNet puts them


@pytest.mark.parametrize("order", [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [3, 1, 4, 2, 5], [2, 5, 1, 3, 4]])
def test_perm_mask_forbids_exactly_the_tokens_at_or_after_in_the_order(order):
    mask = perm_mask_for(SPECIAL, np.array(order))
    assert mask.shape == (7, 7)
    step = {k - 1: s for s, k in enumerate(order)}  # sequence index -> step (real tokens are at 0..4)
    for i in range(7):
        for j in range(7):
            if SPECIAL[j]:
                expected = 0  # specials are visible to everyone
            elif SPECIAL[i]:
                expected = 1  # specials come first in every order: they see no real token
            else:
                expected = int(step[j] >= step[i])  # later in the order, or itself (query stream)
            assert mask[i, j] == expected, (order, i, j)
    # The content stream (transformers removes the diagonal from the same mask) sees exactly the earlier tokens + itself
    content = (mask - np.eye(7)) > 0
    for i in range(5):
        assert (~content[i, :5]).sum() == step[i] + 1


def test_target_mapping_shapes_and_query_stream_inputs():
    mapping = target_mapping_for([0, 3], 7)
    assert mapping.shape == (2, 7) and mapping.sum() == 2 and mapping[0, 0] == mapping[1, 3] == 1
    perm, tm = query_stream_inputs(SPECIAL, [3, 1, 4, 2, 5], targets=np.array([2, 5]))
    assert perm.shape == (1, 7, 7) and tm.shape == (1, 2, 7)
    assert tm[0, 0, 1] == 1 and tm[0, 1, 4] == 1
    assert query_stream_inputs(SPECIAL, [1, 2, 3, 4, 5])[1].shape == (1, 5, 7)


def test_orders_and_their_messages():
    assert make_order("left-to-right", 4).tolist() == [1, 2, 3, 4]
    assert make_order("right-to-left", 4).tolist() == [4, 3, 2, 1]
    assert make_order("random", 9, seed=3).tolist() == make_order("random", 9, seed=3).tolist()
    assert sorted(make_order("random", 9, seed=3).tolist()) == list(range(1, 10))
    assert make_order("targets last", 5, targets=[2, 4]).tolist() == [1, 3, 5, 2, 4]
    assert parse_order("3, 1 4 2", 4).tolist() == [3, 1, 4, 2]
    with pytest.raises(InputError, match="missing: 4"):
        parse_order("3 1 2", 4)
    with pytest.raises(InputError, match="repeated: 1"):
        parse_order("1 1 2 3", 4)
    with pytest.raises(InputError, match="outside 1..4: 7"):
        parse_order("1 2 3 7", 4)
    with pytest.raises(InputError, match="whole numbers"):
        parse_order("1 2 x 4", 4)
    with pytest.raises(InputError, match="outside the sentence"):
        permutation.parse_targets("2 9", 4)


# ------------------------------------------------------------------------------------------ with the tiny model
def _direct_left_to_right(model, ids, types, special):
    """Independent reference: one forward per step, the mask built from scratch (causal over the real tokens)."""
    real = [i for i in range(len(ids)) if not special[i]]
    total = 0.0
    for i in real:
        perm = torch.zeros(1, len(ids), len(ids))
        for row in range(len(ids)):
            for col in real:
                if special[row] or col >= row:  # left to right: a real token sees the real tokens before it
                    perm[0, row, col] = 1.0
        mapping = torch.zeros(1, 1, len(ids))
        mapping[0, 0, i] = 1.0
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(ids)[None], token_type_ids=torch.tensor(types)[None],
                           perm_mask=perm, target_mapping=mapping, use_mems=False).logits  # (1, 1, V)
        total += torch.log_softmax(logits[0, 0], -1)[ids[i]].item()
    return total


def test_left_to_right_score_equals_a_direct_computation(xlnet):
    tokens, types = permutation.sentence(xlnet, TEXT)
    ltr = permutation.score_order(xlnet, tokens, types, make_order("left-to-right", int((~tokens.special).sum())),
                                  "ltr")
    assert np.isfinite(ltr.logprobs).all() and len(ltr.logprobs) == int((~tokens.special).sum())
    direct = _direct_left_to_right(xlnet.model, tokens.ids.tolist(), types.tolist(), tokens.special.tolist())
    assert ltr.total == pytest.approx(direct, abs=1e-4)


def test_every_order_score_agrees_with_transformers_own_loss(xlnet):
    tokens, types = permutation.sentence(xlnet, TEXT)
    for score in permutation.score_orders(xlnet, TEXT, random_orders=2, seed=5, typed="8 7 6 5 4 3 2 1"):
        assert np.isfinite(score.logprobs).all()
        perm, mapping = query_stream_inputs(tokens.special, score.order, targets=score.order)
        labels = torch.tensor(tokens.ids[np.flatnonzero(~tokens.special)[score.order - 1]])[None]
        with torch.no_grad():
            loss = xlnet.model(input_ids=torch.tensor(tokens.ids)[None], token_type_ids=torch.tensor(types)[None],
                               perm_mask=torch.tensor(perm), target_mapping=torch.tensor(mapping),
                               labels=labels, use_mems=False).loss  # mean cross-entropy over the targets
        assert score.total == pytest.approx(-loss.item() * len(score.order), abs=1e-3)
    names = [s.name for s in permutation.score_orders(xlnet, TEXT, random_orders=1, typed="8 7 6 5 4 3 2 1")]
    assert names == ["left-to-right", "right-to-left", "random (seed 0)", "typed: 8 7 6 5 4 3 2 1"]


def test_no_leak_a_target_ignores_tokens_after_it_in_the_order(xlnet):
    """Changing a token that comes later in the order cannot change an earlier target's prediction."""
    tokens, types = permutation.sentence(xlnet, TEXT)
    order = np.array([3, 1, 4, 2, 5, 6, 7, 8])
    base = permutation.score_order(xlnet, tokens, types, order, "x")
    changed_ids = tokens.ids.copy()
    changed_ids[np.flatnonzero(~tokens.special)[7]] = 7  # token #8, the last in the order
    from dataclasses import replace
    other = permutation.score_order(xlnet, replace(tokens, ids=changed_ids), types, order, "x")
    np.testing.assert_allclose(base.logprobs[:-1], other.logprobs[:-1], atol=1e-5)


def test_predictions_for_targets_and_seeds_are_reproducible(xlnet):
    first = permutation.predict_targets(xlnet, TEXT, "random", seed=4, targets_text="2 5", top_k=3)
    again = permutation.predict_targets(xlnet, TEXT, "random", seed=4, targets_text="2 5", top_k=3)
    assert first.target_mapping.shape == (2, len(first.view.tokens))
    assert [p.number for p in first.predictions] == [2, 5]
    assert first.view.order.tolist() == again.view.order.tolist()
    np.testing.assert_array_equal(first.predictions[0].top_probs, again.predictions[0].top_probs)
    p = first.predictions[0]
    assert len(p.top_tokens) == 3 and 0 < p.true_prob < 1 and p.true_rank >= 1
    assert len(p.visible) == p.step - 1  # a target sees exactly the tokens before it in the order
    targets_last = permutation.predict_targets(xlnet, TEXT, "targets last", targets_text="2 5")
    assert targets_last.view.order[-2:].tolist() == [2, 5] and len(targets_last.predictions[1].visible) == 7


def test_bad_input_messages(xlnet):
    with pytest.raises(InputError, match="at least two"):
        permutation.predict_targets(xlnet, "a", "left-to-right", targets_text="1")
    with pytest.raises(InputError, match="at most 64"):
        permutation.score_orders(xlnet, " ".join(["cat"] * 80))
    with pytest.raises(InputError, match="permutation of 1..8"):
        permutation.predict_targets(xlnet, TEXT, "typed", typed="1 2 3", targets_text="1")
    with pytest.raises(InputError, match="outside the sentence"):
        permutation.predict_targets(xlnet, TEXT, "left-to-right", targets_text="12")


def test_memory_changes_later_segments_only_and_restores_mem_len(xlnet):
    saved = (xlnet.model.config.mem_len, xlnet.model.transformer.mem_len)
    result = permutation.memory_demo(xlnet, " ".join([TEXT] * 5), segment_len=8)
    assert len(result.segments) == 5 and all(len(s) == 8 for s in result.segments)
    assert all(np.isfinite(a).all() for a in result.with_memory + result.without_memory)
    np.testing.assert_allclose(result.with_memory[0], result.without_memory[0], atol=1e-6)  # nothing to remember
    assert not np.allclose(result.with_memory[1], result.without_memory[1], atol=1e-7)     # memory is used
    # the first segment alone, through transformers directly, gives the same scores
    seg = torch.tensor(permutation.tokenize(xlnet.tokenizer, TEXT).ids[:8])[None]
    with torch.no_grad():
        logits = xlnet.model(input_ids=seg, perm_mask=torch.triu(torch.ones(8, 8))[None],
                             target_mapping=torch.eye(8)[None], use_mems=False).logits  # (1, 8, V)
    direct = torch.log_softmax(logits[0], -1)[torch.arange(8), seg[0]].numpy()
    np.testing.assert_allclose(result.without_memory[0], direct, atol=1e-5)
    assert (xlnet.model.config.mem_len, xlnet.model.transformer.mem_len) == saved
    with pytest.raises(InputError, match="longer than one segment"):
        permutation.memory_demo(xlnet, TEXT, segment_len=16)


def test_memory_segments_read_as_words_not_pieces():
    """The memory table showed "Mar i e C ur i e": each segment's pieces are joined into words."""
    from model_zoo import loading
    loaded = loading.load("mini-xlnet")
    text = "Marie Curie discovered polonium and radium in Paris. " * 3
    result = permutation.memory_demo(loaded, text, segment_len=8)
    words = set(text.replace(".", " ").split())
    for pieces, joined in zip(result.segments, result.texts):
        assert joined.replace(" ", "") == "".join(pieces)
        inner = [w.strip(".") for w in joined.split()[1:-1]]       # a segment's edges may cut a word
        assert all(w in words for w in inner if w), (pieces, joined)
    assert "Marie Curie" in " ".join(result.texts)


def _memory_reference(loaded, text: str, segment_len: int):
    """The memory demo computed independently: a deep copy of the model with mem_len set on it, segment by segment."""
    import copy
    model = copy.deepcopy(loaded.model)
    model.config.mem_len = model.transformer.mem_len = segment_len
    tokens = permutation.tokenize(loaded.tokenizer, text, max_length=permutation.MAX_MEMORY_TOKENS + 2)
    ids = torch.as_tensor(tokens.ids[~tokens.special])                       # (N,)
    with_memory, without_memory, mems = [], [], None
    with torch.no_grad():
        for start in range(0, len(ids), segment_len):
            seg = ids[start:start + segment_len][None]                        # (1, L)
            L = seg.shape[1]
            args = dict(input_ids=seg, perm_mask=torch.triu(torch.ones(L, L))[None], target_mapping=torch.eye(L)[None],
                        use_mems=True)
            out = model(**args, mems=mems)
            with_memory.append(torch.log_softmax(out.logits[0], -1)[torch.arange(L), seg[0]].numpy())
            alone = model(**args, mems=None)
            without_memory.append(torch.log_softmax(alone.logits[0], -1)[torch.arange(L), seg[0]].numpy())
            mems = out.mems
    return with_memory, without_memory


def test_the_memory_demo_never_changes_the_shared_model_while_it_runs(xlnet):
    """#17.2: the demo ran with mem_len set on the cached model (other requests saw it); now it changes nothing."""
    import threading
    text, segment_len = " ".join([TEXT] * 5), 8
    probe = torch.tensor(permutation.tokenize(xlnet.tokenizer, " ".join([TEXT] * 2)).ids)[None]   # (1, 18) > 8
    with torch.no_grad():
        before = xlnet.model(input_ids=probe, use_mems=True)
    saved = (xlnet.model.config.mem_len, xlnet.model.transformer.mem_len)
    demo_thread, reached, release, calls = [], threading.Event(), threading.Event(), []

    def hold_the_demo(module, inputs):  # the demo pauses in its second segment, the first one's memory in hand
        if threading.get_ident() in demo_thread:
            calls.append(1)
            if len(calls) == 2:
                reached.set()
                assert release.wait(20)
    hook = xlnet.model.transformer.layer[0].register_forward_pre_hook(hold_the_demo)
    result = {}

    def run_demo():
        demo_thread.append(threading.get_ident())
        result["value"] = permutation.memory_demo(xlnet, text, segment_len=segment_len)
    thread = threading.Thread(target=run_demo, daemon=True)
    try:
        thread.start()
        assert reached.wait(20)                      # the demo is mid-way, with memory in hand
        assert (xlnet.model.config.mem_len, xlnet.model.transformer.mem_len) == saved
        with torch.no_grad():
            during = xlnet.model(input_ids=probe, use_mems=True)   # another user's forward on the same model
        torch.testing.assert_close(during.logits, before.logits)
        assert [m.shape for m in during.mems] == [m.shape for m in before.mems]   # memory as long as before
        for a, b in zip(during.mems, before.mems):
            torch.testing.assert_close(a, b)
    finally:
        release.set()
        thread.join(20)
        hook.remove()
    assert not thread.is_alive() and (xlnet.model.config.mem_len, xlnet.model.transformer.mem_len) == saved
    with_memory, without_memory = _memory_reference(xlnet, text, segment_len)
    for got, expected in zip(result["value"].with_memory + result["value"].without_memory,
                             with_memory + without_memory):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert len(result["value"].with_memory) == len(with_memory) == 5


def test_auto_targets_are_whole_words_never_pieces():
    from model_zoo.tokenization import TokenizedText
    readable = ["<s>", "The", "␣", "che", "f", "cooked", "a", "meal", "<sep>"]
    word_index = np.array([-1, 0, 1, 1, 1, 2, 3, 4, -1])          # "chef" cut into three pieces
    special = np.array([True] + [False] * 7 + [True])
    tokens = TokenizedText(tokens=readable, ids=np.arange(9), readable=readable, special=special,
                           continuation=np.zeros(9, bool), word_index=word_index, segment=np.zeros(9, int),
                           offsets=np.zeros((9, 2), int), truncated=False)
    assert permutation.whole_word_targets(tokens) == "5 6"        # 'cooked' and 'a': never '␣', 'che' or 'f'
