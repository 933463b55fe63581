#!/usr/bin/env bash
# The command line on the bundled penguins table: infer a schema, fit, sample to Parquet and CSV.
# Run: bash examples/cli.sh [OUTPUT_FOLDER]
set -euo pipefail
out=${1:-$(mktemp -d)}
mkdir -p "$out"
data=$(python -c "import synthvae, importlib.resources as r; print(r.files('synthvae') / 'data/penguins.csv')")

synthvae infer-schema "$data" -o "$out/schema.json"             # review / edit it
synthvae fit "$data" --schema "$out/schema.json" -o "$out/model.synthvae" --seed 0 --quiet
synthvae sample "$out/model.synthvae" -n 1000 -o "$out/synthetic.parquet" --seed 1
synthvae sample "$out/model.synthvae" -n 1000 -o "$out/synthetic.csv" --seed 1
ls "$out"
