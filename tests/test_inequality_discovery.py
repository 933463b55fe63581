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
    return [rule.describe() for rule in schema.constraints if rule.kind.value == "inequality"]


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return read_table(dataset_path("loans.csv"))


def test_orders_are_found_only_when_asked():
    seattle = read_table(dataset_path("seattle_weather.csv"))
    assert _orders(infer_schema(seattle)) == []
    assert _orders(infer_schema(seattle, inequalities=True)) == ["temp_min <= temp_max"]
    # Independent of the other rules' search.
    assert _orders(infer_schema(seattle, derived=False, inequalities=True)) == ["temp_min <= temp_max"]


def test_loans_orders_leave_out_what_a_chain_implies(loans):
    found = _orders(infer_schema(loans, inequalities=True, warn=False))
    assert "balance <= loan_amount" in found and "total_debit_limit <= total_credit_limit" in found
    assert "num_satisfactory_accounts <= open_credit_lines" in found and "open_credit_lines <= total_credit_lines" in found
    # num_satisfactory_accounts <= total_credit_lines holds too, but the two above keep it.
    assert "num_satisfactory_accounts <= total_credit_lines" not in found
    # Of the rules sharing a high side, the closest low side first (the one the model learns the gap to).
    highs = [rule.split(" <= ")[1] for rule in found]
    assert found.index("num_total_cc_accounts <= total_credit_lines") < found.index("open_credit_lines <= total_credit_lines")
    assert highs == sorted(highs, key=list(loans.columns).index)


@pytest.mark.parametrize("name", ["churn.csv", "german_credit.csv", "diamonds.csv", "penguins.csv"])
def test_no_order_is_found_where_none_holds(name):
    assert _orders(infer_schema(read_table(dataset_path(name)), inequalities=True, warn=False)) == []


def test_an_order_the_ranges_keep_or_chance_could_give_is_no_rule():
    rng = np.random.default_rng(0)
    n = 400
    low = rng.uniform(0, 10, n)
    frame = pd.DataFrame({
        "low": low,
        "high": low + rng.gamma(2.0, 1.0, n),  # a true order
        "far": rng.uniform(20, 30, n),  # above every other column by its range alone
        "free": rng.normal(5, 3, n),  # no order
        "gappy": np.where(rng.random(n) < 0.5, np.nan, rng.uniform(0, 10, n)),  # nulls: not searched
    })
    schema = infer_schema(frame, inequalities=True)
    assert _orders(schema) == ["low <= high"]
    # 60 rows where two unrelated columns happen to be ordered: too few to tell from chance
    # over the pairs tried (a pair of their rows breaks it about one time in fifteen).
    x, y = rng.uniform(0, 1, 5000), rng.uniform(0.5, 1.5, 5000)
    kept = np.flatnonzero(x <= y)[:60]
    few = pd.DataFrame({"x": x[kept], "y": y[kept], "z": rng.normal(size=60)})
    assert find_inequalities(few, infer_schema(few)) == []


def test_sampled_rows_keep_found_orders():
    seattle = read_table(dataset_path("seattle_weather.csv"))
    plain = Synthesizer(epochs=3, seed=0).fit(seattle).sample(5000, seed=1)
    assert (plain["temp_min"] > plain["temp_max"]).mean() > 0.001  # the model alone breaks it
    ruled = Synthesizer(infer_schema(seattle, inequalities=True), epochs=3, seed=0).fit(seattle).sample(5000, seed=1)
    assert (ruled["temp_min"] <= ruled["temp_max"]).all()


def test_infer_schema_cli_names_the_orders(tmp_path):
    seattle = read_table(dataset_path("seattle_weather.csv"))
    output, written = inferred_by_cli(seattle, tmp_path, "--inequalities")
    assert "1 order found, kept on every row (each high side learned as its gap above the low one): temp_min <= " \
           "temp_max; review them (without --inequalities: none)" in output
    assert {"kind": "inequality", "low": "temp_min", "high": "temp_max", "strict": False} in written["constraints"]
    output, written = inferred_by_cli(seattle, tmp_path)
    assert "order" not in output and not written.get("constraints")
