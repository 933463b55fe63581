"""Duration columns (timedeltas): numeric columns with a ``duration`` unit."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from synthvae import Column, ColumnKind, DataError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema, read_table
from synthvae.validation import conform


@pytest.fixture(scope="module")
def trips() -> pd.DataFrame:
    """Bike and car trips: a trip's duration follows its distance (about 2 minutes a km)."""
    rng = np.random.default_rng(0)
    n = 800
    distance = rng.gamma(2, 5, n).round(1)
    seconds = (distance * 120 + rng.normal(0, 60, n)).clip(30).round()
    frame = pd.DataFrame({"distance_km": distance, "trip": pd.to_timedelta(seconds, unit="s"),
                          "kind": rng.choice(["bike", "car"], n)})
    frame.loc[[5, 50], "trip"] = pd.NaT
    return frame


@pytest.fixture(scope="module")
def trip_model(trips) -> Synthesizer:
    return Synthesizer(epochs=40, seed=0).fit(trips)


def test_durations_are_inferred_as_numbers_of_their_coarsest_whole_unit():
    # They were refused ("durations (timedelta) are not supported; convert them to numbers").
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"seconds": pd.to_timedelta(rng.integers(60, 7200, 300), unit="s"),
                          "days": pd.to_timedelta(rng.integers(1, 30, 300), unit="D"),
                          "fine": pd.to_timedelta((rng.random(300) * 10).round(3), unit="s"),
                          "objects": pd.Series([dt.timedelta(minutes=int(m)) for m in rng.integers(1, 90, 300)], dtype=object)})
    schema = infer_schema(frame)
    assert (schema["seconds"].duration, schema["seconds"].is_integer) == ("s", True)
    assert (schema["days"].duration, schema["days"].min, schema["days"].max) == ("D", 1, 29)
    assert (schema["fine"].duration, schema["fine"].is_integer, schema["fine"].decimals) == ("s", False, 3)
    assert schema["objects"].duration == "m" and schema["objects"].kind is ColumnKind.NUMERIC


def test_durations_are_learned_with_the_other_columns_and_sampled_as_durations(trips, trip_model):
    column = trip_model.schema_["trip"]
    assert (column.kind, column.duration, column.nullable) == (ColumnKind.NUMERIC, "s", True)
    rows = trip_model.sample(3_000, seed=1)
    assert rows["trip"].dtype == "timedelta64[ns]"
    present = rows["trip"].dropna()
    assert present.between(pd.Timedelta(seconds=column.min), pd.Timedelta(seconds=column.max)).all()
    assert (present == present.dt.round("s")).all()  # whole seconds, as the data
    real = trips.dropna()
    real_r = np.corrcoef(real["distance_km"], real["trip"].dt.total_seconds())[0, 1]
    made = rows.dropna()
    assert np.corrcoef(made["distance_km"], made["trip"].dt.total_seconds())[0, 1] > real_r - 0.05
    assert abs(present.median() / real["trip"].median() - 1) < 0.15


def test_conditions_on_durations_take_durations_or_numbers_of_the_unit(trip_model):
    for bound in (pd.Timedelta(hours=1), dt.timedelta(hours=1), "1h", "0 days 01:00:00", 3600):
        rows = trip_model.sample(50, seed=0, conditions={"trip": {">=": bound}})
        assert (rows["trip"] >= pd.Timedelta(hours=1)).all(), bound
    with pytest.raises(ParameterError, match=r"condition on numeric column 'trip': 'soon' is not a duration .* nor a number of 's'"):
        trip_model.sample(5, conditions={"trip": {">=": "soon"}})


def test_impute_augment_and_files_keep_durations(trips, trip_model, tmp_path):
    holes = trips.astype({"trip": "timedelta64[us]"})
    hidden = np.arange(len(holes)) % 6 == 0
    holes.loc[hidden, "trip"] = pd.NaT
    filled = trip_model.impute(holes, seed=0)
    assert filled["trip"].dtype == "timedelta64[us]" and filled["trip"].notna().all()
    given = holes["trip"].notna()
    assert (filled["trip"][given] == holes["trip"][given]).all()
    augmented = trip_model.augment(trips, rows=40, seed=0)
    assert augmented["trip"].dtype == trips["trip"].dtype and len(augmented) == len(trips) + 40  # the user's resolution

    for name in ("rows.csv", "rows.parquet"):
        trip_model.sample_to(tmp_path / name, 200, seed=0)
        back = read_table(tmp_path / name)
        again = conform(back, trip_model.schema_, name)["trip"]
        expected = trip_model.sample(200, seed=0)["trip"].dt.total_seconds()
        np.testing.assert_array_equal(again.to_numpy(), expected.to_numpy())
        assert infer_schema(back)["trip"].duration == "s", name  # the CSV's "0 days 00:18:56" too

    trip_model.save(tmp_path / "m.synthvae")
    loaded = Synthesizer.load(tmp_path / "m.synthvae")
    pd.testing.assert_frame_equal(loaded.sample(20, seed=3), trip_model.sample(20, seed=3))


def test_a_streamed_fit_learns_durations_over_the_whole_table(trips, tmp_path):
    # The scan refused Parquet durations; its units are the whole table's: a fraction of a
    # second outside the reservoir makes the column seconds with decimals.
    frame = trips.copy()
    frame.loc[frame.index[-1], "trip"] = pd.Timedelta(seconds=61.5)
    frame.to_parquet(tmp_path / "trips.parquet")
    streamed = Synthesizer(epochs=3, seed=0).fit(tmp_path / "trips.parquet", streaming=True, reservoir_rows=100)
    column = streamed.schema_["trip"]
    assert (column.duration, column.is_integer, column.decimals) == ("s", False, 3)
    assert column.min == frame["trip"].min().total_seconds() and column.max == frame["trip"].max().total_seconds()
    assert streamed.sample(100, seed=0)["trip"].dtype == "timedelta64[ns]"


def test_conform_reads_durations_in_the_unit_and_names_what_it_cannot():
    schema = Schema((Column("d", ColumnKind.NUMERIC, duration="m", nullable=True),))
    read = lambda values: conform(pd.DataFrame({"d": values}), schema, "data")["d"].tolist()  # noqa: E731
    assert read(pd.to_timedelta(["1h", "90s", None]))[:2] == [60.0, 1.5]
    assert read(["0 days 01:30:00", "45", " 2h "]) == [90.0, 45.0, 120.0]  # text durations, numbers as minutes
    assert read(pd.Series(pd.to_timedelta(["1h"])).astype("duration[us][pyarrow]")) == [60.0]
    with pytest.raises(DataError, match=r"column 'd': expected durations .* or numbers of 'm', found \['soon'\]"):
        read(["soon"])


def test_a_schemas_duration_is_checked():
    with pytest.raises(SchemaError, match="duration is for numeric columns"):
        Schema((Column("d", ColumnKind.CATEGORICAL, categories=("a",), duration="s"),))
    with pytest.raises(SchemaError, match="not a valid synthvae schema"):
        Schema.from_dict({"format_version": 1, "columns": [{"name": "d", "kind": "numeric", "duration": "weeks"}]})
    kept = Schema.from_dict({"format_version": 1, "columns": [{"name": "d", "kind": "numeric", "duration": "h", "min": 0}]})
    assert Schema.from_dict(kept.to_dict())["d"].duration == "h"


def test_rules_between_durations_are_found_and_written_in_the_unit():
    # Discovery read the durations' nanoseconds: "limit = trip + 600000000" beside a unit of
    # seconds, and the fit refused every real row.
    rng = np.random.default_rng(3)
    trip = pd.to_timedelta(rng.integers(300, 3000, 300), unit="s")
    frame = pd.DataFrame({"trip": trip, "limit": trip + pd.Timedelta(minutes=10), "x": rng.normal(size=300)})
    schema = infer_schema(frame)
    assert [rule.to_dict() for rule in schema.constraints] == [{"kind": "derived", "column": "limit", "expression": "trip + 600"}]
    rows = Synthesizer(epochs=2, seed=0).fit(frame).sample(50, seed=0)
    assert (rows["limit"] - rows["trip"] == pd.Timedelta(minutes=10)).all()
    # A rule's constant may be a duration, read in the columns' unit.
    ruled = Schema.from_dict({"format_version": 1, "columns": [{"name": "a", "kind": "numeric", "duration": "s"}],
                              "constraints": [{"kind": "inequality", "low": {"value": "30s"}, "high": "a"}]})
    assert ruled.constraints[0].low.value == 30.0


def test_text_durations_come_back_as_text_and_numbers_with_a_time_unit_are_durations(trip_model, trips):
    # Imputed text came back as bare numbers of seconds, given cells too.
    text = trips.head(20).assign(trip=trips["trip"].head(20).astype(str).where(trips["trip"].head(20).notna(), None))
    text.loc[[1, 2], "trip"] = None
    filled = trip_model.impute(text, seed=0)
    given = text["trip"].notna()
    assert filled["trip"][given].tolist() == text["trip"][given].tolist()
    assert filled["trip"][~given].str.fullmatch(r"0 days \d{2}:\d{2}:\d{2}").all()
    written = pd.DataFrame({"wait": [f"{v} min" for v in np.random.default_rng(0).integers(1, 90, 300)]})
    assert infer_schema(written)["wait"].duration == "m"


def test_durations_refuse_what_is_no_duration_and_take_numpys(trip_model):
    schema = Schema((Column("d", ColumnKind.NUMERIC, duration="m", nullable=True),))
    # pandas reads "1,5" as 15 nanoseconds: refused, as a numeric column refuses it.
    with pytest.raises(DataError, match=r"expected durations .* found \['1,5'\]"):
        conform(pd.DataFrame({"d": ["1,5"]}), schema, "data")
    with pytest.raises(DataError, match=r"above the schema's max 120, e.g. \[180.0\] \(durations as numbers of minutes"):
        conform(pd.DataFrame({"d": ["3h"]}), Schema((Column("d", ColumnKind.NUMERIC, duration="m", max=120),)), "data")
    value = np.timedelta64(3_600_000_000, "us")  # what frame["trip"].to_numpy()[i] gives
    assert (trip_model.sample(20, seed=0, conditions={"trip": {">=": value}})["trip"] >= pd.Timedelta(hours=1)).all()
    with pytest.raises(ParameterError, match="'1,5' is not a duration"):
        trip_model.sample(5, conditions={"trip": {">=": "1,5"}})
    with pytest.raises(ParameterError, match="conditions on missing values are not supported"):
        trip_model.sample(5, conditions={"trip": {">=": pd.NaT}})


def test_only_numbers_with_a_unit_of_time_pandas_can_hold_are_durations():
    # "10 mins" crashed inference (pandas reads no "mins"); 200,000 days overflowed; age groups
    # "20s", "30s" became seconds.
    frame = pd.DataFrame({"wait": ["10 mins", "15 mins", "5 mins"] * 10, "flight": ["2 hrs", "3 hrs", "1 hrs"] * 10,
                          "huge": ["1 days", "200000 days", "3 days"] * 10, "ages": ["20s", "30s", "40s"] * 10})
    schema = infer_schema(frame)
    assert (schema["wait"].duration, schema["flight"].duration) == ("m", "h")
    assert conform(frame, schema, "data")["wait"].tolist()[:3] == [10.0, 15.0, 5.0]
    assert schema["huge"].kind is ColumnKind.CATEGORICAL and schema["ages"].kind is ColumnKind.CATEGORICAL


def test_augment_and_expected_values_keep_the_users_resolution(trips, trip_model):
    micro = trips.astype({"trip": "timedelta64[us]"})
    assert trip_model.augment(micro, rows=20, seed=0)["trip"].dtype == "timedelta64[us]"
    holes = micro.head(30).copy()
    holes.loc[[1, 2], "trip"] = pd.NaT
    assert trip_model.impute(holes, method="expectation", calibrate=False, seed=0)["trip"].dtype == "timedelta64[us]"


def test_a_private_fit_asks_for_bounds_in_the_duration_unit():
    frame = pd.DataFrame({"trip": pd.to_timedelta(np.arange(300) % 50 + 1, unit="m"), "x": np.arange(300.0)})
    schema = Schema((Column("trip", ColumnKind.NUMERIC, duration="m"), Column("x", ColumnKind.NUMERIC, min=0, max=400)))
    with pytest.raises(ParameterError, match=r"needs public bounds: .*\['trip'\].*durations count their duration unit: 'trip' in 'm'"):
        Synthesizer(schema=schema, privacy={"epsilon": 3, "epochs": 1}).fit(frame)


def test_nat_text_beside_datetimes_and_durations_is_a_null(trips, tmp_path):
    # pandas writes a missing datetime or duration as "NaT" through str(): those columns
    # became categories of every text ("2021-01-01", ..., "NaT"), and a streamed fit's duration
    # column took "NaT" for a placeholder of categories.
    frame = trips.head(300).copy()
    frame["start"] = pd.Series(pd.date_range("2021-03-01", periods=300, freq="D")).where(lambda s: s.index % 7 != 3)
    path = tmp_path / "trips.csv"
    frame.assign(trip=frame["trip"].map(str), start=frame["start"].map(str)).to_csv(path, index=False)
    text = read_table(path)
    assert (text["trip"] == "NaT").sum() == 2 and (text["start"] == "NaT").sum() == 43
    schema = infer_schema(text)
    assert schema["trip"].duration == "s" and schema["trip"].nullable
    assert schema["start"].kind is ColumnKind.DATETIME and schema["start"].nullable
    conformed = conform(text, schema)
    assert conformed["trip"].isna().sum() == 2 and conformed["start"].isna().sum() == 43
    model = Synthesizer(epochs=2, seed=0).fit(path)
    filled = model.impute(text.head(60))
    assert filled["trip"].notna().all() and filled["start"].notna().all()
    assert filled["trip"][text["trip"].head(60) != "NaT"].equals(text["trip"].head(60)[text["trip"].head(60) != "NaT"])
    streamed = Synthesizer(epochs=2, seed=0).fit(path, streaming=True)
    assert streamed.schema_["trip"].duration == "s" and streamed.schema_["trip"].nullable
    assert streamed.schema_["start"].kind is ColumnKind.DATETIME and streamed.schema_["start"].nullable
