"""Schema inference: each rule on small frames, and the real tables."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthvae import ColumnKind, DataError, NumericType, Synthesizer, infer_schema
from synthvae.cli import cli
from synthvae.io import datetime_formats, read_table, write_table
from synthvae.schema import PersonalType, Schema
from synthvae.validation import conform

from conftest import dataset_path


def test_rules_on_a_mixed_frame(mixed_frame):
    schema = infer_schema(mixed_frame)
    assert schema["user_id"].kind is ColumnKind.ID and schema["user_id"].start == int(mixed_frame["user_id"].max()) + 1
    assert schema["age"].kind is ColumnKind.NUMERIC and schema["age"].type is NumericType.INTEGER
    assert schema["age"].nullable
    assert schema["income"].type is NumericType.FLOAT and schema["income"].decimals == 2
    assert schema["city"].kind is ColumnKind.CATEGORICAL and schema["city"].nullable
    assert schema["city"].categories == ("Kyoto", "Lima", "Oslo", "Pune")
    assert schema["member"].kind is ColumnKind.BOOLEAN
    assert schema["joined"].kind is ColumnKind.DATETIME and schema["joined"].unit == "D"


def test_text_rules():
    n = 40
    frame = pd.DataFrame(
        {
            "when": [f"2021-03-{d:02d} 10:15:00" for d in range(1, 29)] + ["2021-04-01 00:00:00"] * 12,
            "code": ["A-%03d" % i for i in range(n)],
            "flag": ["true", "false"] * 20,
            "area": [408, 415, 510, 408] * 10,
            "count": list(range(8)) * 5,
            "nums_as_text": [str(i * 1.5) for i in range(n)],
            "empty": [None] * n,
        }
    )
    schema = infer_schema(frame)
    assert schema["when"].kind is ColumnKind.DATETIME
    assert schema["when"].format == "%Y-%m-%d %H:%M:%S" and schema["when"].unit == "m"  # every value on the minute
    assert schema["code"].kind is ColumnKind.ID and schema["code"].prefix == "A-" and schema["code"].width == 3
    assert schema["flag"].kind is ColumnKind.BOOLEAN
    assert schema["area"].kind is ColumnKind.CATEGORICAL and schema["area"].categories == (408, 415, 510)
    assert "codes" in schema["area"].description
    assert schema["count"].kind is ColumnKind.NUMERIC and schema["count"].is_integer
    assert schema["nums_as_text"].kind is ColumnKind.NUMERIC
    assert schema["empty"].nullable and "every value is missing" in schema["empty"].description


def test_columns_with_no_values_keep_the_kind_of_their_dtype(tmp_path, caplog):
    """All-null boolean, Int64 and categorical columns were inferred as float and sampled as
    float64."""
    n = 200
    frame = pd.DataFrame({
        "x": np.random.default_rng(0).normal(size=n),
        "flag": pd.array([None] * n, dtype="boolean"),
        "count": pd.array([None] * n, dtype="Int64"),
        "grade": pd.Categorical([None] * n, categories=["low", "high"], ordered=True),
        "when": pd.Series([pd.NaT] * n, dtype="datetime64[ns]"),
        "note": pd.array([None] * n, dtype="string"),
    })
    schema = infer_schema(frame)
    assert schema["flag"].kind is ColumnKind.BOOLEAN
    assert schema["count"].kind is ColumnKind.NUMERIC and schema["count"].is_integer
    assert schema["grade"].kind is ColumnKind.CATEGORICAL and schema["grade"].categories == ("low", "high")
    assert schema["grade"].ordered
    assert schema["when"].kind is ColumnKind.DATETIME
    assert schema["note"].kind is ColumnKind.NUMERIC and schema["note"].type is NumericType.FLOAT  # text says nothing
    assert all(schema[c].nullable for c in frame.columns[1:])
    rows = Synthesizer(epochs=1, seed=0).fit(frame).sample(20, seed=0)
    assert str(rows["flag"].dtype) == "boolean" and str(rows["count"].dtype) == "Int64"
    assert list(rows["grade"].cat.categories) == ["low", "high"]
    assert rows.iloc[:, 1:].isna().all().all()
    # A file with no rows: kinds from the dtypes, and a warning that says so.
    frame.head(0).to_parquet(tmp_path / "empty.parquet")
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        result = CliRunner().invoke(cli, ["infer-schema", str(tmp_path / "empty.parquet"), "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert any("has no rows" in r.getMessage() and "empty.parquet" in r.getMessage() for r in caplog.records)
    written = json.loads((tmp_path / "s.json").read_text())
    kinds = {c["name"]: (c["kind"], c.get("type")) for c in written["columns"]}
    assert kinds["flag"] == ("boolean", None) and kinds["count"] == ("numeric", "integer") and kinds["when"][0] == "datetime"


def test_bad_frames():
    with pytest.raises(DataError, match="no columns"):
        infer_schema(pd.DataFrame())
    with pytest.raises(DataError, match="infinite"):
        infer_schema(pd.DataFrame({"x": [1.0, np.inf]}))
    with pytest.raises(DataError, match="expects a pandas DataFrame"):
        infer_schema([[1, 2]])


@pytest.mark.parametrize("name", ["churn.csv", "german_credit.csv", "seattle_weather.csv", "penguins.csv"])
def test_real_tables_match_their_documented_types(name):
    info = json.loads(dataset_path("datasets.json").read_text())
    entry = next(v for v in info.values() if v["file"] == name)
    schema = infer_schema(pd.read_csv(dataset_path(name)))
    for column, kind in entry["columns"].items():
        got = schema[column].kind.value
        if kind == "categorical":
            assert got in ("categorical", "boolean"), column
        else:
            assert got == kind, column


def test_float32_bounds_sit_on_the_decimal_grid_and_are_sampled(tmp_path):
    # float32 holds 0.10 as 0.10000000149 and 9.99 as 9.98999977: as bounds they put the grid's
    # ends out of reach, and rates floored at 0.10 / prices capped at 9.99 (a third of the rows)
    # were sampled at 0.11 and 9.98, never at their bounds.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"rate": np.maximum(np.round(rng.uniform(0, 0.5, 400), 2), 0.10).astype("float32"),
                          "price": np.minimum(np.round(rng.uniform(0, 15, 400), 2), 9.99).astype("float32"),
                          "low": np.round(rng.uniform(0.7, 2, 400), 2).astype("float32")})
    frame.loc[0, "low"] = np.float32(0.7)  # 0.69999998808: its grid point lies above it, by float noise
    schema = infer_schema(frame)
    assert (schema["rate"].min, schema["rate"].decimals, schema["price"].max) == (0.1, 2, 9.99)
    # The grid point, not 0.699999988079071: the bounds check takes values within float noise
    # of a bound at the column's places (float64's too: 0.9999999999999998 passes a min of 1.0,
    # where it was refused, and inference wrote "max": 7.9460000000000015).
    assert schema["low"].min == 0.7
    conform(frame, schema, "rows", check_bounds=True)
    noisy = pd.DataFrame({"a": np.r_[np.round(rng.uniform(1, 7.9, 200), 3), 7.9460000000000015, 0.9999999999999998]})
    inferred = infer_schema(noisy)
    assert (inferred["a"].decimals, inferred["a"].min, inferred["a"].max) == (3, 1.0, 7.946)
    conform(noisy, inferred, "rows", check_bounds=True)
    document = inferred.to_dict()
    document["columns"][0]["max"] = 7.945  # a grid step is more than noise
    with pytest.raises(DataError, match=r"column 'a': 1 values above the schema's max 7.945, e.g. \[7.946"):
        conform(noisy, Schema.from_dict(document), "rows", check_bounds=True)
    write_table(frame, tmp_path / "rows.parquet")  # a streamed fit widens the sample's bounds so
    streamed = Synthesizer(epochs=1, seed=0).fit(tmp_path / "rows.parquet", streaming=True, reservoir_rows=50).schema_
    assert (streamed["rate"].min, streamed["price"].max, streamed["low"].min) == (0.1, 9.99, 0.7)
    sampled = Synthesizer(schema, epochs=3, seed=0).fit(frame).sample(1000, seed=1)
    assert (sampled["rate"] == 0.1).mean() > 0.1 and (sampled["price"] == 9.99).mean() > 0.1
    assert sampled["low"].min() >= schema["low"].min


def test_float32_prices_past_256_keep_their_cents():
    # From 256 up float32's rounding of a cent exceeds the absolute tolerance: no decimals were
    # inferred, and prices were sampled as 527.3270968353548. Past float32's precision for
    # cents (about 20,000) no grid is claimed.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"price": (rng.integers(100, 100_000, 500) / 100).astype("float32"),
                          "big": (rng.integers(10**8, 10**9, 500) / 100).astype("float32")})
    schema = infer_schema(frame)
    assert schema["price"].decimals == 2 and schema["big"].decimals is None
    sampled = Synthesizer(schema, epochs=2, seed=0).fit(frame).sample(200, seed=1)["price"]
    assert np.allclose(sampled, sampled.round(2), rtol=0, atol=1e-9)


def test_twelve_hour_clocks_are_datetimes_and_written_back_so(tmp_path):
    # "01/31/2021 02:05:00 PM" (spreadsheets, SQL Server) was an id, sampled as when_0, when_1...;
    # "2021-01-01 12:00 AM" categories whose "time zones AM, PM" pandas did not know.
    stamps = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(300) * 7, unit="h")
    for fmt in ("%Y-%m-%d %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d %b %Y %I%p", "%m/%d/%Y %I:%M%p"):
        frame = pd.DataFrame({"when": stamps.strftime(fmt), "x": np.arange(300) % 5})
        column = infer_schema(frame)["when"]
        assert (column.kind, column.format, column.unit) == (ColumnKind.DATETIME, fmt, "h"), (fmt, column)
        assert (conform(frame, infer_schema(frame), "rows")["when"].to_numpy() == stamps.to_numpy()).all()
    frame.to_csv(tmp_path / "rows.csv", index=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["fit", str(tmp_path / "rows.csv"), "-o", str(tmp_path / "m.synthvae"), "--epochs", "2", "-q"]).exit_code == 0
    result = runner.invoke(cli, ["sample", str(tmp_path / "m.synthvae"), "-n", "50", "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "out.csv")["when"]
    assert written.str.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}[AP]M").all()


def test_decimals_keep_small_and_huge_floats():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "rate": rng.uniform(0, 5e-5, n),  # one decimal made every value 0
            "ppm": rng.integers(1, 50, n) / 1e6,  # six decimals hold them exactly
            # Two-decimal prices minus their rounding residue (0.1 * 3 - 0.3 is 5.6e-17).
            "change": rng.integers(-500, 500, n) / 100 * 3 - rng.integers(-500, 500, n) / 100 * 3,
            "huge": rng.uniform(2.0**53, 2.0**60, n),  # no fraction to round, no decimals
            "y": rng.normal(size=n),
        }
    )
    frame.loc[:9, "change"] = 0.1 * 3 - 0.3
    schema = infer_schema(frame, derived=False)
    assert schema["rate"].decimals is None and schema["huge"].decimals is None
    assert schema["ppm"].decimals == 6
    assert schema["change"].decimals == 2
    sampled = Synthesizer(epochs=2, seed=0).fit(frame[["rate", "y"]]).sample(100, seed=0)
    assert sampled["rate"].nunique() > 50 and sampled["rate"].max() > 1e-5


def test_amounts_in_cents_with_a_few_noisy_values_keep_two_decimals(caplog):
    # loans' paid_total: 95.7% of amounts in cents, the rest with float noise (41630.443684235);
    # inferred without decimals, every synthetic amount had 13 of them.
    rng = np.random.default_rng(0)
    n = 1000
    frame = pd.DataFrame({"paid": rng.integers(100, 5_000_000, n) / 100, "y": rng.normal(size=n)})
    frame.loc[:39, "paid"] += rng.uniform(0.001, 0.004, 40)
    with caplog.at_level("INFO", logger="synthvae.inference"):
        schema = infer_schema(frame, derived=False)
    assert schema["paid"].decimals == 2 and "4.0% of values carry more" in schema["paid"].description
    assert "'paid': 96.0% of values have at most 2 decimal places" in caplog.text
    assert schema["y"].decimals is None  # measurements with every digit keep them
    sampled = Synthesizer(schema, epochs=2, seed=0).fit(frame).sample(200, seed=0)
    assert (sampled["paid"] == sampled["paid"].round(2)).all()


def test_levels_several_rows_hold_are_not_rounded_away():
    # randhie's physlm: 0 or 1 on 95% of rows, levels such as 0.1442925 on the rest. Counted by
    # rows alone, one decimal place "kept" the column: 7 of its 11 levels were never sampled.
    rng = np.random.default_rng(0)
    n = 3000
    levels = np.array([0.1442925, 0.1572505, 0.0221239, 0.3513271, 0.5278211])
    physlm = np.where(rng.random(n) < 0.95, rng.integers(0, 2, n).astype(float), rng.choice(levels, n))
    frame = pd.DataFrame({"physlm": physlm, "y": rng.normal(size=n)})
    schema = infer_schema(frame, derived=False)
    assert schema["physlm"].decimals is None
    sampled = Synthesizer(schema, epochs=2, seed=0).fit(frame).sample(2000, seed=0)["physlm"]
    assert not sampled.isin([0.1, 0.2, 0.4, 0.5]).any()
    # A noisy amount repeated on 3 of 2,000 rows of cents is no level: the column keeps 2 places.
    cents = pd.DataFrame({"paid": rng.integers(100, 5_000_000, 2000) / 100, "y": rng.normal(size=2000)})
    cents.loc[:2, "paid"] = 41630.443684235
    assert infer_schema(cents, derived=False)["paid"].decimals == 2


def test_whole_numbers_beyond_floats_are_read_exactly(tmp_path):
    rng = np.random.default_rng(0)
    n = 30
    frame = pd.DataFrame(
        {
            # Through floats, ids near 2**62 became a few values 1,024 apart.
            "tx_id": (2**62 + rng.choice(10**6, n, replace=False)).astype("int64"),
            # Beyond int64 (pandas holds them as Python ints): one float, min == max.
            "serial": pd.Series([2**70 + 3 * i for i in range(n)], dtype=object),
            "batch": pd.Series([2**70 + i % 3 for i in range(n)], dtype=object),
            # Three values one apart near 2**62: as floats, one value.
            "shard": (2**62 + np.arange(n) % 3).astype("int64"),
            # Nanosecond timestamps: quantities, which floats keep apart.
            "at_ns": (1_700_000_000 * 10**9 + np.sort(rng.choice(10**12, n, replace=False))).astype("int64"),
            # Text ids with 21-digit numbers: OverflowError from astype("int64").
            "account": [f"ACC{10**20 + 7 * i}" for i in range(n)],
            "y": rng.normal(size=n),
        }
    )
    schema = infer_schema(frame)
    assert schema["tx_id"].kind is ColumnKind.ID and schema["tx_id"].type is NumericType.INTEGER
    assert schema["tx_id"].start == int(frame["tx_id"].max()) + 1
    assert schema["serial"].kind is ColumnKind.ID and schema["serial"].type is NumericType.STRING
    assert schema["batch"].kind is ColumnKind.CATEGORICAL
    assert schema["batch"].categories == (2**70, 2**70 + 1, 2**70 + 2)
    assert schema["account"].kind is ColumnKind.ID and "more than 18 digits" in schema["account"].description
    assert schema["shard"].categories == (2**62, 2**62 + 1, 2**62 + 2)
    assert schema["at_ns"].kind is ColumnKind.NUMERIC and schema["at_ns"].max == float(frame["at_ns"].max())
    # Beyond 4,300 digits Python reads no text as an int (ValueError): text, as any other.
    digits = infer_schema(pd.DataFrame({"d": ["1" * 5000, "2" * 5000, "3"] * 10}))["d"]
    assert digits.kind is ColumnKind.CATEGORICAL and len(digits.categories) == 3
    out = Synthesizer(epochs=2, seed=0).fit(frame).sample(50, seed=0)
    assert out["tx_id"].is_unique and int(out["tx_id"].min()) > int(frame["tx_id"].max())
    assert out["serial"].is_unique and out["account"].is_unique
    assert set(out["batch"]) <= set(schema["batch"].categories) and set(out["shard"]) <= set(schema["shard"].categories)
    frame.to_csv(tmp_path / "tx.csv", index=False)
    result = CliRunner().invoke(cli, ["infer-schema", str(tmp_path / "tx.csv")])
    assert result.exit_code == 0, result.output
    kinds = [c["kind"] for c in json.loads(result.stdout)["columns"]]
    assert kinds == ["id", "id", "categorical", "categorical", "numeric", "id", "numeric"]


def test_numbers_written_with_separators_and_signs_are_numeric():
    rng = np.random.default_rng(0)
    n = 60
    fee = [f"${v:,.2f}" for v in rng.uniform(1000, 5000, n)]
    fee[7] = "n/a"
    frame = pd.DataFrame(
        {
            # Unique text: an id (amount_0, amount_1, ...), and the percentages 57 categories.
            "amount": [f"{v:,}" for v in rng.integers(1000, 10**6, n)],
            "price": [f"${v:,.2f}" for v in rng.uniform(10, 10**5, n - 1)] + ["-$1,234.50"],
            "rate": [f"{v:.1f}%" for v in rng.uniform(0, 100, n)],
            "fee": fee,
            "y": rng.normal(size=n),
        }
    )
    schema = infer_schema(frame)
    amounts = frame["amount"].str.replace(",", "").astype(int)
    assert schema["amount"].kind is ColumnKind.NUMERIC and schema["amount"].is_integer
    assert (schema["amount"].min, schema["amount"].max) == (amounts.min(), amounts.max())
    assert schema["price"].kind is ColumnKind.NUMERIC and schema["price"].decimals == 2
    assert schema["price"].min == -1234.5
    assert schema["rate"].decimals == 1 and 0 <= schema["rate"].min <= schema["rate"].max <= 100
    assert "reads as" in schema["rate"].description
    # One value that is no number: not an id, and the note says which value to fix.
    assert schema["fee"].kind is ColumnKind.CATEGORICAL and "['n/a'] are not" in schema["fee"].description
    # The schema accepts its own table: conform reads the text as inference did.
    assert conform(frame, schema)["amount"].tolist() == amounts.astype(float).tolist()
    out = Synthesizer(epochs=2, seed=0).fit(frame).sample(50, seed=0)
    for name in ("amount", "price", "rate"):
        assert pd.api.types.is_numeric_dtype(out[name]) and out[name].between(schema[name].min, schema[name].max).all()


def test_amounts_with_a_trailing_currency_accounting_negatives_or_spaced_thousands_are_numeric(tmp_path):
    # Each was inferred as an id (regenerated as price_eur_0, ...): the amounts were never learned.
    rng = np.random.default_rng(0)
    n = 300
    euros, balances, incomes = rng.uniform(10, 5000, n), rng.uniform(0, 9000, n), rng.integers(1000, 90_000, n)
    frame = pd.DataFrame({
        "price_eur": [f"{v:,.2f} €" for v in euros],
        "price_usd": [f"{v:,.2f} USD" for v in euros],
        "balance": [f"({v:,.2f})" if i % 3 == 0 else f"{v:,.2f}" for i, v in enumerate(balances)],
        "income_fr": [f"{v:,}".replace(",", " ") for v in incomes],
    })
    frame.to_csv(tmp_path / "amounts.csv", index=False)
    table = read_table(tmp_path / "amounts.csv")
    schema = infer_schema(table)
    assert [schema[c].kind for c in frame.columns] == [ColumnKind.NUMERIC] * 4
    read = conform(table, schema)
    assert np.allclose(read["price_eur"], euros.round(2)) and np.allclose(read["price_usd"], euros.round(2))
    signs = np.where(np.arange(n) % 3 == 0, -1.0, 1.0)
    assert np.allclose(read["balance"], signs * balances.round(2)) and (read["income_fr"] == incomes).all()
    assert "'(" in schema["balance"].description and "reads as -" in schema["balance"].description


def test_dates_beside_a_placeholder_are_categories_with_a_warning_naming_it(caplog):
    # 'unknown' among ISO dates made the column categories of dates (or an id) without a word.
    when = pd.date_range("2020-01-01", periods=500).strftime("%Y-%m-%d").tolist()
    when[7] = when[99] = "unknown"
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        schema = infer_schema(pd.DataFrame({"when": when, "x": np.arange(500.0)}), source="visits.csv")
    assert schema["when"].kind is ColumnKind.CATEGORICAL
    assert ("visits.csv, column 'when': categorical, not a datetime: 498 of its 500 values are dates but ['unknown'] are "
            "not: if they stand for missing values, leave them empty") in caplog.text


def test_numbers_with_a_unit_are_warned_of_with_the_fix(caplog):
    # "265.1 min" were categories (or an id) whose warning said to mark them personal or id.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"duration": [f"{v:.1f} min" for v in rng.uniform(0, 400, 600)],
                          "weight": [f"{v:.2f} kg" for v in rng.uniform(40, 120, 600)], "x": rng.normal(size=600)})
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        schema = infer_schema(frame, source="trips.csv")
    assert "trips.csv, column 'weight': its values are numbers with a unit ('kg'), read as text" in caplog.text
    assert "personal" not in caplog.text
    # A unit of time makes a duration column (tests/test_durations.py), read by conform as written.
    assert schema["duration"].kind is ColumnKind.NUMERIC and schema["duration"].duration == "s"
    assert "column 'duration'" not in caplog.text


def test_unique_dates_written_two_ways_are_warned_of(caplog):
    # Half 2012-01-01, half 01/02/2012: an id, without a word.
    days = pd.date_range("2012-01-01", periods=600)
    written = [d.strftime("%Y-%m-%d") if i % 2 else d.strftime("%m/%d/%Y") for i, d in enumerate(days)]
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        infer_schema(pd.DataFrame({"day": written, "x": np.arange(600.0)}), source="log.csv")
    assert ("log.csv, column 'day': its values are dates written in 2 ways ('2012-01-02', '01/01/2012'): read as text; "
            "write them all one way") in caplog.text


def test_categories_that_differ_only_in_capitals_or_spaces_are_warned_of(caplog):
    # yes / Yes / YES / no / No / NO: six categories without a word.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"ok": rng.choice(["yes", "Yes", "YES", "no", "No", "NO"], 300), "x": rng.normal(size=300)})
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        schema = infer_schema(frame, source="survey.csv")
    assert len(schema["ok"].categories) == 6
    assert ("survey.csv, column 'ok': 6 of its values differ only in capitals or spaces ('NO' / 'No' / 'no'; 'YES' / "
            "'Yes' / 'yes')") in caplog.text


def test_infinite_values_are_refused_by_column_count_and_rows(tmp_path):
    frame = pd.DataFrame({"y": np.arange(6.0), "x": [1.0, np.inf, 2.0, -np.inf, 3.0, 4.0]})
    with pytest.raises(DataError, match=r"^data, column 'x': 2 infinite values \(inf or -inf\), in rows \[1, 3\] "
                                        r"\(counted from 0\); replace them with numbers, or with nulls"):
        infer_schema(frame)
    text = pd.DataFrame({"t": ["1.5", "2", "inf"]}, index=["a", "b", "c"])
    with pytest.raises(DataError, match=r"column 't': 1 infinite value \(inf or -inf\), in rows \['c'\];"):
        infer_schema(text)
    # From the command line: the file's name, and the rows below its header from 0.
    frame.to_csv(tmp_path / "m.csv", index=False)
    result = CliRunner().invoke(cli, ["infer-schema", str(tmp_path / "m.csv")])
    assert result.exit_code == 1
    assert f"{str(tmp_path / 'm.csv')!r}, column 'x': 2 infinite values" in result.output
    assert "rows [1, 3]" in result.output


def test_dotted_and_dashed_dates_are_datetimes_and_grouped_numbers_no_phones(tmp_path):
    # Each of these was taken for phone numbers ("100% of values look like phone numbers") and
    # sampled as fake ones: 01.01.2020 became +1-659-873-9668x2663.
    days = pd.Series(pd.date_range("2020-01-01", periods=50).repeat(6))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "dots": days.dt.strftime("%d.%m.%Y"),
        "dashes": days.dt.strftime("%d-%m-%Y"),
        "year_first": days.dt.strftime("%Y.%m.%d"),
        "stamped": (days + pd.Timedelta("14:05:00")).dt.strftime("%m-%d-%Y %H:%M"),
        "amount": [f"{x:,}".replace(",", ".") for x in rng.integers(1_000_000, 9_000_000, 300)],
        "isbn": [f"978-{a}-{b}-{c:06d}-{d}" for a, b, c, d in zip(rng.integers(0, 9, 300), rng.integers(10, 99, 300),
                                                                  rng.integers(0, 999_999, 300), rng.integers(0, 9, 300))],
        "phone": [f"{a}.{b}.{c}" for a, b, c in zip(rng.integers(200, 999, 300), rng.integers(200, 999, 300), rng.integers(1000, 9999, 300))],
        "x": rng.normal(size=300).round(2),
    })
    schema = infer_schema(frame)
    assert schema["dots"].format == "%d.%m.%Y" and schema["dots"].min == pd.Timestamp("2020-01-01")
    assert schema["dashes"].format == "%d-%m-%Y" and schema["year_first"].format == "%Y.%m.%d"
    assert schema["stamped"].format == "%m-%d-%Y %H:%M" and schema["stamped"].unit == "m"
    for name in ("amount", "isbn"):
        assert schema[name].kind is not ColumnKind.PERSONAL, name
    assert schema["phone"].personal is PersonalType.PHONE
    rows = Synthesizer(schema, epochs=2, seed=0).fit(frame).sample(50, seed=0)
    assert rows["dots"].between(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-19")).all()
    path = tmp_path / "rows.csv"
    write_table(rows, path, datetime_formats(schema))
    assert pd.read_csv(path, dtype=str)["dots"].str.fullmatch(r"\d{2}\.\d{2}\.2020").all()  # written as read


def test_datetimes_with_zone_names_or_slashes():
    days = range(1, 29)
    frame = pd.DataFrame(
        {
            # Unique text: an id (when_0, when_1, ...); slashed dates a categorical.
            "when": [f"2021-03-{d:02d} 00:00:00 CET" for d in days],
            "us": [f"3/{d}/2021" for d in days],
            "eu": [f"{d:02d}/03/2021 14:05" for d in days],
            "both": [f"{(d - 1) % 12 + 1:02d}/{(d - 1) // 12 + 1:02d}/2021" for d in days],
            "pst": [f"2021-03-{d:02d} 00:00:00 PST" for d in days],
            "ist": [f"2021-03-{d:02d} 00:00:00 IST" for d in days],
            "y": np.arange(28.0),
        }
    )
    schema = infer_schema(frame)
    when = schema["when"]
    assert when.kind is ColumnKind.DATETIME and when.format == "%Y-%m-%d %H:%M:%S %Z"
    assert when.min == pd.Timestamp("2021-02-28 23:00")  # midnight CET is 23:00 UTC
    assert schema["us"].format == "%m/%d/%Y" and schema["us"].max == pd.Timestamp("2021-03-28")
    assert schema["eu"].format == "%d/%m/%Y %H:%M" and schema["eu"].unit == "m"  # minutes: the values' grid
    assert schema["both"].format == "%m/%d/%Y" and "change format to %d/%m/%Y" in schema["both"].description
    # PST is no zone pandas knows: read as US Pacific time, which the note says (it was categories).
    pst = schema["pst"]
    assert pst.kind is ColumnKind.DATETIME and pst.min == pd.Timestamp("2021-03-01 08:00") and "PST read as -08:00" in pst.description
    # IST (India, Ireland or Israel) is too ambiguous: categories, and the note says how to write them.
    assert schema["ist"].kind is ColumnKind.CATEGORICAL and "UTC offsets" in schema["ist"].description
    out = Synthesizer(epochs=2, seed=0).fit(frame).sample(20, seed=0)
    assert out["when"].between(when.min, when.max).all() and out["us"].dt.month.eq(3).all()


def test_nearly_unique_text_is_an_id_and_rare_own_values_are_logged(caplog):
    # 597 distinct names in 600 rows were categories, every one copied into synthetic rows
    # (600 unique ones were an id).
    rng = np.random.default_rng(0)
    names = [f"Person {i}" for i in range(597)] + ["Person 1", "Person 2", "Person 3"]
    titles = [f"title {i}" for i in range(150)] + [f"common {i % 5}" for i in range(450)]
    frame = pd.DataFrame({"holder": names, "title": titles, "x": rng.normal(size=600)})
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        schema = infer_schema(frame, source="people.csv")
    assert schema["holder"].kind is ColumnKind.ID and "597 distinct values in 600 rows" in schema["holder"].description
    assert schema["title"].kind is ColumnKind.CATEGORICAL and "25% of rows with a value of their own" in schema["title"].description
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "people.csv, column 'holder': 99% of its 600 values are held by no other row: inferred as an id" in logged
    assert "column 'title': 25% of its 600 values are held by no other row" in logged
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        infer_schema(frame, warn=False)
    assert not caplog.records
    # Two values among 1,500 rows, the rest empty: no id ("100% of rows hold a value of their own").
    sparse = pd.DataFrame({"note": ["late", "early"] + [None] * 1498, "x": rng.normal(size=1500)})
    assert infer_schema(sparse)["note"].kind is ColumnKind.CATEGORICAL


def test_a_pyarrow_backed_table_is_inferred_as_the_same_table_in_numpy_dtypes(penguins, tmp_path):
    # Arrow text columns read as numbers with min NaN: infer_schema, fit and evaluate all failed.
    penguins.to_parquet(tmp_path / "p.parquet")
    arrow = pd.read_parquet(tmp_path / "p.parquet", dtype_backend="pyarrow")
    assert infer_schema(arrow).to_dict() == infer_schema(pd.read_parquet(tmp_path / "p.parquet")).to_dict()


def test_names_are_personal_by_a_headers_words_and_phones_are_not_keys_dates_or_codes():
    rng = np.random.default_rng(0)
    n = 2000
    firsts = [f"First{i}" for i in rng.integers(0, 150, n)]  # 150 names among 2,000 people: 7.5% distinct
    frame = pd.DataFrame({
        "First Name": firsts, "customerName": [f"{f} Last{i}" for i, f in enumerate(firsts)],
        "Street Address": [f"{i} Main Street" for i in rng.integers(1, 900, n)],
        "customer_id": [f"{i:08d}" for i in range(1, n + 1)],
        "zip_plus4": rng.choice(["02134-1234", "10001-0001", "94105-2222"], n),
        "barcode": [f"0{v}" for v in rng.integers(10**11, 10**12, n)],
        "phone": [f"(555) {a}-{b}" for a, b in zip(rng.integers(100, 999, n), rng.integers(1000, 9999, n))],
    })
    schema = infer_schema(frame, derived=False)
    personal = {c.name: c.personal for c in schema if c.kind is ColumnKind.PERSONAL}
    assert personal == {"First Name": PersonalType.FIRST_NAME, "customerName": PersonalType.NAME,
                        "Street Address": PersonalType.ADDRESS, "phone": PersonalType.PHONE}
    assert schema["customer_id"].kind is ColumnKind.ID and schema["barcode"].kind is ColumnKind.ID
    assert schema["zip_plus4"].kind is ColumnKind.CATEGORICAL


def test_a_categorical_dtype_of_datetimes_is_a_datetime_column():
    # Its categories became text in the schema, and the sampled rows held "2021-02-01 00:00:00".
    rng = np.random.default_rng(0)
    months = pd.Series(rng.choice(pd.to_datetime(["2021-01-01", "2021-02-01", "2021-03-01"]), 300))
    frame = pd.DataFrame({"month": months.mask(months.index < 5).astype("category"), "x": rng.normal(size=300)})
    column = infer_schema(frame)["month"]
    assert column.kind is ColumnKind.DATETIME and column.unit == "D" and column.nullable
    rows = Synthesizer(epochs=2, hidden_dims=(16,), latent_dim=2, seed=0).fit(frame).sample(200, seed=0)
    assert str(rows["month"].dtype) == "datetime64[ns]"
    assert set(rows["month"].dropna()) <= set(months)


def test_times_of_day_alone_are_datetimes_written_back_as_times(tmp_path):
    # 714 distinct "HH:MM" among 1,000 rows were categories, most drawn as they were.
    rng = np.random.default_rng(0)
    minutes = rng.normal(13 * 60, 180, 600).clip(0, 1439).astype(int)
    frame = pd.DataFrame({"t": [f"{m // 60:02d}:{m % 60:02d}" for m in minutes],
                          "t12": [f"{(m // 60) % 12 or 12}:{m % 60:02d} {'AM' if m < 720 else 'PM'}" for m in minutes],
                          "x": minutes + rng.normal(0, 30, 600)})
    schema = infer_schema(frame)
    assert (schema["t"].kind, schema["t"].format, schema["t"].unit) == (ColumnKind.DATETIME, "%H:%M", "m")
    assert (schema["t12"].kind, schema["t12"].format) == (ColumnKind.DATETIME, "%I:%M %p")
    assert "times of day alone" in schema["t"].description
    for text in (["12:30", "3:1"], ["25:00", "01:00"], ["12.30", "10.45"]):  # no times of day
        assert infer_schema(pd.DataFrame({"t": text * 10}))["t"].kind is not ColumnKind.DATETIME, text
    synth = Synthesizer(epochs=2, hidden_dims=(16,), latent_dim=2, seed=0).fit(frame)
    synth.sample_to(tmp_path / "rows.csv", 50, seed=0)
    written = pd.read_csv(tmp_path / "rows.csv", dtype=str)
    assert written["t"].str.fullmatch(r"\d{2}:\d{2}").all() and written["t12"].str.fullmatch(r"\d{2}:\d{2} [AP]M").all()
    late = synth.sample(20, conditions={"t": {">=": "18:00"}}, seed=0)["t"]
    assert (late.dt.hour >= 18).all() and (late.dt.date == pd.Timestamp("1900-01-01").date()).all()
    # A condition as a time object, or with seconds, where the column's format has none.
    for given in (dt.time(18, 0), "18:00:00"):
        assert (synth.sample(10, conditions={"t": {">=": given}}, seed=0)["t"].dt.hour >= 18).all(), given


def test_usernames_are_personal_usernames_not_peoples_names(tmp_path):
    # "username" matched the names' pattern (user_?name) and was faked as "David Miller".
    n = 300
    frame = pd.DataFrame({"username": [f"user{i}" for i in range(n)], "Login": [f"l{i:04d}" for i in range(n)],
                          "user name": [f"u_{i}" for i in range(n)], "name": [f"Person {i}" for i in range(n)],
                          "x": np.random.default_rng(0).normal(size=n)})
    schema = infer_schema(frame)
    assert {c.name: c.personal for c in schema if c.kind is ColumnKind.PERSONAL} == {
        "username": PersonalType.USERNAME, "Login": PersonalType.USERNAME, "user name": PersonalType.USERNAME,
        "name": PersonalType.NAME}
    rows = Synthesizer(epochs=1, seed=0).fit(frame).sample(50, seed=0)
    assert rows["username"].str.fullmatch(r"[a-z0-9._]+").all() and not rows["username"].isin(frame["username"]).any()
    assert rows["name"].str.contains(" ").all()
    # A hand-written schema with the type is checked against the JSON Schema and read back.
    (tmp_path / "s.json").write_text(json.dumps({"columns": [{"name": "u", "kind": "personal", "personal": "username"}]}))
    from synthvae import load_schema
    assert load_schema(tmp_path / "s.json")["u"].personal is PersonalType.USERNAME


def test_phones_written_as_bare_numbers_are_personal_and_postcodes_are_not_phones(caplog):
    # Review: phones and social security numbers read from a CSV as whole numbers were learned
    # and their real values drawn; postcodes ("974-2525", Brazil's "24574064"), SKUs and account
    # numbers were fake phones; a customer's name repeated in each of their orders was copied
    # as categories without a word.
    rng = np.random.default_rng(0)
    customers = rng.integers(0, 100, 1000)
    phones, ssns = rng.integers(2_000_000_000, 9_999_999_999, 100), rng.integers(100_000_000, 899_999_999, 100)
    frame = pd.DataFrame({
        "customer_name": [f"Given{c} Family{c * 7 % 100}" for c in customers],
        "phone": phones[customers], "ssn": ssns[customers],
        "postcode_jp": [f"{a}-{b}" for a, b in zip(rng.integers(100, 999, 1000), rng.integers(1000, 9999, 1000))],
        "cep_br": [str(v) for v in rng.integers(10_000_000, 99_999_999, 1000)],
        "sku": [f"{a}-{b}" for a, b in zip(rng.integers(100, 999, 1000), rng.integers(1000, 9999, 1000))],
        "account_no": [f"00{v}" for v in rng.integers(10_000_000, 99_999_999, 1000)],
    })
    schema = infer_schema(frame, derived=False)
    assert (schema["phone"].kind, schema["phone"].personal) == (ColumnKind.PERSONAL, PersonalType.PHONE)
    assert (schema["ssn"].kind, schema["ssn"].personal) == (ColumnKind.PERSONAL, PersonalType.SSN)
    for name in ("postcode_jp", "cep_br", "sku", "account_no"):
        assert schema[name].kind is not ColumnKind.PERSONAL, name
    assert schema["customer_name"].kind is ColumnKind.CATEGORICAL
    assert "'customer_name': its name says names, but its 100 distinct values in 1000 rows are too few" in caplog.text
    small = pd.DataFrame({"phone": rng.integers(1, 5, 50)})  # a count named phone: no phone numbers
    assert infer_schema(small)["phone"].kind is ColumnKind.NUMERIC
    # Diff review: with empty cells a CSV's bare digits read as floats (still learned), and a
    # name that speaks of phones beside "order" or "code" (order_phone) lost its phones.
    holed = frame.assign(phone=frame["phone"].astype("float64").mask(rng.random(1000) < 0.3),
                         order_phone=[f"(555) {v % 900 + 100}-{v % 9000 + 1000}" for v in phones[customers]])
    again = infer_schema(holed, derived=False)
    assert again["phone"].personal is PersonalType.PHONE and again["order_phone"].personal is PersonalType.PHONE


def test_impossible_dates_placeholders_and_nested_values_are_named():
    days = pd.date_range("2021-01-01", periods=199, freq="D").strftime("%Y-%m-%d").tolist()
    # One impossible date made the column text, then fake phone numbers.
    with pytest.raises(DataError, match=r"column 'when': 1 of 200 values look like dates but are none, e.g. \['2021-02-30'\] \(rows \[199\]\)"):
        infer_schema(pd.DataFrame({"when": days + ["2021-02-30"]}))
    with pytest.raises(DataError, match="MySQL writes 0000-00-00 for no date"):
        infer_schema(pd.DataFrame({"when": days + ["0000-00-00"]}))
    # 999 amounts and one "?" were 1,000 categories (copies of real amounts), with no word.
    amounts = [f"{v:.2f}" for v in np.random.default_rng(0).uniform(1, 500, 999)] + ["?"]
    column = infer_schema(pd.DataFrame({"amount": amounts}))["amount"]
    assert column.kind is ColumnKind.CATEGORICAL and "999 of its 1,000 values are numbers but ['?'] are not" in column.description
    # Nor at 15% "?" and "-" (a user review: an id warning, no word of the placeholders).
    amounts = [v if i % 7 else ("?" if i % 2 else "-") for i, v in enumerate(amounts)]
    column = infer_schema(pd.DataFrame({"amount": amounts}))["amount"]
    assert column.kind is ColumnKind.CATEGORICAL and "856 of its 1,000 values are numbers but ['-', '?'] are not" in column.description
    # Codes with a few letters among them stay categories of their own (ids when unique), without
    # the hint: floors G and B, grades K and PK are no placeholders (a review of the rule).
    sizes = [str(v) for v in np.random.default_rng(1).integers(30, 48, 300)] + ["S", "M", "L", "XL"] * 100
    assert "are numbers but" not in (infer_schema(pd.DataFrame({"size": sizes}))["size"].description or "")
    rng = np.random.default_rng(2)
    for codes in (["1", "2", "3", "4", "5", "G", "B"], [str(g) for g in range(1, 13)] + ["K", "PK"]):
        column = infer_schema(pd.DataFrame({"c": rng.choice(codes, 400)}))["c"]
        assert "are numbers but" not in (column.description or ""), column.description
    unknown = [v if i % 5 else "Unknown" for i, v in enumerate(amounts)]
    assert "are numbers but ['Unknown', '?', '-'] are not" in infer_schema(pd.DataFrame({"amount": unknown}))["amount"].description
    for values, kind in (([[1, 2], [3]] * 20, "list"), ([{"a": 1}] * 40, "record"), ([b"ab", b"cd"] * 20, "binary")):
        with pytest.raises(DataError, match=f"column 'v': {kind}.* values are not supported"):
            infer_schema(pd.DataFrame({"v": values}))


def test_a_local_time_a_clock_change_repeats_is_named_not_its_zone():
    base = pd.date_range("2021-10-01", periods=59, freq="13h").strftime("%Y-%m-%d %H:%M:%S").tolist()
    values = [b + " Europe/Berlin" for b in base] + ["2021-10-31 02:30:00 Europe/Berlin"]
    column = infer_schema(pd.DataFrame({"ts": values}))["ts"]
    # The note said pandas did not know Europe/Berlin.
    assert "['2021-10-31 02:30:00 Europe/Berlin'] no time in their zone" in column.description
    assert "does not know" not in column.description


@pytest.mark.parametrize("fmt", ["%d %b %Y", "%d %B %Y", "%b %d, %Y", "%m/%d/%y", "%d/%m/%y", "%Y-%m", "%d-%b-%Y",
                                 "%d-%b-%y", "%d-%b-%Y %H:%M"])
def test_dates_with_month_names_two_digit_years_or_no_day_are_datetimes(fmt):
    # They were ids ("col_0", "col_1", ...) or categories.
    days = pd.date_range("2021-01-01", periods=300, freq="MS" if fmt == "%Y-%m" else "D")
    column = infer_schema(pd.DataFrame({"when": days.strftime(fmt)}))["when"]
    assert column.kind is ColumnKind.DATETIME and column.format == fmt


def test_spreadsheet_error_values_beside_numbers_are_named_as_placeholders(caplog):
    # "#DIV/0!" and "#VALUE!" among 60% numbers made a column of categories without a word (a
    # user review of messy files): like "?", they are named, with what to do.
    values = ["1.5", "2.25", "#DIV/0!", "3.0", "#VALUE!"] * 20
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        column = infer_schema(pd.DataFrame({"ratio": values}))["ratio"]
    assert column.kind is ColumnKind.CATEGORICAL
    assert "60 of its 100 values are numbers but ['#DIV/0!', '#VALUE!'] are not" in caplog.text


def test_products_devices_and_machine_addresses_are_not_personal_and_codes_stay_ids():
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({
        "name": rng.choice([f"product {i}" for i in range(60)], n),  # a "name" column of 60 products
        "Mobile": rng.choice([f"model {i}" for i in range(40)], n),
        "MAC Address": rng.choice([f"00:1b:44:11:3a:{i:02x}" for i in range(100)], n),
        "walletAddress": rng.choice([f"0x{i:040x}" for i in range(300)], n),
        # Unique invoice numbers, some of them codes: an id (they became 2,000 copied categories).
        "invoice": [f"C{536000 + i}" if i % 20 == 0 else str(536000 + i) for i in range(n)],
        # Shaped like ISO dates, none of them dates: codes, not a refusal.
        "part": [f"{rng.integers(3000, 4000)}-{rng.integers(20, 99)}-{rng.integers(10, 99)}" for _ in range(n)],
    })
    schema = infer_schema(frame, derived=False)
    assert not [c.name for c in schema if c.kind is ColumnKind.PERSONAL]
    assert schema["invoice"].kind is ColumnKind.ID
    assert schema["part"].kind in (ColumnKind.CATEGORICAL, ColumnKind.ID)
    # A nearly unique names column with a missing value is an id too (it stayed categories).
    names = [f"{a} {b}" for a in ("ann", "bo", "cy") for b in ("x" * i for i in range(1, 201))]
    column = infer_schema(pd.DataFrame({"holder": names[:-1] + [None]}))["holder"]
    assert column.kind is ColumnKind.ID and column.nullable


def test_a_far_future_placeholder_date_is_named_at_inference_with_what_to_do(caplog):
    # 9999-12-31 (an open-ended validity) was inferred without a word, then refused by the fit
    # with only "make it a categorical or text column".
    rng = np.random.default_rng(0)
    valid_to = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, 300), unit="D")).astype("datetime64[us]")
    valid_to[rng.random(300) < 0.3] = pd.Timestamp("9999-12-31")
    frame = pd.DataFrame({"valid_to": valid_to, "x": rng.normal(size=300)})
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        infer_schema(frame)
    assert any("'valid_to'" in r.getMessage() and "make them nulls" in r.getMessage() and "a fit refuses them" in r.getMessage()
               for r in caplog.records)
    with pytest.raises(DataError, match="9999-12-31 is a common placeholder\\), make them nulls"):
        Synthesizer(epochs=1).fit(frame)
    frame["valid_to"] = frame["valid_to"].where(frame["valid_to"].dt.year < 9999)
    assert Synthesizer(epochs=1).fit(frame).schema_["valid_to"].nullable


def test_datetimes_near_the_earliest_pandas_holds_and_bytes_that_are_not_utf8():
    # dt.floor overflowed within a day of pd.Timestamp.min: a raw OverflowError.
    rng = np.random.default_rng(0)
    early = pd.Series(pd.Timestamp.min.ceil("s") + pd.to_timedelta(rng.integers(0, 10**6, 300) * 10**9, unit="ns"))
    column = infer_schema(pd.DataFrame({"d": early}))["d"]
    assert column.kind is ColumnKind.DATETIME and column.unit == "s"
    for values, unit in ((pd.date_range("2020-01-01", periods=5, freq="D"), "D"),
                         (pd.date_range("2020-01-01", periods=5, freq="h"), "h"),
                         (pd.date_range("1960-01-01 00:00:00.5", periods=5, freq="s"), "ms"),
                         (pd.Series(pd.to_datetime(["1900-01-01 00:00", "1800-01-01 10:00"])).astype("datetime64[s]"), "h")):
        assert infer_schema(pd.DataFrame({"d": values}))["d"].unit == unit
    # One bytes cell that is not UTF-8 among text: pandas' astype(str) raised UnicodeDecodeError.
    frame = pd.DataFrame({"c": pd.Series(["a", "b"] * 50 + [b"\xff"], dtype=object), "x": range(101)})
    assert infer_schema(frame)["c"].categories == ("a", "b", "b'\\xff'")
    assert infer_schema(pd.concat([frame, frame]))["c"].categories == ("a", "b", "b'\\xff'")  # repeated index labels


def _with_luhn_digit(body: int) -> int:
    """``body`` with the check digit that makes it pass the Luhn check appended."""
    for check in range(10):
        number = body * 10 + check
        total = sum((d * 2 - 9 if d > 4 else d * 2) if i % 2 else d for i, d in enumerate(int(c) for c in reversed(str(number))))
        if total % 10 == 0:
            return number
    raise AssertionError(body)


def test_card_numbers_are_an_id_and_distinct_record_numbers_are_warned_of(caplog):
    # Both were learned as plain numbers without a word, and the model file kept 498 of 500 real
    # card numbers among its quantiles (a user review).
    rng = np.random.default_rng(0)
    cards = [_with_luhn_digit(int(b)) for b in rng.integers(400000000000000, 499999999999999, 300)]
    frame = pd.DataFrame({"card": cards, "mrn": rng.choice(np.arange(1_000_000, 9_999_999), 300, replace=False),
                          "amount": rng.gamma(2, 500, 300).round(2), "visits": rng.integers(0, 30, 300)})
    with caplog.at_level("WARNING", logger="synthvae.inference"):
        schema = infer_schema(frame, source="bank.csv")
    assert schema["card"].kind is ColumnKind.ID and "Luhn" in schema["card"].description
    assert "bank.csv, column 'card': its 300 values are card numbers" in caplog.text
    assert schema["mrn"].kind is ColumnKind.NUMERIC
    assert "bank.csv, column 'mrn': its 300 whole numbers of 7 to 7 digits are all different" in caplog.text
    assert "'amount'" not in caplog.text and "'visits'" not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae.inference"):  # distinct prices of 6 digits: no word
        infer_schema(pd.DataFrame({"price": rng.choice(np.arange(100_000, 999_999), 300, replace=False)}))
    assert "all different" not in caplog.text
    # One number failing the check: no card numbers, a warning.
    frame.loc[0, "card"] += 1
    assert infer_schema(frame)["card"].kind is ColumnKind.NUMERIC


def test_a_spreadsheets_total_row_is_warned_of(caplog):
    # "Total;99.999,99;;;;" was learned as data: a category "Total", the column's max its sum
    # (a user review of messy inputs).
    frame = pd.DataFrame({"Name": ["ann", "bob", "cy", "Total"], "Amount": [1.5, 2.0, 3.0, 6.5],
                          "Qty": [1, 2, 3, None], "City": ["x", "y", "z", None]})
    with caplog.at_level("WARNING", logger="synthvae"):
        infer_schema(frame)
    assert "its last row (Name='Total', Amount=6.5) looks like a spreadsheet's total row" in caplog.text, caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae"):
        infer_schema(frame.assign(Qty=[1, 2, 3, 4], City=["x", "y", "z", "w"]))  # a full row: a customer named Total?
        infer_schema(frame.iloc[:3])
    assert "total row" not in caplog.text


def test_arrow_text_with_nul_characters_keeps_them():
    # pandas 2.2's astype(str) of Arrow strings dropped trailing NULs: '\x00' was read as '', and
    # the inferred categories [''] then refused the table's own '\x00' (a fuzz case).
    frame = pd.DataFrame({"x": range(13), "name": pd.Series([""] * 12 + ["\x00"], dtype="string[pyarrow]")})
    schema = infer_schema(frame)
    assert set(schema["name"].categories) == {"", "\x00"}
    conform(frame, schema, "t")
