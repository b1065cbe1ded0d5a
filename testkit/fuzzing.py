"""Hostile and odd input for every named API endpoint of the running app (tests/test_fuzz_api.py and bench/fuzz.py).

Each endpoint is called with its own defaults, the family's tiny model in place of model pickers, and hostile text in
every text box. A call passes when it returns a result or a clear message; "Something went wrong" (an unexpected
exception in our code) or a traceback fails it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

HOSTILE_TEXTS = {
    "very long": "lorem ipsum dolor " * 1500,                       # ~27k characters: over the input bound
    "control characters": "tab\there\x00nul\x07bell\x1b[31mred\u200bzero-width\r\n",
    "rtl and cjk": "مرحبا بالعالم · שלום עולם · 東京は日本の首都です · 서울",
    "emoji": "😀👍🏽🇫🇷 family: 👨‍👩‍👧 ❤️",
    "only special tokens": "[CLS] [SEP] <s> </s> <cls> <sep> <pad>",
    "html and script": "<script>alert(1)</script><img src=x onerror=alert(2)> \"quotes' & {{braces}}",
    "empty": "",
    "spaces": "   \n\t ",
    "placeholders only": "[MASK] <mask> ___ [MASK]",
}
SHORT_SET = ["very long", "rtl and cjk", "only special tokens", "html and script", "empty"]
FAMILY_FIXTURE = {"bert": "bert", "roberta": "roberta", "albert": "albert", "distilbert": "distilbert",
                  "electra": "electra-discriminator", "xlnet": "xlnet"}


@dataclass
class Outcome:
    endpoint: str
    case: str
    ok: bool
    detail: str
    seconds: float


def model_fixture(endpoint: str, parameter: dict) -> str | None:
    """Which tiny fixture to pass for a model-picking parameter, or None if it is not one."""
    label = (parameter.get("label") or "").lower()
    name = parameter.get("parameter_name", "").lower()
    listed = "list" in str(parameter.get("python_type", {}).get("type"))
    if parameter.get("component") not in ("Dropdown", "Api") or listed:  # a model box, or a gr.api's model argument
        return None
    if not any(word in label or word in name for word in ("model", "spec", "generator", "discriminator", "teacher")):
        return None
    family = endpoint.strip("/").split("_")[0]
    if family == "electra" or "generator" in label or "discriminator" in label:
        return "electra-generator" if "generator" in label or "generator" in name else "electra-discriminator"
    if "teacher" in label or "teacher" in name:
        return "bert"
    return FAMILY_FIXTURE.get(family, "bert")


def judge(error: Exception | None) -> tuple[bool, str]:
    if error is None:
        return True, "result"
    message = str(error)
    # a crash: the app's guard caught a bug ("Something went wrong"), a traceback leaked, or a handler without the
    # guard raised and Gradio answered with its opaque "The upstream Gradio app has raised an exception"
    if any(sign in message for sign in ("Something went wrong", "Traceback", "has raised an exception")):
        return False, message[:300]
    return True, "message: " + message[:120]


def fuzz(client, tiny_path, cases: list[str], endpoints: list[str] | None = None, per_endpoint: int | None = None,
         skip_prefixes: tuple[str, ...] = ("/compare_measure",)) -> list[Outcome]:
    """Call every endpoint with each case (or, with per_endpoint=k, k cases rotating over endpoints)."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    outcomes = []
    for index, (endpoint, spec) in enumerate(sorted(api.items())):
        if (endpoints and endpoint not in endpoints) or endpoint.startswith(skip_prefixes):
            continue
        base = []
        for parameter in spec["parameters"]:
            fixture = model_fixture(endpoint, parameter)
            base.append(tiny_path(fixture) if fixture else parameter.get("parameter_default"))
        text_slots = [i for i, p in enumerate(spec["parameters"]) if p.get("component") == "Textbox"]
        chosen = cases if per_endpoint is None else [cases[(index + k) % len(cases)] for k in range(per_endpoint)]
        for case in chosen + ["wrong types"]:
            args = list(base)
            for i in text_slots:
                args[i] = 12345 if case == "wrong types" else HOSTILE_TEXTS[case]
            if case == "wrong types" and not text_slots:
                continue
            started = time.perf_counter()
            error = None
            try:
                client.predict(*args, api_name=endpoint)
            except Exception as caught:  # gradio_client raises AppError with the user's message
                error = caught
            ok, detail = judge(error)
            outcomes.append(Outcome(endpoint, case, ok, detail, time.perf_counter() - started))
    return outcomes
