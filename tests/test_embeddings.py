"""Embedding map: extraction for every family (XLNet's left padding included), projection, neighbours, CSV, the tab's
handlers, and facts about the real MiniLM that our code must preserve."""
import csv
import io

import numpy as np
import pytest

from components import embeddings_tab as tab
from model_zoo import embedding_map
from model_zoo import embeddings as emb
from model_zoo import csv_export, loading, projection
from model_zoo.tiny import FIXTURES
from model_zoo.tokenization import InputError

TWO = ["The bank of the river was steep and muddy, wasn't it?", "Money."]  # very different lengths: padding matters
XSS = '<img src=x onerror="window.__x=1"> & <b>bold</b>'


def _clusters(n: int, dims: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dims)) * 4
    return (centres[np.arange(n) % 3] + rng.normal(size=(n, dims))).astype(np.float32)


def _cos(a, b) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# --------------------------------------------------------------------------------------------- extraction
@pytest.mark.parametrize("fixture", FIXTURES)
def test_batched_tokens_equal_each_sentence_alone(tiny_path, fixture):
    lm = loading.load(tiny_path(fixture))
    both = emb.extract(lm, TWO, level="tokens")
    alone = [emb.extract(lm, [s], level="tokens") for s in TWO]
    assert both.tokens == alone[0].tokens + alone[1].tokens
    np.testing.assert_allclose(both.vectors, np.concatenate([a.vectors for a in alone]), atol=1e-4)
    # every non-special, non-padding token is there once, tied to a word of our own split
    assert len(both) == sum(len(a) for a in alone) and both.vectors.shape[1] == lm.config.hidden_size
    assert set(both.sentence_index.tolist()) == {0, 1}
    assert "bank" in both.words and "river" in both.words and "money" in both.words
    assert both.layer == both.n_layers == 2
    sentences = emb.extract(lm, TWO, level="sentences")
    np.testing.assert_allclose(sentences.vectors[1], emb.extract(lm, TWO[1:], level="sentences").vectors[0],
                               atol=1e-4)
    # mean pooling is the mean of exactly the token vectors kept at token level
    np.testing.assert_allclose(sentences.vectors[0], alone[0].vectors.mean(axis=0), atol=1e-5)


def test_xlnet_pads_left_and_pooling_uses_the_mask(tiny_path):
    lm = loading.load(tiny_path("xlnet"))
    assert lm.tokenizer.padding_side == "left"
    first = emb.extract(lm, TWO, level="sentences", pooling="first").vectors
    cls = emb.extract(lm, TWO, level="sentences", pooling="cls").vectors
    for i, s in enumerate(TWO):  # same as alone: the first REAL token / the <cls> at the end, not a padding slot
        np.testing.assert_allclose(first[i], emb.extract(lm, [s], level="sentences", pooling="first").vectors[0],
                                   atol=1e-4)
        np.testing.assert_allclose(cls[i], emb.extract(lm, [s], level="sentences", pooling="cls").vectors[0],
                                   atol=1e-4)
    assert not np.allclose(first, cls)


def test_layers_embeddings_to_last_and_bad_layer(tiny_path):
    lm = loading.load(tiny_path("bert"))
    layers = [emb.extract(lm, TWO, level="tokens", layer=i).vectors for i in range(3)]
    assert not np.allclose(layers[0], layers[2])
    np.testing.assert_array_equal(layers[2], emb.extract(lm, TWO, level="tokens").vectors)  # default: last
    with pytest.raises(InputError, match="layers 0 .* to 2"):
        emb.extract(lm, TWO, layer=3)
    with pytest.raises(InputError, match="no sentences"):
        emb.extract(lm, "\n  \n# a comment\n")


@pytest.fixture(scope="module")
def minilm():
    return loading.load("minilm-l6")


def test_minilm_paraphrases_are_closer_than_unrelated(minilm):
    v = emb.sentence_vectors(minilm, ["A man is playing a guitar on the stage.",
                                      "Someone is performing a song on the guitar.",
                                      "Photosynthesis turns light into chemical energy."])
    assert _cos(v[0], v[1]) > _cos(v[0], v[2]) + 0.3, (_cos(v[0], v[1]), _cos(v[0], v[2]))


def test_minilm_two_senses_of_bank_are_farther_than_one_sense(minilm):
    sentences = tab.example_sets()["Polysemy: \"bank\", \"bat\" and \"spring\", each in both of its senses"]
    found = emb.extract(minilm, sentences, level="tokens", layer=None)
    rows = found.rows_of_target("bank")
    banks = found.vectors[rows]                                                 # (6, 384)
    river = [i for i, r in enumerate(rows) if found.sentence_index[r] < 3]      # sentences 1-3: river bank
    money = [i for i, r in enumerate(rows) if 3 <= found.sentence_index[r] < 6]
    assert len(river) == len(money) == 3
    sims = banks @ banks.T / np.outer(np.linalg.norm(banks, axis=1), np.linalg.norm(banks, axis=1))
    same = [sims[i, j] for group in (river, money) for i in group for j in group if i < j]
    across = [sims[i, j] for i in river for j in money]
    assert min(same) > max(across) - 0.05 and np.mean(same) > np.mean(across) + 0.1, (same, across)


# --------------------------------------------------------------------------------------------- projection
@pytest.mark.parametrize("method", [pytest.param("umap", marks=pytest.mark.slow), "pca"])  # umap: numba compiles
def test_projection_shapes_and_determinism(method):
    x = _clusters(60)
    a = projection.project(x, method=method, seed=3)
    b = projection.project(x, method=method, seed=3)
    assert a.coords.shape == (60, 2) and a.method == method.upper() and a.reason == "" and a.message == ""
    np.testing.assert_array_equal(a.coords, b.coords)
    np.testing.assert_array_equal(a.indices, np.arange(60))
    assert np.isfinite(a.coords).all()


def test_umap_separates_clusters():
    x = _clusters(60)
    coords = projection.project(x, "umap", seed=0).coords
    labels = np.arange(60) % 3
    centres = np.stack([coords[labels == c].mean(axis=0) for c in range(3)])
    within = np.mean([np.linalg.norm(coords[labels == c] - centres[c], axis=1).mean() for c in range(3)])
    between = min(np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3))
    assert between > 2 * within


def test_pca_matches_full_svd():
    x = _clusters(300, dims=120, seed=1)                                   # large enough for the randomized path
    centred = x.astype(np.float64) - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(projection.pca(x)), np.abs(u[:, :2] * s[:2]), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_umap_falls_back_to_pca_below_five_points(n):
    found = projection.project(_clusters(n), method="umap", seed=0)
    assert found.method == "PCA" and found.requested == "umap" and found.coords.shape == (n, 2)
    assert "at least 5 points" in found.reason and f"there are {n}" in found.reason
    assert np.isfinite(found.coords).all()


def test_subsampling_bound_is_seeded_and_said():
    x = _clusters(80)
    a = projection.project(x, method="pca", seed=1, max_points=50)
    b = projection.project(x, method="pca", seed=1, max_points=50)
    assert a.coords.shape == (50, 2) and len(set(a.indices.tolist())) == 50 and a.indices.max() < 80
    np.testing.assert_array_equal(a.indices, b.indices)
    assert "80 points" in a.message and "50" in a.message
    assert projection.project(x, method="pca", max_points=5000).message == ""
    assert len(projection.project(np.zeros((5001, 2)), "pca").indices) == projection.MAX_POINTS


def test_cosine_neighbours_in_the_original_space():
    x = _clusters(40)
    order, sims = projection.cosine_neighbours(x, x[7], k=5, exclude=np.array([7]))
    reference = x @ x[7] / np.linalg.norm(x, axis=1) / np.linalg.norm(x[7])
    reference[7] = -np.inf
    np.testing.assert_array_equal(order, np.argsort(-reference, kind="stable")[:5])
    np.testing.assert_allclose(sims, reference[order], rtol=1e-5)
    assert (np.diff(sims) <= 0).all()


def test_csv_export_header_rows_and_values(tmp_path):
    coords = projection.project(_clusters(12), "pca", seed=0).coords
    rows = [["m", i, float(x), float(y), tok] for i, (x, y), tok in zip(range(12), coords, ["a", "=1+1"] + ["b"] * 10)]
    path = projection.write_csv(["model", "point", "x", "y", "token"], rows, folder=str(tmp_path))
    read = list(csv.reader(io.StringIO(open(path, encoding="utf-8").read())))
    assert read[0] == ["model", "point", "x", "y", "token"] and len(read) == 13
    np.testing.assert_array_equal(np.array([[float(r[2]), float(r[3])] for r in read[1:]], dtype=np.float32), coords)
    assert read[2][4] == "'=1+1"  # a formula is defused for spreadsheets


# --------------------------------------------------------------------------------------------- the tab's handlers
def test_map_handler_two_models_figure_csv_and_escaping(tiny_path, minilm):
    specs = ["minilm-l6", tiny_path("xlnet")]
    sentences = "The bank of the river.\nThe bank gave me a loan.\n" + XSS
    figure, notes, path, query = tab.embeddings_map(sentences, specs, "tokens · highlight a target word", -1,
                                                    "mean of the tokens", "PCA", 0, "bank", progress=None)
    xaxes = [k for k in figure.layout if k.startswith("xaxis")]
    assert len(xaxes) == 2                                                      # one panel per model
    hover = " ".join(str(v) for t in figure.data for v in np.ravel(t.customdata))
    assert "<img" not in hover and "&lt;img" in hover and "&lt;b&gt;" in hover  # user text cannot inject HTML
    targets = [t for t in figure.data if t.name == "“bank”"]
    assert len(targets) == 2 and all(len(t.x) >= 2 for t in targets)           # both occurrences, in each panel
    assert "RANDOM weights" in notes and "weights-badge ok" in notes and "weights-badge bad" in notes
    assert any("RANDOM weights" in a.text for a in figure.layout.annotations)
    read = list(csv.DictReader(open(path, encoding="utf-8")))
    minilm_rows = [r for r in read if r["model"] == "minilm-l6"]
    found = emb.extract(minilm, sentences, level="tokens")
    proj = projection.project(found.vectors, "pca", seed=0)
    assert [r["token"] for r in minilm_rows] == [csv_export.cell(t) for t in found.tokens]  # "=" is written "'="
    np.testing.assert_allclose([[float(r["x"]), float(r["y"])] for r in minilm_rows], proj.coords, rtol=1e-6)
    assert query["value"] == "0:1"                                              # the target's first occurrence


def test_neighbours_handler_and_queries(minilm):
    sentences = "\n".join(tab.example_sets()["Paraphrase pairs, then unrelated sentences"].splitlines())
    rows = tab.embeddings_neighbours(sentences, ["minilm-l6"], "sentences", -1, "mean of the tokens", "0", 3,
                                     progress=None)
    assert [r[1] for r in rows] == [1, 2, 3] and rows[0][4].startswith("#2 ")   # its paraphrase comes first
    assert rows[0][5] >= rows[1][5] >= rows[2][5]
    # the reference: the median cosine of all pairs of the six sentences, computed here from MiniLM's own vectors
    vectors = emb.sentence_vectors(loading.load("minilm-l6"), sentences.splitlines(), pooling="mean")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = [float(unit[i] @ unit[j]) for i in range(len(unit)) for j in range(len(unit)) if i != j]
    assert rows[0][6] == pytest.approx(np.median(cosines), abs=1e-3) and rows[0][5] > rows[0][6]
    polysemy = tab.example_sets()["Polysemy: \"bank\", \"bat\" and \"spring\", each in both of its senses"]
    rows = tab.embeddings_neighbours(polysemy, ["minilm-l6"], "tokens · colour by word", -1, "mean of the tokens",
                                     "bank", 2, progress=None)
    assert all(r[3] == "bank" and r[4].startswith(("#2 ", "#3 ")) for r in rows), rows  # the river banks
    with pytest.raises(InputError, match="not a word"):
        tab.parse_query("zebra", ["a b"], "tokens")
    assert tab.parse_query("#1 · b", ["a b"], "tokens") == (0, 1)
    assert ("#1 · bank", "0:1") in tab.query_choices("The bank.", "tokens · colour by word")


def test_layer_past_a_models_depth_uses_its_last(tiny_path):
    maps = embedding_map.compute([tiny_path("bert")], ["One two three four five six."], "tokens", 9, "mean", "umap", 0)
    assert maps[0].found.layer == 2 and any("its last layer" in n for n in maps[0].notes)
    assert maps[0].projected.method == "UMAP" and maps[0].projected.coords.shape == (len(maps[0].found), 2) == (7, 2)


def test_model_picker_offers_every_attention_checkpoint_and_minilm():
    choices, default = tab.model_options("auto")
    keys = [value for _, value in choices]
    assert "minilm-l6" in keys and "xlnet-base-cased" in keys and "minilm-l6" in default
    assert all(loading.is_available(loading.resolve(k)) for k in default)


def test_bad_api_input_gets_a_message():
    from components.common import guarded
    handler = guarded(tab.embeddings_map)
    for args, message in [((["minilm-l6"], "tokens · colour by word", None, "mean", "PCA", -3, ""), "seed"),
                          ((["minilm-l6"], "tokens · colour by word", "deep", "mean", "PCA", 0, ""), "Layer"),
                          ((7, "tokens · colour by word", -1, "mean", "PCA", 0, ""), "list of model"),
                          ((["minilm-l6"], "paragraphs", -1, "mean", "PCA", 0, ""), "Unknown level"),
                          ((["minilm-l6"], "tokens · highlight a target word", -1, "mean", "PCA", 0, ""), "target")]:
        with pytest.raises(Exception) as error:
            handler("The bank.\nA river bank.", *args, progress=None)
        assert message in str(error.value) and "Something went wrong" not in str(error.value)


def test_sentence_level_map_labels_every_sentence(tiny_path):
    sentences = ["The bank of the river.", "The bank gave a loan.", "A bat flew.", "Spring came.", "It rained."]
    maps = embedding_map.compute([tiny_path("roberta")], sentences, "sentences", -1, "cls", "pca", 0)
    figure = tab.render_map(maps, "sentence", "bank")
    labels = [t for trace in figure.data if trace.text for t in trace.text]
    assert sorted(labels) == [f"#{i}" for i in range(1, 6)]
    ringed = [t for t in figure.data if t.name == "“bank”"]
    assert len(ringed) == 1 and len(ringed[0].x) == 2                      # the two sentences with "bank"
    assert maps[0].found.vectors.shape == (5, 32) and maps[0].found.pooling == "cls"


def test_numba_cache_dir_set_before_umap_and_warm_up():
    import subprocess
    import sys
    code = ("import os, sys; os.environ.pop('NUMBA_CACHE_DIR', None); from model_zoo import projection; "
            "print('NUMBA_CACHE_DIR' in os.environ, 'umap' in sys.modules); projection.umap_available(); "
            "d = os.environ['NUMBA_CACHE_DIR']; print(os.access(d, os.W_OK), 'umap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=str(projection.Path(projection.__file__).parent.parent)).stdout.split()
    assert out[:2] == ["False", "False"], out          # importing the module changes nothing
    assert out[2:] == ["True", "True"], out            # the cache folder is set (writable) by the time umap loads
    assert projection.warm_up() > 0 and projection.is_warm()


def test_the_map_labels_a_word_with_its_context_and_the_layer_slider_fits_the_models(tiny_path):
    """In the 'bank' example every point read 'bank', one on another; the layer slider ran to 24 for 4-6 layers."""
    from components import embeddings_tab as tab
    found = emb.extract(loading.load("minilm-l6"), ["We sat on the bank of the river.",
                                                   "She took money from the bank today."], level="tokens")
    labels = [tab._in_context(found, int(i)) for i in found.rows_of_target("bank")]
    assert labels == ["bank (river)", "bank (money)"]
    assert tab.deepest(["minilm-l6", "mini-bert"]) == 6 and tab.deepest([tiny_path("bert")]) == 2
    assert tab.layer_range(["mini-bert"], 5)["maximum"] == 4 and tab.layer_range(["mini-bert"], 5)["value"] == 4
