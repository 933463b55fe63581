"""Small real tables shipped inside the package (nothing is downloaded at run time)."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def load_penguins() -> pd.DataFrame:
    """The Palmer penguins table: 344 rows, 8 columns (5 numeric, 3 categorical), some nulls.

    Source: the ``palmerpenguins`` package 0.1.6 (MIT), data CC0 (Horst, Hill & Gorman, 2020).
    """
    with resources.files("synthvae").joinpath("data/penguins.csv").open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)
