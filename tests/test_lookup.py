"""Looked-up columns: ``lookup`` rules (a numeric column that categorical keys fix, flights'
``distance`` by ``origin`` and ``dest``), found by infer_schema, checked in the schema, kept by
sampling, conditions and imputation, saved with the model, refused by a private fit."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from synthvae import ModelFileError, ParameterError, Schema, SchemaError, Synthesizer, infer_schema
from synthvae.constraints.spec import Lookup

from conftest import dataset_path, inferred_by_cli, rewritten_model

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
    output, saved = inferred_by_cli(flights, tmp_path)
    assert ("1 looked-up column found (learned, each sampled value one its keys held): distance is looked up by "
            "origin, dest") in output
    assert "derived column" not in output  # it is learned, not computed
    assert {"kind": "lookup", "column": "distance", "keys": ["origin", "dest"]} in saved["constraints"]


@pytest.fixture(scope="module")
def products() -> pd.DataFrame:
    """Prices fixed by product and membership, to two decimals; a fee computed from the price;
    three products never priced (null)."""
    rng = np.random.default_rng(0)
    codes = [f"P{i:02d}" for i in range(40)]
    base = {code: round(float(rng.uniform(5, 500)), 2) for code in codes}
    rows = 4000
    code = rng.choice(codes, rows)
    member = rng.random(rows) < 0.4
    price = np.array([base[c] * (0.9 if m else 1.0) for c, m in zip(code, member)]).round(2)
    price[np.isin(code, ["P00", "P01", "P02"])] = np.nan
    return pd.DataFrame({"code": code, "member": member, "price": price, "fee": (price * 2 + 5).round(2),
                         "quantity": rng.integers(1, 9, rows)})


def product_schema(products: pd.DataFrame) -> Schema:
    schema = infer_schema(products, derived=False)
    document = schema.to_dict()
    document["constraints"] = [{"kind": "lookup", "column": "price", "keys": ["code", "member"]},
                               {"kind": "derived", "column": "fee", "expression": "price * 2 + 5"}]
    return Schema.from_dict(document)


@pytest.fixture(scope="module")
def fitted_products(products) -> Synthesizer:
    return Synthesizer(schema=product_schema(products), epochs=5, seed=0).fit(products)


def test_a_rule_reading_a_looked_up_column_reads_its_moved_value(products, fitted_products):
    # The fee was computed from the model's price, then the price moved: 95% of rows were drawn again.
    rows = fitted_products.sample(2000, seed=1)
    assert fitted_products.last_resampling_["rejected"].get("fee = price * 2 + 5", 0) == 0
    priced = rows["price"].notna()
    assert np.allclose(rows.loc[priced, "fee"], rows.loc[priced, "price"] * 2 + 5, atol=0.006)
    held = set(zip(products["code"], products["member"], products["price"]))
    assert all(key in held for key in zip(rows.loc[priced, "code"], rows.loc[priced, "member"], rows.loc[priced, "price"]))
    # Products the training rows never priced come back unpriced, as often as in the data.
    never = rows["code"].isin(["P00", "P01", "P02"])
    assert rows.loc[never, "price"].isna().all() and rows.loc[~never, "price"].notna().all()
    assert abs(never.mean() - products["code"].isin(["P00", "P01", "P02"]).mean()) < 0.03


def test_held_values_are_on_the_columns_grid():
    # Float noise on 4% of rows (428.4624741666447 for 428.46) were held values, and sampled.
    rng = np.random.default_rng(1)
    code = rng.choice([f"K{i}" for i in range(30)], 3000)
    price = np.array([10.0 + 3.17 * int(c[1:]) for c in code]).round(2)
    noisy = rng.random(3000) < 0.04
    price[noisy] += rng.normal(0, 1e-9, noisy.sum())
    frame = pd.DataFrame({"code": code, "price": price, "units": rng.integers(1, 50, 3000)})
    document = infer_schema(frame, derived=False).to_dict()
    document["constraints"] = [{"kind": "lookup", "column": "price", "keys": ["code"]}]
    syn = Synthesizer(schema=Schema.from_dict(document), epochs=3, seed=0).fit(frame)
    rows = syn.sample(2000, seed=0)
    assert (rows["price"] == rows["price"].round(2)).all()


def test_a_condition_no_held_value_meets_is_refused_at_once(products, fitted_products):
    value = float(products.loc[products["code"] == "P05", "price"].max())
    with pytest.raises(ParameterError, match=r"condition price = .* no value the training rows held meets it .*the nearest "
                                             r"held: "):
        fitted_products.sample(100, conditions=[f"price={value + 0.01}"])
    with pytest.raises(ParameterError, match=r"with code = 'P05': no value the training rows held meets it"):
        fitted_products.sample(100, conditions=["code=P05", f"price>={value + 0.01}"])
    with pytest.raises(ParameterError, match=r"cannot hold together: no training row of those keys holds a value of 'price'"):
        fitted_products.sample(100, conditions=["code=P00", "price>=1"])
    rows = fitted_products.sample(100, seed=2, conditions=["code=P05", f"price={value}"])
    assert (rows["price"] == value).all()


@pytest.mark.parametrize("edit, words", [
    (lambda payload: payload["constraints"].pop("lookups"), r"holds no lookup values for \[.price is looked up by code, member.\]"),
    (lambda payload: payload["constraints"]["lookups"].update({"0": []}), "hold no key"),
])
def test_a_model_file_that_lost_its_lookup_values_is_refused(tmp_path, fitted_products, edit, words):
    # Without its values the rule was silently not kept; with none, every sample failed.
    fitted_products.save(tmp_path / "m.svae")
    rewritten_model(tmp_path / "m.svae", tmp_path / "crafted.svae", payload=edit)
    with pytest.raises(ModelFileError, match=words):
        Synthesizer.load(tmp_path / "crafted.svae")


def test_impute_fills_once_a_row_whose_given_keys_were_never_seen_together(flights, fitted, caplog):
    # Drawn again 20 times (4.4 s for one row), then left broken with a word of redraws.
    routes = set(zip(flights["origin"], flights["dest"]))
    origin, dest = next((o, d) for o in sorted(flights["origin"].unique()) for d in sorted(flights["dest"].unique())
                        if (o, d) not in routes and o != d)
    table = flights.iloc[:3].copy().reset_index(drop=True)
    table.loc[0, ["origin", "dest", "distance"]] = [origin, dest, np.nan]
    table.loc[1, "distance"] = np.nan
    with caplog.at_level("WARNING"):
        done = fitted.impute(table, seed=0)
    assert "1 row (index [0]) cannot keep distance is looked up by origin, dest whatever is filled" in caplog.text
    assert fitted.last_resampling_["redrawn"] == 0
    assert held_share(done.iloc[1:], flights) == 1.0
