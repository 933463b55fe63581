"""Business rules, measured: how often rows break each rule without and with constraints, and what
keeping them costs in fit and sample time and in quality.

For each table (natural rules of ../shared/datasets), on the benchmark protocol's 80/20 split:
one model fitted on the schema without its rules and one with them, same seed and settings;
as many rows sampled as the training split; per rule the share of sampled rows that break it
(the rules are checked by the constrained model's plan, which knows the allowed combinations);
fit and sample seconds; our quality score against the training rows; rows drawn again by
targeted resampling. For the null_when rules, also imputation: 500 held-out rows with 20% of
their cells hidden (MCAR, the categories the training split lacks set null first), completed by
each model (``impute``, method mean): the share of the rule's structural nulls (the ``when``
cell observed among the rule's values) that came back filled, and of the column's hidden cells
elsewhere that came back filled.

Tables and rules:
- loans: grade/sub_grade combinations, paid_total = paid_principal + paid_interest +
  paid_late_fees (to the cent), open_credit_lines <= total_credit_lines, num_open_cc_accounts <=
  num_total_cc_accounts, 0 <= balance <= loan_amount, and two kept by resampling:
  num_satisfactory_accounts <= total_credit_lines (the column is already rebuilt by the first
  inequality); the three joint-applicant columns null on individual applications (null_when);
- flights100k: year, month, day, hour = parts of time_hour, sched_dep_time = hour * 100 + minute,
  and unique (carrier, flight, time_hour) (one flight number an hour; kept by resampling);
- diamonds: positive dimensions 0 < x, 0 < y, 0 < z (the rows with a zero dimension, which
  break the rule, are reported by the fit and dropped first), and carat between 0.2 and 5.01.

    python benchmarks/bench_constraints.py              # all three, default epochs
    python benchmarks/bench_constraints.py --quick      # 3,000 rows, 5 epochs: does it still run

Writes benchmarks/results/constraints.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, machine, split, write_results  # noqa: E402

from synthvae import Synthesizer, evaluate, infer_schema  # noqa: E402
from synthvae.constraints.spec import NullWhen  # noqa: E402
from synthvae.errors import ConstraintError  # noqa: E402
from synthvae.schema import Schema  # noqa: E402

IMPUTED_ROWS = 500

RULES = {
    "loans": [
        {"kind": "fixed_combinations", "columns": ["grade", "sub_grade"]},
        {"kind": "derived", "column": "paid_total", "expression": "paid_principal + paid_interest + paid_late_fees", "tolerance": 0.01},
        {"kind": "inequality", "low": "open_credit_lines", "high": "total_credit_lines"},
        {"kind": "inequality", "low": "num_open_cc_accounts", "high": "num_total_cc_accounts"},
        {"kind": "range", "low": 0, "column": "balance", "high": "loan_amount"},
        # total_credit_lines is already rebuilt by the first inequality: kept by resampling.
        {"kind": "inequality", "low": "num_satisfactory_accounts", "high": "total_credit_lines"},
        *({"kind": "null_when", "column": name, "when": "application_type", "values": ["individual"]}
          for name in ("annual_income_joint", "verification_income_joint", "debt_to_income_joint")),
    ],
    "flights100k": [
        {"kind": "derived", "column": "year", "expression": "year(time_hour)"},
        {"kind": "derived", "column": "month", "expression": "month(time_hour)"},
        {"kind": "derived", "column": "day", "expression": "day(time_hour)"},
        {"kind": "derived", "column": "hour", "expression": "hour(time_hour)"},
        {"kind": "derived", "column": "sched_dep_time", "expression": "hour * 100 + minute"},
        {"kind": "unique", "columns": ["carrier", "flight", "time_hour"]},  # kept by resampling
    ],
    "diamonds": [
        {"kind": "inequality", "low": 0, "high": "x", "strict": True},
        {"kind": "inequality", "low": 0, "high": "y", "strict": True},
        {"kind": "inequality", "low": 0, "high": "z", "strict": True},
        {"kind": "range", "low": 0.2, "column": "carat", "high": 5.01},
    ],
}


def run(name: str, quick: bool) -> dict:
    frame = load(name)
    if name == "loans":
        frame = frame.drop(columns=["emp_title"])  # free text, 4,411 levels: not the point here
    train, holdout = split(frame)
    if quick:
        train = train.iloc[:3000]
    plain = infer_schema(train, derived=False)
    document = plain.to_dict()
    document["constraints"] = RULES[name]
    ruled = Schema.from_dict(document)
    dropped = 0
    try:
        _check(ruled, train)
    except ConstraintError as exc:
        broken = _broken_rows(ruled, train)
        dropped = int(broken.sum())
        print(f"{name}: {exc}\n-> dropping those {dropped} rows", flush=True)
        train = train[~broken].reset_index(drop=True)
        plain = infer_schema(train, derived=False)
        document = plain.to_dict()
        document["constraints"] = RULES[name]
        ruled = Schema.from_dict(document)
    epochs = 5 if quick else None
    out = {"table": name, "rows": len(train), "dropped_rows": dropped, "runs": {}}
    checker = None
    samples = {}
    nulls = [rule for rule in ruled.constraints if isinstance(rule, NullWhen)]
    holed = _holed(holdout.iloc[:IMPUTED_ROWS], plain) if nulls else None
    for label, schema in (("without", plain), ("with", ruled)):
        started = time.perf_counter()
        syn = Synthesizer(schema, epochs=epochs, seed=0).fit(train)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        sample = syn.sample(len(train), seed=1)
        sample_seconds = time.perf_counter() - started
        if label == "with":
            checker = syn.constraints_
            out["modes"] = checker.describe()
            out["resampling"] = syn.last_resampling_
        samples[label] = sample
        report = evaluate(train, sample, schema=plain, metrics=["quality"], seed=0).to_dict()
        out["runs"][label] = {
            "fit_seconds": round(fit_seconds, 2),
            "sample_seconds": round(sample_seconds, 3),
            "quality": report["quality"]["score"],
            "column_shapes": report["quality"]["column_shapes"],
            "column_pair_trends": report["quality"]["column_pair_trends"],
        }
        print(f"{name} {label}: fit {fit_seconds:.1f} s, sample {sample_seconds:.2f} s, quality {report['quality']['score']:.4f}", flush=True)
        if nulls:
            started = time.perf_counter()
            filled = syn.impute(holed, seed=2)
            out["runs"][label]["impute_seconds"] = round(time.perf_counter() - started, 2)
            out["runs"][label]["impute"] = _null_cells_filled(nulls, holed, filled)
            print(f"{name} {label}: impute {out['runs'][label]['impute']}", flush=True)
    for label, sample in samples.items():
        broken = checker.violations(sample)
        out["runs"][label]["broken_share"] = {rule.describe(): float(rows.mean()) for rule, rows in broken.items()}
        out["runs"][label]["rows_breaking_any"] = float(sum(rows for rows in broken.values()).astype(bool).mean())
    return out


def _holed(rows: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Held-out rows with 20% of their cells hidden, categories the schema lacks set null first."""
    rows = rows.reset_index(drop=True).copy()
    for column in schema:
        if column.categories is not None:
            rows.loc[~rows[column.name].isin(list(column.categories)), column.name] = None
    hide = np.random.default_rng(0).random(rows.shape) < 0.2
    for j, name in enumerate(rows.columns):
        rows.loc[hide[:, j], name] = None
    return rows


def _null_cells_filled(rules: list, holed: pd.DataFrame, filled: pd.DataFrame) -> dict:
    """Per null_when rule: of its structural nulls in ``holed`` (the ``when`` cell observed among
    its values), the share ``filled`` gives a value; of the column's other null cells, the same."""
    out = {}
    for rule in rules:
        empty = holed[rule.column].isna().to_numpy()
        structural = holed[rule.when].isin(list(rule.values)).to_numpy() & empty
        unknown = holed[rule.when].notna().to_numpy() & ~holed[rule.when].isin(list(rule.values)).to_numpy() & empty
        given = filled[rule.column].notna().to_numpy()
        out[rule.describe()] = {"structural_cells": int(structural.sum()), "structural_filled": float(given[structural].mean()),
                                "unknown_cells": int(unknown.sum()), "unknown_filled": float(given[unknown].mean())}
    return out


def _check(schema: Schema, frame: pd.DataFrame) -> None:
    from synthvae.constraints.plan import check_table
    from synthvae.validation import conform

    check_table(schema, conform(frame, schema), "the training split")


def _broken_rows(schema: Schema, frame: pd.DataFrame):
    from synthvae.constraints.plan import rule_violations
    from synthvae.validation import conform

    masks = rule_violations(schema, conform(frame, schema))
    return sum(masks.values()).astype(bool)


def markdown(results: list[dict], info: dict, quick: bool) -> list[str]:
    lines = [
        "# Constraints: rows breaking each rule without and with them, and the cost",
        "",
        f"`python benchmarks/bench_constraints.py{' --quick' if quick else ''}` on {info['machine']}, Python {info['python']}, "
        f"torch {info['torch']} ({info['torch_threads']} threads), pandas {info['pandas']}. Default epochs unless quick; "
        "as many rows sampled as the training split (80%).",
        "",
        "| table | rule | how kept | rows breaking it, without | with |",
        "|---|---|---|---:|---:|",
    ]
    for r in results:
        modes = {m["constraint"]: m["mode"] for m in r["modes"]}
        for rule, share in r["runs"]["without"]["broken_share"].items():
            lines.append(f"| {r['table']} | `{rule}` | {modes[rule]} | {share:.2%} | {r['runs']['with']['broken_share'][rule]:.2%} |")
        lines.append(
            f"| {r['table']} | **any rule** | | {r['runs']['without']['rows_breaking_any']:.2%} | {r['runs']['with']['rows_breaking_any']:.2%} |"
        )
    lines += [
        "",
        "| table | train rows | fit s without | with | sample s without | with | quality without | with | shapes w/o | with | trends w/o | with | rows rejected (drawn) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        a, b = r["runs"]["without"], r["runs"]["with"]
        rejected = sum(r["resampling"].get("rejected", {}).values())
        redrawn = f"{rejected} ({r['resampling'].get('drawn', r['rows'])})"
        lines.append(
            f"| {r['table']} | {r['rows']} | {a['fit_seconds']} | {b['fit_seconds']} | {a['sample_seconds']} | {b['sample_seconds']} | "
            f"{a['quality']:.4f} | {b['quality']:.4f} | {a['column_shapes']:.4f} | {b['column_shapes']:.4f} | "
            f"{a['column_pair_trends']:.4f} | {b['column_pair_trends']:.4f} | {redrawn} |"
        )
    imputed = [r for r in results if "impute" in r["runs"]["with"]]
    if imputed:
        lines += [
            "",
            f"Imputation of {IMPUTED_ROWS} held-out rows with 20% of cells hidden (method mean): share of the null_when "
            "rules' structural nulls (the `when` cell observed among the rule's values) filled, and of the column's "
            "other null cells (a joint application's hidden income) filled.",
            "",
            "| table | rule | structural nulls | filled without | with | other null cells | filled without | with | impute s without | with |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in imputed:
            a, b = r["runs"]["without"], r["runs"]["with"]
            for rule, cells in b["impute"].items():
                before = a["impute"][rule]
                lines.append(
                    f"| {r['table']} | `{rule}` | {cells['structural_cells']} | {before['structural_filled']:.1%} | "
                    f"{cells['structural_filled']:.1%} | {cells['unknown_cells']} | {before['unknown_filled']:.1%} | "
                    f"{cells['unknown_filled']:.1%} | {a['impute_seconds']} | {b['impute_seconds']} |"
                )
    dropped = [f"{r['table']}: {r['dropped_rows']}" for r in results if r["dropped_rows"]]
    if dropped:
        lines += ["", f"Training rows that broke a rule and were dropped before fitting: {', '.join(dropped)}."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="+", default=list(RULES), choices=list(RULES))
    parser.add_argument("--quick", action="store_true", help="3,000 training rows and 5 epochs")
    parser.add_argument("--stem", default=None, help="result file name (default constraints, or constraints_quick)")
    args = parser.parse_args()
    results = [run(name, args.quick) for name in args.tables]
    info = machine()
    stem = args.stem or ("constraints_quick" if args.quick else "constraints")
    path = write_results(stem, {"machine": info, "quick": args.quick, "results": results}, markdown(results, info, args.quick))
    print("\n".join(markdown(results, info, args.quick)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
