"""Codecs and the table preprocessor: one contract for every codec, property tests, layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthvae import Column, ColumnKind, DataError, NotFittedError, NumericType, ParameterError, Schema, infer_schema
from synthvae.preprocessing import CODECS, CategoricalCodec, ModeNormal, SpanKind, TablePreprocessor
from synthvae.validation import conform

RNG = np.random.default_rng(0)
N = 400

# One (column, raw values) case per codec kind and per notable situation.
CASES = {
    "float skewed nullable": (
        Column("x", ColumnKind.NUMERIC, nullable=True, type=NumericType.FLOAT, decimals=3),
        pd.Series(np.where(RNG.random(N) < 0.1, np.nan, np.round(RNG.lognormal(0, 1.5, N), 3))),
    ),
    "integer point mass": (
        Column("n", ColumnKind.NUMERIC, type=NumericType.INTEGER),
        pd.Series(np.where(RNG.random(N) < 0.6, 0, RNG.integers(1, 50, N)).astype(float)),
    ),
    "constant": (Column("k", ColumnKind.NUMERIC, type=NumericType.FLOAT), pd.Series(np.full(N, 4.25))),
    "all null": (Column("e", ColumnKind.NUMERIC, nullable=True, type=NumericType.FLOAT), pd.Series(np.full(N, np.nan))),
    "categorical nullable": (
        Column("c", ColumnKind.CATEGORICAL, nullable=True, categories=("a", "b", "c", "never")),
        pd.Series(RNG.choice(["a", "b", "c", None], N)),
    ),
    "boolean nullable": (
        Column("b", ColumnKind.BOOLEAN, nullable=True),
        pd.Series(pd.array(RNG.choice([True, False, None], N), dtype="boolean")),
    ),
    "datetime nullable": (
        Column("t", ColumnKind.DATETIME, nullable=True, unit="s"),
        pd.Series(pd.to_datetime(1_600_000_000 + RNG.integers(0, 10**7, N), unit="s")).mask(RNG.random(N) < 0.1),
    ),
    "id string": (
        Column("i", ColumnKind.ID, type=NumericType.STRING, prefix="ID", width=6, start=1),
        pd.Series([f"ID{i:06d}" for i in range(N)]),
    ),
    "personal email": (
        Column("m", ColumnKind.PERSONAL, personal="email"),
        pd.Series([f"person{i}@mail.test" for i in range(N)]),
    ),
}


def _one_column(column, values):
    schema = Schema((column,))
    return schema, conform(pd.DataFrame({column.name: values}), schema)[column.name]


REAL_VALUED = (ColumnKind.NUMERIC, ColumnKind.DATETIME)
CONTRACT = [(case, "quantile") for case in sorted(CASES)] + [
    (case, "mode") for case in sorted(CASES) if CASES[case][0].kind in REAL_VALUED
]


@pytest.mark.parametrize("case, encoding", CONTRACT)
def test_codec_contract(case, encoding):
    column, raw = CASES[case]
    schema, series = _one_column(column, raw)
    kwargs = {"encoding": encoding} if column.kind in REAL_VALUED else {}
    codec = CODECS[column.kind](column, **kwargs)
    with pytest.raises(NotFittedError, match=repr(column.name)):
        codec.transform(series)
    codec.fit(series)
    block = codec.transform(series)
    assert block.dtype == np.float32 and block.shape == (len(series), codec.width)
    assert np.isfinite(block).all()
    assert sum(w for _, w in codec.spans()) == codec.width
    # One-hot spans hold exactly one 1 per row.
    start = 0
    for kind, width in codec.spans():
        if kind.is_one_hot:
            assert (block[:, start : start + width].sum(axis=1) == 1).all()
        start += width
    back = codec.reverse_transform(block, np.random.default_rng(0))
    assert len(back) == len(series) and back.name == column.name
    # Round trip: categories and nulls exact, numbers within tolerance, ids and personal values
    # regenerated, never one of the real ones (ids count on from the largest real one).
    if column.kind is ColumnKind.ID:
        assert back.is_unique and back.iloc[0] == f"ID{N:06d}"
        assert not set(back) & set(series)
        return
    if column.kind is ColumnKind.PERSONAL:
        assert back.str.endswith(("@example.com", "@example.net", "@example.org")).all()
        assert not set(back) & set(series)
        return
    assert (back.isna().to_numpy() == series.isna().to_numpy()).all()
    present = series.notna().to_numpy()
    if column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        assert (back[present].astype(object).to_numpy() == series[present].astype(object).to_numpy()).all()
    elif column.kind is ColumnKind.DATETIME:
        err = np.abs((back[present] - series[present]).dt.total_seconds().to_numpy())
        span = (series.max() - series.min()).total_seconds()
        assert err.max() <= 0.01 * span
    else:
        a = series[present].to_numpy(float)
        b = back[present].astype(float).to_numpy()
        tolerance = 1e-6 + 0.01 * (np.ptp(a) if a.size else 0)
        assert np.abs(a - b).max(initial=0.0) <= tolerance
    # State survives a JSON-shaped round trip.
    again = type(codec).from_state(column, codec.get_state())
    assert (again.transform(series) == block).all()


def test_pooled_rare_categories_come_back_at_their_rate():
    cats = tuple(f"c{i}" for i in range(50))
    probs = np.r_[np.full(5, 0.15), np.full(45, 0.25 / 45)]
    column = Column("c", ColumnKind.CATEGORICAL, categories=cats)
    _, series = _one_column(column, pd.Series(RNG.choice(cats, 5000, p=probs)))
    codec = CategoricalCodec(column, max_categories=6).fit(series)
    assert codec.width == 6  # 5 kept + "other"
    block = codec.transform(series)
    back = codec.reverse_transform(block, np.random.default_rng(1))
    kept = series.isin(cats[:5])
    assert (back[kept] == series[kept]).all()
    assert back[~kept].nunique() > 30  # drawn from the pool, not one placeholder


def test_mode_encoding_finds_the_modes_of_a_bimodal_column():
    values = np.r_[RNG.normal(-5, 0.5, 3000), RNG.normal(5, 0.5, 1000)]
    modes = ModeNormal.fit(values)
    heavy = np.sort(modes.means[modes.weights > 0.1])
    assert heavy.size == 2 and np.allclose(heavy, [-5, 5], atol=0.2)
    block = modes.forward(values)
    err = np.abs(modes.inverse(block) - values)
    assert (err < 1e-9).mean() > 0.999  # only values beyond 3.96 sigma of their mode are clipped


def test_mode_encoding_gives_a_few_repeated_values_a_mode_each():
    """Started from quantiles, two components sat on the 70% value and one took both others
    (mean 3.37): 29% of a fitted model's values then lay between 1.5 and 7.25."""
    values = np.random.default_rng(0).choice([0.5, 1.5, 7.25], 3000, p=[0.7, 0.2, 0.1])
    modes = ModeNormal.fit(values)
    assert np.allclose(np.sort(modes.means), [0.5, 1.5, 7.25])
    assert modes.stds.max() < 0.01
    assert np.array_equal(modes.inverse(modes.forward(values)), values)
    # Any offset a decoder gives stays within 0.01 of its mode's value.
    block = modes.forward(values)
    block[:, 0] = np.random.default_rng(1).uniform(-1, 1, values.size)
    assert np.abs(modes.inverse(block) - values).max() < 0.01
    # Four values, the last two rare (4 and 1%): one component took both 2 and 3.
    values = np.random.default_rng(2).choice([0.0, 1.0, 2.0, 3.0], 5000, p=[0.75, 0.2, 0.04, 0.01])
    assert np.allclose(np.sort(ModeNormal.fit(values).means), [0, 1, 2, 3])


def test_layout_spans_are_contiguous_and_typed(mixed_frame):
    pre = TablePreprocessor(infer_schema(mixed_frame)).fit(mixed_frame)
    layout = pre.layout
    assert layout.spans[0].start == 0
    for a, b in zip(layout.spans, layout.spans[1:]):
        assert a.stop == b.start
    assert layout.width == pre.transform(mixed_frame).shape[1]
    assert layout.for_column("user_id") == ()  # ids are not learned
    kinds = {s.column: s.kind for s in layout.spans}
    assert kinds["income"] is SpanKind.CONTINUOUS and kinds["city"] is SpanKind.CATEGORY
    assert [s.kind for s in layout.for_column("age")] == [SpanKind.CONTINUOUS, SpanKind.MISSING]
    assert len(layout.one_hot_index) == len(layout.one_hot_segment)


def test_empty_table_is_refused(mixed_frame):
    with pytest.raises(DataError, match="no rows"):
        TablePreprocessor(infer_schema(mixed_frame)).fit(mixed_frame.iloc[:0])


# ----- property tests: encode / decode of generated frames -----
floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=32)
frames = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "x": st.lists(st.one_of(floats, st.none()), min_size=n, max_size=n),
            "k": st.lists(st.integers(-1000, 1000), min_size=n, max_size=n),
            "c": st.lists(st.sampled_from(["α", "b", "", " c ", None]), min_size=n, max_size=n),
        }
    )
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_encode_decode_generated_frames(data):
    frame = pd.DataFrame({"x": pd.array(data["x"], dtype="Float64").astype("float64"), "k": data["k"], "c": pd.Series(data["c"], dtype=object)})
    schema = infer_schema(frame)
    pre = TablePreprocessor(schema).fit(frame)
    matrix = pre.transform(frame)
    assert matrix.shape == (len(frame), pre.layout.width) and np.isfinite(matrix).all()
    back = pre.reverse_transform(matrix, np.random.default_rng(0))
    assert list(back.columns) == list(frame.columns)
    assert (back.isna().to_numpy() == frame.isna().to_numpy()).all()
    c_kind = schema["c"].kind
    if c_kind is ColumnKind.CATEGORICAL:
        assert (back["c"].astype(object).fillna("<NA>") == frame["c"].fillna("<NA>")).all()
    k = frame["k"].to_numpy(float)
    got = back["k"].astype(float).to_numpy()
    if schema["k"].kind is ColumnKind.NUMERIC:
        assert np.abs(got - k).max() <= 1e-6 + 0.01 * np.ptp(k)
        assert (got >= k.min()).all() and (got <= k.max()).all()


def _flights(rows: int) -> pd.DataFrame:
    from conftest import dataset_path

    return pd.read_csv(dataset_path("flights.csv.gz"), nrows=rows, usecols=["carrier", "tailnum", "origin", "dest", "distance"])


def test_pooled_tail_numbers_are_drawn_within_the_rows_carrier():
    # 1,000+ tail numbers, 50 slots: most rows' planes are pooled. Each plane flies for one
    # carrier; drawn from the pool at large, a pooled plane would match the row's carrier about
    # a sixth of the time.
    flights = _flights(6000)
    schema = infer_schema(flights)
    pre = TablePreprocessor(schema, max_categories=50)
    matrix = pre.fit_transform(flights)
    tail = pre.codecs_[[c.column.name for c in pre.codecs_].index("tailnum")]
    assert tail.parent_ == "carrier"  # not origin (3 airports) nor dest
    back = pre.reverse_transform(matrix, np.random.default_rng(0))
    plane_carrier = flights.dropna(subset=["tailnum"]).groupby("tailnum")["carrier"].agg(lambda s: s.mode().iloc[0])
    pooled = tail.in_pool(conform(flights, schema, "flights")["tailnum"])
    drawn = back["tailnum"].astype(object)[pooled]
    same = (drawn.map(plane_carrier).to_numpy() == flights["carrier"].to_numpy()[pooled]).mean()
    assert pooled.mean() > 0.5 and same > 0.97
    # Unlinked, the same draws ignore the carrier.
    for codec in pre.codecs_:
        if codec.column.name == "tailnum":
            codec.link(None)
    apart = pre.reverse_transform(matrix, np.random.default_rng(0))["tailnum"].astype(object)[pooled]
    assert (apart.map(plane_carrier).to_numpy() == flights["carrier"].to_numpy()[pooled]).mean() < 0.5


def test_a_parent_that_predicts_nothing_is_not_linked_and_the_link_survives_the_state():
    flights = _flights(3000)
    rng = np.random.default_rng(3)
    flights["shuffled_carrier"] = rng.permutation(flights["carrier"].to_numpy())
    schema = infer_schema(flights.drop(columns=["carrier"]))
    pre = TablePreprocessor(schema, max_categories=50).fit(flights.drop(columns=["carrier"]))
    tail = next(c for c in pre.codecs_ if c.column.name == "tailnum")
    assert tail.parent_ == "origin" or tail.parent_ is None  # never the shuffled column
    schema = infer_schema(flights)
    pre = TablePreprocessor(schema, max_categories=50)
    matrix = pre.fit_transform(flights)
    again = TablePreprocessor.from_state(schema, pre.get_state())
    first = pre.reverse_transform(matrix, np.random.default_rng(5))
    assert first.equals(again.reverse_transform(matrix, np.random.default_rng(5)))
    assert next(c for c in again.codecs_ if c.column.name == "tailnum").parent_ == "carrier"
    # decoding a subset of the columns decodes the parent the linked column needs
    only = pre.reverse_transform(matrix, np.random.default_rng(5), columns=["tailnum"])
    assert list(only.columns) == ["tailnum"] and only["tailnum"].equals(first["tailnum"])


def _atom_codec(values: np.ndarray, nullable: bool = False):
    column = Column("n", ColumnKind.NUMERIC, nullable=nullable, type=NumericType.INTEGER)
    _, series = _one_column(column, pd.Series(values))
    return CODECS[ColumnKind.NUMERIC](column).fit(series), series


def test_a_heavy_point_mass_gets_a_flag_and_only_the_flag_decodes_to_it():
    # churn's voice-mail messages: 0 for three rows in four, 4 to 50 for the others
    values = np.where(RNG.random(2000) < 0.74, 0, RNG.integers(4, 51, 2000)).astype(float)
    codec, series = _atom_codec(values, nullable=True)
    assert [kind for kind, _ in codec.spans()] == [SpanKind.CONTINUOUS, SpanKind.MODE, SpanKind.MISSING]
    block = codec.transform(series)
    assert (block[:, 2] == (values == 0)).all()  # the flag [other, atom]
    assert (codec.reverse_transform(block, RNG).to_numpy(float) == values).all()
    # Any score at all: a row flagged "other" never comes back as 0, nor outside 4..50 (noise
    # that lands in the atom's interval of scores is reflected out of it); a flagged row is 0.
    scores = np.linspace(-6, 6, 4001)
    flagged = np.zeros((scores.size, 5), dtype=np.float32)
    flagged[:, 0], flagged[:, 3] = scores, 1.0
    flagged[:, 1] = 1.0
    other = codec.reverse_transform(flagged, RNG).to_numpy(float)
    assert other.min() >= 4 and other.max() <= 50
    assert other[scores > 1.0].min() > 4  # above the interval scores decode as before
    flagged[:, 1], flagged[:, 2] = 0.0, 1.0
    assert (codec.reverse_transform(flagged, RNG).to_numpy(float) == 0).all()
    again = type(codec).from_state(codec.column, codec.get_state())
    assert (again.transform(series) == block).all()


def test_conditions_between_a_point_mass_and_its_nearest_value_are_refused_not_made_up():
    # churn's voice-mail messages: 0, then 4 to 50. The transform gave 1 <= n <= 3 the mass it
    # interpolates across the spike's jump, which decoding never draws (it moves such values to
    # 4), and a condition there was met with made-up values (seattle's 0 < precipitation < 0.3).
    from synthvae.conditions import Condition

    values = np.where(RNG.random(2000) < 0.74, 0, RNG.integers(4, 51, 2000)).astype(float)
    codec, _ = _atom_codec(values)
    assert codec.transform_.mass_between(0.5, 3.5) == 0.0
    with pytest.raises(ParameterError, match="no training value of column 'n' lies there"):
        codec.draw_given(Condition("n", low=1, high=3), 10, RNG)
    with pytest.raises(ParameterError, match="no training value of column 'n' lies there"):
        codec.draw_given(Condition("n", values=(2.0,)), 10, RNG)
    # A range reaching 4 takes the whole gap's mass there, as decoding puts it.
    drawn = codec.draw_given(Condition("n", low=1, high=6), 20_000, RNG).to_numpy(float)
    assert set(np.unique(drawn)) <= {4.0, 5.0, 6.0}
    share = codec.transform_.mass_between(1, 6)
    assert share == pytest.approx(codec.transform_.mass_between(0.5, 6)) and 0 < share < 0.26
    assert codec.transform_.mass_between(-np.inf, np.inf) == pytest.approx(1.0)


@pytest.mark.parametrize("values", [
    RNG.poisson(1.6, 2000).astype(float),  # customer-service calls: 1 is the most frequent of 0-9, no spike
    RNG.normal(0, 1, 2000),  # no point mass at all
    np.where(RNG.random(2000) < 0.5, 0.0, 1.0) + (RNG.random(2000) < 0.01) * 2,  # nearly two levels
    np.where(RNG.random(2000) < 0.5, 4, RNG.integers(1, 4, 2000)).astype(float),  # a 1-4 rate: a code
])
def test_levels_of_a_count_and_continuous_columns_get_no_flag(values):
    codec, _ = _atom_codec(np.round(values) if values.max() < 20 else values)
    assert [kind for kind, _ in codec.spans()] == [SpanKind.CONTINUOUS]


def _clipped_percentages(n: int = 4000, seed: int = 2) -> np.ndarray:
    """A percentage clipped to 0-100 on a grid of 0.1: about 20% of the values at each end,
    neither twice the other (so one atom alone gave neither a flag)."""
    return np.clip(np.random.default_rng(seed).normal(50, 59.4, n), 0, 100).round(1)


def _integer_ends_codec():
    # 0 and 100 each for a fifth of the rows, the others 5 to 95: the gaps 1-4 and 96-99 hold none
    rng = np.random.default_rng(3)
    values = np.select([rng.random(3000) < 0.2, rng.random(3000) < 0.25], [0, 100], rng.integers(5, 96, 3000)).astype(float)
    return values, *_atom_codec(values)


def test_several_point_masses_each_get_a_flag_and_only_their_flag_decodes_to_them():
    values, codec, series = _integer_ends_codec()
    assert [(kind, width) for kind, width in codec.spans()] == [(SpanKind.CONTINUOUS, 1), (SpanKind.MODE, 3)]
    block = codec.transform(series)
    assert (block[:, 2] == (values == 0)).all() and (block[:, 3] == (values == 100)).all()  # [other, 0, 100]
    assert (codec.reverse_transform(block, RNG).to_numpy(float) == values).all()
    # Any score: a row flagged "other" is neither atom nor in a gap beside one (reflected out of
    # each atom's interval); a row flagged for an atom is that atom.
    scores = np.linspace(-6, 6, 4001)
    flagged = np.zeros((scores.size, 4), dtype=np.float32)
    flagged[:, 0], flagged[:, 1] = scores, 1.0
    other = codec.reverse_transform(flagged, RNG).to_numpy(float)
    assert other.min() >= 5 and other.max() <= 95
    for column, atom in ((2, 0.0), (3, 100.0)):
        flagged[:, 1:] = 0.0
        flagged[:, column] = 1.0
        assert (codec.reverse_transform(flagged, RNG).to_numpy(float) == atom).all()
    again = type(codec).from_state(codec.column, codec.get_state())
    assert (again.transform(series) == block).all()
    assert again.get_state() == codec.get_state() and "atoms" in codec.get_state()["transform"]
    # Three price points of a fifth each among prices on a grid of cents: three flags.
    rng = np.random.default_rng(4)
    prices = np.where(rng.random(3000) < 0.6, rng.choice([9.99, 19.99, 49.99], 3000), np.round(rng.uniform(1, 80, 3000), 2))
    assert _one_flag_width(prices) == 4
    assert _one_flag_width(_clipped_percentages()) == 3


def _one_flag_width(values: np.ndarray) -> int | None:
    from synthvae.preprocessing.transforms import AtomQuantileNormal

    transform = AtomQuantileNormal.fit_if_atom(values)
    return None if transform is None else transform.spans()[1][1]


def test_conditions_beside_several_point_masses_take_the_atoms_whole_and_refuse_the_gaps():
    from synthvae.conditions import Condition

    values, codec, _ = _integer_ends_codec()
    for atom in (0, 100):
        assert (codec.draw_given(Condition("n", values=(float(atom),)), 50, RNG).to_numpy(float) == atom).all()
        assert codec.transform_.mass_between(atom, atom) == pytest.approx((values == atom).mean(), abs=0.002)
    for low, high in ((1, 4), (96, 99)):
        assert codec.transform_.mass_between(low - 0.5, high + 0.5) == 0.0
        with pytest.raises(ParameterError, match="no training value of column 'n' lies there"):
            codec.draw_given(Condition("n", low=low, high=high), 10, RNG)
    # n > 0 leaves out the atom at 0 (and n < 100 the one at 100); the gaps' mass lands on 5 and 95
    inner = codec.draw_given(Condition("n", low=0, low_strict=True), 20_000, RNG).to_numpy(float)
    assert inner.min() == 5 and (inner == 100).mean() == pytest.approx((values == 100).mean() / (values > 0).mean(), abs=0.02)
    between = codec.draw_given(Condition("n", low=0, high=100, low_strict=True, high_strict=True), 20_000, RNG).to_numpy(float)
    assert between.min() == 5 and between.max() == 95
    assert codec.transform_.mass_between(-np.inf, np.inf) == pytest.approx(1.0)


def test_several_point_masses_need_each_to_stand_apart_from_the_other_values():
    from synthvae.preprocessing.transforms import AtomQuantileNormal

    rng = np.random.default_rng(5)
    # Levels of a count: 0-3 of Poisson(1.6) hold 20%, 32%, 26%, 14% of 100,000 values (10 or
    # more distinct), twice 4's share but not twice their neighbours'.
    assert AtomQuantileNormal.fit_if_atom(rng.poisson(1.6, 100_000).astype(float)) is None
    # Five price points of 15% each: more than ATOM_MAX, and the fifth is no less than the fourth.
    five = np.where(rng.random(5000) < 0.75, rng.choice([5.0, 10.0, 20.0, 50.0, 99.0], 5000), np.round(rng.uniform(1, 120, 5000), 2))
    assert AtomQuantileNormal.fit_if_atom(five) is None
    # Spikes of 35%, 14% and 8%: the second is at least ATOM_SHARE but not twice the third, so
    # only the first is an atom (as it was with one atom alone).
    lone = np.select([rng.random(5000) < 0.35, rng.random(5000) < 0.215, rng.random(5000) < 0.157], [0.0, 50.0, 25.0],
                     np.round(rng.uniform(1, 100, 5000), 2))
    assert list(AtomQuantileNormal.fit_if_atom(lone).atoms) == [0.0]


def test_a_single_atom_keeps_its_model_file_format_and_a_damaged_list_of_atoms_is_refused():
    from synthvae import ModelFileError

    values = np.where(RNG.random(2000) < 0.74, 0, RNG.integers(4, 51, 2000)).astype(float)
    codec, series = _atom_codec(values)
    state = codec.get_state()
    # as files held it before several atoms (and versions before them read)
    assert set(state["transform"]) == {"encoding", "quantiles", "atom", "down", "up"}
    assert (state["transform"]["atom"], state["transform"]["down"], state["transform"]["up"]) == (0.0, None, 4.0)
    block = codec.transform(series)
    again = type(codec).from_state(codec.column, state)
    assert (again.transform(series) == block).all()
    scores = np.zeros((501, 3), dtype=np.float32)
    scores[:, 0], scores[:, 1] = np.linspace(-6, 6, 501), 1.0
    assert again.reverse_transform(scores, np.random.default_rng(0)).equals(codec.reverse_transform(scores, np.random.default_rng(0)))
    _, many, _ = _integer_ends_codec()
    for damage in ({"atoms": [100.0, 0.0]}, {"ups": [5.0]}, {"atoms": [0.0, float("nan")]}):
        state = many.get_state()
        state["transform"] |= damage
        with pytest.raises(ModelFileError, match="atoms"):
            type(many).from_state(many.column, state)


def test_a_model_file_without_the_flag_still_loads():
    values = np.where(RNG.random(500) < 0.6, 0, RNG.integers(1, 50, 500)).astype(float)
    codec, series = _atom_codec(values)
    state = codec.get_state()
    state["transform"].pop("atom")  # as written before the flag existed
    old = type(codec).from_state(codec.column, state)
    assert old.width == 1
    assert (old.reverse_transform(old.transform(series), RNG).to_numpy(float) == values).all()


def test_a_private_fits_preprocessor_gives_no_flag():
    values = np.where(RNG.random(500) < 0.6, 0, RNG.integers(1, 50, 500)).astype(float)
    schema = Schema((Column("n", ColumnKind.NUMERIC, type=NumericType.INTEGER),))
    frame = pd.DataFrame({"n": values})
    assert TablePreprocessor(schema).fit(frame).layout_.width == 3
    plain = TablePreprocessor(schema, point_masses=False).fit(frame)
    assert plain.layout_.width == 1
    assert TablePreprocessor.from_state(schema, plain.get_state()).point_masses is False
