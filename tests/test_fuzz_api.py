"""Every named endpoint survives hostile input with a result or a clear message, and the app keeps serving."""
import pytest
from gradio_client import Client

from testkit.fuzzing import SHORT_SET, fuzz


@pytest.mark.slow
def test_every_endpoint_answers_hostile_input_clearly(app_url, tiny_path):
    client = Client(app_url, verbose=False)
    outcomes = fuzz(client, tiny_path, SHORT_SET, per_endpoint=2)  # the full run: bench/fuzz.py
    assert len({o.endpoint for o in outcomes}) >= 12  # every family's endpoints at least
    failures = [f"{o.endpoint} [{o.case}]: {o.detail}" for o in outcomes if not o.ok]
    assert not failures, "\n".join(failures)
    # The app still serves a normal request afterwards.
    badge, *_ = client.predict(tiny_path("bert"), "Still alive?", "", api_name="/bert_tokenize")
    assert "RANDOM" in badge
