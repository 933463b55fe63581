"""Targeted resampling: the rows a sampling call returns obey every rule the model cannot keep by
construction, and every condition it cannot meet directly.

:class:`RowCheck` checks each drawn batch against all the rules of the plan (those kept by
construction too, as a safety net), drops the rows that break one, and asks for as many new
rows as the acceptance rate so far says are needed. It imports no torch: the rows come from a
``draw(k)`` function the synthesizer gives it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthvae.constraints.plan import ConstraintPlan, Mode
from synthvae.constraints.spec import Inequality, Unique, combination_keys
from synthvae.errors import ConstraintError


# Rows a round of draws holds at the default batch size (the budget is ``rounds`` of them), and
# rows drawn with none kept after which a batch gives up (``stale`` of them): about the three
# idle rounds of 100 rows, 12,000 and 50,000 that a condition no row meets took at the default.
_ROUND_ROWS = 50_000
_STALE_ROWS = 20_000


class RowCheck:
    """Keeps only sampled rows that obey every rule of the schema and every condition the model
    cannot meet by construction, drawing more rows for those it drops (targeted resampling).

    Uniqueness holds across all the batches of one ``sample`` call (the keys seen so far are
    kept); rows whose key holds a null are exempt (as in SQL), but are kept only as often as the
    rows with a full key are, so that the share of nulls stays the model's when the distinct keys
    run short (penguins, ``unique`` on species, flipper length and sex, 8.4% of sex null: 2,000
    rows came out 72% null, as every duplicate was dropped and every null-key row kept). Gives
    up, with an error naming the rule that rejects most rows, when ``rounds`` x 50,000 rows drawn
    cannot complete a batch, or when ``stale`` x 20,000 rows in a row add no row (a rule or
    condition met by no row the model draws: a key space used up, a pattern never generated).
    """

    def __init__(self, plan: ConstraintPlan, residual: list, batch_size: int, rounds: int = 30, stale: int = 3,
                 conditioned: frozenset = frozenset(), taken: dict | None = None) -> None:
        self.plan, self.residual, self.batch_size, self.rounds, self.stale = plan, residual, batch_size, rounds, stale
        self.conditioned = conditioned  # every column a condition names (a failure's advice leaves them out)
        rules = plan.schema.constraints if plan.active else ()
        self.unique = [r for r, m in zip(rules, plan.modes_) if isinstance(r, Unique) and m is Mode.RESAMPLING]
        # Keys used before the call (``taken``, shared: the rows' keys are added to it).
        self.seen: dict[Unique, set] = taken if taken is not None else {}
        for rule in self.unique:
            self.seen.setdefault(rule, set())
        # Inequalities a null side exempts, kept by resampling (a nullable other side): the exempt
        # rows are kept at the checked rows' rate, or the nulls grow (a <= b, a 20.5% null in the
        # data: 23.7% in the sample).
        self.null_exempt = {r for r, m in zip(rules, plan.modes_) if isinstance(r, Inequality) and m is Mode.RESAMPLING}
        # (A lookup rule is kept by moving values, but rows of keys never seen together break it;
        # an exact null-when rule by nulling, but a null drawn elsewhere breaks it.)
        self.needed = plan.active and (any(m is Mode.RESAMPLING for m in plan.modes_) or bool(plan.transforms_)
                                       or bool(plan.lookups_)
                                       or any(getattr(r, "exactly", False) for r in rules)) or bool(residual)
        self.drawn = 0
        self.rejected: dict[str, int] = {}

    def rows(self, n: int, draw) -> pd.DataFrame:
        """Exactly ``n`` rows that pass, from ``draw(k)`` (``k`` candidate rows).

        A draw holds at most ``batch_size`` rows (memory); the budget is counted in rows drawn
        (``rounds`` x :data:`_ROUND_ROWS`, and ``stale`` x :data:`_STALE_ROWS` drawn with none
        kept), so that it does not shrink with the batch: counted in draws, at ``batch_size=1000``
        a condition 0.3% of rows meet failed after 30,000 draws that succeeded at the default,
        and at 20 one that 7% meet failed on three 20-row draws without a hit."""
        self._check_key_space(n)
        budget, stale = self.rounds * _ROUND_ROWS, self.stale * _STALE_ROWS
        parts, have, ask, drawn_here, kept_here, idle = [], 0, n, 0, 0, 0
        while True:
            frame = draw(ask)
            self.drawn += ask
            drawn_here += ask
            good = self._passing(frame)
            take = frame[good].iloc[: n - have]
            self._remember(take)
            parts.append(take)
            have += len(take)
            kept_here += int(good.sum())
            idle = 0 if len(take) else idle + ask
            if have >= n or idle >= stale or drawn_here >= budget:
                break
            acceptance = max(kept_here / drawn_here, 1.0 / (drawn_here + 1))
            ask = int(min(self.batch_size, max(64, np.ceil((n - have) / acceptance * 1.2))))
        if have < n:
            raise ConstraintError(self._failure(have, n, drawn_here))
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)

    def _check_key_space(self, n: int) -> None:
        """Refuse at once ``n`` more rows than a unique rule has keys left, where its columns hold
        finitely many values and no null (categories, booleans, bounded integers): 41 rows of a
        unique key over 40 categories drew 80,339 rows before the refusal (a user review)."""
        for rule in self.unique:
            space = 1
            for name in rule.group:
                column = self.plan.schema[name]
                if column.nullable:
                    space = None  # rows with a null key are exempt: no limit
                    break
                if column.choices is not None:
                    space *= len(column.choices)
                elif column.kind.value == "numeric" and column.is_integer and column.min is not None and column.max is not None:
                    space *= int(column.max) - int(column.min) + 1
                else:
                    space = None
                    break
            used = len(self.seen[rule])
            if space is not None and used + n > space:
                raise ConstraintError(
                    f"rule {rule.describe()!r}: its columns hold at most {space:,} distinct keys"
                    + (f", {used:,} of them used already" if used else "")
                    + f", and {n:,} more rows were asked for; sample at most {max(space - used, 0):,} rows, or drop or "
                    "widen the rule")

    def _failure(self, have: int, n: int, drawn: int) -> str:
        """Why a batch could not be completed, worded by what rejected most rows."""
        worst = max(self.rejected, key=self.rejected.get) if self.rejected else None
        conditions = {c.describe() for c in self.residual}
        rules = bool(self.plan.schema.constraints)
        # A schema without rules: the rows only had to meet the conditions (and the columns'
        # bounds), and "check that the rules allow it" sent the user after rules that do not exist.
        head = f"could produce only {have} of {n} rows that " + (
            "obey the schema's rules" + (" and the conditions" if conditions else "") if rules
            else "meet the conditions" if conditions else "keep the columns' bounds")
        head += f" after drawing {drawn} rows; most were rejected by {worst!r}. "
        if worst in conditions:
            condition = next(c for c in self.residual if c.describe() == worst)
            source = self.plan.rebuilt_by(condition.column)
            how = (f"{condition.column!r} is {source}, not learned, so rows that meet the condition are kept from the "
                   "model's draws, and " if source else "")
            free = [name for name in self.plan.derived_inputs(condition.column) if name not in self.conditioned]
            if len(free) > 1:
                # A value of a sum of free inputs is a thin slice of their joint range; one value
                # of all inputs but one leaves a single value for the last (tot = 55 with lo = 50
                # gives w = 5, met at once).
                return (head + how + f"the model rarely generates such rows: give its inputs without a condition "
                        f"({', '.join(repr(n) for n in free)}) values too (a linear rule whose inputs but one have a value "
                        f"leaves one value for the last), or relax the condition")
            return head + how + "the model rarely generates such rows: relax the condition" + (
                ", or check that the rules allow it" if rules else "")
        if worst is not None and worst.startswith("unique"):
            return (head + "The rule's distinct keys may be used up (the model's rows repeat the combinations it has "
                    "seen): sample fewer rows, or drop or widen the rule")
        if worst is not None and worst.startswith("bounds of"):
            return head + ("The rules compute values beyond the column's schema bounds: widen the bounds or check the rule"
                           if rules else "The rows' rebuilt values fall beyond the column's schema bounds: widen the bounds")
        return head + "The model rarely generates rows that keep it: check that the rule holds in the data" + (
            " and can hold together with the conditions" if conditions else "")

    def _passing(self, frame: pd.DataFrame) -> np.ndarray:
        bad = np.zeros(len(frame), dtype=bool)
        for name, beyond in self.plan.outside_bounds(frame).items():
            self._count(f"bounds of {name!r}", beyond & ~bad)
            bad |= beyond
        for rule, broken in self.plan.violations(frame).items():
            if isinstance(rule, Unique) and rule in self.seen:
                continue
            if rule in self.null_exempt:
                broken = broken | _thinned(frame, rule.columns, broken, bad)
            self._count(rule.describe(), broken & ~bad)
            bad |= broken
        for condition in self.residual:
            broken = ~self.plan.meets(frame, condition)
            self._count(condition.describe(), broken & ~bad)
            bad |= broken
        for rule in self.unique:
            keys = combination_keys(frame, rule.group)
            present = frame[list(rule.group)].notna().all(axis=1).to_numpy()
            mine: set = set()
            duplicate = np.zeros(len(frame), dtype=bool)
            seen = self.seen[rule]
            candidates = np.flatnonzero(~bad & present)
            for i in candidates:
                key = keys[i]
                if key in seen or key in mine:
                    duplicate[i] = True
                else:
                    mine.add(key)
            duplicate |= _exempt_beyond(~bad & ~present, candidates.size, len(mine))
            self._count(rule.describe(), duplicate)
            bad |= duplicate
        return ~bad

    def _remember(self, frame: pd.DataFrame) -> None:
        for rule in self.unique:
            self.seen[rule].update(full_keys(frame, rule))

    def _count(self, name: str, broken: np.ndarray) -> None:
        count = int(broken.sum())
        if count:
            self.rejected[name] = self.rejected.get(name, 0) + count

    def report(self) -> dict:
        """Rows drawn and rows rejected per rule or condition, over the whole call."""
        return {"drawn": int(self.drawn), "rejected": dict(self.rejected)}


def full_keys(frame: pd.DataFrame, rule: Unique) -> set:
    """The keys of ``rule`` that rows of ``frame`` hold in full (a key holding a null is exempt,
    as in SQL)."""
    present = frame[list(rule.group)].notna().all(axis=1).to_numpy()
    return {key for key, full in zip(combination_keys(frame, rule.group), present) if full}


def _exempt_beyond(exempt: np.ndarray, checked: int, kept: int) -> np.ndarray:
    """The exempt rows (a mask) beyond the share ``kept / checked`` of the checked rows that
    passed: the first ones are kept (rows come in random order), the rest dropped, so exempt
    rows pass as often as checked ones."""
    out = np.zeros(exempt.size, dtype=bool)
    rows = np.flatnonzero(exempt)
    if checked and rows.size:
        out[rows[int(round(rows.size * kept / checked)):]] = True
    return out


def _thinned(frame: pd.DataFrame, columns, broken: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Rows a null in ``columns`` exempts from a comparison, beyond the share of the compared
    rows (not already rejected) that keep it."""
    present = frame[list(columns)].notna().all(axis=1).to_numpy()
    checked = ~bad & present
    return _exempt_beyond(~bad & ~present, int(checked.sum()), int((checked & ~broken).sum()))
