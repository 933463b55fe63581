"""Looked-up columns: ``lookup`` rules (a numeric column that categorical keys fix, flights'
``distance`` by ``origin`` and ``dest``), found by infer_schema, checked in the schema, kept by
sampling, conditions and imputation, saved with the model, refused by a private fit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthvae import ModelFileError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema
from synthvae.constraints.spec import Lookup

from conftest import dataset_path, rewritten_model

COLUMNS = ["origin", "dest", "distance", "air_time", "carrier", "dep_delay"]


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return pd.read_csv(dataset_path("flights.csv.gz"), usecols=COLUMNS, nrows=6000)[COLUMNS]


@pytest.fixture(scope="module")
def fitted(flights) -> Synthesizer:
    return Synthesizer(epochs=4, seed=0).fit(flights)


def held_pairs(frame: pd.DataFrame) -> set:
    return set(zip(frame["origin"], frame["dest"], frame["distance"].astype(float)))


def held_share(rows: pd.DataFrame, real: pd.DataFrame) -> float:
    pairs = held_pairs(real)
    return float(np.mean([p in pairs for p in zip(rows["origin"], rows["dest"], rows["distance"].astype(float))]))


def test_infer_schema_finds_the_distance_of_each_route(flights):
    rules = [r for r in infer_schema(flights).constraints if isinstance(r, Lookup)]
    assert [r.describe() for r in rules] == ["distance is looked up by origin, dest"]
    # air_time varies from flight to flight of a route: no rule; nor without the search.
    assert [r for r in infer_schema(flights, derived=False).constraints if isinstance(r, Lookup)] == []


def test_no_lookup_is_found_in_the_other_shared_tables():
    for name in ("churn.csv", "german_credit.csv", "seattle_weather.csv", "diamonds.csv"):
        frame = pd.read_csv(dataset_path(name))
        assert not [r for r in infer_schema(frame).constraints if isinstance(r, Lookup)], name


def test_every_sampled_distance_is_one_its_route_held(flights, fitted):
    assert {"constraint": "distance is looked up by origin, dest", "mode": "construction"} in fitted.constraints_.describe()
    rows = fitted.sample(3000, seed=1)
    assert held_share(rows, flights) == 1.0
    # Learned as one more column (the rule dropped), the model's distances are rarely exact.
    plain = infer_schema(flights).with_constraints([])
    loose = Synthesizer(schema=plain, epochs=4, seed=0).fit(flights).sample(3000, seed=1)
    assert held_share(loose, flights) < 0.5


def test_conditions_on_a_looked_up_column_are_met_exactly(flights, fitted):
    far = fitted.sample(500, seed=2, conditions=["distance>=2000"])
    assert (far["distance"] >= 2000).all() and held_share(far, flights) == 1.0
    value = int(flights["distance"].value_counts().index[0])
    pinned = fitted.sample(300, seed=3, conditions=[f"distance={value}"])
    assert (pinned["distance"] == value).all() and held_share(pinned, flights) == 1.0
    routes = set(zip(flights["origin"], flights["dest"]))
    assert set(zip(pinned["origin"], pinned["dest"])) <= {r for r in routes if value in set(
        flights.loc[(flights["origin"] == r[0]) & (flights["dest"] == r[1]), "distance"])}


def test_impute_fills_routes_and_distances_that_belong_together(flights, fitted):
    rng = np.random.default_rng(0)
    table = flights.sample(600, random_state=1).reset_index(drop=True)
    holes = table.copy()
    hide_distance, hide_dest = rng.random(len(table)) < 0.3, rng.random(len(table)) < 0.3
    holes.loc[hide_distance, "distance"] = np.nan
    holes.loc[hide_dest, "dest"] = None
    done = fitted.impute(holes, seed=0)
    assert held_share(done, flights) == 1.0
    assert (done.loc[~hide_distance, "distance"] == table.loc[~hide_distance, "distance"]).all()
    assert (done.loc[~hide_dest, "dest"] == table.loc[~hide_dest, "dest"]).all()
    # An observed distance says which route: most hidden destinations come back right.
    assert (done["dest"] == table["dest"])[hide_dest & ~hide_distance].mean() > 0.5


def test_the_values_travel_with_the_model_file(tmp_path, fitted):
    path = tmp_path / "m.svae"
    fitted.save(path)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(200, seed=4), fitted.sample(200, seed=4))


def test_a_model_file_with_broken_lookup_values_is_refused(tmp_path, fitted):
    def unsorted(payload: dict) -> None:
        (pairs,) = payload["constraints"]["lookups"].values()
        pairs[0][1] = [1416.0, 1000.0]  # not increasing

    fitted.save(tmp_path / "m.svae")
    rewritten_model(tmp_path / "m.svae", tmp_path / "crafted.svae", payload=unsorted)
    with pytest.raises(ModelFileError, match="lookup values of 'distance is looked up by origin, dest'"):
        Synthesizer.load(tmp_path / "crafted.svae")


def test_a_lookup_rule_is_checked_against_the_schema(flights):
    schema = infer_schema(flights).with_constraints([])
    document = schema.to_dict()
    for rule, message in [
        ({"kind": "lookup", "column": "carrier", "keys": ["origin"]}, "column 'carrier' is categorical; a looked-up column is numeric"),
        ({"kind": "lookup", "column": "distance", "keys": ["air_time"]}, "key 'air_time' is numeric; keys are categorical or boolean"),
        ({"kind": "lookup", "column": "distance", "keys": ["origin", "origin"]}, "a column is listed twice"),
        ({"kind": "lookup", "column": "distance", "keys": ["nowhere"]}, "unknown column 'nowhere'"),
    ]:
        with pytest.raises(SchemaError, match=message):
            Schema.from_dict({**document, "constraints": [rule]})
    twice = [{"kind": "lookup", "column": "distance", "keys": ["origin"]}, {"kind": "lookup", "column": "distance", "keys": ["dest"]}]
    with pytest.raises(SchemaError, match="looked up by more than one constraint"):
        Schema.from_dict({**document, "constraints": twice})
    both = [{"kind": "lookup", "column": "distance", "keys": ["origin"]},
            {"kind": "derived", "column": "distance", "expression": "air_time * 8"}]
    with pytest.raises(SchemaError, match="both derived and looked up"):
        Schema.from_dict({**document, "constraints": both})
    written = Schema.from_dict({**document, "constraints": [{"kind": "lookup", "column": "distance", "keys": ["origin", "dest"]}]})
    assert Schema.from_dict(written.to_dict()).constraints == (Lookup("distance", ("origin", "dest")),)


def test_a_private_fit_refuses_a_lookup_rule(flights):
    schema = infer_schema(flights)
    with pytest.raises(ParameterError, match="the values of each key are read from the real rows, which a differentially private fit cannot do"):
        Synthesizer(schema=schema, privacy={"epsilon": 5.0, "epochs": 1}, seed=0).fit(flights)


def test_infer_schema_command_names_the_looked_up_column(flights, tmp_path):
    from click.testing import CliRunner

    from synthvae.cli import cli

    data = tmp_path / "flights.csv"
    flights.to_csv(data, index=False)
    result = CliRunner().invoke(cli, ["infer-schema", str(data), "-o", str(tmp_path / "schema.json")])
    assert result.exit_code == 0, result.output
    assert ("1 looked-up column found (learned, each sampled value one its keys held): distance is looked up by "
            "origin, dest") in result.output
    assert "derived column" not in result.output  # it is learned, not computed
    saved = json.loads((tmp_path / "schema.json").read_text())
    assert {"kind": "lookup", "column": "distance", "keys": ["origin", "dest"]} in saved["constraints"]
