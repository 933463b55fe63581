"""A privacy check to run before sharing a synthetic table: pass, or fail with reasons.

It needs the real rows the generator trained on and real rows it did not see (the *holdout*),
which calibrate every attack: whatever an attacker learns about the holdout rows from the
synthetic table is what the data's distribution gives away anyway; only the excess over it on
training rows is a leak of the people in the training table.

The checks (each a pure function of the three tables; limits in :class:`PrivacyLimits`):

* **Exact copies.** Synthetic rows equal in every checked column to a training row. A table with
  few distinct rows (say five categorical columns) collides often by chance, so the baseline is
  the share of holdout rows equal to a training row. Fails when the synthetic table's rate is
  higher than the holdout's by more than chance allows: a one-sided Fisher exact test of the two
  samples at level ``copy_p_value`` (1%).
* **Near copies.** Synthetic rows equal to a training row but for numbers within a thousandth of
  their column's training spread (a copy with an income moved by a cent), tested as exact copies
  are, against the holdout's rate. Only for tables with a float column.
* **Personal values.** Values of the schema's personal columns (e-mails, names, phone numbers,
  ...) and text id columns that the synthetic table shares with a real training row: a
  generator should make them up. Baseline and test as for exact copies (holdout values found
  among the training values: common names collide by chance); one check per such column the
  synthetic table holds. Ids that count (whole numbers, or a prefix and a number such as
  "ORD-00017", spanning at most 4 times as many numbers as they hold) are not checked: a
  generator counting from 1 shares them; the summary and the result's settings name them.
  Record numbers spread wider ("PT-105609" ... "PT-998671" for 800 rows) are checked.
* **Distance to closest record.** The share of synthetic rows nearer a training row than a
  holdout row (against as many training as holdout rows, the share averaged over parts of the
  larger table); 0.5 is ideal. With many
  more training than holdout rows it sees copies only in part (a copy of every training row
  scores ``0.5 + m / (2 n)`` for ``m`` holdout and ``n`` training rows): the membership attack
  is the one that catches them.
* **Membership inference.** The attacker holds a candidate row and the synthetic table and
  guesses "member" when a synthetic row lies close to it (score: minus the distance to the
  nearest synthetic row; the attack of Chen et al., GAN-Leaks, 2020, in its black-box form).
  Scored by ROC AUC of training rows (members) against holdout rows; 0.5 is chance.
* **Attribute inference** (columns named sensitive). The attacker knows a row's other columns
  and reads the sensitive value off the nearest synthetic row (1-NN, the linkage attack of
  Stadler et al., 2022). The *advantage* is its accuracy on training rows minus on holdout rows
  (numeric values count as right within 0.1 standard deviations, taken as the interquartile
  range over 1.349 so that one extreme value cannot widen it).

The distance checks fail on both sides of chance: a closer-to-train share or membership AUC as
far below 0.5 as the limit is above it (0.4 for 0.6) means the holdout rows lie nearer the
synthetic rows than the training rows do, as when the real and holdout tables are given the
wrong way round or the generator was fitted on the holdout rows. And the check refuses a
holdout that is not held out: one whose rows equal training rows seen once far more often than
rows the generator never saw would (about twice the share of training rows seen twice, by Good
and Turing's estimate): the holdout cut from the rows the generator trained on.

Default limits and why: a membership AUC of 0.6 is 7 standard errors above chance for 1,000
rows a side (so chance alone does not fail a good table), yet a generator that copies or
closely hugs even a fifth of its training rows reaches it; a closer-to-train share of 0.6 is the
same margin for distances; an attribute advantage of 0.05 means the synthetic table tells an
attacker the sensitive value of 1 training person in 20 beyond what it tells of a stranger.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from synthvae.errors import DataError, preview
from synthvae.evaluation.disclosure import disclosure_notes
from synthvae.evaluation.privacy import (
    ATTACK_ROWS,
    COPY_P_VALUE,
    MATCHED_PARTS,
    MEMBERSHIP_LIMIT,
    MIN_ATTACK_ROWS,
    NEAR_RESOLUTION,
    RowEmbedding,
    attacks,
    beyond_holdout,
    copy_resolution,
    holdout_overlap,
    near_copies,
    near_hashes,
    row_hashes,
)
from synthvae.evaluation.tables import (PreparedTable, Shape, column_infos, evaluation_schema, foreign_columns, one_thread, prepare,
                                        table_sources)
from synthvae.io import atomic_write_text
from synthvae.inference import infer_schema
from synthvae.schema import ColumnKind, NumericType, PersonalType, Schema
from synthvae.validation import index_hint

# Rows the attacks are scored on, the fewest they are scored on, and the synthetic rows they
# measure distances to: evaluate's (synthvae.evaluation.privacy). By chance alone a
# closer-to-train share spreads about 0.5 / sqrt(m): at 200 rows 0.035 (a membership AUC 0.029),
# so the 0.6 limits sit 2.8 and 3.4 of those spreads away; a 1-row holdout gave AUC 1.0 and
# "FAIL", 2 rows 0.75.
DEFAULT_ATTACK_ROWS = ATTACK_ROWS


@dataclass(frozen=True)
class PrivacyLimits:
    """What the check tolerates; a check beyond its limit fails.

    Attributes:
        copy_p_value: Exact copies (and personal values shared with training rows) fail when
            chance explains so many more than the holdout's with probability below this.
        max_membership_auc: Highest membership-inference ROC AUC (above 0.5, ``1 -`` it is
            the lowest).
        max_closer_to_train: Highest share of synthetic rows nearer training than holdout rows
            (above 0.5, ``1 -`` it is the lowest).
        max_attribute_advantage: Highest attribute-inference accuracy on training rows minus
            on holdout rows.
    """

    copy_p_value: float = COPY_P_VALUE
    max_membership_auc: float = MEMBERSHIP_LIMIT
    max_closer_to_train: float = 0.6
    max_attribute_advantage: float = 0.05


@dataclass(frozen=True)
class CheckResult:
    """One check: its measured value, its limit and whether it passed."""

    name: str
    value: float | None
    limit: float | None
    passed: bool
    detail: str


@dataclass
class PrivacyCheck:
    """The outcome: every check, and whether the table may be shared."""

    checks: list[CheckResult]
    settings: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def failures(self) -> list[CheckResult]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks], "settings": self.settings}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The result as indented JSON; written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def summary(self) -> str:
        """A plain-text table of the checks."""
        width = max(len(c.name) for c in self.checks)
        lines = [f"{'check':<{width}}  {'value':>8}  {'limit':>8}  result"]
        for c in self.checks:
            value = "-" if c.value is None else f"{c.value:.4f}"
            limit = "-" if c.limit is None else f"{c.limit:.4g}"
            lines.append(f"{c.name:<{width}}  {value:>8}  {limit:>8}  {'pass' if c.passed else 'FAIL'}  {c.detail}")
        absent = self.settings.get("personal_columns_absent")
        if absent:
            lines.append(f"not in the synthetic table, so not checked: {', '.join(absent)}")
        counters = self.settings.get("id_columns_not_checked")
        if counters:
            lines.append(f"id columns that count, in the real or the synthetic table (a counting generator shares values by "
                         f"chance), not checked value by value: {', '.join(counters)}")
        lines.extend(f"note: {note}" for note in self.settings.get("notes", ()))
        lines.append("privacy check: " + ("passed" if self.passed else f"FAILED ({len(self.failures())} of {len(self.checks)})"))
        return "\n".join(lines)


def privacy_check(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    schema: Schema | None = None,
    sensitive: str | Sequence[str] = (),
    limits: PrivacyLimits | None = None,
    attack_rows: int = DEFAULT_ATTACK_ROWS,
    seed: int = 0,
    sources: Sequence[str] | None = None,
) -> PrivacyCheck:
    """Run every check of the module docstring.

    Args:
        real: The rows the generator trained on.
        synthetic: The table to share.
        holdout: Real rows from the same source that the generator never saw.
        schema: Column kinds; inferred from ``real`` when ``None``; id columns are skipped.
        sensitive: Columns whose values an attacker must not infer (attribute inference); one name or several.
        limits: What passes; :class:`PrivacyLimits` defaults when ``None``.
        attack_rows: Training and holdout rows each attack is scored on (at most).
        seed: Seeds the row subsamples: same inputs and seed, same result.
        sources: What error messages call the real, synthetic and holdout tables (their file
            names, say); ``"real data"``, ``"synthetic data"`` and ``"holdout data"`` by default.

    Raises:
        DataError: A table is missing, empty or does not fit the schema; a sensitive column is
            unknown; fewer than :data:`MIN_ATTACK_ROWS` training, holdout or synthetic rows; the
            holdout rows equal training rows seen once far more often than fresh rows would
            (:func:`_refuse_overlap`).
    """
    limits = limits or PrivacyLimits()
    real_name, synthetic_name, holdout_name = table_sources(sources)
    for name, frame in ((real_name, real), (synthetic_name, synthetic), (holdout_name, holdout)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise DataError(f"{name} has no rows: the privacy check needs rows in all three tables")
    if isinstance(sensitive, str):  # one column's name, not its letters (a user review)
        sensitive = [sensitive]
    if schema is None:
        schema = infer_schema(real, derived=False, source=real_name, warn=False)
    # Columns no check compares: real e-mails in a column renamed "Email" passed every check.
    extra = [c for c in synthetic.columns if str(c) not in schema.names]  # a column labelled 0 is the schema's "0"
    if extra:
        raise DataError(
            f"{synthetic_name}: columns {preview([str(c) for c in extra])} are not in the schema of {real_name}, so no "
            f"check compares their values with the real rows'; "
            f"drop them from the table to share, or name them as the real table does{index_hint([str(c) for c in extra])}")
    eval_schema = evaluation_schema(schema, real, [synthetic, holdout], source=real_name)
    unknown = [s for s in sensitive if s not in eval_schema.names]
    if unknown:
        raise DataError(f"sensitive columns {preview(unknown)} are not among the checked columns {preview(eval_schema.names)}")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
    train_t = prepare(real, eval_schema, real_name, max_rows=None, rng=rngs[0])
    synth_t = prepare(synthetic, eval_schema, synthetic_name, max_rows=None, rng=rngs[1])
    hold_t = prepare(holdout, eval_schema, holdout_name, max_rows=None, rng=rngs[2])
    infos = column_infos(eval_schema)
    # Each table hashed once, at the training table's resolution, for the overlap and the copies.
    resolution = copy_resolution(train_t.frame)
    hashes = [row_hashes(t.frame, resolution) for t in (train_t, synth_t, hold_t)]
    _refuse_overlap(hashes[0], hashes[2], real_name, holdout_name)
    foreign = foreign_columns(infos, train_t, synth_t)
    if foreign:
        # A copy of the training rows with its labels upper-cased passed every check.
        raise DataError(f"{synthetic_name}: columns share no value with those of {real_name}: {'; '.join(foreign)}, so no check "
                        f"can see their values copied; map them to the real table's values, then check again")
    checks = [_copies(*hashes, limits)]
    near = copy_resolution(train_t.frame, NEAR_RESOLUTION)
    if any(step > 0 for step in near.values()):
        checks.append(_near_copies(*[near_hashes(t.frame, near) for t in (train_t, synth_t, hold_t)], limits))
    checked = {c.name for c in schema if c.name in real and _values_checked(c, real[c.name], synthetic.get(c.name))}
    for column in schema:
        if column.name in checked and column.name in synthetic:
            checks.append(_own_values(column, real[column.name], synthetic[column.name], holdout.get(column.name), limits))
    embed = RowEmbedding(infos, train_t)
    t, s_all, h = embed(train_t), embed(synth_t), embed(hold_t)
    m = min(attack_rows, train_t.n_rows, hold_t.n_rows)
    if m < MIN_ATTACK_ROWS or synth_t.n_rows < MIN_ATTACK_ROWS:
        short = {"attack_rows": attack_rows, real_name: train_t.n_rows, holdout_name: hold_t.n_rows, synthetic_name: synth_t.n_rows}
        what = ", ".join(f"{name} {count:,} rows" for name, count in short.items() if count < MIN_ATTACK_ROWS)
        # Five synthetic rows from the real rows' own distribution failed the closer-to-train
        # share one time in three (twenty rows: one in six).
        fix = ("hold out more real rows the generator never saw" if m < MIN_ATTACK_ROWS
               else f"check at least {MIN_ATTACK_ROWS} synthetic rows (sample more)")
        raise DataError(
            f"the privacy check scores its attacks on at least {MIN_ATTACK_ROWS} training, {MIN_ATTACK_ROWS} holdout "
            f"and {MIN_ATTACK_ROWS} synthetic rows ({what}): with fewer, chance alone moves a membership AUC or a "
            f"closer-to-train share past its limit; {fix}"
        )
    # The same rows as evaluate's privacy section draws for the same seed (see attacks).
    found = attacks(t, h, s_all, seed, attack_rows)
    checks.append(_closer_to_train(found.closer_share, min(train_t.n_rows, hold_t.n_rows), train_t.n_rows, limits))
    checks.append(_membership(found.membership_auc, found.rows, limits))
    for column in sensitive:
        checks.append(_attribute(column, infos, train_t, synth_t, found.reference, hold_t, found.train_rows,
                                 found.holdout_rows, limits))
    unchecked = [c.name for c in schema if c.kind is ColumnKind.ID and c.name not in checked]
    # Personal columns the synthetic table leaves out (a strategy of "drop") share nothing.
    absent = [c.name for c in schema if c.name in checked and c.name not in synthetic]
    settings = {"seed": int(seed), "attack_rows": int(m), "sensitive": list(sensitive), "limits": asdict(limits),
                "id_columns_not_checked": unchecked, "personal_columns_absent": absent,
                "notes": disclosure_notes(infos, train_t, synth_t, hold_t, holdout_name),
                "rows": {"real": len(real), "synthetic": len(synthetic), "holdout": len(holdout)}}
    return PrivacyCheck(checks, settings)


def _copies(train: np.ndarray, synthetic: np.ndarray, holdout: np.ndarray, limits: PrivacyLimits) -> CheckResult:
    """The exact-copy check from the three tables' :func:`row_hashes`."""
    copies = int(np.isin(synthetic, train).sum())
    held = int(np.isin(holdout, train).sum())
    baseline = held / len(holdout)
    n = len(synthetic)
    # The limit shown is the highest copy rate that passes (it showed the holdout's rate, which a
    # passing value may exceed): the count beyond which chance explains less than copy_p_value.
    p_value, highest = beyond_holdout(copies, n, held, len(holdout), limits.copy_p_value)
    passed = p_value >= limits.copy_p_value
    detail = (f"{copies} of {n} synthetic rows copy a training row ({copies / n:.2%}); holdout rows "
              f"collide at {baseline:.2%} (chance p = {p_value:.3g})")
    return CheckResult("exact_copies", copies / n, highest, passed, detail)


def _near_copies(train: tuple[np.ndarray, np.ndarray], synthetic: tuple[np.ndarray, np.ndarray],
                 holdout: tuple[np.ndarray, np.ndarray], limits: PrivacyLimits) -> CheckResult:
    """Rows equal to a training row in every column but their numbers, which lie within
    :data:`NEAR_RESOLUTION` of their spread (:func:`near_copies` of each table's
    :func:`near_hashes`), against the holdout's rate as :func:`_copies` does: a copy with one
    amount moved by a cent is no exact copy, and 24 in 2,400 rows passed every check (a privacy
    review)."""
    copies, held, n = int(near_copies(synthetic, train).sum()), int(near_copies(holdout, train).sum()), len(synthetic[0])
    p_value, highest = beyond_holdout(copies, n, held, len(holdout[0]), limits.copy_p_value)
    detail = (f"{copies} of {n} synthetic rows equal a training row but for numbers within {NEAR_RESOLUTION:g} of their "
              f"spread ({copies / n:.2%}); holdout rows do at {held / len(holdout[0]):.2%} (chance p = {p_value:.3g})")
    return CheckResult("near_copies", copies / n, highest, p_value >= limits.copy_p_value, detail)


_BELOW_CHANCE = ("; below chance: the holdout rows lie nearer the synthetic rows than the training rows do "
                 "(are the real and holdout tables the wrong way round, or was the generator fitted on the holdout?)")


def _refuse_overlap(train: np.ndarray, holdout: np.ndarray, real_name: str, holdout_name: str) -> None:
    """Refuse a holdout that holds training rows (:func:`holdout_overlap`): every attack's
    baseline would be a training row (a holdout cut from the rows the generator trained on
    passed a verbatim copy: copies "at the holdout's rate", closer-to-train share 0.5,
    membership AUC 0.5). ``train``, ``holdout``: the tables' :func:`row_hashes`."""
    overlap = holdout_overlap(train, holdout)
    if overlap is not None:
        inside, rate, expected = overlap
        raise DataError(
            f"{holdout_name}: {inside:,} of {len(holdout):,} rows ({rate:.1%}) equal a row that occurs once in "
            f"{real_name}, where rows the generator never saw would at about {expected:.1%}: the holdout holds training "
            f"rows, so no attack has a baseline; give real rows the generator never saw (split them off before "
            f"fitting), and the training rows as the real table"
        )


def _two_sided(value: float, high: float) -> bool:
    """Whether ``value`` lies within ``high`` above 0.5 and as far below it (a limit of 0.5 or
    less bounds it from above only: at 0.5 the window was the one value 0.5)."""
    return value <= high and (high <= 0.5 or value >= 1.0 - high)


def _values_checked(column, real: pd.Series, synthetic: pd.Series | None = None) -> bool:
    """Whether a column's values are checked one by one (:func:`_own_values`): personal columns,
    text ids whose values are not a prefix and a number (a names column inferred as an id), and
    ids whose numbers are spread far wider than a count (record numbers "PT-105609" ...
    "PT-998671" for 800 patients: every real one in a synthetic table passed unnamed) unless the
    synthetic ids count themselves; not counters ("ORD-00001", 17), which any generator counting
    from 1 shares with the real table (nor a sample of a counter's rows, whose numbers spread
    wide, beside synthetic ids that count: 127 of 1,000 were shared by chance and FAILED)."""
    if column.kind is ColumnKind.PERSONAL:
        return True
    if column.kind is not ColumnKind.ID:
        return False
    numbers = _id_numbers(real)
    if numbers is None:
        return column.type is NumericType.STRING
    distinct = numbers.nunique()
    if not (distinct and numbers.max() - numbers.min() + 1 > _COUNTER_SPREAD * distinct):
        return False
    counted = _id_numbers(synthetic) if synthetic is not None else None
    return counted is None or counted.empty or counted.max() - counted.min() + 1 != counted.nunique()


def _id_numbers(values: pd.Series) -> pd.Series | None:
    """The numbers of ids written as a prefix and a number ("PT-105609", 17), or ``None`` where
    some id is not."""
    parts = values.dropna().astype(str).str.extract(r"^\s*(\D*?)(\d+)\s*$")
    if parts[1].isna().any():
        return None
    return pd.to_numeric(parts[1], errors="coerce").astype("float64")


# An id whose numbers span more than this many times their count is no counter (see _values_checked).
_COUNTER_SPREAD = 4


def _own_values(column, real: pd.Series, synthetic: pd.Series, holdout: pd.Series | None,
                limits: PrivacyLimits) -> CheckResult:
    """Synthetic values of a personal or text id column that equal a training value (compared
    as :func:`_comparable` writes them), tested against the holdout's rate as :func:`_copies`
    does. The detail names counts only: a report of the check must not carry the values."""

    phone = column.personal is PersonalType.PHONE
    known = set(_comparable(real, phone))
    shared = int(sum(v in known for v in _comparable(synthetic, phone)))
    n = int(synthetic.notna().sum())
    held = _comparable(holdout, phone) if holdout is not None else np.zeros(0, dtype=object)
    held_shared = int(sum(v in known for v in held))
    baseline = held_shared / held.size if held.size else 0.0
    p_value, highest = beyond_holdout(shared, n, held_shared, held.size, limits.copy_p_value)
    detail = (f"{shared} of {n} synthetic values equal a training row's ({shared / n if n else 0:.2%}); holdout values "
              f"equal one at {baseline:.2%} (chance p = {p_value:.3g}); such values should be made up")
    label = "personal_values" if column.kind is ColumnKind.PERSONAL else "id_values"
    return CheckResult(f"{label}[{column.name}]", shared / n if n else 0.0, highest, p_value >= limits.copy_p_value, detail)


def _comparable(series: pd.Series, phone: bool = False) -> np.ndarray:
    """A column's values as the check compares them: whole numbers without a fraction (a phone
    column read with blanks is float: 4158293709.0 beside the synthetic text 4158293709 matched
    nothing), then case folded with everything but letters and digits dropped (the same phone
    written 415-829-3709 or (415) 829 3709, an SSN with or without dashes, an e-mail in capitals).
    Values that keep no letter or digit are left out.

    With ``phone``, a number's last :data:`_PHONE_DIGITS` digits, without an extension: the
    same number with a country or trunk prefix (+1 415-449-6846, 001-415-449-6846, 415-449-6846)
    passed as another (a privacy review); a number of fewer digits as it is."""
    present = series.dropna()
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present.dtype):
        numbers = present.astype("float64")
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers.abs() < 2.0**53)
        text = numbers.map(repr).where(~whole, numbers.where(whole, 0).astype("int64").astype(str))
    else:
        text = present.astype(str)
    if phone:
        bare = text.str.replace(r"(?:\.0+|\s*(?:x|ext\.?|extension)\s*\d+)\s*$", "", regex=True, case=False)
        digits = bare.str.replace(r"\D+", "", regex=True)
        text = digits.where(digits.str.len() < _PHONE_DIGITS, digits.str[-_PHONE_DIGITS:])
    text = text.str.casefold().str.replace(r"[\W_]+", "", regex=True)
    return text[text != ""].to_numpy(dtype=object)


# The trailing digits that name a phone number wherever it is dialled from: nine, as the shortest
# national numbers of 9 digits (France, Spain without their trunk 0) keep their own.
_PHONE_DIGITS = 9


def _closer_to_train(share: float, matched: int, n_train: int, limits: PrivacyLimits) -> CheckResult:
    detail = "share of synthetic rows nearer a training row than a holdout row (0.5 ideal)"
    if n_train > matched:
        # Averaged over parts (matched_closer_share): "1,250 of 3,750 training rows" read as if
        # two thirds were left out, where three parts used them all (a user review).
        parts = max(1, min(MATCHED_PARTS, n_train // max(matched, 1)))
        detail += (f"; averaged over {parts} part{'s' if parts > 1 else ''} of {matched:,} training rows "
                   f"({parts * matched:,} of {n_train:,}), each as many as the holdout rows: a copy of every "
                   f"training row scores {0.5 + matched / (2 * n_train):.3f}")
    passed = _two_sided(share, limits.max_closer_to_train)
    return CheckResult("closer_to_train_share", share, limits.max_closer_to_train, passed,
                       detail + ("" if passed or share > 0.5 else _BELOW_CHANCE))


def _membership(auc: float, rows: int, limits: PrivacyLimits) -> CheckResult:
    passed = _two_sided(auc, limits.max_membership_auc)
    detail = f"distance-to-synthetic attack on {rows} training vs {rows} holdout rows (0.5 is chance)"
    return CheckResult("membership_auc", auc, limits.max_membership_auc, passed,
                       detail + ("" if passed or auc > 0.5 else _BELOW_CHANCE))


def _robust_spread(values: np.ndarray) -> float:
    """A column's spread that a few extreme rows do not inflate: its interquartile range over
    1.349 (the standard deviation of a normal column), or its standard deviation where the
    quartiles meet. One income of 2.3 billion beside thousands made the standard deviation's
    tenth 8 million, so that every guess of an income was right, on held-out rows as on
    training rows, and the attack could not fail."""
    present = values[~np.isnan(values)]
    if not present.size:
        return 0.0
    low, high = np.percentile(present, [25, 75])
    return float((high - low) / 1.349) if high > low else float(present.std())


def _attribute(column, infos, train_t: PreparedTable, synth_t: PreparedTable, reference: np.ndarray,
               hold_t: PreparedTable, t_rows, h_rows, limits: PrivacyLimits) -> CheckResult:
    known = [i for i in infos if i.name != column]
    target = next(i for i in infos if i.name == column)
    if not known:
        return CheckResult(f"attribute_advantage[{column}]", None, limits.max_attribute_advantage, True,
                           "no other column to link on")
    embed = RowEmbedding(known, train_t)
    s = embed(synth_t)[reference]
    values = synth_t.arrays[column][reference]

    def accuracy(table: PreparedTable, rows: np.ndarray) -> float:
        from sklearn.metrics import pairwise_distances_argmin

        with one_thread():
            nearest = pairwise_distances_argmin(embed(table)[rows], s)
        guess, truth = values[nearest], table.arrays[column][rows]
        if target.shape is Shape.CONTINUOUS:
            tol = 0.1 * _robust_spread(train_t.arrays[column])
            right = (np.isnan(guess) & np.isnan(truth)) | (np.abs(guess - truth) <= tol)
        else:
            right = guess == truth
        return float(np.mean(right))

    on_train, on_holdout = accuracy(train_t, t_rows), accuracy(hold_t, h_rows)
    advantage = on_train - on_holdout
    return CheckResult(
        f"attribute_advantage[{column}]", advantage, limits.max_attribute_advantage,
        advantage <= limits.max_attribute_advantage,
        f"1-NN inference from the other columns: right on {on_train:.1%} of training rows, {on_holdout:.1%} of holdout rows",
    )
