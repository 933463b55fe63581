"""The Python API on the bundled penguins table: infer a schema, fit, sample, save, load.

Run: python examples/python_api.py [OUTPUT_FOLDER]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import synthvae


def main(folder: Path) -> None:
    real = synthvae.load_penguins()

    # 1. A schema says what each column is. Inferred here; review and edit it in real use.
    schema = synthvae.infer_schema(real, name="penguins")
    schema.save(folder / "penguins.schema.json")

    # 2. Fit a tabular VAE. Defaults pick epochs from the table size; seed makes it repeatable.
    synth = synthvae.Synthesizer(schema=schema, seed=0).fit(real)
    print(f"fitted in {synth.fit_info_.seconds:.1f} s, {synth.fit_info_.epochs_run} epochs")

    # 3. Sample: exactly the schema's columns and dtypes; same seed, same rows.
    fake = synth.sample(1000, seed=1)
    print(fake.head())
    print(fake["species"].value_counts(normalize=True).round(3).to_dict())

    # 4. Save to one file (no pickle), load, and sample the same rows again.
    synth.save(folder / "penguins.synthvae")
    again = synthvae.Synthesizer.load(folder / "penguins.synthvae").sample(1000, seed=1)
    assert again.equals(fake)

    # 5. Write Parquet or CSV, atomically.
    synthvae.write_table(fake, folder / "penguins_synthetic.parquet")
    print(f"wrote {folder / 'penguins_synthetic.parquet'}")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="synthvae-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
