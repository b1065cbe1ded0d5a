#!/usr/bin/env bash
# Train the mini zoo in the background, one family at a time per lane, each process single-threaded under nice 10,
# logging to .mini_work/logs/<family>.log. A family starts when $READY_DIR/<family> exists (its trainer has been
# checked), so trainers can be written while earlier ones train; a finished family gets .mini_work/done/<family>.
# Every run is resumable: rerunning this script continues unfinished families from .mini_work/ckpt/.
#   nohup pretrain/run_all.sh > .mini_work/logs/run_all.out 2>&1 &
#   PLAN="albert:8 xlnet:9" READY_DIR=.mini_work/ready2 nohup pretrain/run_all.sh > ... &  # a second lane
# To run everything now (nothing written yet, a fresh clone): mkdir -p .mini_work/ready && touch
# .mini_work/ready/{bert,distilbert,electra,roberta,albert,xlnet}, then start the first command.
set -u
cd "$(dirname "$0")/.."
READY_DIR="${READY_DIR:-.mini_work/ready}"
mkdir -p .mini_work/logs "$READY_DIR" .mini_work/done
PLAN="${PLAN:-bert:12 distilbert:5 electra:10 roberta:8 albert:8 xlnet:9}"  # family:CPU-minutes
for item in $PLAN; do
  family="${item%%:*}"; minutes="${item##*:}"
  if [ -f ".mini_work/done/$family" ]; then echo "$(date -u +%T) $family already done"; continue; fi
  while [ ! -f "$READY_DIR/$family" ]; do sleep 20; done
  echo "$(date -u +%T) start $family for $minutes CPU-minutes"
  if nice -n 10 python -m pretrain --family "$family" --minutes "$minutes" --threads 1 \
       >> ".mini_work/logs/$family.log" 2>&1; then
    touch ".mini_work/done/$family" ".mini_work/ready/$family"
    echo "$(date -u +%T) done $family"
  else
    echo "$(date -u +%T) FAILED $family (see .mini_work/logs/$family.log)"
  fi
done
echo "$(date -u +%T) all done"
