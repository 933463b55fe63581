"""Values one person holds: notes on what the distance checks do not judge.

The privacy check's distance attacks look at whole rows, so a synthetic table can pass them and
still carry a value that names someone: a job title one training row alone holds, or an income
of 9,876,543 where the next is 2,300,000 (a privacy review: a 20-epoch fit brought it back
as 9,687,514, and every check passed). These notes, which pass or fail nothing, count such
values per column (counts only: a report may travel further than the data):

* **Categories one training row holds** that synthetic rows hold.
* **Isolated extremes.** A training value of a numeric or datetime column is an *isolated
  extreme* when it lies beyond the column's 1st or 99th percentile, one row alone holds it, and
  every other training value lies farther from it than :data:`ISOLATION` of the column's spread
  (1st to 99th percentile). Its *window* is the open interval halfway to the nearest other
  training value on both sides. Synthetic values in a window say where that one person's value
  lies: no other training row puts mass there (a quantile codec draws values up to the training
  extremes: ``min_tail_rows`` keeps them short of the k most extreme). Each window is compared
  with the holdout rows in it (fresh real rows reach a heavy tail too); the note is made when
  synthetic rows come into a window and holdout rows do not, or at half the rate, and names the
  ``min_tail_rows`` that would keep the windows' values out.
* **A foreign holdout**: holdout rows holding categories no training row holds, far beyond the
  Good-Turing share of training values no other row holds (a holdout grouped otherwise than the
  training rows lies far from them, and the distance checks then fail by it).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from synthvae.evaluation.privacy import halved_spread
from synthvae.evaluation.tables import ColumnInfo, PreparedTable, Shape
from synthvae.schema import ColumnKind

# How far (as a share of a column's 1st-99th percentile spread) a training value must lie from
# every other for an isolated extreme: a whole spread, which no normal column's extreme is ever
# that far from the next (4.65 standard deviations). At a quarter, fresh real rows of another
# split, taken for synthetic ones, drew the note on 6 of 15 splits of five shared tables (25
# columns, mostly loans' heavy tails); at a whole spread on 3 (loans, one column and one row each),
# and the privacy review's income still drew it.
ISOLATION = 1.0
# A share of holdout rows with values no training row holds from which the notes say so.
FOREIGN_HOLDOUT = 0.1


def disclosure_notes(infos: Sequence[ColumnInfo], train: PreparedTable, synthetic: PreparedTable,
                     holdout: PreparedTable | None, holdout_name: str = "holdout data", private: bool = False) -> list[str]:
    """The notes of the module docstring, column by column (none where a table is empty);
    ``private``: the synthetic rows come from a differentially private model, and the advice
    is for its schema, not for fit options judged on the rows."""
    notes: list[str] = []
    if not train.n_rows or not synthetic.n_rows:
        return notes
    for info in infos:
        name = info.name
        real, fake = train.arrays[name], synthetic.arrays[name]
        held = holdout.arrays[name] if holdout is not None else None
        if info.kind is ColumnKind.CATEGORICAL:
            notes.extend(_category_notes(name, info, real, fake, held, holdout_name, private))
        elif info.shape is Shape.CONTINUOUS:
            note = _extremes_note(name, real, fake, held, holdout_name, private)
            if note:
                notes.append(note)
    return notes


def _category_notes(name: str, info: ColumnInfo, real: np.ndarray, fake: np.ndarray, held: np.ndarray | None,
                    holdout_name: str, private: bool = False) -> list[str]:
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
                     f"no check judges; " + ("the model is differentially private, so what it learned of that row is "
                                             "within its epsilon, but the value itself comes from the schema, taken as "
                                             "public: if the schema was read from this table, it names that row: list "
                                             "only categories known in public, or group the rare ones" if private else
                                             "fit with min_category_rows=3 (fit --min-category-rows 3) to keep categories "
                                             "fewer rows hold out of the synthetic rows"))
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


def isolated_extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column's isolated extremes (see the module docstring): ``(values, reaches, ranks)``,
    sorted; each one's window is the open interval ``value +- reach`` (halfway to the nearest
    other training value: a value exactly between two is near neither), and its rank counts the
    training rows from its end of the column to it (1: the most extreme). Empty where there are
    none."""
    present = np.sort(values[np.isfinite(values)])
    none = np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    if present.size < 3:
        return none
    distinct, counts = np.unique(present, return_counts=True)
    halves = distinct / 2  # spreads of -1e308 to 1e308 stay finite
    low, high, spread = halved_spread(present / 2)
    if not spread > 0:
        return none
    gaps = np.diff(halves)  # halved
    nearest = np.minimum(np.concatenate([[np.inf], gaps]), np.concatenate([gaps, [np.inf]]))
    # in the tails only (beyond the 1st and 99th percentiles): a value alone between two modes is
    # no extreme, and no top- or bottom-coding keeps it out
    isolated = (counts == 1) & (nearest > ISOLATION * spread) & ((halves < low) | (halves > high))
    below = np.cumsum(counts)  # rows at or below each value
    ranks = np.minimum(below, present.size - below + counts)
    # each window reaches halfway to the nearest other value: half the gap, the halved gap
    return distinct[isolated], nearest[isolated], ranks[isolated]


def _in_windows(values: np.ndarray, centres: np.ndarray, reaches: np.ndarray) -> np.ndarray:
    """How many of ``values`` lie in each window (open intervals, sorted and apart)."""
    values = values[np.isfinite(values)]
    hits = np.zeros(centres.size, dtype=np.int64)
    if not values.size or not centres.size:
        return hits
    at = np.searchsorted(centres, values)  # the nearest window is the one at or just below
    for side in (at - 1, at):
        ok = (side >= 0) & (side < centres.size)
        with np.errstate(over="ignore", invalid="ignore"):
            inside = np.abs(values[ok] - centres[side[ok]]) < reaches[side[ok]]
        np.add.at(hits, side[ok][inside], 1)
    return hits


def _extremes_note(name: str, real: np.ndarray, fake: np.ndarray, held: np.ndarray | None, holdout_name: str,
                   private: bool = False) -> str | None:
    """The isolated-extremes note of one continuous column, or ``None``: windows compared one by
    one with the holdout's (pooled, one holdout row in another window hid a hit at an income
    one row held; a privacy review)."""
    centres, reaches, ranks = isolated_extremes(real)
    if not centres.size:
        return None
    near = _in_windows(fake, centres, reaches)
    fresh_rows = held is not None and len(held) > 0
    reached = _in_windows(held, centres, reaches) if fresh_rows else np.zeros_like(near)
    # synthetic rows come there more often than fresh real rows, by twice where any do: one row
    # each of 365 and 366 is no difference
    flagged = (near > 0) & ((reached == 0) | (near / len(fake) >= 2 * reached / (len(held) if fresh_rows else 1)))
    if not flagged.any():
        return None
    count = int(near[flagged].sum())
    fresh = f", where {int(reached[flagged].sum())} of {len(held)} rows of {holdout_name} do" if fresh_rows else ""
    k = max(3, int(ranks[flagged].max()))
    return (f"column {name!r}: {count} of {len(fake)} synthetic rows ({count / len(fake):.2%}) hold a value near "
            f"{int(flagged.sum())} of its {centres.size} isolated training extremes (each held by one row alone, beyond "
            f"the 1st-99th percentiles and farther from every other value than "
            f"{'that spread' if ISOLATION == 1 else f'{ISOLATION:g} of that spread'}){fresh}: "
            f"such a value can name its holder, and no check judges it; "
            + ("the model is differentially private: its values there come from the schema's public bounds and the "
               "noisy histograms (a bin of noise alone can hold them), and what it learned of that row is within its "
               "epsilon; if the bounds were read from this table, they name the extremes: widen them to public ones"
               if private else
               f"fit with min_tail_rows={k} (fit --min-tail-rows {k}) to keep sampled values short of the {k} most "
               f"extreme training values at each end"))
