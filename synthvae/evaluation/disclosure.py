"""Values one person holds: notes on what the distance checks do not judge.

The privacy check's distance attacks look at whole rows, so a synthetic table can pass them and
still carry a value that names someone: a job title one training row alone holds, or an income
of 9,876,543 where the next is 2,300,000 (a privacy review: a 20-epoch fit brought it back
as 9,687,514, and every check passed). These notes, which pass or fail nothing, count such
values per column (counts only: a report may travel further than the data):

* **Categories one training row holds** that synthetic rows hold.
* **Isolated extremes.** A training value of a numeric or datetime column is *isolated* when one
  row alone holds it and every other training value lies farther from it than
  :data:`ISOLATION` of the column's spread (its 1st to 99th percentile). Its *window* reaches
  halfway to the nearest other training value, on both sides. Synthetic values in a window say
  where that one person's value lies: no other training row puts mass there (a quantile codec
  draws values up to the training maximum: ``min_tail_rows`` keeps them within values several
  rows reach). Holdout rows in the windows, counted beside
  them, show how often fresh real rows reach there anyway; the note is made when the synthetic
  rows do so more often than the holdout rows.
* **A foreign holdout**: holdout rows holding categories no training row holds, far beyond the
  Good-Turing share of training values no other row holds (a holdout grouped otherwise than the
  training rows lies far from them, and the distance checks then fail by it).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from synthvae.evaluation.tables import ColumnInfo, PreparedTable, Shape
from synthvae.schema import ColumnKind

# How far (as a share of a column's 1st-99th percentile spread) a training value must lie from
# every other for an isolated extreme: the largest of 2,400 normal values lies this far beyond
# the next about one time in a hundred (a quarter of 4.65 standard deviations).
ISOLATION = 0.25
# A share of holdout rows with values no training row holds from which the notes say so.
FOREIGN_HOLDOUT = 0.1


def disclosure_notes(infos: Sequence[ColumnInfo], train: PreparedTable, synthetic: PreparedTable,
                     holdout: PreparedTable | None, holdout_name: str = "holdout data") -> list[str]:
    """The notes of the module docstring, column by column (none where a table is empty)."""
    notes: list[str] = []
    if not train.n_rows or not synthetic.n_rows:
        return notes
    for info in infos:
        name = info.name
        real, fake = train.arrays[name], synthetic.arrays[name]
        held = holdout.arrays[name] if holdout is not None else None
        if info.kind is ColumnKind.CATEGORICAL:
            notes.extend(_category_notes(name, info, real, fake, held, holdout_name))
        elif info.shape is Shape.CONTINUOUS:
            note = _extremes_note(name, real, fake, held, holdout_name)
            if note:
                notes.append(note)
    return notes


def _category_notes(name: str, info: ColumnInfo, real: np.ndarray, fake: np.ndarray, held: np.ndarray | None,
                    holdout_name: str) -> list[str]:
    """Synthetic rows holding a category one training row holds (1,147 of 2,400 rows of loans'
    job titles passed every check; a privacy review), and a foreign holdout (468 of 600 titles
    grouped otherwise: membership AUC 0.783 and FAILED, 0.498 with the holdout grouped as the
    training rows)."""
    notes = []
    counts = np.bincount(real[real >= 0], minlength=len(info.categories))
    single = counts == 1
    alone = int(single[fake[fake >= 0]].sum())
    if alone:
        notes.append(f"column {name!r}: {alone} of {len(fake)} synthetic rows ({alone / len(fake):.1%}) hold a category only "
                     f"one training row holds ({int(single.sum())} such categories), which can name its holder and which "
                     f"no check judges; fit with min_category_rows=3 (fit --min-category-rows 3) to keep categories "
                     f"fewer rows hold out of the synthetic rows")
    if held is not None and len(held):
        present = held[held >= 0]
        foreign = int((counts[present] == 0).sum())
        # A fresh row holds an unseen value about as often as a training row holds one no other
        # does (Good-Turing): loans' job titles, 41% of them, are no sign of a mismatch.
        expected = int(single.sum()) / max(int(counts.sum()), 1)
        if foreign and foreign >= max(FOREIGN_HOLDOUT, 2 * expected) * len(held):
            notes.append(f"column {name!r}: {foreign} of {len(held)} rows of {holdout_name} ({foreign / len(held):.0%}) hold "
                         f"values no training row holds, so they lie far from the training rows and synthetic rows look "
                         f"close to those by comparison: a failed distance check may be the holdout's; take it from the "
                         f"same table, with its values written and grouped as the training rows'")
    return notes


def isolated_windows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The windows ``(low ends, high ends)`` around a column's isolated training values (see
    the module docstring), sorted and apart; empty where it has none."""
    present = np.sort(values[np.isfinite(values)])
    none = np.empty(0), np.empty(0)
    if present.size < 3:
        return none
    distinct, counts = np.unique(present, return_counts=True)
    halves = distinct / 2  # spreads of -1e308 to 1e308 stay finite
    low, high = np.percentile(present / 2, [1, 99])
    spread = float(high - low) if high > low else float(halves[-1] - halves[0])  # halved
    if not spread > 0:
        return none
    gaps = np.diff(halves)  # halved
    nearest = np.minimum(np.concatenate([[np.inf], gaps]), np.concatenate([gaps, [np.inf]]))
    isolated = (counts == 1) & (nearest > ISOLATION * spread)
    # each window reaches halfway to the nearest other value: half the gap, the halved gap
    with np.errstate(over="ignore"):  # a window beyond the largest float ends at infinity
        return distinct[isolated] - nearest[isolated], distinct[isolated] + nearest[isolated]


def _extremes_note(name: str, real: np.ndarray, fake: np.ndarray, held: np.ndarray | None, holdout_name: str) -> str | None:
    """The isolated-extremes note of one continuous column, or ``None``."""
    lows, highs = isolated_windows(real)
    if not lows.size:
        return None

    def inside(values: np.ndarray) -> int:
        values = values[np.isfinite(values)]
        # windows are sorted and apart: the last one starting at or below a value is the only one it can lie in
        at = np.searchsorted(lows, values, side="right") - 1
        return int(((at >= 0) & (values <= highs[np.maximum(at, 0)])).sum())

    near = inside(fake)
    if not near:
        return None
    share = near / len(fake)
    fresh = ""
    if held is not None and len(held):
        reached = inside(held)
        if reached / len(held) >= share:
            return None  # fresh real rows reach there as often: the population's tail, not one person
        fresh = f", where {reached} of {len(held)} rows of {holdout_name} do ({reached / len(held):.2%})"
    return (f"column {name!r}: {near} of {len(fake)} synthetic rows ({share:.2%}) hold a value near one of {lows.size} "
            f"training values that one row alone holds and that lie far from every other (beyond {ISOLATION:g} of the "
            f"column's 1st-99th percentile spread){fresh}: such a value can name its holder, and no check judges it; "
            f"fit with min_tail_rows=3 (fit --min-tail-rows 3) to keep sampled values within those that 3 training rows "
            f"reach from each end")
