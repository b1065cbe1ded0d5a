"""The attention views' HTML size at 64 tokens for a 12 x 12 model: bertviz's own output against ours.

A randomly initialised BertModel built from assets/configs/bert-base-uncased.json (12 layers, 12 heads; weights do
not change the size, only the token count and the model's shape do) reads 64 tokens of the fixture corpus, as one
text and as a pair; bertviz's `head_view` + `model_view(html_action="return")` are measured against our single iframe
(`bertviz_payload.iframe`, the srcdoc-escaped document holding both views), all layers and two picked layers.

    python -m bench.attention_payload            # prints a table; --json for machine-readable output
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> dict:
    import numpy as np
    import torch
    from bertviz import head_view, model_view
    from transformers import BertConfig, BertModel

    from model_zoo import attention as attn
    from components import bertviz_payload
    from model_zoo import tiny
    from model_zoo.tokenization import tokenize

    torch.manual_seed(0)
    config = BertConfig(**{k: v for k, v in json.loads((ROOT / "assets/configs/bert-base-uncased.json").read_text())
                           .items() if k not in ("architectures", "model_type")})
    config._attn_implementation = "eager"
    model = BertModel(config).eval()
    tokenizer = tiny.wordpiece_tokenizer()
    lines = tiny.corpus_lines()
    rows = []
    for label, text, pair in [("one text", " ".join(lines[:8]), None),
                              ("a pair", " ".join(lines[:4]), " ".join(lines[4:8]))]:
        tokens = tokenize(tokenizer, text, pair, max_length=64)
        assert len(tokens) == 64, len(tokens)
        enc = tokenizer(text, pair, truncation="longest_first", max_length=64, return_tensors="pt")
        with torch.inference_mode():
            out = model(**enc, output_attentions=True)
        stacked = torch.stack([a[0] for a in out.attentions]).numpy()  # (12, 12, 64, 64)
        b_start = int(np.flatnonzero(tokens.segment == 1)[0]) if pair else None
        started = time.perf_counter()
        raw = (head_view(out.attentions, tokens.tokens, sentence_b_start=b_start, html_action="return").data
               + model_view(out.attentions, tokens.tokens, sentence_b_start=b_start, html_action="return").data)
        raw_s = time.perf_counter() - started
        result = attn.AttentionResult(tokens, stacked.astype(np.float32), None, None, False, 64, "random bert-base")
        started = time.perf_counter()
        ours = bertviz_payload.iframe(bertviz_payload.build_document(result).document)
        ours_s = time.perf_counter() - started
        picked = bertviz_payload.iframe(bertviz_payload.build_document(result, [0, 11]).document)
        rows.append(dict(input=label, tokens=64, bertviz_bytes=len(raw.encode()), ours_bytes=len(ours.encode()),
                         ours_two_layers_bytes=len(picked.encode()), bertviz_build_s=round(raw_s, 3),
                         ours_build_s=round(ours_s, 3)))
    if "--json" in (argv or sys.argv[1:]):
        print(json.dumps(rows, indent=2))
    else:
        print("| input | bertviz head+model view | ours, all 12 layers | ours, layers 0 and 11 | build time (bertviz / ours) |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['input']}, 64 tokens | {r['bertviz_bytes'] / 1e6:.1f} MB | {r['ours_bytes'] / 1e6:.2f} MB | "
                  f"{r['ours_two_layers_bytes'] / 1e6:.2f} MB | {r['bertviz_build_s']} s / {r['ours_build_s']} s |")
    return {"rows": rows}


if __name__ == "__main__":
    main()
