"""The Pretraining lab reads the committed training records faithfully and shows them in the app."""
import json

import numpy as np
import pytest
from gradio_client import Client

from components import pretraining_lab_tab
from model_zoo import pretraining_lab as lab

pytestmark = pytest.mark.skipif(not lab.METRICS.exists(), reason="no mini checkpoint trained yet")


def test_curves_equal_the_committed_records():
    curves = lab.load_curves()
    assert {c.family for c in curves} == {p.stem for p in lab.METRICS.glob("*.json")} & set(lab.OBJECTIVE_TERMS)
    for curve in curves:
        raw = json.loads((lab.METRICS / f"{curve.family}.json").read_text())["curve"]
        # a resumed run supersedes the points logged after its checkpoint: keep a point only if no later one
        # restarts at or before its step
        record = [p for i, p in enumerate(raw) if all(q["step"] > p["step"] for q in raw[i + 1:])]
        assert np.array_equal(curve.tokens, [p["tokens"] for p in record])
        for term, values in curve.series.items():
            assert np.allclose(values, [p[term] for p in record], equal_nan=True)
        assert np.all(np.diff(curve.cpu_minutes) >= 0)  # compute only grows


def test_quality_rows_state_each_bar_and_verdict_as_recorded():
    rows = lab.quality_table()
    recorded = [(family, name, value["meets_bar"])
                for family in lab.OBJECTIVE_TERMS if (lab.METRICS / f"{family}.json").exists()
                for name, value in json.loads((lab.METRICS / f"{family}.json").read_text())["evaluation"].items()
                if isinstance(value, dict) and "meets_bar" in value]
    assert [(r.family, r.measure, r.met) for r in rows] == [(f, lab.measure_label(n), m) for f, n, m in recorded]
    assert lab.measure_label("ood_fill_mask") == "fill mask (out of domain)"
    assert lab.measure_label("nsp") == "nsp (in-domain held-out)"
    assert lab.measure_label("sop_sentences") == "sop, one sentence each (in-domain held-out)"
    ood_families = {r.family for r in rows if r.measure.endswith("(out of domain)")}
    assert ood_families == {r.family for r in rows}  # every family reports its out-of-domain figures


def test_figures_put_electra_and_bert_on_the_same_compute_axis():
    curves_fig, electra_fig, rows = pretraining_lab_tab.show_lab("CPU minutes")
    names = [trace.name for trace in electra_fig.data]
    assert any(n.startswith("BERT") for n in names) and any("replaced-token" in n for n in names)
    assert len(curves_fig.data) == sum(len(c.series) for c in lab.load_curves())
    assert all(row[4] in ("met", "NOT met") for row in rows)


def test_the_lab_endpoint_in_the_app(app_url):
    client = Client(app_url, verbose=False)
    _, _, table = client.predict("tokens seen", api_name="/pretraining_lab")
    assert len(table["data"]) == len(lab.quality_table())


def test_a_run_started_from_mini_bert_is_drawn_after_berts_compute():
    import numpy as np
    from components.pretraining_lab_tab import curves_figure, electra_vs_bert_figure
    from model_zoo.pretraining_lab import Curve
    bert = Curve("bert", np.array([1.0, 90.0]), np.array([1e5, 5e7]), {"mlm": np.array([8.0, 3.3]),
                                                                       "nsp": np.array([0.7, 0.6])}, True)
    electra = Curve("electra", np.array([0.5, 60.0]), np.array([4e5, 3e7]),
                    {"mlm": np.array([5.0, 4.0]), "rtd": np.array([0.5, 0.2])}, True, warm_start="assets/mini/bert",
                    warm_start_minutes=90.0)
    figure = electra_vs_bert_figure([bert, electra])
    xs = {trace.name: list(trace.x) for trace in figure.data}
    assert xs["BERT: masked-LM loss"] == [1.0, 90.0]
    assert xs["ELECTRA: replaced-token detection loss"] == [90.5, 150.0]     # after BERT's 90 minutes
    assert "started from mini-BERT" in figure.layout.title.text
    panels = curves_figure([bert, electra])
    titles = [a.text for a in panels.layout.annotations if a.text in ("BERT", "ELECTRA (from mini-BERT's weights)")]
    assert titles == ["BERT", "ELECTRA (from mini-BERT's weights)"]           # one panel per family, each titled
    axes = {trace.name: trace.yaxis for trace in panels.data}
    assert axes["BERT · mlm"] == axes["BERT · nsp"] != axes["ELECTRA · rtd"] == axes["ELECTRA · mlm"]
    assert all(panels.layout[axis.replace("y", "yaxis")].type == "log" for axis in axes.values())


def test_a_warm_start_is_placed_at_the_minute_its_source_weights_were_shipped(tmp_path):
    """mini-BERT trained on after ELECTRA started from it: ELECTRA's curve starts where BERT's v2 was shipped (the
    continuation that began from those weights records their checksum), not after BERT's last minute."""
    import json

    from model_zoo.pretraining_lab import load_curves
    bert = {"curve": [{"step": s, "minutes": m, "tokens": s, "mlm": 3.0, "nsp": 0.5}
                      for s, m in ((100, 10.0), (200, 20.0), (300, 30.0), (400, 40.0))],
            "history": [{"event": "continued from exported weights", "step": 200, "sha256": ["aaa"]}]}
    electra = {"curve": [{"step": 10, "minutes": 1.0, "tokens": 10, "mlm": 4.0, "rtd": 0.3}],
               "warm_start": "assets/mini/bert"}
    (tmp_path / "bert.json").write_text(json.dumps(bert))
    for sha, expected in (("aaa", 20.0), ("current", 40.0)):
        (tmp_path / "electra.json").write_text(json.dumps({**electra, "warm_start_sha256": sha}))
        curves = {c.family: c for c in load_curves(tmp_path)}
        assert curves["electra"].warm_start_minutes == expected
        assert curves["bert"].warm_start_minutes == 0.0


def test_a_bundled_minis_recorded_figure_is_its_cards_and_no_one_elses():
    """What the family views quote next to one answer (NSP, SOP, distillation, replaced-token detection): the
    out-of-domain evaluation in the mini's record, with its verdict; nothing for a checkpoint that is not bundled."""
    from model_zoo.registry import CHECKPOINTS
    for key, measure in (("mini-bert", "nsp"), ("mini-albert", "sop"), ("mini-distilbert", "distillation"),
                         ("mini-electra-discriminator", "replaced_token_detection")):
        if key not in CHECKPOINTS:
            continue
        checkpoint = CHECKPOINTS[key]
        value = json.loads((lab.METRICS / f"{checkpoint.family}.json").read_text())["evaluation"][f"ood_{measure}"]
        row = lab.recorded_out_of_domain(checkpoint, measure)
        assert row.met == value["meets_bar"] and row.about == value["set"]
        figure = (f"ROC AUC {value['roc_auc']:.3f}" if "roc_auc" in value else
                  f"agreement {value['top1_agreement_with_teacher']:.1%}" if "top1_agreement_with_teacher" in value
                  else f"{value['accuracy']:.1%} on {value['pairs']} pairs (95% interval")
        assert row.measured.startswith(figure), (row.measured, figure)
    assert lab.recorded_out_of_domain(CHECKPOINTS["bert-base-uncased"], "nsp") is None
    assert lab.recorded_out_of_domain(CHECKPOINTS["mini-bert"], "no_such_measure") is None


def test_distillation_is_described_by_the_full_forward_its_speed_bar_is_on():
    """Issue #14's speed bar is on the full MLM forward; the encoder alone is faster and must not stand in for it."""
    row = next(r for r in lab.quality_table() if r.measure == "distillation (out of domain)")
    value = json.loads((lab.METRICS / "distilbert.json").read_text())["evaluation"]["ood_distillation"]
    assert f"full MLM forward {value['full_mlm_speedup']:.2f}x faster" in row.measured
    assert row.measured.index("full MLM forward") < row.measured.index(f"encoder alone {value['speedup']:.2f}x")
    assert row.met == (value["top1_agreement_with_teacher"] >= 0.7 and value["full_mlm_speedup"] >= 1.5)
