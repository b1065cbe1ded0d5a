"""Downloads of what a view shows: every table gets a "CSV" button that builds the file in the browser.

The CSV is made client-side from the table's current value (no request, no file left on the server), UTF-8 with a
byte-order mark so spreadsheets read accents and CJK, RFC 4180 quoting, and cells that a spreadsheet would run as a
formula (=, +, -, @, tab or CR at the start, unless the cell is a number) prefixed with an apostrophe: user text is
untrusted. The rule is model_zoo.csv_export's, the one the server-side CSVs use: CELL_JS is built from its patterns.
Plots download as PNG from plotly's own toolbar; the attention views as standalone HTML (attention_view).
"""
from __future__ import annotations

import json
import re

import gradio as gr

from model_zoo.csv_export import FORMULA_PATTERN, NUMBER_PATTERN

# One cell of the CSV, as model_zoo.csv_export.cell writes it (tests/test_csv_export.py runs both on hostile cells).
CELL_JS = """(value) => {
    const formula = new RegExp(%s), number = new RegExp(%s);
    let s = value === null || value === undefined ? "" : String(value);
    if (typeof value !== "number" && formula.test(s) && !number.test(s)) s = "'" + s;
    return /[",\\r\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }""" % (json.dumps(FORMULA_PATTERN), json.dumps(f"^(?:{NUMBER_PATTERN})$"))

_CSV_JS = """
(table) => {
  const name = %s;
  const cell = """ + CELL_JS.replace("%", "%%") + """;
  const rows = [table.headers || [], ...(table.data || [])].map((row) => row.map(cell).join(","));
  const blob = new Blob(["\\ufeff" + rows.join("\\r\\n") + "\\r\\n"], {type: "text/csv;charset=utf-8"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
  return [];
}
"""


def safe_filename(name: str) -> str:
    """Letters, digits, '-', '_' and '.' only, ending in .csv."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.removesuffix(".csv")).strip("-.") or "table"
    return f"{stem}.csv"


def csv_table(filename: str, **dataframe_kwargs) -> gr.Dataframe:
    """A read-only gr.Dataframe with a small "Download CSV" button under it (both in one column, which takes the
    table's `scale` inside a row)."""
    scale = dataframe_kwargs.pop("scale", None)
    dataframe_kwargs.setdefault("interactive", False)
    with gr.Column(scale=scale or 1, min_width=160):
        table = gr.Dataframe(**dataframe_kwargs)
        button = gr.Button("Download CSV", size="sm", variant="secondary", elem_classes=["csv-download"])
    button.click(None, [table], None, js=_CSV_JS % json.dumps(safe_filename(filename)), api_visibility="private")
    return table
