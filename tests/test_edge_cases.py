"""Inputs that real users send: odd labels, offsets, codes read as floats, compressed files..."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import warnings
import zoneinfo
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from synthvae import (
    Column,
    ColumnKind,
    DataError,
    NumericType,
    ParameterError,
    Schema,
    SchemaError,
    SynthVAEError,
    Synthesizer,
    evaluate,
    infer_schema,
    read_table,
    write_table,
)
from synthvae.cli import cli
from synthvae.io import datetime_formats
from synthvae.validation import conform

TINY = dict(epochs=1, hidden_dims=(8,), latent_dim=2)


def test_integer_column_labels():
    frame = pd.DataFrame(np.random.default_rng(0).random((30, 2)))
    out = Synthesizer(**TINY).fit(frame).sample(5, seed=0)
    assert list(out.columns) == ["0", "1"]


def test_mixed_utc_offsets_are_converted_to_utc():
    frame = pd.DataFrame({"t": ["2021-01-01T00:00+01:00", "2021-01-02T00:00+02:00"] * 15})
    schema = infer_schema(frame)
    assert schema["t"].kind is ColumnKind.DATETIME
    data = conform(frame, schema)
    assert data["t"].iloc[0] == pd.Timestamp("2020-12-31 23:00")


def test_schema_bounds_with_an_offset():
    schema = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "min": "2020-01-01T00:00:00Z", "max": "2021-01-01"}]})
    assert schema["t"].min.tzinfo is None
    conform(pd.DataFrame({"t": ["2020-06-01"]}), schema)
    with pytest.raises(DataError, match="below the schema's min"):
        conform(pd.DataFrame({"t": ["2019-06-01"]}), schema)


def test_inferred_format_reads_its_own_data():
    frame = pd.DataFrame({"t": ["2021-03-01", "2021-03-02 10:15"] * 15})
    schema = infer_schema(frame)
    assert conform(frame, schema)["t"].notna().all()


def test_custom_format_survives_a_csv_round_trip(tmp_path):
    frame = pd.DataFrame({"d": [f"{d:02d}/01/2020" for d in range(1, 29)], "x": np.arange(28.0)})
    schema = Schema.from_dict({"columns": [{"name": "d", "kind": "datetime", "format": "%d/%m/%Y", "unit": "D"}, {"name": "x", "kind": "numeric"}]})
    syn = Synthesizer(schema=schema, **TINY).fit(frame)
    write_table(syn.sample(10, seed=0), tmp_path / "s.csv")
    again = conform(read_table(tmp_path / "s.csv"), schema)  # ISO text from our writer is read back
    assert again["d"].notna().all()
    # The schema's format is also the one written ("read and write"): ISO text came out.
    syn.sample_to(tmp_path / "f.csv", 10, seed=0)
    written = pd.read_csv(tmp_path / "f.csv", dtype=str)["d"]
    assert written.str.fullmatch(r"\d{2}/01/2020").all(), written.tolist()
    assert conform(read_table(tmp_path / "f.csv"), schema)["d"].equals(conform(syn.sample(10, seed=0), schema)["d"])


def test_number_like_labels_survive_a_csv_with_their_schema(tmp_path):
    # "1.1" and "1.10" were read from CSV as the number 1.1: one category (and "2.50" refused).
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"version": rng.choice(["1.1", "1.10", "1.2"], 200), "grade": rng.choice(["1", "1.0", "2.50"], 200),
                          "x": rng.normal(size=200)})
    schema = Schema.from_dict({"columns": [{"name": "version", "kind": "categorical", "categories": ["1.1", "1.10", "1.2"]},
                                           {"name": "grade", "kind": "categorical", "categories": ["1", "1.0", "2.50"]},
                                           {"name": "x", "kind": "numeric"}]})
    frame.to_csv(tmp_path / "train.csv", index=False)
    syn = Synthesizer(schema=schema, **TINY).fit(tmp_path / "train.csv")
    assert set(syn.sample(300, seed=0)["version"]) == {"1.1", "1.10", "1.2"}
    holed = frame.head(20).copy()
    holed.loc[[1, 2], "x"] = np.nan
    holed.to_csv(tmp_path / "holed.csv", index=False)
    filled = syn.impute(tmp_path / "holed.csv", seed=0)
    assert filled["version"].astype(str).tolist() == holed["version"].tolist()


def test_whole_number_categories_still_match_their_float_text(tmp_path):
    # Reading every categorical column as text (for "1.10") broke area codes that a column with
    # nulls writes as "408.0": they are read as text only where a label's number reads otherwise.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"area": rng.choice([408, 415, 510], 120).astype(float), "x": rng.normal(size=120)})
    frame.loc[::10, "area"] = np.nan
    frame.to_csv(tmp_path / "a.csv", index=False)
    schema = infer_schema(read_table(tmp_path / "a.csv"))
    assert schema["area"].kind is ColumnKind.CATEGORICAL
    syn = Synthesizer(schema=schema, **TINY).fit(tmp_path / "a.csv")
    assert syn.impute(tmp_path / "a.csv", seed=0)["area"].notna().all()


def test_parquet_writes_keep_numbers_and_category_order(tmp_path):
    # Objects mixing ints and floats stay numbers; an ordered category with text keeps its order.
    frame = pd.DataFrame({"v": pd.Series([1, 2.5, None, 3], dtype=object),
                          "c": pd.Categorical([3, "unknown", 1, 2], categories=[3, 2, 1, "unknown"], ordered=True)})
    write_table(frame, tmp_path / "m.parquet")
    back = read_table(tmp_path / "m.parquet")
    assert str(back["v"].dtype) == "float64"
    assert list(back["c"].cat.categories) == ["3", "2", "1", "unknown"] and back["c"].cat.ordered


def test_a_format_coarser_than_the_values_writes_iso_instead(tmp_path, caplog):
    # A schema's "%Y-%m-%d" on hourly times wrote 2013-01-01 for 05:00: the file lost the hours
    # and failed a check against the schema it came from (a user review).
    hours = pd.Series(pd.date_range("2013-01-01 05:00", periods=48, freq="h")).astype("datetime64[ns]")
    frame = pd.DataFrame({"t": hours, "d": hours.dt.floor("D")})
    schema = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "format": "%Y-%m-%d", "unit": "h"},
                                           {"name": "d", "kind": "datetime", "format": "%d/%m/%Y", "unit": "D"}]})
    with caplog.at_level("WARNING", logger="synthvae"):
        write_table(frame, tmp_path / "t.csv", datetime_formats(schema))
    written = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert written["d"].str.fullmatch(r"\d{2}/01/2013").all()  # whole days: the format kept
    assert conform(read_table(tmp_path / "t.csv"), schema)["t"].equals(hours.rename("t"))
    assert "column 't' holds times its schema's format '%Y-%m-%d' does not write" in caplog.text
    assert "'d'" not in caplog.text
    # A format that writes some values only (months): those kept, the column as ISO if any is not.
    months = pd.DataFrame({"m": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    write_table(months, tmp_path / "m.csv", {"m": "%Y-%m"})
    assert pd.read_csv(tmp_path / "m.csv", dtype=str)["m"].tolist() == ["2020-01", "2020-02"]
    write_table(pd.DataFrame({"m": pd.to_datetime(["2020-01-01", "2020-02-03"])}), tmp_path / "m2.csv", {"m": "%Y-%m"})
    assert pd.read_csv(tmp_path / "m2.csv", dtype=str)["m"].tolist() == ["2020-01-01", "2020-02-03"]


def test_a_format_with_a_time_zone_writes_iso(tmp_path):
    # strftime's %z on the sampled (UTC, zone-less) values wrote "09:19 ", which did not read back.
    frame = pd.DataFrame({"t": [f"0{d}/02/2021 09:19 +0100" for d in range(1, 9)] * 3, "x": np.arange(24.0)})
    schema = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "format": "%d/%m/%Y %H:%M %z", "unit": "m"},
                                           {"name": "x", "kind": "numeric"}]})
    syn = Synthesizer(schema=schema, **TINY).fit(frame)
    syn.sample_to(tmp_path / "z.csv", 10, seed=0)
    assert conform(read_table(tmp_path / "z.csv"), schema)["t"].notna().all()


def test_dates_out_of_range_are_a_clear_error():
    frame = pd.DataFrame({"t": ["1500-01-01", "2020-01-01"]})
    schema = Schema((Column("t", ColumnKind.DATETIME),))
    with pytest.raises(DataError, match=r"column 't': datetimes outside the supported range"):
        conform(frame, schema)


def test_codes_read_as_floats_match_text_categories(tmp_path):
    path = tmp_path / "codes.csv"
    pd.DataFrame({"area": [408, 415, None, 408], "flag": [1, 0, None, 1]}).to_csv(path, index=False)
    schema = Schema.from_dict({"columns": [
        {"name": "area", "kind": "categorical", "categories": ["408", "415"], "nullable": True},
        {"name": "flag", "kind": "boolean", "nullable": True},
    ]})
    data = conform(read_table(path), schema)
    assert list(data["area"].astype(object)) == ["408", "415", np.nan, "408"]
    assert list(data["flag"]) == [True, False, pd.NA, True]


def test_leading_zero_codes_stay_text_and_decimals_see_large_values():
    frame = pd.DataFrame({"zip": ["02134", "10001", "02134", "94105"] * 10, "x": list(range(39)) + [10000.25]})
    schema = infer_schema(frame)
    assert schema["zip"].kind is ColumnKind.CATEGORICAL
    assert schema["x"].decimals == 2


def test_interval_categories_can_be_saved(tmp_path):
    frame = pd.DataFrame({"bin": pd.cut(np.arange(40.0), 4), "y": np.arange(40.0)})
    syn = Synthesizer(**TINY).fit(frame)
    syn.save(tmp_path / "m.synthvae")
    assert set(Synthesizer.load(tmp_path / "m.synthvae").sample(20, seed=0)["bin"].astype(str)) <= {str(c) for c in frame["bin"].cat.categories}


@pytest.mark.parametrize("suffix", [".tsv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".parquet"])
def test_every_suffix_round_trips(tmp_path, suffix):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / f"t{suffix}"
    write_table(frame, path)
    back = read_table(path)
    assert back.shape == (3, 2) and list(back["a"]) == [1, 2, 3]


def test_mixed_type_categories_and_huge_whole_numbers_are_written_to_parquet_as_text(tmp_path):
    # A schema may list categories [1, 2, "unknown"] and infer 21-digit account numbers as
    # categories: writing them failed after sampling (a DataError blaming the user, and a raw
    # OverflowError). Parquet holds one type a column, so they are written as text.
    big = 10**20 + 7
    frame = pd.DataFrame({"c": pd.Categorical([1, 2, "unknown", None]), "n": pd.Categorical([big, big + 1, big, big])})
    write_table(frame, tmp_path / "m.parquet")
    back = read_table(tmp_path / "m.parquet")
    assert back["c"].astype(object).tolist()[:3] == ["1", "2", "unknown"] and pd.isna(back["c"].iloc[3])
    assert back["n"].astype(str).tolist() == [str(big), str(big + 1), str(big), str(big)]


def test_load_touches_neither_global_rng_nor_a_missing_gpu(fitted_penguins, tmp_path):
    path = tmp_path / "p.synthvae"
    fitted_penguins.save(path)
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    Synthesizer.load(path)
    assert torch.equal(torch.rand(2), expected)
    if not torch.cuda.is_available():
        with pytest.raises(SynthVAEError, match="CUDA is not available"):
            Synthesizer.load(path, device="cuda")


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": 0}, "patience must be a positive integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"numeric_encoding": "log"}, "numeric_encoding must be"),
])
def test_bad_parameters(penguins, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        Synthesizer(**kwargs).fit(penguins)


def test_bad_sample_arguments(fitted_penguins):
    with pytest.raises(ParameterError, match="batch_size"):
        fitted_penguins.sample(5, batch_size=0)
    with pytest.raises(ParameterError, match="seed"):
        fitted_penguins.sample(5, seed=-3)


def test_cli_fit_refuses_a_missing_output_folder_before_training(tmp_path, penguins):
    data = tmp_path / "p.csv"
    penguins.to_csv(data, index=False)
    result = CliRunner().invoke(cli, ["fit", str(data), "-o", str(tmp_path / "nodir" / "m.synthvae")])
    assert result.exit_code == 1 and "does not exist" in result.output and "fitted" not in result.output


@pytest.mark.parametrize("module", ["synthvae", "synthvae.schema", "synthvae.io", "synthvae.preprocessing", "synthvae.inference", "synthvae.evaluation"])
def test_modules_without_torch(module):
    code = f"import sys, {module}; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- found by tests/test_fuzz.py


def _sample_conforms(frame: pd.DataFrame, rows: int = 9, **params) -> tuple[Schema, pd.DataFrame]:
    """Fit on the inferred schema and sample: the sample must pass that schema's own checks."""
    schema = infer_schema(frame)
    out = Synthesizer(schema=schema, **{"conditional": False, **TINY, **params}).fit(frame).sample(rows, seed=0)
    conform(out, schema, "sample")
    return schema, out


@pytest.mark.parametrize("conditional", [False, True])
def test_a_one_row_table_fits_and_samples(conditional):
    # GaussianMixture (the latent prior) needs two rows: a ValueError from scikit-learn.
    _, out = _sample_conforms(pd.DataFrame({"a": [False], "b": [2.5]}), conditional=conditional)
    assert list(out["a"]) == [False] * 9 and list(out["b"]) == [2.5] * 9


def test_samples_keep_the_bounds_when_no_decimal_lies_between_them():
    # min 1e-300 with 2 decimals: values rounded to 0.00 fell below the schema's min.
    schema = Schema((Column("x", ColumnKind.NUMERIC, decimals=2, min=1e-300, max=1e-299),))
    out = Synthesizer(schema=schema, conditional=False, **TINY).fit(pd.DataFrame({"x": [1e-300, 5e-300]})).sample(9, seed=0)
    conform(out, schema, "sample")
    _sample_conforms(pd.DataFrame({"x": [616972.1399978348, 1e-300, 3.5541160042049143e-62]}), rows=23)


def test_datetimes_within_one_second_sample_within_their_bounds():
    # Resolution s: the sample 12:21:30 fell below the inferred min 12:21:30.001136. The
    # resolution is now the values' own (microseconds), so the min and the samples are exact.
    stamps = pd.Series([pd.Timestamp("2186-05-28 01:06:30.001136", tz=zoneinfo.ZoneInfo("Pacific/Chatham")), pd.NaT])
    schema, out = _sample_conforms(pd.DataFrame({"t": stamps}))
    # Learned as the zone's clock times (the schema's timezone), sampled back in the zone.
    assert schema["t"].unit == "us" and schema["t"].min == pd.Timestamp("2186-05-28 01:06:30.001136")
    assert schema["t"].timezone == "Pacific/Chatham"
    assert (out["t"].dropna() == stamps[0]).all() and str(out["t"].dt.tz) == "Pacific/Chatham"


def test_an_all_null_datetime_column_samples_nulls():
    # Inferred as a numeric column, whose conform read NaT as -9.2e18: every sampled value.
    frame = pd.DataFrame({"closed": pd.Series([pd.NaT] * 30, dtype="datetime64[ns]"), "x": np.arange(30.0)})
    schema, out = _sample_conforms(frame)
    assert schema["closed"].kind.value == "datetime" and out["closed"].isna().all()
    with pytest.raises(DataError, match="expected numbers, found datetimes"):
        conform(pd.DataFrame({"x": pd.to_datetime(["2021-01-01"])}), Schema.from_dict(
            {"columns": [{"name": "x", "kind": "numeric", "type": "float"}]}))


def test_sub_second_datetimes_keep_their_resolution():
    # Milliseconds were inferred as resolution s, and sampled on whole seconds.
    stamps = pd.Timestamp("2021-03-01") + pd.to_timedelta(np.arange(40) * 1_234_567, unit="ms")
    schema, out = _sample_conforms(pd.DataFrame({"t": stamps}), rows=50)
    assert schema["t"].unit == "ms"
    assert (out["t"].astype("datetime64[ns]").astype("int64") % 1_000_000 == 0).all()
    assert (out["t"].astype("datetime64[ns]").astype("int64") % 1_000_000_000 != 0).any()


def test_no_negative_zero_is_sampled():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"change": np.round(rng.normal(0, 0.01, 400), 2) + 0.0})
    _, out = _sample_conforms(frame, rows=2000)
    assert not np.signbit(out["change"].to_numpy()[out["change"].to_numpy() == 0]).any()


def test_floats_read_back_exactly_from_our_csv(tmp_path):
    # pandas 2.2's default parser read 3.9658889401888278 back one ulp larger: a sampled CSV
    # then failed its own schema's max.
    values = np.array([3.9658889401888278, 0.1 + 0.2, 1 / 3, 2.675, 1e-300, 123456.789012345])
    write_table(pd.DataFrame({"v": values}), tmp_path / "f.csv")
    assert read_table(tmp_path / "f.csv")["v"].to_numpy().tolist() == values.tolist()


def test_integers_at_the_int64_limit_do_not_wrap():
    # The float nearest 2**63 - 1 is 2**63, which int64 wrapped to -2**63: half the rows negative.
    # (Without min and max such a column is refused: floats do not hold its values.)
    top = 2**63 - 1
    frame = pd.DataFrame({"v": np.array([top] * 20 + [top - 5000] * 20, dtype=np.int64), "x": np.arange(40.0)})
    schema = Schema.from_dict({"columns": [{"name": "v", "kind": "numeric", "type": "integer", "min": top - 5000, "max": top},
                                           {"name": "x", "kind": "numeric"}]})
    out = Synthesizer(schema=schema, conditional=False, **TINY).fit(frame).sample(200, seed=0)
    assert (out["v"] > 0).all() and out["v"].between(top - 5000, top).all()


def test_new_ids_that_would_pass_int64_are_refused():
    schema = Schema.from_dict({"columns": [{"name": "rid", "kind": "id", "type": "integer", "start": 2**63 - 4},
                                           {"name": "x", "kind": "numeric"}]})
    syn = Synthesizer(schema=schema, conditional=False, **TINY).fit(pd.DataFrame({"rid": [1, 2, 3], "x": [0.5, 1.5, 2.5]}))
    assert syn.sample(4, seed=0)["rid"].tolist() == [2**63 - 4, 2**63 - 3, 2**63 - 2, 2**63 - 1]
    with pytest.raises(ParameterError, match="would pass the largest 64-bit integer"):
        syn.sample(5, seed=0)


def test_mixed_objects_are_categories_that_validation_matches():
    # Inferred categories were str(value) ("0.0"; "bytes" for b"bytes") while validation matches
    # 0.0 to "0" and b"bytes" to "b'bytes'": the training data was refused.
    values = ["", "  padded ", 0.0, 0.5, 1.0, b"bytes", dt.date(2020, 1, 2), None] * 3
    frame = pd.DataFrame({"c": pd.Series(values, dtype=object), "x": np.arange(24.0)})
    schema, _ = _sample_conforms(frame)
    assert {"0", "1", "b'bytes'", "2020-01-02"} <= set(schema["c"].categories)


def test_complex_numbers_are_refused_by_name():
    # Complex numbers raised a ComplexWarning.
    frame = pd.DataFrame({"d": pd.Series([1 + 2j, 3 + 0j, 2 - 1j])})
    with pytest.raises(DataError, match="column 'd': complex numbers.* are not supported"):
        infer_schema(frame)
    with pytest.raises(DataError, match="column 'd': complex numbers.* are not supported"):
        conform(frame, Schema((Column("d", ColumnKind.NUMERIC, nullable=True),)))


def test_durations_in_a_column_without_a_duration_unit_are_refused_by_name():
    # Durations were inferred as integers (NaT read as -9.2e18, below the inferred min); they are
    # duration columns now (tests/test_durations.py), and a numeric column without the unit says so.
    frame = pd.DataFrame({"d": pd.to_timedelta(["1 days", None, "2 days"])})
    with pytest.raises(DataError, match=r"column 'd': durations \(timedelta\) in a column the schema does not give a duration unit; set"):
        conform(frame, Schema((Column("d", ColumnKind.NUMERIC, nullable=True),)))
    assert infer_schema(pd.DataFrame({"d": pd.to_timedelta([None, None])}))["d"].duration == "s"  # all null: by the dtype


def test_whole_numbers_beyond_two_to_the_53_keep_their_values():
    # Inferred as integers, they overflowed int64 when sampled (RuntimeWarning: invalid cast);
    # and the decimals of 1.8e308 overflowed. Then, as floats, 2**63 and 2**53 + 2 were merged
    # with their neighbours: read exactly, four values on four rows are four categories.
    big = np.array([2**63, 1, 7, 2**53 + 2], dtype="uint64")
    schema, out = _sample_conforms(pd.DataFrame({"big": [-6.764016918062571e235] * 3 + [1.0], "u": big}))
    assert schema["big"].type is NumericType.FLOAT
    assert schema["u"].categories == (1, 7, 2**53 + 2, 2**63) and set(out["u"]) <= set(schema["u"].categories)
    assert infer_schema(pd.DataFrame({"x": [0.5, 1.7976931348623157e308]}))["x"].decimals == 1
    # Codes read as floats: 2**53 + 1 became the category 2**53, which conform did not match.
    codes = pd.Series([2**53 + 1, 7, -1, None, 2**31] * 3, dtype="Int64")
    assert infer_schema(pd.DataFrame({"c": codes}))["c"].categories == (-1, 7, 2**31, 2**53 + 1)
    _sample_conforms(pd.DataFrame({"c": codes}))


def test_a_column_without_a_name_is_refused():
    # The inferred schema held a column named "", which its own JSON loader refuses, and a CSV
    # file read it back as "Unnamed: 0".
    with pytest.raises(DataError, match="column #2 has an empty name"):
        infer_schema(pd.DataFrame({"a": [1, 2], "": [3, 4]}))


def test_numbers_spread_across_the_whole_float_range_are_learned():
    # The quantile transform interpolated spans beyond the largest float (over 1,000 rows, so
    # between its quantiles): overflow, a RuntimeWarning.
    values = np.tile([-1.7976931348623157e308, 1.7976931348623157e308], 601)
    _, out = _sample_conforms(pd.DataFrame({"x": values, "y": np.arange(1202.0)}), rows=200)
    assert np.isfinite(out["x"]).all()


def test_a_table_of_ids_alone_is_refused_by_name():
    # Nothing to learn: the VAE was built with zero inputs (torch's UserWarning "Initializing
    # zero-element tensors is a no-op").
    frame = pd.DataFrame({"user_id": range(30), "email": [f"u{i}@example.com" for i in range(30)]})
    with pytest.raises(DataError, match=r"every column is an id or personal column \(\['user_id', 'email'\]\)"):
        Synthesizer(**TINY).fit(frame)


def test_labels_equal_as_values_but_not_as_text():
    # 0 == 0.0 and 1 == True: frame[label] held two columns (AttributeError: 'DataFrame' object
    # has no attribute 'dtype').
    frame = pd.DataFrame([[1.5, "a", True, 2]] * 4, columns=pd.Index([0, 0.0, 1, True], dtype=object))
    schema, out = _sample_conforms(frame)
    assert schema.names == ["0", "0.0", "1", "True"] and list(out.columns) == schema.names


def test_two_levels_of_column_labels():
    # Inference named the columns "('a', 0)", conform looked for "a" and "0": the training data
    # lacked every column of its own schema.
    frame = pd.DataFrame([[1.5, "x"], [2.5, "y"]] * 3, columns=pd.MultiIndex.from_tuples([("a", 0), ("a", 1)]))
    schema, out = _sample_conforms(frame)
    assert schema.names == ["('a', 0)", "('a', 1)"]


def test_numbers_near_zero_beside_the_largest_floats():
    # Scaled down for the largest floats, values near 0 became subnormal quantiles, and the
    # interpolation slope between them overflowed: inf - inf in the encoded matrix
    # (RuntimeWarning: invalid value).
    values = [-1.498948064344062e288, -2.2250738585e-313, 1.7976931348623157e308, 1.7976931348623157e308,
              -2.599121117898557e270, 9553713869435468.0, 9007199254740992.0, 1e-300, 5.978076357798965e16,
              4.057588318313433e16, 0.0]
    _sample_conforms(pd.DataFrame({"x": values, "y": np.arange(11.0)}))


def test_a_period_column_is_refused_with_how_to_convert_it():
    # It was learned as its ordinals (months since 1970-01) and sampled as integers such as 606.
    rng = np.random.default_rng(0)
    months = pd.period_range("2020-01", periods=12, freq="M")
    frame = pd.DataFrame({"a": rng.normal(size=120).round(2), "m": pd.PeriodIndex(rng.choice(months, 120))})
    with pytest.raises(DataError, match=r"column 'm': periods \(period\[M\]\) are not supported.*to_timestamp"):
        Synthesizer(epochs=1).fit(frame)
    syn = Synthesizer(epochs=1, seed=0).fit(frame.assign(m=frame["m"].dt.month))  # a numeric column m
    with pytest.raises(DataError, match="column 'm': periods"):
        syn.impute(frame.assign(a=np.nan))


def test_an_all_null_column_leaves_no_numpy_warning():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200).round(2), "b": rng.choice(["x", "y"], 200), "m": np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        infer_schema(frame)


def test_pyarrow_backed_dates_and_zoned_times_fit_and_sample(tmp_path):
    # pd.read_parquet(..., dtype_backend="pyarrow") gives date32 columns, whose .dt.tz raised a
    # bare NotImplementedError in fit after inference had read them.
    import pyarrow as pa

    n = 200
    pd.DataFrame({"x": np.arange(n) % 7 * 1.5, "d": [dt.date(2020, 1, 1) + dt.timedelta(days=k) for k in range(n)],
                  "t": pd.date_range("2020-03-28", periods=n, freq="h", tz="Europe/Berlin")}).to_parquet(tmp_path / "rows.parquet")
    frame = pd.read_parquet(tmp_path / "rows.parquet", dtype_backend="pyarrow")
    assert isinstance(frame["d"].dtype, pd.ArrowDtype) and isinstance(frame["t"].dtype, pd.ArrowDtype)
    fitted = Synthesizer(epochs=2, seed=0).fit(frame)
    assert fitted.schema_["d"].unit == "D" and fitted.schema_["t"].timezone == "Europe/Berlin"
    assert pd.Timestamp(fitted.schema_["t"].min) == pd.Timestamp("2020-03-28 00:00")  # Berlin's clock
    rows = fitted.sample(300, seed=1)
    assert str(rows["t"].dt.tz) == "Europe/Berlin" and rows["t"].dt.minute.eq(0).all()
    assert (rows["d"] == rows["d"].dt.floor("D")).all()
    assert rows["d"].between(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-07-18")).all()


@pytest.mark.parametrize("dtype", ["int64[pyarrow]", "uint64[pyarrow]", "Int64"])
def test_arrow_whole_number_codes_beyond_2_to_the_53_keep_their_values(dtype):
    # Found by the fuzz test: pandas' astype("Int64") of an Arrow column with nulls goes through
    # floats, so 9007199254740993 was inferred as the category ...992 and fit refused its own
    # table; an unsigned one failed with a raw ArrowInvalid.
    codes = [None] * 5 + [9007199254740993, None, 4611686018427387904]
    frame = pd.DataFrame({"a": pd.array([pd.NA if c is None else c for c in codes], dtype=dtype)}, index=range(10, 18))
    schema = infer_schema(frame)
    assert schema["a"].categories == (9007199254740993, 4611686018427387904)
    rows = Synthesizer(schema, epochs=1, hidden_dims=(8,), latent_dim=2, seed=0).fit(frame).sample(50, seed=0)
    assert set(rows["a"].dropna()) <= {9007199254740993, 4611686018427387904} and rows["a"].notna().any()


def test_a_datetime_past_2_to_the_53_ticks_is_sampled_within_its_bounds():
    # Found by the fuzz test: 2256-01-01 00:00:00.000001 is 2**53 microseconds and more, where a
    # float misses odd ticks: a one-row column was sampled a microsecond below its minimum.
    when = pd.Timestamp("2256-01-01 00:00:00.000001")
    for encoding in ("auto", "calendar"):
        # As calendar parts too: composed in floats, then compared with its bound in floats
        # rounded another way, every row was refused as beyond it.
        syn = Synthesizer(epochs=1, hidden_dims=(8,), latent_dim=2, seed=0, datetime_encoding=encoding)
        rows = syn.fit(pd.DataFrame({"a": [""], "id": [when]})).sample(5, seed=0)
        assert (rows["id"] == when).all()
    # Diff review: a schema without datetime bounds kept the data's range only as floats.
    three = pd.DataFrame({"t": pd.to_datetime([f"2256-01-01 00:00:00.00000{k}" for k in (1, 2, 3)])})
    schema = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "unit": "us", "nullable": False}]})
    drawn = Synthesizer(schema, epochs=1, hidden_dims=(8,), latent_dim=2, seed=0).fit(three).sample(300, seed=0)["t"]
    assert drawn.between(three["t"].min(), three["t"].max()).all()


def test_whole_numbers_beyond_64_bits_fit_sample_and_evaluate():
    # Found by the fuzz test (Hypothesis 6.170): the evaluator's category check called
    # np.isfinite on a Python int beyond 64 bits and failed with a raw TypeError.
    frame = pd.DataFrame({"a": [10**23 + 4, 10**23 + 4, 7 * 10**30]})
    schema = infer_schema(frame)
    rows = Synthesizer(schema, epochs=1, hidden_dims=(8,), latent_dim=2, seed=0).fit(frame).sample(20, seed=0)
    assert set(rows["a"]) <= {10**23 + 4, 7 * 10**30}
    assert 0 <= evaluate(frame, rows, schema=schema, metrics=["quality", "privacy"], seed=0).score <= 1


def test_dates_at_the_earliest_nanosecond_day_fit():
    # NumPy turned 1677-09-22 (in nanoseconds) into 2262-04-11 (in days): a date column whose
    # missing dates were filled with pandas' earliest day failed with "column 'opened~year':
    # values above the schema's max 2020, e.g. [2262.0]".
    rng = np.random.default_rng(0)
    opened = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, 300), unit="D"))
    opened[rng.random(300) < 0.3] = pd.Timestamp("1677-09-22")
    rows = Synthesizer(epochs=2, seed=0).fit(pd.DataFrame({"opened": opened, "x": rng.normal(size=300)})).sample(200, seed=1)
    assert rows["opened"].between(pd.Timestamp("1677-09-22"), pd.Timestamp("2020-06-30")).all()


def test_an_arrow_decimal_column_with_nulls_is_learned_as_numbers(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    amount = [None if i % 10 == 0 else decimal.Decimal(f"{rng.integers(0, 10000) / 100:.2f}") for i in range(300)]
    pq.write_table(pa.table({"amount": pa.array(amount, pa.decimal128(10, 2)), "x": rng.normal(size=300)}), tmp_path / "d.parquet")
    # pd.to_numeric of it returned 270 values for 300 rows: a raw ValueError in fit.
    frame = pd.read_parquet(tmp_path / "d.parquet", dtype_backend="pyarrow")
    syn = Synthesizer(epochs=2, seed=0).fit(frame)
    assert syn.schema_["amount"].kind.value == "numeric" and syn.schema_["amount"].nullable
    rows = syn.sample(50, seed=1)
    assert rows["amount"].dropna().between(0, 99.99).all()


def test_whole_numbers_past_two_to_the_53_are_sampled_within_the_schemas_bounds():
    from synthvae import Schema

    rng = np.random.default_rng(0)
    x = 2**60 + 1 + 2 * rng.integers(0, 10_000, 400)
    low, high = int(x.min()), int(x.max())
    schema = Schema.from_dict({"columns": [{"name": "amount", "kind": "numeric", "type": "integer", "min": low, "max": high},
                                           {"name": "v", "kind": "numeric", "type": "float"}]})
    table = pd.DataFrame({"amount": x, "v": rng.normal(size=400)})
    # Clipped as floats, 2**60 + 55 rounded down to 2**60: 53 of 3,000 rows fell below the min.
    rows = Synthesizer(schema, epochs=3, seed=0).fit(table).sample(3000, seed=1)["amount"].astype("int64")
    assert rows.min() >= low and rows.max() <= high


def test_whole_numbers_past_two_to_the_53_are_checked_against_the_bounds_exactly(tmp_path):
    from click.testing import CliRunner

    from synthvae import DataError, Schema
    from synthvae.cli import cli

    low, high = 2**60, 2**60 + 100
    spec = {"columns": [{"name": "amount", "kind": "numeric", "type": "integer", "min": low, "max": high}]}
    schema = Schema.from_dict(spec)
    synth = Synthesizer(schema, epochs=1, seed=0)
    # As floats (256 apart there) these equal the bounds and passed.
    for value, word in ((high + 20, "above the schema's max"), (low - 3, "below the schema's min")):
        for column in (pd.array([value, low], dtype="Int64"), np.array([value, low]), [str(value), str(low)],
                       [f"{value:,}", f"{low:,}"], [Decimal(value), Decimal(low)]):
            with pytest.raises(DataError, match=f"1 values {word}.*{value}"):
                synth.fit(pd.DataFrame({"amount": column}))
    (tmp_path / "s.json").write_text(json.dumps(spec))
    pd.DataFrame({"amount": [high + 1, low]}).to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(cli, ["schema", "check", str(tmp_path / "s.json"), str(tmp_path / "t.csv")])
    assert result.exit_code != 0 and str(high + 1) in result.output
    # The bounds themselves pass.
    pd.DataFrame({"amount": [high, low]}).to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(cli, ["schema", "check", str(tmp_path / "s.json"), str(tmp_path / "t.csv")])
    assert result.exit_code == 0, result.output


def test_whole_numbers_past_two_to_the_53_with_no_bounds_are_refused_with_the_fix():
    from synthvae import DataError, Schema

    rng = np.random.default_rng(0)
    big = (2**63 - 1) - rng.integers(0, 1000, 300)
    table = pd.DataFrame({"big": big, "x": rng.normal(size=300)})
    spec = {"columns": [{"name": "big", "kind": "numeric", "type": "integer"}, {"name": "x", "kind": "numeric", "type": "float"}]}
    # As floats they merged, and all 2,000 sampled values fell below the real min.
    with pytest.raises(DataError, match=r"column 'big': whole numbers beyond 2\*\*53 .* give the schema its exact min and max"):
        Synthesizer(Schema.from_dict(spec), epochs=1).fit(table)
    spec["columns"][0] |= {"min": int(big.min()), "max": int(big.max())}
    rows = Synthesizer(Schema.from_dict(spec), epochs=1, seed=0).fit(table).sample(500, seed=1)["big"].astype("int64")
    assert rows.min() >= big.min() and rows.max() <= big.max()


def test_ids_near_the_int64_limit_leave_the_conditional_prior_alone():
    """The conditional prior's 20,000 rows of the model's own drew new ids too: an augment of a
    few hundred rows was refused for 20,000 ids past the largest 64-bit integer."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"rid": np.arange(2**63 - 1300, 2**63 - 1000), "y": rng.choice(["a", "b"], 300, p=[0.9, 0.1]),
                          "x": rng.normal(size=300)})
    schema = Schema.from_dict({"columns": [{"name": "rid", "kind": "id", "type": "integer"},
                                           {"name": "y", "kind": "categorical", "categories": ["a", "b"]},
                                           {"name": "x", "kind": "numeric"}]})
    synth = Synthesizer(schema, epochs=1, hidden_dims=(16,), latent_dim=2, seed=0).fit(frame)
    out = synth.augment(frame, target="y", balance=True, seed=0)
    assert out["rid"].is_unique and out["y"].value_counts().nunique() == 1
    assert synth.sample(50, conditions={"y": "b"}, seed=0)["rid"].min() == 2**63 - 1000


def test_two_id_columns_are_both_renumbered():
    # finalize's new ids=False flag was shadowed by its local "ids": a second id column raised
    # "truth value of a Series is ambiguous" in every sample.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": np.arange(200), "b": np.arange(1000, 1200), "y": rng.choice(["u", "v"], 200),
                          "x": rng.normal(size=200)})
    schema = Schema.from_dict({"columns": [{"name": "a", "kind": "id", "type": "integer"},
                                           {"name": "b", "kind": "id", "type": "integer"},
                                           {"name": "y", "kind": "categorical", "categories": ["u", "v"]},
                                           {"name": "x", "kind": "numeric"}]})
    rows = Synthesizer(schema, epochs=1, hidden_dims=(8,), latent_dim=2, seed=0).fit(frame).sample(5, seed=0)
    assert rows["a"].tolist() == [200, 201, 202, 203, 204] and rows["b"].tolist() == [1200, 1201, 1202, 1203, 1204]


def test_a_unit_coarser_than_the_training_times_is_warned_of(caplog):
    # Unit "D" on hourly times: the model sampled midnights only, and a rule reading the hour
    # failed at sampling time, blamed on the rule (a user review).
    times = pd.Series(pd.date_range("2013-01-01 05:00", periods=60, freq="7h"))
    frame = pd.DataFrame({"t": times.astype(str), "x": np.arange(60.0)})
    day = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "unit": "D"}, {"name": "x", "kind": "numeric"}]})
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(schema=day, **TINY).fit(frame)
    assert ("column 't': 58 of its 60 values are not whole days, the schema's unit 'D' (e.g. 2013-01-01 05:00:00)"
            in caplog.text), caplog.text
    assert "set the unit to 'h' to keep them" in caplog.text
    caplog.clear()
    hour = Schema.from_dict({"columns": [{"name": "t", "kind": "datetime", "unit": "h"}, {"name": "x", "kind": "numeric"}]})
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(schema=hour, **TINY).fit(frame)
    assert "not whole" not in caplog.text


def test_codes_with_leading_zeros_read_as_numeric_categories_are_warned_of(caplog):
    # A schema edited from infer-schema's "00164" to 164 matched the text by value and sampled
    # 164, without a word (a user review).
    frame = pd.DataFrame({"zip": ["00164", "02685", "01506", "00164"] * 10, "x": np.arange(40.0)})
    numbers = Schema.from_dict({"columns": [{"name": "zip", "kind": "categorical", "categories": [164, 1506, 2685]},
                                            {"name": "x", "kind": "numeric"}]})
    with caplog.at_level("WARNING", logger="synthvae"):
        syn = Synthesizer(schema=numbers, **TINY).fit(frame)
    assert "column 'zip': codes written with leading zeros, e.g. ['00164', '02685', '01506']" in caplog.text
    assert set(syn.sample(50, seed=0)["zip"]) <= {164, 1506, 2685}
    caplog.clear()
    with caplog.at_level("WARNING", logger="synthvae"):
        Synthesizer(**TINY).fit(frame)  # inferred: text codes, zeros kept
    assert "leading zeros" not in caplog.text


def test_a_schema_given_as_its_json_document_is_read():
    # Synthesizer(schema=json.load(f)) was refused: "schema must be a Schema, a path or None".
    frame = pd.DataFrame({"c": ["a", "b"] * 20, "x": np.arange(40.0)})
    document = infer_schema(frame).to_dict()
    syn = Synthesizer(schema=document, **TINY).fit(frame)
    assert syn.schema_ == infer_schema(frame)
    del document["columns"][0]["kind"]
    # Only the missing kind is named, not every kind's required keys (a user review).
    with pytest.raises(SchemaError, match=r"schema= \(a dict\) is not a valid synthvae schema: column 'c': 'kind' is "
                                          r"required: one of \['numeric', 'categorical', 'boolean', 'datetime', 'id', 'personal'\]$"):
        Synthesizer(schema=document, **TINY).fit(frame)


def test_years_as_numbers_read_by_a_format_without_a_pandas_warning():
    # Integer years under format "%Y" made pandas 3 warn that numbers with a format will be
    # read as epochs (a user review): they are read as their text.
    schema = Schema.from_dict({"columns": [{"name": "year", "kind": "datetime", "format": "%Y", "unit": "D", "nullable": True}]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for given in ([2013, 2014, None], [2013.0, 2014.0, None], pd.array([2013, 2014, None], dtype="Int64")):
            years = conform(pd.DataFrame({"year": given}), schema)["year"]
            assert years.tolist()[:2] == [pd.Timestamp("2013-01-01"), pd.Timestamp("2014-01-01")] and years.isna().tolist()[2]


def test_values_beyond_a_bound_are_counted_as_rows_and_distinct_values():
    # "52 values above the schema's max 50, e.g. [... (26 more)]" listed 31 distinct ones.
    schema = Schema.from_dict({"columns": [{"name": "x", "kind": "numeric", "max": 10}]})
    with pytest.raises(DataError, match=r"column 'x': 3 values \(2 distinct\) above the schema's max 10, e\.g\. \[12\.0?, 15\.0?\]"):
        conform(pd.DataFrame({"x": [1.0, 12.0, 12.0, 15.0]}), schema)
