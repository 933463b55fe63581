"""Structural nulls: ``null_when`` rules (a column null on every row of some values of another),
found by infer_schema, checked in the schema and the training data, kept by sampling and
conditions, and left alone by imputation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthvae import ConstraintError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema
from synthvae.constraints.spec import NullWhen

from conftest import dataset_path, inferred_by_cli

JOINT = ["annual_income_joint", "verification_income_joint", "debt_to_income_joint"]
COLUMNS = ["application_type", "annual_income", *JOINT, "loan_amount", "interest_rate", "emp_length"]


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return pd.read_csv(dataset_path("loans.csv"), usecols=COLUMNS)[COLUMNS].iloc[:3000]


@pytest.fixture(scope="module")
def fitted(loans) -> Synthesizer:
    return Synthesizer(epochs=3, seed=0).fit(loans)


def test_loans_joint_columns_are_null_on_individual_applications(loans):
    rules = [r for r in infer_schema(loans).constraints if isinstance(r, NullWhen)]
    # The joint income and debt ratio are known on every joint application ("only there"); the
    # joint verification is missing on 2.5% of them.
    only = {"annual_income_joint": ", and only there", "debt_to_income_joint": ", and only there"}
    assert [r.describe() for r in rules] == [f"{name} is null where application_type is 'individual'{only.get(name, '')}"
                                             for name in JOINT]
    # emp_length's nulls (8%) are spread over both application types: unknown values, no rule.
    assert all(r.column != "emp_length" for r in rules)


def test_no_rule_where_nulls_fall_on_every_category_or_a_value_is_only_mostly_null():
    rng = np.random.default_rng(0)
    n = 600
    kind = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame({"kind": kind, "x": rng.normal(size=n), "y": rng.normal(size=n)})
    frame.loc[rng.random(n) < 0.3, "x"] = np.nan  # random holes
    frame.loc[frame.kind == "a", "y"] = np.nan
    assert [r.describe() for r in infer_schema(frame).constraints] == ["y is null where kind is 'a', and only there"]
    frame.loc[np.flatnonzero(kind == "a")[0], "y"] = 1.0  # one "a" row has a value: no structural null
    assert infer_schema(frame).constraints == ()
    assert infer_schema(frame.iloc[:40]).constraints == ()  # too few rows to tell


def test_no_rule_for_a_column_null_on_every_row_or_beside_values_holding_none():
    # An empty column beside categories some of them rarer than 5 rows was "null where kind is
    # one of" the common ones (a user review): the rare ones were left out, as if they held values.
    rng = np.random.default_rng(1)
    n = 600
    kind = np.where(np.arange(n) < 8, np.array(["r1", "r2", "r3", "r4"])[np.arange(n) % 4], rng.choice(["a", "b", "c"], n))
    frame = pd.DataFrame({"kind": kind, "empty": np.nan, "y": rng.normal(size=n)})
    frame.loc[frame.kind.isin(["r1", "r2", "r3", "r4", "a"]), "y"] = np.nan
    frame.loc[frame.kind == "b", "y"] = np.nan  # y's values only where kind is "c", and none where rare
    rules = [r.describe() for r in infer_schema(frame).constraints]
    assert not any(rule.startswith("empty") for rule in rules), rules
    assert rules == ["y is null where kind is one of ['a', 'b']"]


def test_the_rule_round_trips_through_json_and_bad_rules_are_refused(loans):
    schema = infer_schema(loans, derived=False)
    rule = {"kind": "null_when", "column": "annual_income_joint", "when": "application_type", "values": ["individual"]}
    document = schema.to_dict()
    document["constraints"] = [rule]
    loaded = Schema.from_dict(document)
    assert loaded.constraints == (NullWhen("annual_income_joint", "application_type", ("individual",)),)
    assert json.loads(loaded.to_json())["constraints"] == [rule]
    bad = {
        "'single' is not a value of 'application_type'": dict(rule, values=["single"]),
        "'loan_amount' is not nullable": dict(rule, column="loan_amount"),
        "'interest_rate' is numeric; 'when' is a categorical or boolean column": dict(rule, when="interest_rate"),
        "every value of 'application_type'": dict(rule, values=["individual", "joint"]),
        "values repeat": dict(rule, values=["individual", "individual"]),
    }
    for message, wrong in bad.items():
        document["constraints"] = [wrong]
        with pytest.raises(SchemaError, match=message):
            Schema.from_dict(document)
    document["constraints"] = [dict(rule, values=[])]
    with pytest.raises(SchemaError, match="values"):  # the JSON Schema: at least one value
        Schema.from_dict(document)


def test_training_rows_breaking_the_rule_are_refused_with_examples(loans):
    schema = infer_schema(loans)
    broken = loans.copy()
    row = int(np.flatnonzero(broken.application_type.eq("individual"))[3])
    broken.loc[row, "annual_income_joint"] = 90000.0
    with pytest.raises(ConstraintError, match=rf"annual_income_joint is null where application_type is 'individual', and only "
                                              rf"there: 1 of "
                                              rf"3000 rows break it, e.g. row {row}: annual_income_joint=90000"):
        Synthesizer(schema=schema, epochs=1).fit(broken)


def test_sampled_rows_keep_the_structural_nulls(fitted):
    rows = fitted.sample(3000, seed=1)
    individual = rows.application_type.eq("individual")
    assert 0 < individual.sum() < len(rows)
    for name in JOINT:
        assert rows.loc[individual, name].isna().all()
    assert rows.loc[~individual, "annual_income_joint"].notna().any()
    assert fitted.sample(3000, seed=1).equals(rows)


def test_a_condition_on_a_structural_column_draws_the_rows_where_it_has_a_value(fitted):
    rows = fitted.sample(400, conditions=["annual_income_joint>=60000"], seed=2)
    assert len(rows) == 400 and rows.application_type.eq("joint").all()
    assert (rows.annual_income_joint >= 60000).all()
    with pytest.raises(ParameterError, match="cannot hold together: the schema's rule \"annual_income_joint is null where "
                                             "application_type is 'individual', and only there\""):
        fitted.sample(10, conditions=["annual_income_joint>=60000", "application_type=individual"])


def test_impute_keeps_structural_nulls_and_fills_unknown_cells(fitted, loans, tmp_path):
    table = loans.iloc[:200].reset_index(drop=True)
    holes = table.copy()
    individual = table.application_type.eq("individual").to_numpy()
    joint_rows = np.flatnonzero(~individual)[:5]
    holes.loc[joint_rows, "annual_income_joint"] = np.nan  # unknown: a joint application has a joint income
    hidden_type = np.flatnonzero(~individual)[5:10]
    holes.loc[hidden_type, "application_type"] = None  # its joint income is known: the type is joint
    holes.loc[np.flatnonzero(individual)[:5], "annual_income"] = np.nan
    path = tmp_path / "model.synthvae"
    fitted.save(path)
    for model in (fitted, Synthesizer.load(path)):
        done = model.impute(holes, seed=3)
        assert done.loc[individual, JOINT].isna().all().all()  # left null: no unknown value there
        assert done.loc[joint_rows, "annual_income_joint"].notna().all()
        assert done.loc[hidden_type, "application_type"].eq("joint").all()
        assert done.annual_income.notna().all()
        observed = holes.notna()
        pd.testing.assert_frame_equal(done.where(observed), holes.where(observed), check_dtype=False)


def test_a_row_still_breaking_a_null_when_rule_is_mended_in_its_filled_cells(fitted, loans):
    # After 20 rounds of redraws a 3-epoch model left 1 of 5 hidden types 'individual' beside a
    # known joint income for 2 of 10 seeds: the repair now mends what redraws miss.
    rows = loans[loans.application_type.eq("joint")].head(3).reset_index(drop=True)
    broken = rows.assign(application_type="individual")
    filled = {name: np.zeros(3, dtype=bool) for name in rows.columns}
    filled["application_type"] = np.array([True, False, False])  # the type was imputed
    filled["annual_income_joint"] = np.array([False, True, False])  # the joint income was imputed
    mended = fitted.constraints_.repair(broken, filled, np.random.default_rng(0))
    assert mended.loc[0, "application_type"] == "joint" and mended.loc[0, "annual_income_joint"] == rows.loc[0, "annual_income_joint"]
    assert mended.loc[1, "application_type"] == "individual" and pd.isna(mended.loc[1, "annual_income_joint"])
    pd.testing.assert_series_equal(mended.loc[2], broken.loc[2])  # observed cells alone break it: left


def test_infer_schema_command_names_the_structural_nulls(loans, tmp_path):
    output, saved = inferred_by_cli(loans, tmp_path)
    assert ("3 structural nulls found (sampled rows keep them, impute leaves them null): annual_income_joint is null "
            "where application_type is 'individual'") in output
    assert {"kind": "null_when", "column": "debt_to_income_joint", "when": "application_type",
            "values": ["individual"], "exactly": True} in saved["constraints"]
    output, saved = inferred_by_cli(loans, tmp_path, "--no-derived")
    assert "null_when" not in output and "constraints" not in saved


def _kinds_frame(n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    kind = rng.choice(["a", "b", "c"], n, p=[0.4, 0.3, 0.3])
    frame = pd.DataFrame({"kind": kind, "x": rng.normal(size=n), "y": rng.normal(size=n) + (kind == "b")})
    frame.loc[frame.kind == "a", "y"] = np.nan
    return frame


def test_an_exact_rule_keeps_the_column_null_nowhere_else():
    # Learned from the data, the flag of nulls went with the kind only as far as the model
    # learned it: a short fit drew nulls on rows of other kinds, where the data has none.
    frame = _kinds_frame()
    schema = infer_schema(frame)
    assert schema.constraints == (NullWhen("y", "kind", ("a",), exactly=True),)
    loose = schema.with_constraints([NullWhen("y", "kind", ("a",))])
    elsewhere = {}
    for name, rules in (("exact", schema), ("loose", loose)):
        rows = Synthesizer(schema=rules, epochs=2, seed=0).fit(frame).sample(3000, seed=1)
        assert rows.loc[rows.kind == "a", "y"].isna().all()
        elsewhere[name] = rows.loc[rows.kind != "a", "y"].isna().mean()
    assert elsewhere["exact"] == 0 and elsewhere["loose"] > 0.01, elsewhere


def test_an_exact_rule_round_trips_and_refuses_data_null_elsewhere():
    frame = _kinds_frame()
    schema = infer_schema(frame)
    document = schema.to_dict()
    assert document["constraints"] == [{"kind": "null_when", "column": "y", "when": "kind", "values": ["a"], "exactly": True}]
    assert Schema.from_dict(document).constraints == schema.constraints
    broken = frame.copy()
    broken.loc[int(np.flatnonzero(frame.kind == "b")[0]), "y"] = np.nan
    with pytest.raises(ConstraintError, match=r"y is null where kind is 'a', and only there: 1 of 1500 rows break it"):
        Synthesizer(schema=schema, epochs=1).fit(broken)
