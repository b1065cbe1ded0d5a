"""Importing a module changes nothing: no thread started, no environment variable set, no plotly default changed.
State lives in what app.py builds (a fresh interpreter imports every module of the app and compares)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import os, sys, threading, importlib, pkgutil
import plotly.io as pio
env, template, threads = dict(os.environ), pio.templates.default, threading.active_count()
import app, components, model_zoo
for package in (components, model_zoo):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
changed = sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k))
print(changed, pio.templates.default == template, threading.active_count() - threads)
"""


def test_importing_every_module_of_the_app_changes_nothing():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "[] True 0", out.stdout[-2000:]
