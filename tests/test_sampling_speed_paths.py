"""The fast sampling paths (issue 7) against the plain computations they replace: one-hot draws
by inverse CDF, the column-major argmax, the quantile inverse without a binary search, rounding
in place, the latent mixture draw, and the write that overlaps the next batch."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from synthvae import Synthesizer, read_table
from synthvae.errors import DataError
from synthvae.io import write_tables
from synthvae.model import SAMPLE_CHUNK, TabularVAE, VAEConfig
from synthvae.preprocessing.codecs import _round_within, argmax_rows
from synthvae.preprocessing.transforms import QuantileNormal
from synthvae.prior import MixturePrior


def _model(widths=(3, 2, 51), n_cont=2) -> TabularVAE:
    one_hot = tuple(range(n_cont, n_cont + sum(widths)))
    segment = tuple(i for i, w in enumerate(widths) for _ in range(w))
    config = VAEConfig(data_dim=n_cont + sum(widths), continuous_index=tuple(range(n_cont)), one_hot_index=one_hot,
                       one_hot_segment=segment, latent_dim=4, hidden_dims=(8,))
    return TabularVAE(config, generator=torch.Generator().manual_seed(0))


def _with_output_bias(model: TabularVAE, bias: torch.Tensor) -> TabularVAE:
    with torch.no_grad():
        model.decoder[-1].weight.zero_()
        model.decoder[-1].bias.copy_(bias)
    return model


def test_spans_are_exact_one_hots_drawn_from_their_softmax():
    model = _model()
    logits = torch.randn(58, generator=torch.Generator().manual_seed(3)) * 2
    logits[2 + 3 + 2 + 7] = -1e4  # an entry of probability 0
    _with_output_bias(model, logits)
    rows = 3 * SAMPLE_CHUNK + 17  # several chunks and a partial one
    out = model.sample_matrix(torch.zeros(rows, 4), torch.Generator().manual_seed(1))
    assert out.shape == (rows, 58)
    for first, width in model.one_hot_spans:
        block = out[:, first : first + width]
        assert torch.equal(block.sum(1), torch.ones(rows)) and set(block.unique().tolist()) == {0.0, 1.0}
        freq = block.mean(0)
        probs = torch.softmax(logits[first : first + width], 0)
        assert torch.allclose(freq, probs, atol=4 / math.sqrt(rows))
    assert out[:, 2 + 3 + 2 + 7].sum() == 0


def test_adjust_edits_logits_before_the_draw():
    model = _with_output_bias(_model(widths=(3,), n_cont=0), torch.tensor([0.0, 0.0, 5.0]))

    def forbid_last(matrix: torch.Tensor) -> None:
        matrix[:, 2] += -1e4

    out = model.sample_matrix(torch.zeros(5000, 4), torch.Generator().manual_seed(0), adjust=forbid_last)
    assert out[:, 2].sum() == 0
    assert abs(float(out[:, 0].mean()) - 0.5) < 0.05  # the others keep their relative odds


def test_sampling_is_deterministic_and_add_noise_agrees_in_distribution():
    model = _model()
    z = torch.randn(2000, 4, generator=torch.Generator().manual_seed(0))
    a = model.sample_matrix(z, torch.Generator().manual_seed(5))
    b = model.sample_matrix(z, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    with torch.inference_mode():
        c = model.add_noise(model.decode(z), torch.Generator().manual_seed(5))
    assert torch.allclose(a, c, atol=1e-5)  # same draws from the same generator state


@pytest.mark.parametrize("width", [1, 2, 3, 51])
def test_argmax_rows_matches_numpy_on_column_major_blocks(width):
    rng = np.random.default_rng(0)
    block = np.asfortranarray(rng.integers(0, 4, size=(1000, width)).astype(np.float32))  # many ties
    block[5, :] = np.nan
    block[6, width - 1] = np.nan
    assert np.array_equal(argmax_rows(block), block.argmax(axis=1))
    assert np.array_equal(argmax_rows(np.ascontiguousarray(block)), block.argmax(axis=1))


def test_quantile_inverse_matches_np_interp_and_keeps_point_masses():
    rng = np.random.default_rng(1)
    values = np.concatenate([np.zeros(3000), rng.exponential(size=7000), np.full(500, 7.25)])
    transform = QuantileNormal.fit(values)
    z = np.concatenate([rng.standard_normal(20_000), [-40.0, 40.0, 0.0]]).astype(np.float32).astype(np.float64)
    from scipy.special import ndtr

    expected = np.interp(ndtr(z), transform.probs, transform.quantiles)
    got = transform.inverse(z.reshape(-1, 1))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert (got[expected == 0.0] == 0.0).all() and (got[expected == 7.25] == 7.25).all()
    assert np.isnan(transform.inverse(np.array([[np.nan]]))).all()


def test_quantile_inverse_of_values_across_the_float_range():
    transform = QuantileNormal.fit(np.array([-1.7e308, -1.0, 0.0, 1.0, 1.7e308]))
    z = np.linspace(-6, 6, 101).reshape(-1, 1)
    out = transform.inverse(z)
    assert np.isfinite(out).all() and (np.diff(out) >= 0).all()
    from scipy.special import ndtr

    expected = np.interp(ndtr(z[:, 0]), transform.probs, transform.quantiles / 16) * 16  # what np.interp overflows without
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert transform.inverse(np.array([[-50.0], [50.0]])).tolist() == [-1.7e308, 1.7e308]


def _round_within_reference(values, decimals, low, high):
    scale = 10.0**decimals
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.round(values * scale) / scale
        low_grid = np.ceil(low * scale - 1e-9) / scale
        high_grid = np.floor(high * scale + 1e-9) / scale
        if low_grid <= high_grid:
            rounded = np.clip(rounded, low_grid, high_grid)
        rounded = np.round(rounded, decimals)
    rounded = np.where(np.isfinite(rounded) | ~np.isfinite(values), rounded, values)
    return np.clip(rounded, low, high)


@pytest.mark.parametrize(
    "decimals, low, high",
    [(0, -3.5, 1e6), (2, 0.001, 9.999), (1, -1e300, 1e300), (8, -1.7e308, 1.7e308), (2, 1e-300, 1e-299), (0, 2.9999999995, 2.9999999995)],
)
def test_rounding_in_place_gives_the_same_values(decimals, low, high):
    rng = np.random.default_rng(2)
    values = np.clip(np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-3, 300, 5000), [np.nan, 0.5, -0.5, 2.5]]), low, high)
    before = values.copy()
    got = _round_within(values, decimals, low, high)
    np.testing.assert_array_equal(got, _round_within_reference(values, decimals, low, high))
    np.testing.assert_array_equal(values, before)  # the input is left as it was


def test_mixture_prior_draws_components_at_their_weights():
    prior = MixturePrior(
        weights=torch.tensor([0.2, 0.8]),
        means=torch.tensor([[-5.0, 0.0], [5.0, 1.0]]),
        scale_tril=torch.stack([torch.eye(2) * 0.1, torch.tensor([[1.0, 0.0], [0.5, 0.2]])]),
    )
    z = prior.sample(20_000, torch.Generator().manual_seed(0), torch.device("cpu"))
    again = prior.sample(20_000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(z, again)
    first = z[:, 0] < 0
    assert abs(float(first.float().mean()) - 0.2) < 0.01
    assert torch.allclose(z[first].mean(0), torch.tensor([-5.0, 0.0]), atol=0.02)
    assert torch.allclose(torch.cov(z[~first].T), torch.tensor([[1.0, 0.5], [0.5, 0.29]]), atol=0.05)
    # Rows are in draw order, not grouped by component.
    assert 0.1 < float(first[:1000].float().mean()) < 0.3


def test_mixture_prior_fit_recovers_the_components_and_repeats():
    # The EM fit of the latent prior (torch, no scikit-learn) on two known Gaussians, with more
    # rows than one chunk of its row-chunked products.
    from synthvae.prior import fit_mixture_prior

    rng = np.random.default_rng(0)
    n = 12_000
    first = rng.standard_normal((n // 4, 3)) * 0.3 + np.array([-4.0, 0.0, 1.0])
    second = rng.standard_normal((n - n // 4, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 2.0]]) + 4.0
    latents = np.concatenate([first, second]).astype(np.float32)
    prior = fit_mixture_prior(latents, n_components=2, seed=3)
    again = fit_mixture_prior(latents, n_components=2, seed=3)
    assert torch.equal(prior.means, again.means) and torch.equal(prior.scale_tril, again.scale_tril)
    order = torch.argsort(prior.means[:, 0])
    assert torch.allclose(prior.weights[order], torch.tensor([0.25, 0.75]), atol=0.01)
    assert torch.allclose(prior.means[order], torch.tensor([[-4.0, 0.0, 1.0], [4.0, 4.0, 4.0]]), atol=0.05)
    cov = prior.scale_tril[order[1]] @ prior.scale_tril[order[1]].T
    assert torch.allclose(cov, torch.tensor([[1.0, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 4.0]]), atol=0.1)
    # Its log density is the mixture's: rows near the small component score higher there.
    assert float(prior.log_prob(torch.tensor([[-4.0, 0.0, 1.0]]))) > float(prior.log_prob(torch.tensor([[0.0, 0.0, 1.0]])))


def test_mixture_prior_models_inactive_latent_axes_by_their_own_variance():
    # A trained VAE's latent: two clusters in 2 active dimensions (rotated into 6), and 4
    # inactive ones whose posterior means hardly move (sd 0.005 in one cluster, 0.015 in the
    # other). The mixture is fitted in the active axes only; along the others every component
    # has the rows' own (pooled) variance plus the regulariser, where EM in all 6 dimensions
    # would give each cluster its own.
    from synthvae.prior import _REG_COVAR, fit_mixture_prior

    rng = np.random.default_rng(1)
    n = 6000
    label = rng.random(n) < 0.3
    active = np.where(label[:, None], [-3.0, 1.0], [2.0, -1.0]) + rng.standard_normal((n, 2)) * np.where(label[:, None], 0.5, 1.0)
    inactive = rng.standard_normal((n, 4)) * np.where(label[:, None], 0.005, 0.015)
    rotation, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    latents = (np.concatenate([active, inactive], axis=1) @ rotation.T).astype(np.float32)
    prior = fit_mixture_prior(latents, n_components=2, seed=0)
    assert prior.means.shape == (2, 6) and prior.scale_tril.shape == (2, 6, 6)
    back = torch.from_numpy(rotation.T).float()  # latent -> the generating coordinates
    means = prior.means @ back.T
    order = torch.argsort(means[:, 0])
    assert torch.allclose(prior.weights[order], torch.tensor([0.3, 0.7]), atol=0.02)
    assert torch.allclose(means[order][:, :2], torch.tensor([[-3.0, 1.0], [2.0, -1.0]]), atol=0.06)
    inactive_variance = torch.from_numpy(inactive.var(0)).float()
    for k in range(2):
        cov = back @ prior.scale_tril[k] @ prior.scale_tril[k].T @ back.T
        assert torch.allclose(torch.diagonal(cov)[2:], inactive_variance + _REG_COVAR, rtol=0.02)
        assert torch.allclose(means[k, 2:], torch.from_numpy(inactive.mean(0)).float(), atol=5e-4)
    assert torch.allclose(torch.diagonal(back @ prior.scale_tril[order[0]] @ prior.scale_tril[order[0]].T @ back.T)[:2],
                          torch.tensor([0.25, 0.25]), atol=0.03)


def test_mixture_prior_in_coordinates_is_the_marginal_of_its_draws():
    # Conditional sampling weighs draws in a subspace by the prior's marginal there: the mean
    # and covariance of projected draws must be the projected mixture's.
    from synthvae.prior import MixturePrior

    g = torch.Generator().manual_seed(0)
    d_full, d = 6, 2
    tril = torch.linalg.cholesky(torch.stack([a @ a.T + 0.1 * torch.eye(d_full) for a in torch.randn(3, d_full, d_full, generator=g)]))
    prior = MixturePrior(torch.tensor([0.2, 0.3, 0.5]), torch.randn(3, d_full, generator=g), tril)
    basis, _ = torch.linalg.qr(torch.randn(d_full, d, generator=g))
    center, scale = torch.randn(d_full, generator=g), torch.tensor([2.0, 0.5])
    coords = ((prior.sample(400_000, g, torch.device("cpu")) - center) @ basis / scale).double()
    marginal = prior.in_coordinates(center, basis, scale)
    weights, means, trils = marginal.weights.double(), marginal.means.double(), marginal.scale_tril.double()
    mean = (weights.unsqueeze(1) * means).sum(0)
    second = sum(w * (s @ s.T + m.outer(m)) for w, m, s in zip(weights, means, trils))
    assert torch.allclose(coords.mean(0), mean, atol=0.02)
    assert torch.allclose(torch.cov(coords.T), second - mean.outer(mean), rtol=0.02, atol=0.02)
    # ... and it is a density over the coordinates: it integrates to one on a grid.
    grid = torch.stack(torch.meshgrid(*[torch.linspace(-40, 40, 801)] * 2, indexing="ij"), -1).reshape(-1, 2)
    assert abs(float(marginal.log_prob(grid).double().exp().sum()) * 0.1**2 - 1.0) < 1e-3


def test_write_tables_raises_the_producers_error_and_leaves_no_file(tmp_path):
    def frames():
        yield pd.DataFrame({"a": [1, 2]})
        raise RuntimeError("sampling failed")

    with pytest.raises(RuntimeError, match="sampling failed"):
        write_tables(frames(), tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_write_tables_raises_the_writers_error_and_leaves_no_file(tmp_path, suffix):
    frames = [pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": ["x"]}), pd.DataFrame({"a": [3]})]
    with pytest.raises(DataError, match="cannot write"):
        write_tables(iter(frames), tmp_path / f"out.{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_write_tables_keeps_the_order_of_many_tables(tmp_path):
    frames = (pd.DataFrame({"i": np.arange(k * 10, k * 10 + 10)}) for k in range(25))
    path, rows = write_tables(frames, tmp_path / "out.parquet")
    assert rows == 250 and pq.ParquetFile(path).metadata.num_row_groups == 25
    assert read_table(path)["i"].tolist() == list(range(250))


def test_sampled_dtypes_and_bounds_hold_on_the_fast_paths(mixed_frame):
    syn = Synthesizer(epochs=2, hidden_dims=(16,), latent_dim=4, seed=0).fit(mixed_frame)
    a = syn.sample(3000, seed=4, batch_size=1000)
    b = syn.reset_sampling().sample(3000, seed=4, batch_size=1000)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == list(syn.schema_.names)
    expected = syn.sample(10, seed=0)
    assert list(a.dtypes) == list(expected.dtypes)
    for column in syn.schema_:
        if column.kind.value == "numeric" and column.min is not None:
            values = pd.to_numeric(a[column.name]).dropna()
            assert values.min() >= column.min and values.max() <= column.max
