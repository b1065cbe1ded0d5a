"""The side-by-side view's cost against the bare forward passes it needs, for the six default checkpoints.

For each model the view needs one forward pass where the model guesses with its own head and plain inputs (its
attention comes from the same pass), and two where the guess needs another model (ELECTRA's generator) or other
inputs (XLNet's perm_mask): the "bare" time is tokenizing + exactly those passes, nothing else. The view's time is
`model_zoo.side_by_side.side_by_side` (tokens aligned on words, guesses, agreement, attention summaries), measured
interleaved with the bare passes so that a change in the machine's load touches both alike; rendering (HTML grid and
the plotly small multiples) is timed on its own. Target: view <= 1.2 x bare.

Offline (no Hub), each default checkpoint is a RANDOMLY initialised model of its real config (assets/configs), with a
tokenizer of its family's kind: latency does not depend on the weights' values, and the report says so.

    python -m bench.side_by_side --runs 15 --out bench/results/
"""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench import common

TARGET = 1.2
TEXT = "The doctor told the [MASK] that she was late for the meeting because her train was delayed again."


def _tokenizer_for(family: str):
    from model_zoo import tiny
    from model_zoo.registry import FAMILIES, TokenizerKind
    kind = FAMILIES[family].tokenizer_kind
    if kind is TokenizerKind.WORDPIECE:
        return tiny.wordpiece_tokenizer()
    if kind is TokenizerKind.BYTE_BPE:
        return tiny.byte_bpe_tokenizer(4000)
    return tiny.xlnet_tokenizer(2000) if family == "xlnet" else tiny.albert_tokenizer(2000)


def same_config_checkpoints(root: Path, keys: list[str]) -> None:
    """Save a random model of each default checkpoint's real config under root and point the registry at it (this
    process only), so the view takes exactly the paths it takes for the real checkpoints."""
    import transformers

    from model_zoo import loading
    from model_zoo.registry import CHECKPOINTS
    for key in keys:
        checkpoint = CHECKPOINTS[key]
        config = loading.config_object(json.loads((loading.BUNDLED_CONFIGS / f"{key}.json").read_text()))
        setattr(config, loading.RANDOM_WEIGHTS_MARK, True)
        model = getattr(transformers, checkpoint.model_class)(config).eval()
        folder = root / key
        model.save_pretrained(folder)
        _tokenizer_for(checkpoint.family).save_pretrained(folder)
        CHECKPOINTS[key] = replace(checkpoint, hub_id=str(folder))


def bare_passes(specs: list[str], text: str):
    """A function running, for every model, tokenizing + the forward passes the view needs, and nothing else."""
    import torch

    from model_zoo import fill_mask as fm
    from model_zoo import text as text_layer
    from model_zoo import loading
    from model_zoo import side_by_side as sbs
    plans = []
    for spec in specs:
        column = loading.load(spec)
        guesser, _ = sbs._guessing_model(column)
        prepared = text_layer.substitute(column.tokenizer, text)
        plans.append((column, guesser, prepared.text))

    def run() -> None:
        with torch.inference_mode():
            for column, guesser, model_text in plans:
                plain = column.tokenizer(model_text, return_tensors="pt")
                if guesser is not None:
                    _, tokens, positions = fm.prepare(guesser.tokenizer, guesser.config, text)
                    inputs = fm.model_inputs(guesser, tokens.ids, positions)
                    guesser.model(**inputs)
                    if guesser is column and set(inputs) == {"input_ids", "attention_mask"}:
                        continue  # the same pass serves the attention
                column.model(**plain)
    return run


def main(argv=None) -> dict:
    args = common.parser("side_by_side", __doc__, runs=15, text=TEXT).parse_args(argv)
    torch = common.offline_cpu(args.threads)
    from components import side_by_side_render as render
    from model_zoo import side_by_side as sbs
    from model_zoo.registry import default_checkpoint, FAMILIES
    specs = [default_checkpoint(family).key for family in FAMILIES]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        same_config_checkpoints(Path(tmp), specs + ["electra-small-generator"])
        bare = bare_passes(specs, args.text)
        view = sbs.side_by_side(specs, args.text)  # loads everything: loading is not what is timed
        bare()
        view_s, bare_s, render_s = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            view = sbs.side_by_side(specs, args.text)
            t1 = time.perf_counter()
            bare()
            t2 = time.perf_counter()
            render.grid_html(view), render.attention_figure(view)
            t3 = time.perf_counter()
            view_s.append(t1 - t0), bare_s.append(t2 - t1), render_s.append(t3 - t2)
    load_after = os.getloadavg()
    ratios = sorted(v / b for v, b in zip(view_s, bare_s))
    quartiles = statistics.quantiles(ratios, n=4)
    report = {"models": specs, "weights": "RANDOM weights of each default checkpoint's real config", "text": args.text,
              "tokens": {c.key: c.tokens.n_tokens for c in view.columns}, "runs": args.runs,
              "threads": torch.get_num_threads(), "load_before": load_before, "load_after": load_after,
              "cores": os.cpu_count(), "view_median_ms": statistics.median(view_s) * 1e3,
              "bare_median_ms": statistics.median(bare_s) * 1e3, "render_median_ms": statistics.median(render_s) * 1e3,
              "ratio_median": statistics.median(ratios), "ratio_iqr": [quartiles[0], quartiles[2]],
              "target": TARGET, "meets_target": statistics.median(ratios) <= TARGET, "note": args.note}
    return common.write(report, args.out, "side_by_side", markdown)


def markdown(r: dict) -> str:
    busy = max(r["load_before"][0], r["load_after"][0]) > r["cores"]
    return "\n".join([
        "# Side by side: the view against the bare forward passes it needs", "",
        f"Command: `python -m bench.side_by_side --runs {r['runs']}`. Models: {', '.join(r['models'])} "
        f"({r['weights']}: latency does not depend on the values). Text: \"{r['text']}\" "
        f"({', '.join(f'{k} {n}' for k, n in r['tokens'].items())} tokens). torch threads: {r['threads']}; "
        f"load average before {r['load_before'][0]:.2f}, after {r['load_after'][0]:.2f} on {r['cores']} cores"
        + (" (BUSY: above one per core, read with care)." if busy else "."), "",
        "| | median ms |", "|---|---|",
        f"| the view (`side_by_side`: tokens, guesses, agreement, attention summaries) | {r['view_median_ms']:.1f} |",
        f"| bare: tokenizing + the forward passes it needs | {r['bare_median_ms']:.1f} |",
        f"| rendering (HTML grid + attention small multiples) | {r['render_median_ms']:.1f} |", "",
        f"Ratio view / bare, per interleaved run: median {r['ratio_median']:.3f}, interquartile range "
        f"{r['ratio_iqr'][0]:.3f} to {r['ratio_iqr'][1]:.3f} (target <= {r['target']}: "
        f"{'met' if r['meets_target'] else 'NOT met'})." + (f" {r['note']}" if r["note"] else ""), ""])


if __name__ == "__main__":
    main()
