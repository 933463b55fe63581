"""Datetime columns with a time zone: the schema's ``timezone``, clock times learned there."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from synthvae import (Column, ColumnKind, DataError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema, read_table,
                      write_table)
from synthvae.validation import conform, wall_times

FAST = dict(epochs=3, seed=0)


@pytest.fixture(scope="module")
def paris_weather(weather) -> pd.DataFrame:
    """seattle_weather's daily dates as midnights in Europe/Paris (22:00 or 23:00 in UTC)."""
    frame = weather.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize("Europe/Paris")
    return frame


@pytest.fixture(scope="module")
def paris_model(paris_weather) -> Synthesizer:
    return Synthesizer(**FAST).fit(paris_weather)


def test_daily_dates_in_a_zone_are_learned_and_sampled_as_its_midnights(paris_weather, paris_model):
    # Converted to UTC, the dates were hourly timestamps (min 2011-12-31 23:00, unit h) and
    # sampled at any hour: 3.6% of them at a Paris midnight, and without their zone.
    column = paris_model.schema_["date"]
    assert column.timezone == "Europe/Paris" and column.unit == "D"
    assert column.min == pd.Timestamp("2012-01-01") and column.max == pd.Timestamp("2015-12-31")
    rows = paris_model.sample(2_000, seed=1)
    assert str(rows["date"].dt.tz) == "Europe/Paris"
    assert (rows["date"] == rows["date"].dt.normalize()).all()  # every one a Paris midnight
    assert rows["date"].between(paris_weather["date"].min(), paris_weather["date"].max()).all()
    summer = rows["date"].dt.month.isin([7, 8])
    assert (rows["date"][summer].dt.strftime("%z") == "+0200").all()


def test_a_zone_is_kept_through_the_model_file_and_a_streamed_fit(paris_weather, paris_model, tmp_path):
    paris_model.save(tmp_path / "m.synthvae")
    loaded = Synthesizer.load(tmp_path / "m.synthvae")
    assert loaded.schema_["date"].timezone == "Europe/Paris"
    pd.testing.assert_frame_equal(loaded.sample(50, seed=2), paris_model.sample(50, seed=2))

    paris_weather.to_parquet(tmp_path / "w.parquet")
    streamed = Synthesizer(**FAST).fit(tmp_path / "w.parquet", streaming=True)
    column = streamed.schema_["date"]
    assert (column.timezone, column.unit, column.min) == ("Europe/Paris", "D", pd.Timestamp("2012-01-01"))
    rows = streamed.sample(300, seed=0)
    assert (rows["date"] == rows["date"].dt.normalize()).all() and str(rows["date"].dt.tz) == "Europe/Paris"


def test_conform_reads_values_as_clock_times_of_the_columns_zone():
    schema = Schema((Column("t", ColumnKind.DATETIME, unit="m", timezone="America/New_York"),))
    read = lambda values: conform(pd.DataFrame({"t": values}), schema, "data")["t"].tolist()  # noqa: E731
    # Given in another zone: converted; without a zone: taken as New York's clock already.
    assert read(pd.Series(pd.to_datetime(["2021-07-01 12:00"])).dt.tz_localize("UTC")) == [pd.Timestamp("2021-07-01 08:00")]
    assert read(pd.to_datetime(["2021-07-01 12:00"])) == [pd.Timestamp("2021-07-01 12:00")]
    # Text: with an offset converted, without one a clock time.
    assert read(["2021-01-01T12:00:00+01:00", "2021-01-01 12:00", "2021-07-01T16:00:00Z"]) == [
        pd.Timestamp("2021-01-01 06:00"), pd.Timestamp("2021-01-01 12:00"), pd.Timestamp("2021-07-01 12:00")]
    # Without a zone, as UTC: both kinds of text in one column read alike under pandas 2.2 and 3.
    plain = Schema((Column("t", ColumnKind.DATETIME, unit="m"),))
    assert conform(pd.DataFrame({"t": ["2021-01-01T12:00:00+01:00", "2021-01-01 12:00"]}), plain, "data")["t"].tolist() == [
        pd.Timestamp("2021-01-01 11:00"), pd.Timestamp("2021-01-01 12:00")]
    fixed = Schema((Column("t", ColumnKind.DATETIME, unit="m", timezone="+05:30"),))
    assert conform(pd.DataFrame({"t": ["2021-01-01T00:00:00Z"]}), fixed, "data")["t"].tolist() == [pd.Timestamp("2021-01-01 05:30")]


def test_a_schemas_timezone_is_checked_and_its_bounds_are_its_clock_times():
    def schema(**keys):
        return Schema.from_dict({"format_version": 1, "columns": [{"name": "t", "kind": "datetime", **keys}]})

    column = schema(timezone="Asia/Tokyo", min="2021-01-01T00:00:00Z", max="2021-01-02")["t"]
    assert column.min == pd.Timestamp("2021-01-01 09:00") and column.max == pd.Timestamp("2021-01-02")
    assert Schema.from_dict(schema(timezone="Asia/Tokyo").to_dict())["t"].timezone == "Asia/Tokyo"
    ruled = Schema.from_dict({"format_version": 1, "columns": [{"name": "t", "kind": "datetime", "timezone": "Asia/Tokyo"}],
                              "constraints": [{"kind": "range", "column": "t", "low": {"value": "2021-01-01T00:00:00Z"},
                                               "high": {"value": "2022-01-01"}}]})
    rule = ruled.constraints[0]  # a rule's constants too: with an offset converted, without one Tokyo's
    assert (rule.low.value, rule.high.value) == (pd.Timestamp("2021-01-01 09:00"), pd.Timestamp("2022-01-01"))
    with pytest.raises(SchemaError, match=r"column 't': timezone 'Europe/Pariss' is not a time zone.*IANA name"):
        schema(timezone="Europe/Pariss")
    with pytest.raises(SchemaError, match="not a valid synthvae schema"):
        Schema.from_dict({"format_version": 1, "columns": [{"name": "x", "kind": "numeric", "timezone": "UTC"}]})
    with pytest.raises(SchemaError, match="timezone is for datetime columns"):
        Schema((Column("x", ColumnKind.NUMERIC, timezone="UTC"),))


def test_conditions_impute_and_augment_speak_the_zones_clock(paris_weather, paris_model):
    # A condition with a zone is converted to the column's; one without is its clock time.
    late = paris_model.sample(200, seed=0, conditions={"date": {">=": "2015-06-01"}})
    assert (late["date"] >= pd.Timestamp("2015-06-01", tz="Europe/Paris")).all()
    utc = paris_model.sample(200, seed=0, conditions={"date": {">=": pd.Timestamp("2015-06-01 12:00", tz="UTC")}})
    assert (utc["date"] >= pd.Timestamp("2015-06-02", tz="Europe/Paris")).all()

    holes = paris_weather.copy()
    hidden = np.arange(len(holes)) % 7 == 0
    holes.loc[hidden, "date"] = pd.NaT
    filled = paris_model.impute(holes, seed=0)
    assert str(filled["date"].dt.tz) == "Europe/Paris" and filled["date"].notna().all()
    assert (filled["date"][~hidden] == paris_weather["date"][~hidden]).all()
    assert (filled["date"] == filled["date"].dt.normalize()).all()
    # Given in UTC, the same instants come back in UTC.
    in_utc = holes.assign(date=holes["date"].dt.tz_convert("UTC"))
    back = paris_model.impute(in_utc, seed=0)
    assert str(back["date"].dt.tz) == "UTC" and (back["date"] == filled["date"]).all()

    augmented = paris_model.augment(paris_weather, rows=50, seed=0)
    assert str(augmented["date"].dt.tz) == "Europe/Paris"
    assert (augmented["date"] == augmented["date"].dt.normalize()).all()


def test_a_csv_of_zoned_dates_reads_back_through_the_schema(paris_model, tmp_path):
    path = tmp_path / "rows.csv"
    paris_model.sample_to(path, 100, seed=0)
    text = pd.read_csv(path, dtype=str)["date"]
    assert text.str.endswith(("+01:00", "+02:00")).all()  # ISO text with the offsets
    again = conform(read_table(path), paris_model.schema_, str(path))["date"]
    assert (again == again.dt.normalize()).all()  # Paris midnights again, as clock times


def test_inference_gives_a_zone_only_to_datetimes_that_have_one():
    frame = pd.DataFrame({"aware": pd.date_range("2021-01-01", periods=30, freq="D", tz="UTC"),
                          "naive": pd.date_range("2021-01-01", periods=30, freq="D"),
                          "text": [f"2021-01-{d:02d}T00:00:00+01:00" for d in range(1, 31)],
                          "z": [f"2021-01-{d:02d}T10:00Z" for d in range(1, 31)],
                          "summer": [f"2021-03-{d:02d}T00:00:00{'+01:00' if d < 28 else '+02:00'}" for d in range(1, 31)],
                          "some": [f"2021-01-{d:02d}T00:00:00{'+01:00' if d < 28 else ''}" for d in range(1, 31)]})
    schema = infer_schema(frame)
    assert schema["aware"].timezone == "UTC" and schema["naive"].timezone is None
    # Text that writes one offset in every value is of that zone (its clock times learned, and
    # sampled with it): "...Z" lost its UTC (a user review of messy files).
    assert schema["text"].kind is ColumnKind.DATETIME and schema["text"].timezone == "+01:00"
    assert schema["text"].min == pd.Timestamp("2021-01-01")  # the clock times written
    assert schema["z"].timezone == "UTC" and schema["z"].format == "%Y-%m-%dT%H:%MZ"
    assert schema["summer"].timezone == "UTC" and "converted to UTC" in schema["summer"].description
    # Clock times beside offsets were of no stated zone: the written ones then became UTC, an
    # hour from the rest. They are the clock times of the offset the others write.
    assert schema["some"].timezone == "+01:00" and "3 values that write no offset read as clock times of +01:00" in schema["some"].description


def test_text_that_writes_utc_samples_and_writes_utc_back(tmp_path):
    times = pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(np.arange(0, 200 * 3607, 3607), unit="s")
    path = tmp_path / "log.csv"
    pd.DataFrame({"at": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "x": np.arange(200) % 7}).to_csv(path, index=False)
    model = Synthesizer(epochs=2, seed=0).fit(path)
    rows = model.sample(50, seed=0)
    assert str(rows["at"].dt.tz) == "UTC"
    out = tmp_path / "out.csv"
    model.sample_to(out, 50, seed=0)
    assert pd.read_csv(out, dtype=str)["at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert (conform(read_table(out), model.schema_, str(out))["at"] == wall_times(rows["at"])).all()


def test_offsets_written_every_way_are_read_and_plain_times_are_not_taken_for_offsets():
    # "+01" (PostgreSQL) and " Z" were read as UTC and taken as the zone's clock; a time written
    # after a date with a dash ("20210301-1230") was taken for an offset and moved.
    tokyo = Schema((Column("t", ColumnKind.DATETIME, unit="m", timezone="Asia/Tokyo"),))
    read = lambda values, schema=tokyo: conform(pd.DataFrame({"t": values}), schema, "data")["t"].tolist()  # noqa: E731
    assert read(["2021-03-01T00:00:00+01", "2021-03-01 00:00 Z", "20210301T000000+0100"]) == [
        pd.Timestamp("2021-03-01 08:00"), pd.Timestamp("2021-03-01 09:00"), pd.Timestamp("2021-03-01 08:00")]
    dashed = Schema((Column("t", ColumnKind.DATETIME, unit="m", format="%Y%m%d-%H%M", timezone="Europe/Paris"),))
    assert read(["20210301-1230"], dashed) == [pd.Timestamp("2021-03-01 12:30")]


def test_rules_compare_datetimes_of_one_zone_and_bounds_name_it():
    def schema(zones, rules=()):
        return Schema.from_dict({"format_version": 1, "constraints": list(rules), "columns": [
            {"name": n, "kind": "datetime", **({"timezone": z} if z else {})} for n, z in zones.items()]})

    # Clock times of two zones do not compare as instants: every real row broke start < end.
    with pytest.raises(SchemaError, match=r"different time zones \('start' Europe/Paris, 'end' UTC\).*give them one timezone"):
        schema({"start": "Europe/Paris", "end": "UTC"}, [{"kind": "inequality", "low": "start", "high": "end"}])
    with pytest.raises(SchemaError, match="'end' no timezone"):
        schema({"start": "Europe/Paris", "end": None}, [{"kind": "inequality", "low": "start", "high": "end"}])
    paris = schema({"t": "Europe/Paris"})
    with pytest.raises(DataError, match=r"above the schema's max .*\(clock times of Europe/Paris"):
        conform(pd.DataFrame({"t": ["2016-01-01T00:30:00+01:00"]}),
                Schema((Column("t", ColumnKind.DATETIME, timezone="Europe/Paris", max=pd.Timestamp("2015-12-31 23:59")),)), "data")
    # A Python bound with a zone is converted to the column's clock (it raised a TypeError).
    column = Column("t", ColumnKind.DATETIME, timezone="Europe/Paris", min=pd.Timestamp("2021-01-01", tz="UTC"))
    assert column.min == pd.Timestamp("2021-01-01 01:00") and paris["t"].timezone == "Europe/Paris"
    for bad in ("+05:75", "localtime"):
        with pytest.raises(SchemaError, match=re.escape(f"timezone '{bad}' is not a time zone")):
            schema({"t": bad})


def test_imputed_text_keeps_its_given_cells_and_augment_gives_the_zone(paris_weather, paris_model):
    # Text rebuilt from clock times lost its offsets: the two 02:00 of the night the clocks go
    # back became one.
    text = paris_weather.head(30).copy()
    text["date"] = text["date"].map(lambda v: v.isoformat())
    text.loc[3, "date"] = "2012-10-28T02:30:00+01:00"
    text.loc[4, "date"] = None
    filled = paris_model.impute(text, seed=0)
    assert filled["date"].drop(index=4).tolist() == text["date"].drop(index=4).tolist()
    assert pd.Timestamp(filled.loc[4, "date"]).tzinfo is not None  # written with its offset
    # Text written without offsets (clock times of the zone): filled cells so too, not with
    # offsets beside them (a review).
    plain = paris_weather.head(30).copy()
    plain["date"] = plain["date"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    plain.loc[[4, 9], "date"] = None
    filled = paris_model.impute(plain, seed=0)["date"]
    assert filled.drop(index=[4, 9]).tolist() == plain["date"].drop(index=[4, 9]).tolist()
    assert filled[[4, 9]].str.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00").all(), filled[[4, 9]].tolist()
    naive = paris_weather.head(30).assign(date=paris_weather["date"].head(30).dt.tz_localize(None))
    augmented = paris_model.augment(naive, rows=10, seed=0)
    assert str(augmented["date"].dt.tz) == "Europe/Paris"
    assert (augmented["date"].head(30).dt.tz_localize(None) == naive["date"]).all()
    arrow = paris_weather.head(30).astype({"date": "timestamp[us, tz=Europe/Paris][pyarrow]"})
    assert paris_model.augment(arrow, rows=10, seed=0)["date"].dtype == arrow["date"].dtype


def test_datetimes_in_several_zones_are_read_as_utc_with_a_warning(tmp_path, caplog):
    # Parts written in Paris and in UTC (or both in one object column): no zone, which was silent.
    days = pd.Series(pd.date_range("2021-01-01", periods=200, freq="D", tz="Europe/Paris"))
    rng = np.random.default_rng(0)
    paris = pd.DataFrame({"d": days[:100].reset_index(drop=True), "x": rng.normal(size=100)})
    utc = pd.DataFrame({"d": days[100:].dt.tz_convert("UTC").reset_index(drop=True), "x": rng.normal(size=100)})
    (tmp_path / "parts").mkdir()
    paris.to_parquet(tmp_path / "parts" / "a.parquet")
    utc.to_parquet(tmp_path / "parts" / "b.parquet")
    with caplog.at_level("WARNING"):
        streamed = Synthesizer(epochs=1, seed=0).fit(tmp_path / "parts", streaming=True)
        schema = infer_schema(pd.concat([paris, utc], ignore_index=True))
    assert streamed.schema_["d"].timezone is None and schema["d"].timezone is None
    assert "its parts hold datetimes in several time zones, read as UTC" in caplog.text
    assert "its datetimes are in several time zones (Europe/Paris, UTC), read as UTC" in caplog.text


def test_inference_reads_offset_and_plain_text_as_conform_does():
    # Under pandas 2.2 inference read the column in one call (12:00 beside +01:00 text as 11:00)
    # and conform apart: the inferred max refused the table's own rows.
    frame = pd.DataFrame({"t": ["2021-01-01 12:00", "2021-01-01 12:00+01:00", "2021-01-02 13:00", "2021-01-02 10:00Z"] * 5,
                          "x": np.arange(20.0)})
    schema = infer_schema(frame)
    read = conform(frame, schema, "data")["t"]
    assert (schema["t"].min, schema["t"].max) == (read.min(), read.max()) == (pd.Timestamp("2021-01-01 11:00"),
                                                                              pd.Timestamp("2021-01-02 13:00"))


def test_zoned_values_given_to_a_model_without_a_zone_are_warned_of(caplog):
    # Los Angeles midnights into a model of naive daily dates: read as 08:00 UTC, and filled
    # dates came back at 16:00 the day before, without a word (a user review).
    days = pd.Series(pd.date_range("2014-01-01", periods=80, freq="D"))
    frame = pd.DataFrame({"date": days, "x": np.arange(80.0)})
    syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(frame)
    holed = frame.head(10).assign(x=lambda t: t["x"].where(t.index % 2 == 0))
    with caplog.at_level("WARNING", logger="synthvae"):
        syn.impute(holed.assign(date=holed["date"].dt.tz_localize("America/Los_Angeles")), seed=0)
    assert ("column 'date': its datetimes have a time zone (America/Los_Angeles) and the model's column has none: they "
            "are read as UTC clock times" in caplog.text), caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae"):
        syn.impute(holed, seed=0)
        syn.encode(frame.assign(date=frame["date"].dt.tz_localize("UTC")))
    assert "have a time zone" not in caplog.text


def test_a_condition_on_the_repeated_hour_of_autumn_is_refused_for_the_instant_the_model_cannot_give():
    # 01:00 UTC on 2021-10-31 is Paris's second 02:00; every row came back at the first
    # (00:00 UTC), without a word (a user review).
    times = pd.Series(pd.date_range("2021-10-29", periods=120, freq="h", tz="Europe/Paris"))
    frame = pd.DataFrame({"start": times, "x": np.arange(120.0)})
    syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(frame)
    assert syn.schema_["start"].timezone == "Europe/Paris"
    with pytest.raises(ParameterError, match=r"is the second 02:00 of a change of summer time in Europe/Paris"):
        syn.sample(5, conditions={"start": pd.Timestamp("2021-10-31 01:00", tz="UTC")}, seed=0)
    summer = pd.Timestamp("2021-10-31 00:00", tz="UTC")
    rows = syn.sample(5, conditions={"start": summer}, seed=0)
    assert (rows["start"] == summer).all()
    assert len(syn.sample(5, conditions={"start": "2021-10-31 02:00"}, seed=0)) == 5
    # Strictly between the two 02:00s lies no instant the model gives: the refusal read
    # "start > 2021-10-31 02:00:00 and start < 2021-10-31 03:00:00" without a word of the clock.
    with pytest.raises(ParameterError, match=r"none lies in it; widen the range \(its conditions are clock times in "
                                             r"Europe/Paris, and the two of a change from summer time are one to the model\)"):
        syn.sample(5, conditions={"start": {">": "2021-10-31T02:00+02:00", "<": "2021-10-31T03:00+01:00"}}, seed=0)
    # A range bound at the second 02:00 is met by the clock times around it that the model
    # gives (a bound given in UTC at such an instant was refused as an equality is).
    second = pd.Timestamp("2021-10-31 01:00", tz="UTC")
    rows = syn.sample(50, conditions={"start": {">=": second}}, seed=0)
    assert (rows["start"] >= second).all() and rows["start"].min() == pd.Timestamp("2021-10-31 03:00", tz="Europe/Paris")
    rows = syn.sample(50, conditions={"start": {">=": "2021-10-30T20:00Z", "<=": "2021-10-31T01:30Z"}}, seed=0)
    assert (rows["start"] <= pd.Timestamp("2021-10-31 01:30", tz="UTC")).all() and len(rows) == 50


def test_conditions_keep_out_of_the_clock_times_spring_skips():
    # Paris skips 02:00-02:59 on 2020-03-29: a range ending in the gap ("< 03:00") gave rows at
    # 03:00 (the model's clock times there come back as the first time after it), a range of
    # skipped times only gave every row at 03:00, and 02:00 itself was taken (a user review).
    times = pd.Series(pd.date_range("2020-03-27", periods=120, freq="h", tz="Europe/Paris"))
    frame = pd.DataFrame({"when": times, "x": np.arange(120.0)})
    syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(frame)
    assert syn.schema_["when"].timezone == "Europe/Paris"
    gap_end = pd.Timestamp("2020-03-29 03:00", tz="Europe/Paris")
    for high in ({"<": "2020-03-29 03:00"}, {"<=": "2020-03-29 02:30"}):
        rows = syn.sample(300, conditions={"when": {">=": "2020-03-28 20:00", **high}}, seed=0)
        assert (rows["when"] < gap_end).all() and (rows["when"] >= pd.Timestamp("2020-03-28 20:00", tz="Europe/Paris")).all()
        assert rows["when"].max() == pd.Timestamp("2020-03-29 01:00", tz="Europe/Paris")
    rows = syn.sample(300, conditions={"when": {">=": "2020-03-28 20:00", "<=": "2020-03-29 03:00"}}, seed=0)
    assert (rows["when"] <= gap_end).all() and (rows["when"] == gap_end).any()
    with pytest.raises(ParameterError, match=r"2020-03-29 02:00:00 is a clock time Europe/Paris skips \(its clocks go "
                                             r"from 02:00 to 03:00 on 2020-03-29\)"):
        syn.sample(5, conditions={"when": "2020-03-29 02:00"}, seed=0)
    with pytest.raises(ParameterError, match=r"holds only clock times Europe/Paris skips"):
        syn.sample(5, conditions={"when": {">=": "2020-03-29 02:00", "<": "2020-03-29 03:00"}}, seed=0)
    with pytest.raises(ParameterError, match=r"\(before the clock times Europe/Paris skips, 02:00 to 03:00 on 2020-03-29\): "
                                             r"column 'when' holds whole hours only, and none lies in it"):
        syn.sample(5, conditions=["when>2020-03-29 01:00", "when<2020-03-29 03:00"], seed=0)


def test_a_range_between_two_points_of_a_grid_is_refused_as_such():
    # "1 < k < 2" of a whole-number column was refused as outside "the model's range, 0 to 4".
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"k": rng.integers(0, 5, 200), "x": rng.normal(size=200).round(1)})
    syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(frame)
    with pytest.raises(ParameterError, match=r"condition k > 1.0 and k < 2.0: column 'k' holds whole numbers only, and none "
                                             r"lies in it; widen the range"):
        syn.sample(5, conditions={"k": {">": 1, "<": 2}}, seed=0)
    with pytest.raises(ParameterError, match=r"condition x > 0.11 and x < 0.19: column 'x' holds values of 1 decimal place "
                                             r"only"):
        syn.sample(5, conditions={"x": {">": 0.11, "<": 0.19}}, seed=0)
    # Between two grid points beyond the model's range: the range is what to name (a review).
    with pytest.raises(ParameterError, match=r"condition k > 7.0 and k < 8.0: no value of column 'k' can satisfy it "
                                             r"\(the model's range is 0 to 4\)"):
        syn.sample(5, conditions={"k": {">": 7, "<": 8}}, seed=0)
    # A duration counts whole units of its own, not "whole numbers".
    trips = pd.DataFrame({"d": pd.to_timedelta(rng.integers(1, 5, 200), unit="h"), "x": frame["x"]})
    timed = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2).fit(trips)
    assert timed.schema_["d"].duration == "h"
    with pytest.raises(ParameterError, match=r"column 'd' holds whole hours only, and none lies in it"):
        timed.sample(5, conditions={"d": {">": "1h", "<": "1h30m"}}, seed=0)
    # Hours of one decimal place hold 1.5 h: not "whole hours".
    document = timed.schema_.to_dict()
    document["columns"][0].update(type="float", decimals=1)
    tenths = Synthesizer(Schema.from_dict(document), epochs=1, hidden_dims=(8,), latent_dim=2).fit(trips)
    with pytest.raises(ParameterError, match=r"column 'd' holds values of 1 decimal place of hours only, and none lies in it"):
        tenths.sample(5, conditions={"d": {">": "1h", "<": "1h5m"}}, seed=0)
    assert (tenths.sample(5, conditions={"d": {">": "1h", "<": "1h7m"}}, seed=0)["d"] == pd.Timedelta("1h6m")).all()


def test_a_zoned_condition_on_a_column_without_a_zone_is_warned_of(weather, caplog):
    # 2013-02-14 in US/Pacific on a date column without a zone was refused as
    # "2013-02-14 08:00:00", a value the user never wrote, with no word of the conversion.
    syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, seed=0).fit(weather)
    with caplog.at_level("WARNING", logger="synthvae"), pytest.raises(ParameterError, match="2013-02-14 08:00:00"):
        syn.sample(5, conditions={"date": pd.Timestamp("2013-02-14", tz="US/Pacific")}, seed=0)
    assert ("condition on datetime column 'date': 2013-02-14 00:00:00-08:00 has a time zone, but the column has none "
            "(its values are read as UTC): taken as 2013-02-14 08:00:00") in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae"):
        rows = syn.sample(5, conditions={"date": pd.Timestamp("2013-02-14", tz="UTC")}, seed=0)
    assert "has a time zone" not in caplog.text and (rows["date"] == "2013-02-14").all()


def test_a_day_whose_midnight_spring_skips_is_still_a_day_to_ask_for():
    # Sao Paulo skipped 2018-11-04 00:00: a date column's day comes back at 01:00, as that day,
    # but the check of skipped clock times refused it, and ranges ending on it dropped it (a review).
    days = pd.date_range("2018-10-25", "2018-11-14", freq="D")
    frame = pd.DataFrame({"day": np.repeat(days, 10), "x": np.random.default_rng(0).normal(size=len(days) * 10).round(1)})
    document = infer_schema(frame).to_dict()
    document["columns"][0]["timezone"] = "America/Sao_Paulo"
    syn = Synthesizer(Schema.from_dict(document), epochs=2, hidden_dims=(8,), latent_dim=2, seed=0).fit(frame)
    day = pd.Timestamp("2018-11-04 01:00", tz="America/Sao_Paulo")
    assert (syn.sample(20, conditions={"day": "2018-11-04"}, seed=0)["day"] == day).all()
    rows = syn.sample(200, conditions={"day": {">=": "2018-11-03", "<=": "2018-11-04"}}, seed=0)
    assert (rows["day"] == day).any() and rows["day"].dt.strftime("%Y-%m-%d").isin(["2018-11-03", "2018-11-04"]).all()


def test_text_without_an_offset_beside_text_with_one_is_read_in_the_others_offset():
    # A time-zone review: three values of four written "+05:30", one without: the written ones
    # became UTC (04:30) and the others stayed 10:00, no zone and no word; 75% of the column
    # moved 5.5 hours. And a note for New York's two offsets named Europe/Paris as their zone.
    values = ["2020-06-01T10:00:00+05:30", "2020-06-02T10:00:00+05:30", "2020-06-03T10:00:00+05:30", "2020-06-04T10:00:00"] * 50
    frame = pd.DataFrame({"t": values, "y": np.arange(200.0) % 7})
    column = infer_schema(frame)["t"]
    assert column.timezone == "+05:30" and "50 values that write no offset read as clock times of +05:30" in column.description
    assert (str(column.min), str(column.max)) == ("2020-06-01 10:00:00", "2020-06-04 10:00:00")
    out = Synthesizer(epochs=2, seed=0).fit(frame).sample(200, seed=1)["t"]
    assert set(out.dt.strftime("%H:%M%z")) == {"10:00+0530"}
    several = pd.DataFrame({"t": ["2013-01-05T10:00:00-05:00", "2013-07-05T10:00:00-04:00", "2013-07-06T10:00:00"] * 20})
    column = infer_schema(several)["t"]
    assert column.timezone == "UTC" and "(such as America/New_York)" in column.description
    assert "20 values that write no offset read as UTC clock times" in column.description


def test_impute_of_naive_clock_times_of_a_zone_fills_no_time_its_clocks_skip():
    # A time-zone review: naive New York clock times (schema timezone America/New_York) had 71
    # of 120 filled cells in 02:00-02:59 on 2013-03-10, which do not exist there (tz_localize
    # refused them); sample moved such times past the gap, impute did not.
    rng = np.random.default_rng(0)
    times = pd.date_range("2013-03-10 00:00", "2013-03-10 06:00", freq="10min")
    times = times[(times.hour != 2)]
    frame = pd.DataFrame({"ts": rng.choice(times, 600), "y": rng.normal(size=600).round(3)})
    document = infer_schema(frame).to_dict()
    document["columns"][0].update(timezone="America/New_York")
    document["columns"][0].pop("min"), document["columns"][0].pop("max")
    syn = Synthesizer(schema=Schema.from_dict(document), epochs=3, seed=0).fit(frame)
    holes = frame.copy()
    holes.loc[::3, "ts"] = pd.NaT
    for method in ("mean", "draw"):
        out = syn.impute(holes, method=method, seed=0)["ts"]
        assert out.dtype == frame["ts"].dtype and out.notna().all()
        out.dt.tz_localize("America/New_York", nonexistent="raise")  # every one exists there
        kept = holes["ts"].notna()
        assert out[kept].equals(frame["ts"][kept])


def test_offsets_with_seconds_that_write_table_writes_are_read_back(tmp_path):
    # New York kept its local mean time (-04:56:02) until 1883: write_table wrote such offsets to
    # CSV, and they read back as unique text (an id); under the frame's schema, conform refused them.
    utc = pd.Series(pd.date_range("1875-01-01", periods=40, freq="7h", tz="UTC"))
    frame = pd.DataFrame({"t": utc.dt.tz_convert("America/New_York"), "y": np.arange(40) % 5 + 0.5})
    path = tmp_path / "old.csv"
    write_table(frame, path)
    assert "-04:56" in path.read_text()  # -04:56:02 under pandas 3 (zoneinfo); pandas 2.2's pytz rounds it to minutes
    text = read_table(path)
    inferred = infer_schema(text)
    column = inferred["t"]  # UTC; pandas 2.2's "-04:56", one offset in every value, is taken as the column's zone
    assert column.kind is ColumnKind.DATETIME and column.timezone in (None, "-04:56")
    assert (conform(text, inferred, str(path))["t"] == wall_times(utc, column.timezone)).all()
    schema = infer_schema(frame)
    assert (conform(text, schema, str(path))["t"] == conform(frame, schema, "frame")["t"]).all()
    plain = Schema((Column("t", ColumnKind.DATETIME),))
    assert conform(pd.DataFrame({"t": ["2021-06-01T12:00:00+05:30:15"]}), plain, "data")["t"].tolist() == [pd.Timestamp("2021-06-01 06:29:45")]


def test_summer_time_abbreviations_are_read_as_their_offsets(tmp_path):
    # New York's times written with %Z: EST read, EDT (the summer's) left the column categories.
    local = pd.Series(pd.date_range("2013-01-05", periods=400, freq="23h", tz="America/New_York"))
    frame = pd.DataFrame({"t": local.dt.strftime("%Y-%m-%d %H:%M:%S %Z"), "y": np.arange(400.0)})
    assert set(frame["t"].str[-3:]) == {"EST", "EDT"}
    schema = infer_schema(frame)
    column = schema["t"]
    assert column.kind is ColumnKind.DATETIME and "EDT read as -04:00" in column.description
    assert (conform(frame, schema, "data")["t"] == wall_times(local.dt.tz_convert("UTC"))).all()
    summer = pd.DataFrame({"t": ["2013-07-01 12:00:00 CEST", "2013-07-01 12:00:00 BST", "2013-07-01 12:00:00 AEST"], "y": 0.0})
    assert conform(summer, schema, "data")["t"].tolist() == [
        pd.Timestamp("2013-07-01 10:00"), pd.Timestamp("2013-07-01 11:00"), pd.Timestamp("2013-07-01 02:00")]


def test_offsets_with_seconds_and_abbreviations_are_read_whatever_the_index():
    # A fuzz case: a frame whose rows share one index label failed with pandas' InvalidIndexError
    # where offsets with seconds were read (values were put back by label).
    text = ["1874-12-31 19:03:58-04:56:02", "1875-01-01 19:03:58-04:56:02"] * 15
    frame = pd.DataFrame({"t": text, "y": np.arange(30.0)}, index=[0] * 30)
    schema = infer_schema(frame)
    assert conform(frame, schema, "data")["t"].iloc[:2].tolist() == [pd.Timestamp("1875-01-01"), pd.Timestamp("1875-01-02")]
    named = pd.DataFrame({"t": ["2013-07-01 12:00:00 EDT", "2013-01-01 12:00:00 EST"] * 15, "y": np.arange(30.0)}, index=[7] * 30)
    schema = infer_schema(named)
    assert conform(named, schema, "data")["t"].iloc[:2].tolist() == [pd.Timestamp("2013-07-01 16:00"), pd.Timestamp("2013-01-01 17:00")]
