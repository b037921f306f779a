#!/usr/bin/env bash
# HINormer's validation-only sweeps on one accelerator: DBLP, ACM and IMDB in parallel (the
# models are small, so three processes share one GPU well), each row 5 seeds, the first row of
# each dataset its current recipe (a baseline on the same device). Each dataset's winner on
# validation Micro-F1 is written with its test scores as OUT_DIR/hinormer_{DATASET}.json; every
# row's validation scores go to OUT_DIR/tune_hinormer_{DATASET}.json (see scripts/tune_hin.py).
#
#   JAXHIN_DATA=../shared/data scripts/tune_hinormer_gpu.sh OUT_DIR [DEADLINE_S] [ROUND]
#
# DEADLINE_S (default 400): no row starts that would end later (per dataset). ROUND 1 (default)
# is the first sweep; ROUND 2 varies round 1's validation winners (no baseline rows: compare
# its rows' validation scores with round 1's, same device).
set -uo pipefail
out=${1:?usage: scripts/tune_hinormer_gpu.sh OUT_DIR [DEADLINE_S] [ROUND]}
deadline=${2:-400}
round=${3:-1}
mkdir -p "$out"
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
here=$(dirname "$0")

tune() {
  local dataset=$1
  shift
  python3 "$here/tune_hin.py" --dataset "$dataset" --model hinormer --seeds 0 1 2 3 4 \
    --deadline-s "$deadline" --out "$out/tune_hinormer_$dataset.json" \
    --winner-out "$out/hinormer_$dataset.json" "$@" 2>&1 | sed -u "s/^/[$dataset] /"
}

if [[ $round == 2 ]]; then
  tune DBLP --variant seq_len=100 lr_plateau=0 --variant seq_len=150 \
    --variant seq_len=100 dropout=0.3 &
  tune ACM --variant hidden=64 --variant seq_len=100 --variant temperature=1 &
  tune IMDB --variant hidden=256 gnn_layers=4 learning_rate=1e-4 seq_len=50 \
    --variant hidden=128 gnn_layers=4 learning_rate=1e-4 \
    --variant hidden=256 gnn_layers=4 learning_rate=1e-4 temperature=0.5 &
  wait
  exit
fi

# DBLP: the README's DBLP-HGB line (the recipe), then one change at a time
tune DBLP --variant seq_len=50 --variant temperature=2 --variant temperature=1 \
  --variant seq_len=100 --variant gnn_layers=2 --variant lr_plateau=0 --variant dropout=0.3 \
  --variant learning_rate=5e-4 &
# ACM (no reference line): the hidden-32 recipe, then the README's width and depth
tune ACM --variant hidden=32 --variant hidden=256 gnn_layers=4 \
  --variant hidden=256 gnn_layers=4 learning_rate=1e-4 \
  --variant hidden=256 gnn_layers=4 learning_rate=1e-4 temperature=0.1 \
  --variant hidden=256 gnn_layers=4 temperature=1 --variant hidden=256 gnn_layers=2 \
  --variant hidden=256 gnn_layers=4 feats_type=3 --variant hidden=64 gnn_layers=4 &
# IMDB: the hidden-32 recipe, the README's IMDB-HGB line as written, then variations
tune IMDB --variant hidden=32 --variant hidden=256 gnn_layers=4 learning_rate=1e-4 lr_plateau=10 \
  --variant hidden=256 gnn_layers=4 --variant hidden=256 gnn_layers=4 learning_rate=1e-4 \
  --variant hidden=64 gnn_layers=4 --variant hidden=256 gnn_layers=2 \
  --variant hidden=256 gnn_layers=4 temperature=0.1 &
wait
