"""Layer probes: the probe finds the one layer where a label is linearly encoded; the control task shares the task's
split; the expected layer is Tenney's centre of gravity; a tiny random model's probes stay at the majority baseline on
labels its input cannot tell; word vectors are pooled by character offsets and cached."""
import numpy as np
import pytest

from model_zoo import labelled_data as ld
from model_zoo import loading, probing


def synthetic_task(n_sentences=120, words=8, seed=0):
    """Random labels (3 classes) per word, each word its own type; split by sentence as the probes split."""
    rng = np.random.default_rng(seed)
    n = n_sentences * words
    labels = rng.choice(np.array(["A", "B", "C"], dtype=object), size=n, p=[0.5, 0.3, 0.2])
    test = np.repeat(probing.test_sentences(n_sentences, seed=seed), words)
    types = np.asarray([f"w{i}" for i in range(n)], dtype=object)
    return probing.Task("synthetic", np.arange(n), labels, probing.control_labels(types, labels, seed), test,
                        ("A", "B", "C"))


def test_the_probe_finds_the_one_layer_that_encodes_the_label():
    task = synthetic_task()
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5, len(task.labels), 16)).astype(np.float32)            # (L+1, n, H) noise
    codes = {"A": 0, "B": 1, "C": 2}
    vectors[3, np.arange(len(task.labels)), [codes[x] for x in task.labels]] += 4.0    # layer 3 only: one-hot
    probe = probing.probe_layers(vectors, task)
    assert int(np.argmax(probe.accuracy)) == 3 and probe.accuracy[3] > 0.95
    others = np.delete(probe.accuracy, 3)
    assert np.all(others < probe.majority + 0.1)
    assert probe.n_test == int(task.test.sum()) and probe.n_train == int((~task.test).sum())
    assert 2.9 < probe.expected_layer <= 3.0


def test_the_control_task_uses_the_same_split():
    task = synthetic_task()
    same = probing.Task(task.column, task.rows, task.labels, task.labels.copy(), task.test, task.classes)
    vectors = np.random.default_rng(2).normal(size=(3, len(task.labels), 8)).astype(np.float32)
    probe = probing.probe_layers(vectors, same)
    np.testing.assert_array_equal(probe.control, probe.accuracy)   # same labels -> same words, split and scores
    assert np.all(probe.selectivity == 0)


def test_control_labels_are_one_per_type_with_the_task_distribution():
    types = np.asarray(["the", "dog", "the", "cat", "dog"] * 400, dtype=object)
    labels = np.asarray(["DET", "NOUN", "DET", "NOUN", "NOUN"] * 400, dtype=object)
    control = probing.control_labels(types, labels)
    for kind in set(types):
        assert len(set(control[types == kind])) == 1
    many = np.asarray([f"t{i}" for i in range(4000)], dtype=object)
    drawn = probing.control_labels(many, np.asarray(["X"] * 3000 + ["Y"] * 1000, dtype=object))
    assert abs(np.mean(drawn == "X") - 0.75) < 0.03


def test_expected_layer_is_the_centre_of_gravity_of_the_gains():
    assert probing.expected_layer(np.array([0.5, 0.5, 0.9, 0.9])) == pytest.approx(2.0)
    assert probing.expected_layer(np.array([0.5, 0.7, 0.9])) == pytest.approx(1.5)
    assert probing.expected_layer(np.array([0.5, 0.9, 0.8, 0.9])) == pytest.approx(1.0)   # cumulative best
    assert np.isnan(probing.expected_layer(np.array([0.9, 0.8, 0.7])))


def test_the_split_is_by_sentence_and_shared(tiny_path):
    data = ld.bundled("grammar")
    upos, depth = probing.task(data, "upos"), probing.task(data, "depth")
    assert np.array_equal(upos.test, depth.test)                     # the same words held out for every task
    sentence_of = np.repeat(np.arange(len(data.sentences)), [len(s.words) for s in data.sentences])
    for s in np.unique(sentence_of[upos.rows]):                      # a sentence is wholly train or wholly test
        assert len(set(upos.test[sentence_of[upos.rows] == s])) == 1


def test_a_tiny_random_model_stays_at_the_majority_baseline(tiny_path):
    rng = np.random.default_rng(0)
    grammar_set = ld.bundled("grammar").sentences[:200]
    noise = [ld.Sentence(s.words, s.spans, s.text, {"noise": tuple(rng.choice(["x", "y"], size=len(s.words),
                                                                               p=[0.6, 0.4]))})
             for s in grammar_set]
    data = ld.dataset("noise", noise)                                 # labels the input cannot tell
    result = next(probing.run([tiny_path("bert")], data, "noise"))
    assert not result.trained and "RANDOM" in result.weights
    assert np.all(np.abs(result.probe.accuracy - result.probe.majority) < 0.08)
    assert result.probe.flat


def test_word_vectors_pool_pieces_by_offsets_and_are_cached(tiny_path):
    import torch
    loaded = loading.load(tiny_path("roberta"))
    data = ld.dataset("two", [ld.sentence(["Unbelievable", "keys", "."], [True, False, False], {"x": ["a", "b", "c"]}),
                              ld.sentence(["A", "dog"], [True, False], {"x": ["a", "b"]})])
    found = probing.word_vectors(loaded, data)
    assert probing.word_vectors(loaded, data) is found               # computed once
    assert found.layers.shape[:2] == (loaded.config.num_hidden_layers + 1, 5)
    encoding = loaded.tokenizer("Unbelievable keys.", return_offsets_mapping=True, return_tensors="pt")
    offsets = encoding.pop("offset_mapping")[0].tolist()
    with torch.inference_mode():
        hidden = loaded.model.base_model(**encoding, output_hidden_states=True).hidden_states[2][0].numpy()
    pieces = [i for i, (s, e) in enumerate(offsets) if e > s and s < 12]           # the first word's pieces
    assert len(pieces) > 1
    np.testing.assert_allclose(found.layers[2, 0], hidden[pieces].mean(0), atol=1e-5)


def test_the_ridge_probe_predicts_as_scikit_learns_ridge_classifier():
    from sklearn.linear_model import RidgeClassifier
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 12)) * rng.uniform(0.1, 5, size=12)     # features on different scales
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + 2 * (x[:, 2] > 1)  # three classes, linearly separable-ish
    noise = rng.integers(0, 4, size=300)                               # a second label set: unrelated, four classes
    train, test = slice(0, 200), slice(200, 300)
    got = probing.probe_accuracies(x[train], x[test], [(labels[train], labels[test]), (noise[train], noise[test])])
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    for y, accuracy in ((labels, got[0]), (noise, got[1])):
        reference = RidgeClassifier(alpha=probing.RIDGE).fit((x[train] - mean) / std, y[train])
        assert accuracy == pytest.approx(np.mean(reference.predict((x[test] - mean) / std) == y[test]), abs=1e-12)
    assert got[0] > 0.8 and got[1] < 0.45


def test_layers_of_a_random_model_add_nothing_that_trained_layers_do(tiny_path):
    """Depth in the tree is not written in a word: a random model's layers add nothing to what a probe reads from its
    embeddings (word identity), and its probe is no more selective than its control; MiniLM's trained layers add
    clearly more. (A random model is not at the majority baseline on such a task: its embeddings still tell words
    apart, which is what the control task measures.)"""
    data = ld.bundled("grammar")
    random_model = next(probing.run([tiny_path("bert")], data, "depth")).probe
    trained = next(probing.run(["minilm-l6"], data, "depth")).probe
    assert random_model.flat and np.nanmax(random_model.accuracy) - random_model.accuracy[0] < 0.01
    assert np.nanmax(random_model.selectivity) < 0.02
    assert np.nanmax(trained.accuracy) - trained.accuracy[0] > 0.08 and not trained.flat
    assert 1.0 <= trained.expected_layer <= len(trained.accuracy) - 1
