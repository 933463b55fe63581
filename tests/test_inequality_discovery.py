"""Orders found by infer_schema(inequalities=True): pairs of numeric columns one of which is never
above the other become ``low <= high`` rules, which every sampled row then keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthvae import Synthesizer, infer_schema, read_table
from synthvae.constraints.discovery import find_inequalities

from conftest import dataset_path, inferred_by_cli


def _orders(schema) -> list[str]:
    return [rule.describe() for rule in schema.constraints if rule.kind.value in ("inequality", "range")]


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return read_table(dataset_path("loans.csv"))


def _ordered_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A balance never above its loan (both continuous), beside unrelated columns."""
    rng = np.random.default_rng(seed)
    loan = rng.gamma(3.0, 5000.0, n).round(2)
    return pd.DataFrame({
        "loan": loan,
        "balance": (loan * rng.beta(4.0, 2.0, n)).round(2),
        "far": rng.uniform(1e6, 2e6, n).round(2),  # above every other column by its range alone
        "free": rng.normal(10000, 3000, n).round(2),  # no order
        "gappy": np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0, 10, n)),  # nulls: not searched
    })


def test_orders_are_found_only_when_asked():
    frame = _ordered_table()
    assert _orders(infer_schema(frame)) == []
    assert _orders(infer_schema(frame, inequalities=True)) == [f"{frame['balance'].min():g} <= balance <= loan"]
    # Independent of the other rules' search.
    assert _orders(infer_schema(frame, derived=False, inequalities=True)) == _orders(infer_schema(frame, inequalities=True))


def test_no_side_that_is_a_lattice_is_learned_through_the_other():
    # seattle's temperatures are whole degrees Fahrenheit in Celsius (100 values of the 254 their
    # range holds): as temp_min's share of the way to temp_max they lost those values, and
    # detection AUC rose 0.524 -> 0.884 over six fit seeds. temp_max, its gap above temp_min: the
    # same. No rule.
    seattle = read_table(dataset_path("seattle_weather.csv"))
    assert _orders(infer_schema(seattle, inequalities=True)) == []
    # A low side on round hundreds: the high side is learned as its gap above it instead.
    frame = _ordered_table().assign(balance=lambda f: (f["balance"] // 100) * 100)
    assert _orders(infer_schema(frame, inequalities=True)) == ["balance <= loan"]


def test_loans_orders_leave_out_what_a_chain_implies(loans):
    found = _orders(infer_schema(loans, inequalities=True, warn=False))
    assert "0 <= balance <= loan_amount" in found and "total_debit_limit <= total_credit_limit" in found
    assert "0 <= num_satisfactory_accounts <= open_credit_lines" in found
    assert "0 <= open_credit_lines <= total_credit_lines" in found
    # num_satisfactory_accounts <= total_credit_lines holds too, but the two above keep it.
    assert not any(rule.endswith("num_satisfactory_accounts <= total_credit_lines") for rule in found)
    # Of the rules on one learned side, the closest other side first (the one it is learned through).
    assert found.index("0 <= num_open_cc_accounts <= open_credit_lines") < \
        found.index("0 <= num_open_cc_accounts <= num_total_cc_accounts")


@pytest.mark.parametrize("name", ["churn.csv", "german_credit.csv", "diamonds.csv", "penguins.csv"])
def test_no_order_is_found_where_none_holds(name):
    assert _orders(infer_schema(read_table(dataset_path(name)), inequalities=True, warn=False)) == []


def test_an_order_the_ranges_keep_or_chance_could_give_is_no_rule():
    rng = np.random.default_rng(0)
    # 60 rows where two unrelated columns happen to be ordered: too few to tell from chance
    # over the pairs tried (a pair of their rows breaks it about one time in fifteen).
    x, y = rng.uniform(0, 1, 5000), rng.uniform(0.5, 1.5, 5000)
    kept = np.flatnonzero(x <= y)[:60]
    few = pd.DataFrame({"x": x[kept], "y": y[kept], "z": rng.normal(size=60)})
    assert find_inequalities(few, infer_schema(few)) == []
    # The same order on 400 rows is one.
    kept = np.flatnonzero(x <= y)[:400]
    many = pd.DataFrame({"x": x[kept], "y": y[kept], "z": rng.normal(size=400)})
    found = find_inequalities(many, infer_schema(many))
    assert [(rule.low.value, rule.column, rule.high) for rule in found] == [(many["x"].min(), "x", "y")]


def test_a_rule_bound_read_with_float_noise_is_on_the_grid():
    frame = _ordered_table()
    frame.loc[0, "balance"] = 0.1 + 0.2  # 0.30000000000000004, the least balance
    frame.loc[0, "loan"] = 100.0
    rule = [r for r in infer_schema(frame, inequalities=True).constraints if r.kind.value == "range"][0]
    assert rule.low.value == 0.3 and rule.describe() == "0.3 <= balance <= loan"


def test_sampled_rows_keep_found_orders():
    frame = _ordered_table(2000)
    plain = Synthesizer(epochs=3, seed=0).fit(frame).sample(5000, seed=1)
    assert (plain["balance"] > plain["loan"]).mean() > 0.001  # the model alone breaks it
    ruled = Synthesizer(infer_schema(frame, inequalities=True), epochs=3, seed=0).fit(frame).sample(5000, seed=1)
    assert (ruled["balance"] <= ruled["loan"]).all()


def test_infer_schema_cli_names_the_orders(tmp_path):
    frame = _ordered_table()
    output, written = inferred_by_cli(frame, tmp_path, "--inequalities")
    low = frame["balance"].min()
    assert f"1 order found, kept on every row (one side learned through the other): {low:g} <= balance <= loan; " \
           "review them (without --inequalities: none)" in output
    assert {"kind": "range", "low": low, "column": "balance", "high": "loan", "strict": False} in written["constraints"]
    output, written = inferred_by_cli(frame, tmp_path)
    assert "order" not in output and not written.get("constraints")
