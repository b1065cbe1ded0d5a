"""One CSV rule for every export (model_zoo.csv_export): hostile cells are defused, numbers stay numbers, values read
back exactly; the server-side writers (embedding map, Compare tab) use it, and the browser's "Download CSV" button
runs the same rule (its JavaScript executed in node against the Python)."""
import csv
import io
import json
import shutil
import subprocess

import numpy as np
import pytest

from model_zoo import csv_export, projection

HOSTILE = [
    "=1+1",                                   # a formula
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+cmd|' /C calc'!A0",                     # DDE through a leading plus
    "-2+3",                                   # a leading minus that is not a number
    "@SUM(A1:A9)",                            # Lotus-style @ function
    "\t=1+1",                                 # a tab in front
    "\r=1+1",                                 # a carriage return in front
    "-",                                      # a lone minus (a real token: the tokenizers make these)
    "=",
]
HARMLESS = ["bank", "a=b", " =1+1", "", "naïve 東京", 'He said "hi", then left', "two\nlines", "1-2"]
NUMBERS_AS_TEXT = ["-1.5", "+2e3", "-.5", "12", "3.000"]   # plain numbers a spreadsheet reads as numbers: left alone


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_cells_are_written_as_text(text):
    assert csv_export.is_formula(text)
    assert csv_export.cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS + NUMBERS_AS_TEXT)
def test_other_cells_are_left_alone(text):
    assert not csv_export.is_formula(text) and csv_export.cell(text) == text


def test_numbers_stay_numbers_and_floats_read_back_exactly():
    values = [-3, np.int64(-7), -0.1 + 0.2, np.float32(-1.2345678), 1e-300, None, True]
    assert [csv_export.cell(v) for v in values] == ["-3", "-7", repr(-0.1 + 0.2), repr(float(np.float32(-1.2345678))),
                                                   "1e-300", "", "True"]
    assert float(csv_export.cell(np.float32(-1.2345678))) == np.float32(-1.2345678)


def test_to_csv_round_trips_through_a_csv_reader(tmp_path):
    rows = [[text, i, -i / 7] for i, text in enumerate(HOSTILE + HARMLESS)]
    path = csv_export.write_csv(tmp_path / "t.csv", ["text", "=i", "value"], rows)
    raw = path.read_bytes()
    assert raw.count(b"\r\n") >= len(rows) + 1 and not raw.startswith(b"\xef\xbb\xbf")   # RFC 4180 line ends
    read = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert read[0] == ["text", "'=i", "value"]                                           # headers too
    assert [r[0] for r in read[1:]] == [csv_export.cell(t) for t in HOSTILE + HARMLESS]
    assert all(r[0].startswith("'") for r in read[1:len(HOSTILE) + 1])
    assert [float(r[2]) for r in read[1:]] == [-i / 7 for i in range(len(rows))]


def test_the_embedding_map_csv_uses_the_rule(tmp_path):
    rows = [["m", 0, 0.5, -0.25, "=1+1"], ["m", 1, 1.0, 2.0, "-"]]
    assert projection.to_csv(["model", "point", "x", "y", "token"], rows) == \
        csv_export.to_csv(["model", "point", "x", "y", "token"], rows)
    path = projection.write_csv(["model", "point", "x", "y", "token"], rows, folder=str(tmp_path))
    assert [r["token"] for r in csv.DictReader(open(path, encoding="utf-8"))] == ["'=1+1", "'-"]


def test_the_compare_tab_csv_defuses_a_hostile_model_id():
    from components.compare_tab import write_csv
    from model_zoo import profiling
    hostile = profiling.ParameterBreakdown(
        key="=cmd|' /C calc'!A0", family="bert", model_class="BertModel", total=10,
        parts=dict.fromkeys(profiling.PARTS, 0) | {"encoder layers": 10}, per_forward=10, layers=2, hidden=32,
        heads=4, intermediate=37, vocab=99, shared_layers=False, config_source="test")
    read = list(csv.DictReader(open(write_csv([hostile], None), encoding="utf-8", newline="")))
    assert read[0]["model"] == "'=cmd|' /C calc'!A0" and read[0]["total"] == "10" and read[0]["bytes_fp32"] == "40"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_download_button_javascript_applies_the_same_rule():
    from components.export import CELL_JS
    values = HOSTILE + HARMLESS + NUMBERS_AS_TEXT + [3, -2, -0.5]          # numbers arrive as JSON numbers
    script = f"const cell = {CELL_JS};\nconsole.log(JSON.stringify({json.dumps(values)}.map(cell)));"
    out = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True,
                                    timeout=60).stdout)
    expected = []
    for value in values:  # the Python rule, then RFC 4180 quoting as csv.writer does it
        line = csv_export.to_csv(["h", "x"], [[value, "x"]]).split("\r\n", 1)[1]
        expected.append(line[:-len(",x\r\n")])
    assert out == expected
