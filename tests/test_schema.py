"""The schema format: JSON Schema validation, semantic checks, round trips, example schemas."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synthvae import Column, ColumnKind, NumericType, Schema, SchemaError, load_schema
from synthvae.schema import json_schema
from synthvae.validation import conform

from conftest import DATASETS, SCHEMAS, dataset_path


def test_packaged_json_schema_is_the_published_one():
    assert json_schema() == json.loads((SCHEMAS / "schema.schema.json").read_text())


def test_round_trip_every_kind(tmp_path):
    schema = Schema(
        columns=(
            Column("id", ColumnKind.ID, type=NumericType.STRING, prefix="C-", width=5, start=7),
            Column("x", ColumnKind.NUMERIC, nullable=True, type=NumericType.FLOAT, decimals=2, min=-1.5, max=3),
            Column("n", ColumnKind.NUMERIC, type=NumericType.INTEGER, min=0, max=10),
            Column("c", ColumnKind.CATEGORICAL, categories=("lo", "mid", "hi"), ordered=True),
            Column("b", ColumnKind.BOOLEAN, nullable=True),
            Column("t", ColumnKind.DATETIME, format="%Y-%m-%d", unit="D", min=pd.Timestamp("2020-01-01"), max=pd.Timestamp("2021-01-01")),
        ),
        name="all kinds",
    )
    path = tmp_path / "s.json"
    schema.save(path)
    assert load_schema(path) == schema
    assert Schema.from_dict(json.loads(schema.to_json())) == schema


@pytest.mark.parametrize(
    "document, message",
    [
        ({"columns": [{"name": "a", "kind": "text"}]}, r"column 'a', key 'kind'.*not one of"),
        ({"columns": [{"name": "a", "kind": "categorical"}]}, r"column 'a'.*'categories' is a required"),
        ({"columns": [{"name": "a", "kind": "numeric", "min": 5, "max": 1}]}, r"min 5 is greater than max 1"),
        ({"columns": [{"name": "a", "kind": "numeric"}, {"name": "a", "kind": "boolean"}]}, r"duplicate column names \['a'\]"),
        ({"columns": []}, r"should be non-empty|too short"),
        ({"columns": [{"name": "a", "kind": "numeric", "categories": [1]}]}, r"column 'a'.*Additional properties.*remove the key"),
        ({"columns": [{"name": "a", "kind": "categorical", "categories": ["x", "x"]}]}, r"non-unique|has non-unique elements"),
        ({"columns": [{"name": "a", "kind": "numeric", "type": "integer", "decimals": 2}]}, r"integer column cannot have decimals"),
        ({"columns": [{"name": "a", "kind": "datetime", "min": "yesterday"}]}, r"not an ISO 8601"),
        ([1, 2], r"is not of type 'object'"),
        # "1 was expected": neither the version found nor what to do.
        ({"format_version": 9, "columns": [{"name": "a", "kind": "numeric"}]},
         r"format_version is 9, and this synthvae reads version 1: the schema was written by a newer synthvae; upgrade"),
        ({"format_version": "1", "columns": [{"name": "a", "kind": "numeric"}]}, r"format_version is '1'.*set it to 1, or leave it out"),
    ],
)
def test_invalid_documents_are_refused_with_a_clear_message(document, message):
    with pytest.raises(SchemaError, match=message):
        Schema.from_dict(document, source="test.json")


def test_load_schema_names_the_file_on_bad_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"columns": [')
    with pytest.raises(SchemaError, match=r"broken.json.*not valid JSON.*line 1"):
        load_schema(path)
    with pytest.raises(SchemaError, match=r"cannot read schema file"):
        load_schema(tmp_path / "missing.json")


EXAMPLES = {
    "penguins.json": "penguins.csv",
    "churn.json": "churn.csv",
    "german_credit.json": "german_credit.csv",
    "seattle_weather.json": "seattle_weather.csv",
    "diamonds.json": "diamonds.csv",
    "loans.json": "loans.csv",
    "flights.json": "flights.csv.gz",
}


@pytest.mark.parametrize("schema_file, data_file", sorted(EXAMPLES.items()))
def test_example_schemas_load_and_fit_their_data(schema_file, data_file):
    schema = load_schema(SCHEMAS / schema_file)
    frame = pd.read_csv(dataset_path(data_file), nrows=20_000)
    data = conform(frame, schema, data_file)
    assert list(data.columns) == schema.names


def test_every_example_schema_is_tested():
    shipped = {p.name for p in SCHEMAS.glob("*.json")} - {"schema.schema.json"}
    assert shipped == set(EXAMPLES)
    assert DATASETS.name == "datasets"


def test_ordinal_example_keeps_its_order():
    schema = load_schema(SCHEMAS / "diamonds.json")
    assert schema["cut"].ordered and schema["cut"].categories[0] == "Fair"


def test_a_datetime_format_pandas_cannot_read_with_is_refused_at_load():
    # "%Q" is no directive: fit and schema check failed with pandas' raw ValueError, not a
    # SchemaError naming the column.
    document = json.loads((SCHEMAS / "seattle_weather.json").read_text())
    document["columns"][0]["format"] = "%Y-%m-%Q"
    with pytest.raises(SchemaError, match=r"column 'date': format '%Y-%m-%Q' is not a strftime format"):
        Schema.from_dict(document)
    for fine in ("%d/%m/%Y", "ISO8601", "mixed"):
        document["columns"][0]["format"] = fine
        assert Schema.from_dict(document)["date"].format == fine


def test_an_integer_id_column_of_fractions_is_refused():
    # seattle's wind speeds marked an integer id passed the check and were regenerated as 10, 11, ...
    document = json.loads((SCHEMAS / "seattle_weather.json").read_text())
    for column in document["columns"]:
        if column["name"] == "wind":
            for key in ("decimals", "min", "max"):
                column.pop(key, None)
            column.update(kind="id", type="integer")
    schema = Schema.from_dict(document)
    weather = pd.read_csv(dataset_path("seattle_weather.csv"))
    with pytest.raises(Exception, match=r"column 'wind'.*ids are whole numbers \(type integer\) but found \[4\.7"):
        conform(weather, schema, "weather")
    conform(weather.assign(wind=range(len(weather))), schema, "weather")
    conform(weather.assign(wind=[None] * len(weather)), schema, "weather", check_nulls=False)


def test_an_id_column_whose_values_repeat_is_named_in_a_warning(caplog):
    # Sampling gives every row a new id, so a key that rows share is lost: it passed unremarked.
    from synthvae.constraints.plan import check_table

    document = json.loads((SCHEMAS / "seattle_weather.json").read_text())
    document["columns"].append({"name": "station", "kind": "id", "type": "string"})
    schema = Schema.from_dict(document)
    weather = pd.read_csv(dataset_path("seattle_weather.csv"))
    with caplog.at_level("WARNING", logger="synthvae"):
        check_table(schema, conform(weather.assign(station=[f"S{i}" for i in range(len(weather))]), schema, "w"), "w")
    assert not caplog.records
    with caplog.at_level("WARNING", logger="synthvae"):
        check_table(schema, conform(weather.assign(station=["S1", "S2"] * (len(weather) // 2) + ["S3"]), schema, "w"), "w")
    assert "column 'station': an id column whose values repeat (1458 of 1461 rows" in caplog.text


def test_datetime_bounds_and_constants_beyond_nanoseconds_and_prefixed_integer_ids_are_refused_at_load():
    # Review of the schema tools: 9999-12-31 (an open end) loaded and passed schema check, then fit
    # failed with a raw OverflowError; prefix and width on an integer id were kept, used nowhere
    # and dropped when the schema was saved.
    for key, value in (("max", "9999-12-31"), ("min", "0001-01-01")):
        with pytest.raises(SchemaError, match=f"column 'd': {key} '{value}' lies beyond the datetimes a fit holds"):
            Schema.from_dict({"columns": [{"name": "d", "kind": "datetime", key: value}]})
    with pytest.raises(SchemaError, match="constant '9999-12-31' lies beyond the datetimes a fit holds"):
        Schema.from_dict({"columns": [{"name": "d", "kind": "datetime"}],
                          "constraints": [{"kind": "inequality", "low": "d", "high": {"value": "9999-12-31"}}]})
    with pytest.raises(SchemaError, match="prefix and width shape text ids"):
        Schema.from_dict({"columns": [{"name": "k", "kind": "id", "type": "integer", "prefix": "C-", "width": 5}]})


def test_values_a_boolean_column_cannot_read_are_refused_with_a_fix():
    frame = pd.DataFrame({"wind": [4.7, 4.5, 2.3]})
    schema = Schema.from_dict({"columns": [{"name": "wind", "kind": "boolean"}]})
    with pytest.raises(Exception, match=r"expected true/false values, found \[4.7, 4.5, 2.3\]: write them true/false, "
                                         r"yes/no or 1/0, or make the column categorical \(numeric if they are numbers\)"):
        conform(frame, schema, "winds.csv")


def test_an_id_width_beyond_64_digits_is_refused():
    # A width of 300,000,000 in a model file of 457 KB took 5.5 GB to load (a user review).
    document = {"format_version": 1, "columns": [{"name": "key", "kind": "id", "type": "string", "width": 300_000_000}]}
    with pytest.raises(SchemaError, match="'width': 300000000 is greater than the maximum of 64"):
        Schema.from_dict(document)
    with pytest.raises(SchemaError, match="width 100 pads ids to more digits than the 64"):
        Schema((Column("key", ColumnKind.ID, type=NumericType.STRING, width=100),))
    assert Schema.from_dict({**document, "columns": [{**document["columns"][0], "width": 64}]})["key"].width == 64
