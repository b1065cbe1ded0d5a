"""Who may import whom, read from every file's import lines: tests/ and bench/ never import each other (what both
need lives in testkit/), and testkit/ imports neither; the app (app.py, components/, model_zoo/) never imports the
trainer that made the mini checkpoints (pretrain/), which uses model_zoo/; model_zoo/ never imports gradio or the
layers above it."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"tests": {"bench"}, "bench": {"tests"}, "testkit": {"tests", "bench"},
             "model_zoo": {"pretrain", "components", "app", "gradio", "tests", "bench"},
             "components": {"pretrain", "app", "tests", "bench"},
             "pretrain": {"components", "app", "tests", "bench"}}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module `path` imports, at any depth (imports inside functions count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add(path.relative_to(ROOT).parts[0])  # a relative import stays in its own package
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_package_imports_only_what_it_may(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[package]) for f in files}
    assert {f: w for f, w in wrong.items() if w} == {}


def test_the_scan_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from bench.load_test import main\n    import tests.conftest as c\n")
    assert imported_packages(sample) == {"os", "bench", "tests"}


def test_the_app_itself_never_imports_the_trainer():
    assert not imported_packages(ROOT / "app.py") & {"pretrain", "tests", "bench"}
