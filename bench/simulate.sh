#!/usr/bin/env bash
# Active-learning simulation on every dataset in ../shared/datasets: `alder simulate` with
# budget 2000 (or the whole pool), batch 25, 5 paired repeats and every strategy the learning
# package exports (random, least_confidence, margin, entropy and any added since), in-process.
# Writes bench/out/<dataset>/{results.json,learning-curve.svg,table.txt} and prints the tables.
#
#   bench/simulate.sh                              # everything (hours on 2 cores)
#   DATASETS="trec sms_spam" bench/simulate.sh     # some datasets
#   bench/simulate.sh --repeats 1 --budget 300     # extra options override the defaults
#
# Needs no Postgres or Redis. Runs use one worker thread per core (--jobs); the machines are
# shared, so quote timings with the load they ran under.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
datasets_dir="${DATASETS_DIR:-$root/../shared/datasets}"
cd "$root"

if [[ -n "${DATASETS:-}" ]]; then
  read -r -a names <<<"$DATASETS"
else
  names=()
  for dir in "$datasets_dir"/*/; do
    [[ -f "$dir/train.jsonl" && -f "$dir/test.jsonl" ]] && names+=("$(basename "$dir")")
  done
fi
[[ ${#names[@]} -gt 0 ]] || { echo "simulate.sh: no datasets (train.jsonl + test.jsonl) under $datasets_dir" >&2; exit 2; }

echo "simulate bench: ${names[*]}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), $(date -u +%FT%TZ)"
for name in "${names[@]}"; do
  out="bench/out/$name"
  mkdir -p "$out"
  echo
  echo "=== $name"
  started=$SECONDS
  # Later options win, so "$@" overrides these defaults.
  node packages/cli/bin/alder.js simulate \
    --train "$datasets_dir/$name/train.jsonl" --test "$datasets_dir/$name/test.jsonl" \
    --budget 2000 --batch 25 --initial 25 --repeats 5 --seed 1 --out "$out" "$@" | tee "$out/table.txt"
  echo "=== $name: $((SECONDS - started)) s wall"
done
