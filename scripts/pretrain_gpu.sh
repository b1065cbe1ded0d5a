#!/usr/bin/env bash
# Train the whole mini zoo on one GPU in one call (issue #14 item 5), leaving the candidates and logs in $OUT.
# The same code as the CPU path (python -m pretrain), with --device cuda, bf16 autocast, large batches and
# a wall-clock budget; every card then says which device and how many tokens.
#
# From a session whose task has a GPU (check the device tool's `status` first), one call:
#   run(command="bash scripts/pretrain_gpu.sh 5", carry=[".mini_work/corpus", ".mini_work/tokenizers"], timeout_s=600)
# 5 GPU-minutes of training plus tokenising the corpus (once per tokenizer kind) and evaluating every family on the
# machine's CPUs: about 9 minutes, leaving time for a retry. Each family's candidate is promoted on the machine right
# after it trains (in its copy of the tree), so the families trained after it start from what will be shipped:
# mini-DistilBERT distils from the better mini-BERT, and mini-RoBERTa and mini-ELECTRA warm-start from it. Back here,
# in the order of PLAN (bert first: the student's teacher checksum must match the mini-BERT shipped here):
#   cp -r <files_at>/candidates/* .mini_work/candidates/ && python -m pretrain --family F --promote
# (--promote ships a candidate only if its out-of-domain figures are better than what is shipped; the same
# comparison as on the machine, so the same decisions; promote.log in $OUT says what they were there).
# Smoke test on a CPU, in a clone: DEVICE=cpu bash scripts/pretrain_gpu.sh 0.3
set -u
cd "$(dirname "$0")/.."
MINUTES="${1:-5}"               # wall minutes of training, all families together
DEVICE="${DEVICE:-cuda}"
OUT="${OUT:-.mini_work/gpu_out}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
mkdir -p "$OUT"
{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; } || true
# family:share of the minutes:batch:peak learning rate[:shipped]. "shipped": continue the shipped weights (hundreds of
# CPU-minutes, 50-420 M tokens: a minute from scratch, ~150 M tokens, would not catch up) with a fresh warm-up, at
# about twice the rates the CPU continuations used at batch 32-48; mini-DistilBERT always starts from its teacher's
# layers (distillation), at its CPU rate.
PLAN="${PLAN:-bert:0.22:256:1e-3:shipped roberta:0.18:256:1e-3:shipped albert:0.15:256:1e-3:shipped \
electra:0.2:256:5e-4:shipped xlnet:0.15:256:1e-3:shipped distilbert:0.1:256:5e-4}"
for item in $PLAN; do
  IFS=: read -r family share batch lr start <<< "$item"
  minutes=$(python -c "print(round($MINUTES * $share, 3))")
  init=(); [ "$start" = shipped ] && init=(--init-from-shipped)
  echo "$(date -u +%T) $family: $minutes min, batch $batch, lr $lr on $DEVICE ${init[*]}"
  if python -m pretrain --family "$family" --device "$DEVICE" --wall-minutes "$minutes" \
       --batch-size "$batch" --peak-lr "$lr" --threads 4 ${init[@]+"${init[@]}"} > "$OUT/$family.log" 2>&1; then
    echo "$(date -u +%T) $family done"
    python -m pretrain --family "$family" --promote >> "$OUT/promote.log" 2>&1 || true
    tail -1 "$OUT/promote.log"
  else
    echo "$(date -u +%T) $family FAILED (see $OUT/$family.log)"; tail -5 "$OUT/$family.log"
  fi
done
cp -r .mini_work/candidates "$OUT/"
echo "$(date -u +%T) candidates in $OUT/candidates"
