"""Datetime columns learned as their calendar parts (``Synthesizer(datetime_encoding="calendar")``,
and the default):
the parts round-trip exactly, sampled dates stay on the column's grid and in the training range,
conditions on the date hold, model files keep the encoding, imputation fills dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from synthvae import Synthesizer, infer_schema
from synthvae.constraints.plan import ConstraintPlan
from synthvae.errors import ParameterError
from synthvae.validation import conform


def _stamps(n: int, seed: int = 0, unit: str = "ms") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-03-01 23:59:21")
    offsets = pd.to_timedelta(rng.integers(0, 365 * 86_400_000, n), unit="ms")
    stamps = (start + offsets).floor(unit)
    return pd.DataFrame({"when": stamps, "x": rng.normal(size=n) + stamps.month.to_numpy() / 3})


@pytest.fixture(scope="module")
def weather_calendar(weather):
    return Synthesizer(datetime_encoding="calendar", epochs=20, seed=0).fit(weather)


@pytest.fixture(scope="module")
def weather_own(weather_calendar):
    """The calendar model's own unconditional rows."""
    return weather_calendar.sample(1_000_000, seed=11)


def test_the_parts_round_trip_exactly():
    frame = _stamps(3000)
    frame.loc[::7, "when"] = pd.NaT
    schema = infer_schema(frame)
    plan = ConstraintPlan(schema, calendar=True).fit(conform(frame, schema))
    conformed = conform(frame, schema)
    model = plan.forward(conformed)
    assert [c.name for c in plan.model_schema_][:5] == ["when~year", "when~cos", "when~sin", "when~weekday", "when~time"]
    radius = np.hypot(model["when~cos"], model["when~sin"]).dropna()
    assert np.allclose(radius, 1.0) and model["when~time"].dropna().between(0, 86_400_000 - 1).all()
    back = plan.reverse(model)
    pd.testing.assert_series_equal(back["when"].reset_index(drop=True), conformed["when"].reset_index(drop=True),
                                   check_names=False, check_dtype=False)


def test_sampled_dates_stay_on_the_grid_and_in_the_training_range():
    frame = _stamps(1500)
    syn = Synthesizer(datetime_encoding="calendar", epochs=10, seed=0).fit(frame)
    rows = syn.sample(2000, seed=1)
    ns = rows["when"].astype("datetime64[ns]").astype("int64")
    assert (ns % 1_000_000 == 0).all()  # milliseconds: no float drift to nanoseconds
    assert rows["when"].min() >= frame["when"].min() and rows["when"].max() <= frame["when"].max()
    # Compositions beyond the range are drawn again, not clipped: no pile on the first instant.
    assert (rows["when"] == frame["when"].min()).sum() <= 2
    assert rows["when"].nunique() > 1900


def test_seasons_follow_the_month(weather, weather_calendar):
    rows = weather_calendar.sample(4000, seed=2)
    month = rows["date"].dt.month
    summer, winter = rows.loc[month.isin([7, 8]), "temp_max"].mean(), rows.loc[month.isin([12, 1]), "temp_max"].mean()
    real = pd.to_datetime(weather["date"]).dt.month
    assert summer - winter > 0.6 * (weather.loc[real.isin([7, 8]), "temp_max"].mean() - weather.loc[real.isin([12, 1]), "temp_max"].mean())


def test_month_ends_keep_their_share():
    # As a day of the month (1-31, or its place in the month) the last days were the part's
    # extreme, drawn at half their share or less by a short fit (0.016 against 0.035).
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"day": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, 2000), unit="D"),
                          "x": rng.normal(size=2000)})
    rows = Synthesizer(datetime_encoding="calendar", epochs=10, seed=0).fit(frame).sample(5000, seed=1)
    real = frame["day"].dt.is_month_end.mean()
    assert abs(rows["day"].dt.is_month_end.mean() - real) < 0.4 * real
    assert abs(rows["day"].dt.month.eq(1).mean() - 1 / 12) < 0.03 and abs(rows["day"].dt.month.eq(12).mean() - 1 / 12) < 0.03


def test_conditions_on_the_date_hold(weather_calendar):
    one = weather_calendar.sample(200, conditions={"date": "2014-06-03"}, seed=3)
    assert (one["date"] == pd.Timestamp("2014-06-03")).all()
    july = weather_calendar.sample(300, conditions=["date>=2015-07-01", "date<=2015-07-31"], seed=3)
    assert july["date"].between("2015-07-01", "2015-07-31").all() and july["date"].nunique() > 10
    early = weather_calendar.sample(100, conditions=["date<2012-01-05"], seed=3)
    assert (early["date"] < pd.Timestamp("2012-01-05")).all()
    winter = weather_calendar.sample(100, conditions=["date>=2014-12-20", "date<=2015-01-10"], seed=3)
    assert winter["date"].between("2014-12-20", "2015-01-10").all()
    two = weather_calendar.sample(100, conditions={"date": ["2013-02-03", "2014-08-09"]}, seed=3)
    assert set(two["date"]) == {pd.Timestamp("2013-02-03"), pd.Timestamp("2014-08-09")}
    with pytest.raises(ParameterError):
        weather_calendar.sample(10, conditions={"date": "2030-01-01"})  # beyond the schema's bounds


def test_the_model_file_keeps_the_encoding(weather_calendar, tmp_path):
    path = weather_calendar.save(tmp_path / "w.synthvae")
    loaded = Synthesizer.load(path)
    assert loaded.datetime_encoding == "calendar" and "date~sin" in loaded.preprocessor_.schema.names
    pd.testing.assert_frame_equal(loaded.sample(500, seed=4), weather_calendar.sample(500, seed=4))


def test_a_timestamp_model_file_stays_a_timestamp_one(weather, tmp_path):
    syn = Synthesizer(datetime_encoding="timestamp", epochs=2, seed=0).fit(weather)
    assert "date" in syn.preprocessor_.schema.names
    loaded = Synthesizer.load(syn.save(tmp_path / "t.synthvae"))
    assert loaded.datetime_encoding == "timestamp" and "date" in loaded.preprocessor_.schema.names
    pd.testing.assert_frame_equal(loaded.sample(300, seed=1), syn.sample(300, seed=1))


def test_the_default_learns_days_and_finer_units_as_parts(weather, tmp_path):
    syn = Synthesizer(epochs=2, seed=0).fit(weather)
    assert syn.datetime_encoding == "auto" and "date~year" in syn.preprocessor_.schema.names
    # The default is not written: a release without the parameter refused the file.
    from synthvae.modelfile import load_model_file

    assert "datetime_encoding" not in load_model_file(syn.save(tmp_path / "a.synthvae"))[1]["params"]
    loaded = Synthesizer.load(tmp_path / "a.synthvae")
    assert loaded.datetime_encoding == "auto" and "date~year" in loaded.preprocessor_.schema.names
    stamps = Synthesizer(epochs=2, seed=0).fit(_stamps(500, unit="h"))
    assert {"when~year", "when~time"} <= set(stamps.preprocessor_.schema.names)


def test_the_default_keeps_the_hours_of_the_day_of_finer_units():
    # Shop hours: every time between 09:00 and 17:59, over a year. As one timestamp (the
    # default before 2026-12-07) the model knew no time of day: 63% of sampled times fell
    # outside the shop's hours. As parts the time of day is learned.
    rng = np.random.default_rng(0)
    n = 3000
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    stamps = days + pd.to_timedelta(rng.integers(9 * 60, 18 * 60, n), unit="min")
    frame = pd.DataFrame({"when": stamps, "amount": rng.gamma(2.0, 20.0, n).round(2)})
    rows = Synthesizer(epochs=20, seed=0).fit(frame).sample(3000, seed=1)
    assert rows["when"].dt.hour.between(9, 17).mean() > 0.95


def _monthly(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = rng.integers(1, 13, n)
    dates = pd.to_datetime({"year": rng.integers(2010, 2020, n), "month": months, "day": 1})
    return pd.DataFrame({"date": dates, "x": rng.normal(size=n) + months / 3, "c": rng.choice(["a", "b"], n)})


@pytest.fixture(scope="module")
def monthly():
    frame = _monthly()
    return frame, Synthesizer(epochs=20, seed=0).fit(frame)


def test_few_days_of_the_year_are_kept_exactly(monthly):
    # As an angle, dates that were all a month's first came back 48% on the 1st (the
    # timestamp 82%), and the timestamp lost the month's relation to x (correlation 0.10
    # against 0.76): the day of the year is a category when the rows hold few of them.
    frame, syn = monthly
    assert "date~day" in syn.preprocessor_.schema.names and "date~cos" not in syn.preprocessor_.schema.names
    rows = syn.sample(5000, seed=1)
    assert (rows["date"].dt.day == 1).all()
    shares = rows["date"].dt.month.value_counts(normalize=True)
    assert len(shares) == 12 and (shares - 1 / 12).abs().max() < 0.03
    real = np.corrcoef(frame["date"].dt.month, frame["x"])[0, 1]
    assert abs(np.corrcoef(rows["date"].dt.month, rows["x"])[0, 1] - real) < 0.1


def test_conditions_on_few_days_hold_or_say_which_days_there_are(monthly):
    _, syn = monthly
    two = syn.sample(200, conditions={"date": ["2012-03-01", "2017-11-01"]}, seed=2)
    assert set(two["date"]) == {pd.Timestamp("2012-03-01"), pd.Timestamp("2017-11-01")}
    spring = syn.sample(300, conditions=["date>=2015-03-01", "date<=2015-06-30"], seed=2)
    assert set(spring["date"]) == {pd.Timestamp(f"2015-0{m}-01") for m in (3, 4, 5, 6)}
    with pytest.raises(ParameterError, match="fall only on the days.*01-01"):
        syn.sample(10, conditions={"date": "2015-03-15"})
    with pytest.raises(ParameterError, match="fall only on the days"):
        syn.sample(10, conditions=["date>=2015-03-02", "date<=2015-03-20"])


def test_few_days_survive_the_model_file_impute_and_encode(monthly, tmp_path):
    frame, syn = monthly
    loaded = Synthesizer.load(syn.save(tmp_path / "m.synthvae"))
    assert "date~day" in loaded.preprocessor_.schema.names
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), syn.sample(300, seed=4), check_exact=True)
    holed = frame.head(100).copy()
    holed.loc[::2, "date"] = pd.NaT
    filled = syn.impute(holed, seed=0)
    assert filled["date"].notna().all() and (pd.to_datetime(filled["date"]).dt.day == 1).all()
    # A day the training rows never held is encoded as the nearest one they did.
    odd = frame.head(3).copy()
    odd.loc[0, "date"] = pd.Timestamp("2015-03-15")
    assert syn.encode(odd).shape == (3, syn.model_.config.latent_dim)


def test_impute_fills_dates_within_the_range(weather, weather_calendar):
    holed = weather.head(60).copy()
    holed.loc[::3, "date"] = None
    holed.loc[1::3, "temp_max"] = None
    filled = weather_calendar.impute(holed, seed=0)
    assert filled.notna().all().all()
    kept = holed["date"].notna()
    assert (pd.to_datetime(filled.loc[kept, "date"]) == pd.to_datetime(holed.loc[kept, "date"])).all()
    dates = pd.to_datetime(filled["date"])
    assert dates.min() >= pd.Timestamp("2012-01-01") and dates.max() <= pd.Timestamp("2015-12-31")


def test_a_unique_date_keeps_the_timestamp(weather):
    schema = infer_schema(weather).to_dict()
    schema["constraints"] = [{"kind": "unique", "columns": ["date"]}]
    from synthvae import Schema

    plan = ConstraintPlan(Schema.from_dict(schema), calendar=True).fit(conform(weather, Schema.from_dict(schema)))
    assert plan.calendar == () and "date" in plan.model_schema_.names


def test_datetime_encoding_is_checked():
    with pytest.raises(ParameterError, match="datetime_encoding must be"):
        Synthesizer(datetime_encoding="parts").fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_a_file_of_a_default_fit_before_auto_reloads_as_the_timestamp(tmp_path):
    # Before "auto" a default fit wrote no encoding and meant the timestamp: loaded as "auto",
    # a refit of the loaded model's parameters learned the dates as parts.
    from synthvae.modelfile import load_model_file, save_model_file

    frame = _stamps(300, unit="D")
    path = Synthesizer(datetime_encoding="timestamp", epochs=1, seed=0).fit(frame).save(tmp_path / "t.synthvae")
    tensors, payload = load_model_file(path)
    del payload["params"]["datetime_encoding"]  # as the previous release wrote a default fit
    save_model_file(tmp_path / "old.synthvae", tensors, payload)
    assert Synthesizer.load(tmp_path / "old.synthvae").datetime_encoding == "timestamp"


def test_dates_are_drawn_given_their_parts_and_dates_across_a_years_end_hold(weather_calendar, caplog):
    # A box of one day of the circle kept one draw in 30 (34 s for 20,000 rows); Dec 30 and
    # Jan 2 were an arc of the whole circle (failed at 3,612 of 20,000 rows).
    one = weather_calendar.sample(5000, conditions={"date": "2014-06-03"}, seed=5)
    assert (one["date"] == pd.Timestamp("2014-06-03")).all()
    with caplog.at_level("WARNING", logger="synthvae"):
        ends = weather_calendar.sample(1000, conditions={"date": ["2013-12-30", "2014-01-02"]}, seed=5)
    assert set(ends["date"]) == {pd.Timestamp("2013-12-30"), pd.Timestamp("2014-01-02")}
    # Each row is drawn given its one date. The pilot that measures the dates' shares draws
    # within their bounds (the years, an arc across New Year) and missed 543 of 3,072 values:
    # its warning ("could not be drawn ... unlike any real one") was of rows never returned.
    assert "could not be drawn" not in caplog.text
    apart = weather_calendar.sample(1000, conditions={"date": ["2013-02-03", "2014-08-09"]}, seed=5)
    assert set(apart["date"]) == {pd.Timestamp("2013-02-03"), pd.Timestamp("2014-08-09")}
    new_year = weather_calendar.sample(1000, conditions=["date>=2013-12-20", "date<=2014-01-10"], seed=5)
    assert new_year["date"].between("2013-12-20", "2014-01-10").all() and new_year["date"].nunique() > 10


def test_dates_far_apart_are_drawn_one_date_at_a_time(weather_calendar):
    # Two dates three years and five months apart only bound the years and half the circle:
    # 7,149 of 1.47 million draws rebuilt one of them, and 20,000 rows failed.
    dates = [pd.Timestamp("2012-01-01"), pd.Timestamp("2015-06-01")]
    wanted = {"date": ["2012-01-01", "2015-06-01"]}
    rows = weather_calendar.sample(20_000, conditions=wanted, seed=0)
    counts = rows["date"].value_counts()
    assert set(counts.index) == set(dates) and counts.min() > 5000
    # Each date's rows are the model's given that date alone: its season, not the other's (one
    # date's weighted pool of 10,000 rows has a mean temp_max from 3.5 to 5.5 by the seed).
    june = weather_calendar.sample(10_000, conditions={"date": "2015-06-01"}, seed=1)["temp_max"]
    january = weather_calendar.sample(10_000, conditions={"date": "2012-01-01"}, seed=1)["temp_max"]
    drawn = rows.groupby("date")["temp_max"].mean()
    assert abs(drawn[dates[1]] - june.mean()) < 2 and abs(drawn[dates[0]] - january.mean()) < 2
    assert june.mean() - january.mean() > 10
    # Rows in random order; same seed, same rows; shards drawn apart are the whole sample.
    assert rows["date"].iloc[:100].nunique() == 2
    whole = weather_calendar.sample(3000, conditions=wanted, seed=4, batch_size=1000)
    pd.testing.assert_frame_equal(weather_calendar.sample(3000, conditions=wanted, seed=4, batch_size=1000), whole)
    shards = [frame for i in (1, 0) for frame in weather_calendar.iter_sample(3000, conditions=wanted, seed=4, batch_size=1000, shard=(i, 2))]
    pd.testing.assert_frame_equal(pd.concat(shards).sort_index(), whole)
    rainy = weather_calendar.sample(500, conditions={**wanted, "weather": "rain"}, seed=0)
    assert set(rainy["date"]) <= set(dates) and (rainy["weather"] == "rain").all()


def test_a_set_of_dates_gets_each_date_in_the_models_own_share(weather_calendar, weather_own):
    # Each date's share is the model's probability of it. By the parts each date pins alone
    # (a box around the day's point on the circle, and its own weekday) the first training
    # date came out 0.52 against 0.36 among the model's own rows: the model also rebuilds a
    # date from points off the circle and from days up to three away moved to its weekday.
    for dates, extra in ((["2012-01-01", "2015-06-01"], {}),
                         (["2012-01-10", "2012-07-10", "2013-02-10"], {"weather": "sun"}),
                         (["2012-07-04", "2013-01-15", "2014-03-03", "2015-10-10"], {})):
        drawn = weather_calendar.sample(20_000, conditions={"date": dates, **extra}, seed=0)
        mine = weather_own[weather_own["date"].isin(pd.to_datetime(dates))]
        for column, value in extra.items():
            mine = mine[mine[column] == value]
            assert (drawn[column] == value).all()
        assert len(mine) > 500
        shares = drawn["date"].value_counts(normalize=True)
        own = mine["date"].value_counts(normalize=True)
        assert set(shares.index) == set(pd.to_datetime(dates))
        assert (shares - own).abs().max() < 0.06, (dates, shares.round(3).to_dict(), own.round(3).to_dict())


def test_a_set_of_exact_times_is_drawn_one_time_at_a_time(caplog):
    # Two minutes of one day only bound the day's arc and the time of day: counting the
    # model's rows given those bounds that rebuilt one of them took 116 s for 100 rows (131,072
    # draws, each value drawn first), and their shares came from those rough draws.
    rng = np.random.default_rng(0)
    n = 2000
    day = pd.Timestamp("2023-01-02") + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    shop = rng.random(n) < 0.6  # shops open 9:00-19:00, the web all day
    hour = np.where(shop, rng.integers(9, 19, n), rng.integers(0, 24, n))
    frame = pd.DataFrame({"ts": (day + pd.to_timedelta(hour * 60 + rng.integers(0, 60, n), unit="min")).astype("datetime64[s]"),
                          "channel": np.where(shop, "shop", "web"), "amount": np.round(rng.gamma(2, 12, n), 2)})
    syn = Synthesizer(epochs=10, seed=0).fit(frame)
    times = [pd.Timestamp("2023-03-15 03:05"), pd.Timestamp("2023-03-15 10:05")]
    rows = syn.sample(400, conditions={"ts": [str(t) for t in times]}, seed=2)
    assert set(rows["ts"]) == set(times)
    # Each time's rows are the model's given that time alone: the night's mostly web.
    for t in times:
        alone = syn.sample(400, conditions={"ts": str(t)}, seed=3)
        assert abs((rows.loc[rows["ts"] == t, "channel"] == "shop").mean() - (alone["channel"] == "shop").mean()) < 0.15
    night = rows.loc[rows["ts"] == times[0], "channel"]
    assert (night == "web").mean() > 0.7
    pd.testing.assert_frame_equal(syn.sample(400, conditions={"ts": [str(t) for t in times]}, seed=2), rows)
    # 40 consecutive minutes are their range: as a set they only bounded each part, and 141 of
    # 882 values "could not be drawn given the other conditions" (there were none) and were
    # drawn alone, unlike any real row.
    minutes = [pd.Timestamp("2023-03-15 10:00") + pd.Timedelta(minutes=i) for i in range(40)]
    with caplog.at_level("WARNING", logger="synthvae"):
        run = syn.sample(100, conditions={"ts": [str(t) for t in minutes]}, seed=3)
    assert run["ts"].isin(minutes).all() and run["ts"].nunique() > 20
    assert "could not be drawn" not in caplog.text


@pytest.mark.parametrize("encoding", ["calendar", "timestamp"])
def test_encode_says_when_times_lie_between_the_columns_units(encoding, caplog):
    # 10:30 in a column of whole hours was embedded as 10:00 without a word (a user review).
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 24 * 200, 600), unit="h"),
                          "x": rng.normal(size=600)})
    syn = Synthesizer(epochs=2, seed=0, datetime_encoding=encoding).fit(frame)
    with caplog.at_level("WARNING", logger="synthvae"):
        syn.encode(frame.head(5))
    assert "lie between" not in caplog.text
    late = frame.head(5).assign(t=lambda f: f["t"] + pd.Timedelta(minutes=30))
    with caplog.at_level("WARNING", logger="synthvae"):
        syn.encode(late)
    assert "5 values of datetime column 't'" in caplog.text and "whole hours" in caplog.text


def test_imputed_means_of_times_of_day_go_round_midnight():
    # A night shift's events from 22:00 to 02:00: the mean of draws of the time of day as a
    # number filled them at 11:00 to 12:59, a time no row holds.
    rng = np.random.default_rng(0)
    n = 2000
    days = pd.DatetimeIndex(rng.choice(pd.date_range("2023-01-01", "2023-06-30", freq="D"), n))
    frame = pd.DataFrame({"ts": days + pd.Timedelta(hours=22) + pd.to_timedelta(rng.integers(0, 240, n), "min"),
                          "load": np.round(rng.normal(50, 5, n), 1)})
    syn = Synthesizer(epochs=20, seed=0).fit(frame)
    holes = frame.iloc[:300].copy()
    holes.loc[holes.index[::2], "ts"] = pd.NaT
    for method in ("mean", "expectation"):
        filled = syn.impute(holes, method=method, seed=0)["ts"][holes["ts"].isna()]
        assert filled.notna().all()
        assert filled.dt.hour.isin([22, 23, 0, 1]).all(), (method, filled.dt.hour.value_counts().to_dict())
        pd.testing.assert_series_equal(syn.impute(holes, method=method, seed=0)["ts"], syn.impute(holes, method=method, seed=0)["ts"])


def test_a_date_at_a_waves_end_is_drawn_as_the_model_draws_it(weather_calendar, weather_own):
    # January 1st's cosine is the training rows' greatest, far out in the quantile transform's
    # tail: drawn given that point, the rows of 2012-01-01 were 88% drizzle where the model's own
    # rows on that date are 68% rain (default fit). Its parts now stand for the day's arc.
    own = weather_own
    for day in ("2012-01-01", "2014-07-02"):
        mine = own[own["date"] == pd.Timestamp(day)]
        drawn = weather_calendar.sample(3000, conditions={"date": day}, seed=0)
        assert len(mine) > 300
        for column in ("temp_max", "precipitation", "wind"):
            assert ks_2samp(mine[column], drawn[column]).statistic < 0.15, (day, column)
        shares = mine["weather"].value_counts(normalize=True).sub(drawn["weather"].value_counts(normalize=True), fill_value=0)
        assert shares.abs().sum() / 2 < 0.15, day


def test_one_date_of_a_timestamp_column_and_an_integer_value_are_drawn(weather):
    # The interval a pinned value stands for is a number's: a timestamp's exact date crashed
    # ("float() argument must be ... not 'Timestamp'") when it was taken for one.
    syn = Synthesizer(datetime_encoding="timestamp", epochs=5, seed=0).fit(weather)
    rows = syn.sample(50, conditions={"date": "2013-05-01", "weather": "rain"}, seed=0)
    assert (rows["date"] == pd.Timestamp("2013-05-01")).all() and (rows["weather"] == "rain").all()
    counts = pd.DataFrame({"n": np.arange(600) % 7, "x": np.random.default_rng(0).normal(size=600)})
    drawn = Synthesizer(epochs=5, seed=0).fit(counts).sample(40, conditions={"n": 6}, seed=0)
    assert (drawn["n"] == 6).all()


def test_few_dates_of_a_small_table_are_not_categories():
    # 40 rows of random days are 38 days of the year, not a monthly pattern: as categories every
    # sampled date fell on a training day and other dates were refused as conditions.
    frame = _stamps(40, unit="D")
    syn = Synthesizer(epochs=2, seed=0).fit(frame)
    assert "when~cos" in syn.preprocessor_.schema.names
    assert len(syn.sample(10, conditions={"when": "2021-07-04"}, seed=0)) == 10


def test_month_ends_keep_february_by_the_year(tmp_path):
    # The year and the day are drawn apart: as separate categories, 65 of 397 February rows
    # were the 28th of a leap year.
    rng = np.random.default_rng(0)
    n = 3000
    ends = pd.to_datetime({"year": rng.integers(2000, 2020, n), "month": rng.integers(1, 13, n), "day": 1}) + pd.offsets.MonthEnd(0)
    frame = pd.DataFrame({"date": ends, "x": rng.normal(size=n)})
    rows = Synthesizer(epochs=10, seed=0).fit(frame).sample(4000, seed=1)
    assert rows["date"].dt.is_month_end.all()


def test_null_dates_leave_no_mode_on_january_first(weather):
    # A null date's parts were January 1st's (cos 1, sin 0), which the model put back on dates:
    # with every 10th date null, 1.14% of sampled dates on January 1st against 0.23% real.
    holed = weather.copy()
    holed.loc[::10, "date"] = None
    rows = Synthesizer(epochs=20, seed=0).fit(holed).sample(20_000, seed=1)
    dates = rows["date"].dropna()
    assert 0.05 < rows["date"].isna().mean() < 0.15
    assert ((dates.dt.month == 1) & (dates.dt.day == 1)).mean() < 0.006


def test_a_date_condition_is_read_in_the_columns_format():
    # "03/02/2013" under "%d/%m/%Y" is February 3rd; it was read as March 2nd.
    from synthvae import Schema

    frame = pd.DataFrame({"when": pd.date_range("2013-01-01", periods=400, freq="D").strftime("%d/%m/%Y"),
                          "x": np.arange(400.0)})
    schema = infer_schema(frame).to_dict()
    schema["columns"][0]["format"] = "%d/%m/%Y"
    syn = Synthesizer(schema=Schema.from_dict(schema), epochs=2, seed=0).fit(frame)
    rows = syn.sample(20, conditions={"when": "03/02/2013"}, seed=0)
    assert (pd.to_datetime(rows["when"], format="%d/%m/%Y") == pd.Timestamp("2013-02-03")).all()


def test_date_text_other_than_the_format_or_iso_is_refused(weather_calendar):
    # Guessed value by value: "01/02/2013" was January 2nd and "13/02/2013" February 13th, so the
    # range held 43 days instead of 13 (review).
    with pytest.raises(ParameterError, match=r"'01/02/2013' is not a date or time in the column's format '%Y-%m-%d' \(e.g. 2013-02-01\)"):
        weather_calendar.sample(10, conditions=["date>=01/02/2013", "date<=13/02/2013"])
    rows = weather_calendar.sample(50, conditions=["date>=2013-02-01", "date<=2013-02-13T00:00:00"], seed=0)
    assert rows["date"].between("2013-02-01", "2013-02-13").all()
    # A column without a format: "in the column's format None or ISO 8601" (a user review).
    frame = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=60, freq="D"), "x": np.arange(60.0)})
    plain = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, conditional=False).fit(frame)
    assert plain.schema_["t"].format is None
    with pytest.raises(ParameterError, match=r"'31/01/2020' is not a date or time in ISO 8601 \(2013-02-01, 2013-02-01 09:30\); write it so$"):
        plain.sample(5, conditions={"t": "31/01/2020"})


def test_a_time_of_day_on_a_column_of_days_is_refused_at_once(weather_calendar):
    # It was drawn for, 98,000 rows, then refused as a value the model rarely generates.
    with pytest.raises(ParameterError, match="whole units of 'D'"):
        weather_calendar.sample(10, conditions={"date": "2014-06-03 12:00"})
    # So is a set holding one, as the timestamp encoding, numbers off their grid and unknown
    # categories are (it was dropped from the set without a word).
    with pytest.raises(ParameterError, match=r"whole units of 'D' .* and \['2014-06-03 12:00:00'\] is not"):
        weather_calendar.sample(50, conditions={"date": ["2014-06-03 12:00", "2014-06-04"]}, seed=0)


def test_a_range_of_one_day_is_that_day(weather_calendar):
    # As a range it took 19.5 s for 20,000 rows (614,000 draws), as the date 0.1 s.
    rows = weather_calendar.sample(5000, conditions=["date>=2014-06-03", "date<2014-06-04"], seed=0)
    assert (rows["date"] == pd.Timestamp("2014-06-03")).all()
    assert weather_calendar.last_resampling_["drawn"] < 10_000
    with pytest.raises(ParameterError):
        weather_calendar.sample(5, conditions=["date>2014-06-03", "date<2014-06-04"])



def _business_days(n: int = 2000, seed: int = 1, weekend_share: float = 0.0) -> pd.DataFrame:
    """Dates of business days (Monday to Friday), with a weekend share beside them, and an amount
    that is larger on Mondays and follows the season."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-03", "2023-12-29", freq="D")
    weights = np.where(days.day_of_week < 5, 1.0, weekend_share * 5 / 2 / max(1e-9, 1 - weekend_share))
    dates = pd.DatetimeIndex(rng.choice(days, n, p=weights / weights.sum()))
    amount = np.round(rng.lognormal(3, 0.3, n) + 10 * (dates.day_of_week == 0) + 5 * np.cos(2 * np.pi * dates.day_of_year / 365), 2)
    return pd.DataFrame({"date": dates, "amount": amount})


@pytest.fixture(scope="module")
def business():
    frame = _business_days()
    return frame, Synthesizer(epochs=20, seed=0).fit(frame)


def test_business_days_come_back_as_business_days(business):
    # The day of the year's angle knows no week: 21.6% of the sampled dates fell on a weekend
    # (none in the data), 22% of them dates the data never held (a user review).
    frame, syn = business
    assert "date~weekday" in syn.preprocessor_.schema.names
    rows = syn.sample(3000, seed=1)
    assert (rows["date"].dt.day_of_week < 5).all()
    assert rows["date"].isin(set(frame["date"])).mean() > 0.97
    shares = rows["date"].dt.day_of_week.value_counts(normalize=True).sort_index()
    real = frame["date"].dt.day_of_week.value_counts(normalize=True).sort_index()
    assert (shares - real).abs().max() < 0.04
    # The weekday's own relation to the other columns is learned: Mondays are dearer.
    monday = rows["date"].dt.day_of_week == 0
    assert rows["amount"][monday].mean() > rows["amount"][~monday].mean() + 5
    # The season still places the dates (a drawn date moves at most three days to its weekday).
    assert ks_2samp(rows["date"].dt.day_of_year, frame["date"].dt.day_of_year).statistic < 0.05


def test_a_few_weekend_days_keep_their_share():
    frame = _business_days(weekend_share=0.03, seed=2)
    rows = Synthesizer(epochs=20, seed=0).fit(frame).sample(4000, seed=1)
    assert abs((rows["date"].dt.day_of_week >= 5).mean() - (frame["date"].dt.day_of_week >= 5).mean()) < 0.015


def test_a_weekday_effect_among_evenly_spread_dates_is_learned():
    # Amounts 10 larger on Mondays came back 0.5 larger: the day of the year knows no week.
    rng = np.random.default_rng(3)
    days = pd.DatetimeIndex(rng.choice(pd.date_range("2022-01-01", "2023-12-31"), 2000))
    frame = pd.DataFrame({"date": days, "amount": np.round(rng.normal(20, 3, 2000) + 10 * (days.day_of_week == 0), 2)})
    rows = Synthesizer(epochs=20, seed=0).fit(frame).sample(3000, seed=1)
    monday = rows["date"].dt.day_of_week == 0
    assert abs(monday.mean() - 1 / 7) < 0.03
    assert rows["amount"][monday].mean() > rows["amount"][~monday].mean() + 7


def test_a_small_table_learns_no_weekday():
    frame = _business_days(n=60)
    syn = Synthesizer(epochs=2, seed=0).fit(frame)
    assert "date~weekday" not in syn.preprocessor_.schema.names and "date~cos" in syn.preprocessor_.schema.names


def test_conditions_on_business_days_hold_or_name_the_weekdays(business, tmp_path):
    frame, syn = business
    one = syn.sample(100, conditions={"date": "2023-03-15"}, seed=2)
    assert (one["date"] == pd.Timestamp("2023-03-15")).all()
    week = syn.sample(300, conditions=["date>=2023-03-10", "date<=2023-03-14"], seed=2)  # Friday to Tuesday
    assert set(week["date"]) <= {pd.Timestamp(d) for d in ("2023-03-10", "2023-03-13", "2023-03-14")}
    assert len(set(week["date"])) == 3
    two = syn.sample(200, conditions={"date": ["2022-06-01", "2023-06-03"]}, seed=2)  # a Wednesday, a Saturday
    assert set(two["date"]) == {pd.Timestamp("2022-06-01")}
    for condition in ({"date": "2023-03-18"}, ["date>=2023-03-18", "date<=2023-03-19"]):
        with pytest.raises(ParameterError, match="fall only on Mon, Tue, Wed, Thu, Fri"):
            syn.sample(10, conditions=condition)
    loaded = Synthesizer.load(syn.save(tmp_path / "b.synthvae"))
    pd.testing.assert_frame_equal(loaded.sample(300, seed=4), syn.sample(300, seed=4), check_exact=True)
    holed = frame.head(60).copy()
    holed.loc[::3, "date"] = pd.NaT
    filled = syn.impute(holed, seed=0)
    assert filled["date"].notna().all() and (filled["date"].dt.day_of_week < 5).all()
    assert syn.encode(frame.head(5)).shape[0] == 5
    # A Saturday among business days encodes as the nearest day held (it was refused as a null
    # in 'date~weekday'), as a day of the year never held does.
    odd = frame.head(5).copy()
    odd.loc[1, "date"] = pd.Timestamp("2023-03-18")
    assert syn.encode(odd).shape[0] == 5 and len(syn.transform(odd)) == 5


def test_the_default_learns_a_span_shorter_than_two_days_as_a_timestamp():
    # Found by the fuzz test once finer units became parts: three times across a midnight that
    # is a year's end (1969-12-31 23:59:59, 1970-01-01 00:00:00) composed 1970 with 23:59, and
    # every sampled row was refused as beyond the range. Within a day the timestamp is the time
    # of day already.
    frame = pd.DataFrame({"a": pd.to_datetime(["1969-12-31 23:59:59", "1969-12-31 23:59:59", "1970-01-01 00:00:00"])})
    syn = Synthesizer(epochs=1, seed=0).fit(frame)
    assert "a" in syn.preprocessor_.schema.names
    assert syn.sample(20, seed=0)["a"].between(frame["a"].min(), frame["a"].max()).all()
    hours = _stamps(400, unit="s")
    hours["when"] = pd.Timestamp("2024-05-03 14:00") + (hours["when"] - hours["when"].min()) / 200
    assert hours["when"].max() - hours["when"].min() < pd.Timedelta(days=2)
    assert "when" in Synthesizer(epochs=1, seed=0).fit(hours).preprocessor_.schema.names
    # Two days or more: parts; given "calendar", parts whatever the span.
    assert "when~year" in Synthesizer(epochs=1, seed=0).fit(_stamps(400, unit="s")).preprocessor_.schema.names
    assert "a~year" in Synthesizer(epochs=1, seed=0, datetime_encoding="calendar").fit(frame).preprocessor_.schema.names


def test_the_default_learns_a_datetime_a_number_follows_as_a_timestamp():
    # Customers numbered in signup order: as parts the number had to trace the year and the
    # day's angle, and did loosely (rank correlation 0.97 against 1.0, detection AUC 0.84).
    rng = np.random.default_rng(0)
    n = 1500
    stamps = pd.Timestamp("2018-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 5 * 365 * 86400, n)), unit="s")
    frame = pd.DataFrame({"ts": stamps, "customer_no": np.arange(n) * 3.0 + rng.integers(0, 3, n), "spend": rng.gamma(2.0, 9.0, n).round(2)})
    syn = Synthesizer(epochs=30, seed=0).fit(frame)
    assert "ts" in syn.preprocessor_.schema.names
    rows = syn.sample(2000, seed=1)
    assert rows["ts"].rank().corr(rows["customer_no"].rank()) > 0.995
    # A number that only trends with the date (rank correlation 0.43) leaves the parts in place.
    frame["spend"] = frame["spend"] + np.arange(n) / 100
    frame = frame.drop(columns="customer_no")
    assert "ts~year" in Synthesizer(epochs=1, seed=0).fit(frame).preprocessor_.schema.names


def test_a_coarse_or_derived_number_beside_the_datetime_leaves_its_parts():
    # A user review: a fiscal year (12 values, rank correlation 0.997) and a year the schema
    # derives from the date made "auto" learn the date as one timestamp, and rows outside shop
    # hours went from 4.8% to 28%.
    rng = np.random.default_rng(0)
    n = 1200
    stamps = pd.Timestamp("2012-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 12 * 365 * 1440, n)), unit="min")
    frame = pd.DataFrame({"ts": stamps, "fiscal_year": (stamps.year + (stamps.month >= 7)).astype(float),
                          "amount": rng.gamma(2.0, 9.0, n).round(2)})
    assert "ts~year" in Synthesizer(epochs=1, seed=0).fit(frame).preprocessor_.schema.names
    frame["year"] = stamps.year
    schema = infer_schema(frame)
    assert any(getattr(rule, "column", None) == "year" for rule in schema.constraints)
    many = frame.assign(fiscal_year=rng.normal(size=n))  # the year alone, derived
    assert "ts~year" in Synthesizer(epochs=1, seed=0).fit(many).preprocessor_.schema.names
