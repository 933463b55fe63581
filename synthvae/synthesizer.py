"""The pandas-facing facade: fit a tabular VAE on a table, sample new rows, save and load."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthvae import __version__
from synthvae.device import resolve_device
from synthvae.errors import DataError, ModelFileError, NotFittedError, ParameterError, SchemaError
from synthvae.inference import infer_schema
from synthvae.io import read_table
from synthvae.model import TabularVAE, VAEConfig
from synthvae.modelfile import load_model_file, save_model_file
from synthvae.preprocessing import NumericEncoding, TablePreprocessor
from synthvae.prior import MixturePrior, PriorKind, fit_mixture_prior
from synthvae.schema import Schema, load_schema
from synthvae.training import Callback, TrainConfig, train

logger = logging.getLogger(__name__)

TableLike = pd.DataFrame | str | os.PathLike


@dataclass(frozen=True)
class FitInfo:
    """Facts about the last fit.

    Attributes:
        rows: Training rows (before the validation split).
        columns: Table columns.
        encoded_width: Width of the encoded matrix.
        epochs_planned: Epochs the configuration asked for.
        epochs_run: Epochs actually run (fewer after early stopping).
        best_epoch: Epoch whose weights were kept.
        seconds: Wall-clock seconds of the whole fit.
        device: Device trained on.
    """

    rows: int
    columns: int
    encoded_width: int
    epochs_planned: int
    epochs_run: int
    best_epoch: int
    seconds: float
    device: str


class Synthesizer:
    """Learns a table's joint distribution with a tabular VAE and samples new rows from it.

    ``__init__`` only stores parameters; :meth:`fit` validates, encodes, builds, trains and returns
    ``self``. Learned state ends in ``_``.

    Args:
        schema: A :class:`Schema`, a path to a schema JSON file, or ``None`` to infer one from the
            data at fit time.
        epochs: Training epochs; ``None`` picks them from the table size (a step budget), and
            early stopping on a validation split may end sooner.
        batch_size: Rows per step; ``None`` picks from the table size.
        latent_dim: Size of the latent embedding.
        hidden_dims: Hidden layer widths of the encoder (the decoder mirrors them).
        beta: Weight of the KL term of the loss.
        learning_rate: Adam step size.
        validation_fraction: Share of rows held out for early stopping.
        patience: Epochs without improvement before early stopping.
        max_categories: One-hot slots per categorical column before rare categories are pooled.
        numeric_encoding: ``"quantile"`` (default: Gaussian quantile transform) or ``"mode"``
            (mode-specific normalisation with a Gaussian mixture, as CTGAN / TVAE).
        prior: What sampling draws latents from: ``"mixture"`` (default: a Gaussian mixture
            fitted to the training rows' posterior means, see :mod:`synthvae.prior`) or
            ``"standard"`` (N(0, I)).
        prior_components: Components of the mixture prior.
        seed: Seed of every random choice in ``fit`` (and of ``sample`` calls without a seed).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.

    Example:
        >>> syn = Synthesizer(epochs=5).fit(df)          # doctest: +SKIP
        >>> fake = syn.sample(1000, seed=1)               # doctest: +SKIP
    """

    def __init__(
        self,
        schema: Schema | str | os.PathLike | None = None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        latent_dim: int = 64,
        hidden_dims: tuple[int, ...] = (256, 256),
        beta: float = 1.0,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.1,
        patience: int = 20,
        max_categories: int = 200,
        numeric_encoding: str = "quantile",
        prior: str = "mixture",
        prior_components: int = 10,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.schema = schema
        self.epochs = epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.hidden_dims = tuple(hidden_dims)
        self.beta = beta
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_categories = max_categories
        self.numeric_encoding = numeric_encoding
        self.prior = prior
        self.prior_components = prior_components
        self.seed = seed
        self.device = device

    # ------------------------------------------------------------------ fit
    def fit(self, data: TableLike, *, callback: Callback | None = None) -> "Synthesizer":
        """Learn the table's distribution.

        Args:
            data: A DataFrame, or the path of a CSV or Parquet file.
            callback: Called with a :class:`synthvae.training.Progress` after every epoch.

        Returns:
            ``self``.

        Raises:
            DataError: The table is empty or does not fit the schema.
            SchemaError: The schema file is invalid.
            TrainingError: The loss diverged.
        """
        self._check_params()
        started = time.perf_counter()
        frame, source = _read(data)
        schema = self._resolve_schema(frame)
        device = resolve_device(self.device)
        init_seed, train_seed, sample_seed, prior_seed = _fit_seeds(self.seed)

        preprocessor = TablePreprocessor(
            schema, max_categories=self.max_categories, numeric_encoding=self.numeric_encoding
        )
        matrix = preprocessor.fit_transform(frame, source=source)
        layout = preprocessor.layout_
        model = self._build_model(layout, matrix, int(init_seed)).to(device)
        train_config = self._train_config()
        generator = torch.Generator(device=device).manual_seed(int(train_seed))
        data = torch.from_numpy(matrix).to(device)
        result = train(model, data, train_config, generator, callback)
        prior = self._fit_prior(model, data, int(prior_seed))

        self.schema_ = schema
        self.preprocessor_ = preprocessor
        self.model_ = model
        self.prior_ = prior.to(device) if prior is not None else None
        self.train_config_ = train_config
        self.history_ = result.history
        self.device_ = device
        self._sample_rng = np.random.default_rng(int(sample_seed))
        self.fit_info_ = FitInfo(
            rows=len(frame),
            columns=len(schema),
            encoded_width=layout.width,
            epochs_planned=result.epochs_planned,
            epochs_run=len(result.history),
            best_epoch=result.best_epoch,
            seconds=time.perf_counter() - started,
            device=str(device),
        )
        return self

    def _build_model(self, layout, matrix: np.ndarray, seed: int) -> TabularVAE:
        """A fresh VAE for the layout, weights from ``seed``, output bias at the data's marginals."""
        config = VAEConfig(
            data_dim=layout.width,
            continuous_index=tuple(int(i) for i in layout.continuous_index),
            one_hot_index=tuple(int(i) for i in layout.one_hot_index),
            one_hot_segment=tuple(int(i) for i in layout.one_hot_segment),
            latent_dim=self.latent_dim,
            hidden_dims=self.hidden_dims,
        )
        model = TabularVAE(config, generator=torch.Generator().manual_seed(seed))
        model.init_output_bias(torch.from_numpy(matrix.mean(axis=0, dtype=np.float64)))
        return model

    def _fit_prior(self, model: TabularVAE, data: torch.Tensor, seed: int) -> MixturePrior | None:
        """The latent mixture prior, or ``None`` for N(0, I)."""
        if PriorKind(self.prior) is PriorKind.STANDARD:
            return None
        return fit_mixture_prior(_posterior_means(model, data, seed), self.prior_components, seed % 2**31)

    def _check_params(self) -> None:
        problems = []
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs < 1):
            problems.append(f"epochs must be a positive integer or None, got {self.epochs!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            problems.append(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            problems.append(f"latent_dim must be a positive integer, got {self.latent_dim!r}")
        if not self.hidden_dims or any((not isinstance(h, int)) or h < 1 for h in self.hidden_dims):
            problems.append(f"hidden_dims must be positive integers, got {self.hidden_dims!r}")
        if not isinstance(self.patience, int) or self.patience < 1:
            problems.append(f"patience must be a positive integer, got {self.patience!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0 <= self.validation_fraction < 1:
            problems.append(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.beta < 0 or self.learning_rate <= 0:
            problems.append("beta must be >= 0 and learning_rate > 0")
        if self.numeric_encoding not in [e.value for e in NumericEncoding]:
            problems.append(f"numeric_encoding must be 'quantile' or 'mode', got {self.numeric_encoding!r}")
        if self.prior not in [p.value for p in PriorKind]:
            problems.append(f"prior must be 'mixture' or 'standard', got {self.prior!r}")
        if not isinstance(self.prior_components, int) or self.prior_components < 1:
            problems.append(f"prior_components must be a positive integer, got {self.prior_components!r}")
        if self.max_categories < 2:
            problems.append(f"max_categories must be at least 2, got {self.max_categories!r}")
        if problems:
            raise ParameterError("; ".join(problems))

    def _resolve_schema(self, frame: pd.DataFrame) -> Schema:
        if self.schema is None:
            return infer_schema(frame)
        if isinstance(self.schema, Schema):
            return self.schema
        if isinstance(self.schema, (str, os.PathLike)):
            return load_schema(self.schema)
        raise SchemaError(f"schema must be a Schema, a path or None, got {type(self.schema).__name__}")

    def _train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            beta=self.beta,
            validation_fraction=self.validation_fraction,
            patience=self.patience,
        )

    # --------------------------------------------------------------- sample
    def sample(self, n: int, *, seed: int | None = None, batch_size: int = 50_000) -> pd.DataFrame:
        """Draw ``n`` synthetic rows.

        Args:
            n: Number of rows.
            seed: Same seed, same rows (bit for bit on CPU). ``None`` continues a stream seeded
                by the synthesizer's ``seed``, so successive calls differ but a fresh run repeats.
            batch_size: Rows decoded per batch: bounds memory. The draws are made batch by batch,
                so the rows for a seed depend on it too: keep it fixed to reproduce a sample.

        Returns:
            Exactly ``n`` rows with exactly the schema's columns, order and dtypes.
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ParameterError(f"n must be a non-negative integer, got {n!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ParameterError(f"seed must be a non-negative integer or None, got {seed!r}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}")
        if seed is None:
            seed = int(self._sample_rng.integers(0, 2**63 - 1))
        torch_seed, numpy_seed = np.random.SeedSequence(seed).generate_state(2)
        generator = torch.Generator(device=self.device_).manual_seed(int(torch_seed))
        rng = np.random.default_rng(int(numpy_seed))
        self.model_.eval()
        frames = [self.preprocessor_.reverse_transform(matrix, rng) for matrix in self._sample_matrices(int(n), generator, batch_size)]
        if not frames:
            width = self.preprocessor_.layout_.width
            return self.preprocessor_.reverse_transform(np.zeros((0, width), dtype=np.float32), rng)
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return self.preprocessor_.finalize(frame)

    def _sample_matrices(self, n: int, generator: torch.Generator, batch_size: int):
        """Yield sampled encoded matrices of at most ``batch_size`` rows, column-major on the CPU."""
        latent = self.model_.config.latent_dim
        for start in range(0, n, batch_size):
            rows = min(batch_size, n - start)
            if self.prior_ is not None:
                z = self.prior_.sample(rows, generator, self.device_)
            else:
                z = torch.randn((rows, latent), generator=generator, device=self.device_)
            # Transposed in torch (fast), so the numpy view is column-major: every codec's block
            # of columns is then one contiguous slice.
            yield self.model_.sample_matrix(z, generator).T.contiguous().cpu().numpy().T

    # ------------------------------------------------------------ save/load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to one file (weights, configs, schema, codec state).

        The file is written atomically and holds no pickle.
        """
        self._check_fitted()
        payload = {
            "synthvae_version": __version__,
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "preprocessor": self.preprocessor_.get_state(),
            "vae_config": self.model_.config.to_dict(),
            "train_config": self.train_config_.to_dict(),
            "history": self.history_,
            "fit_info": asdict(self.fit_info_),
        }
        tensors = dict(self.model_.state_dict())
        if self.prior_ is not None:
            tensors.update(self.prior_.tensors())
        return save_model_file(path, tensors, payload)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str = "cpu") -> "Synthesizer":
        """Read a model file written by :meth:`save`.

        Args:
            path: The model file.
            device: Where the model lands (``cpu`` by default, whatever it was trained on).

        Raises:
            ModelFileError: The file is missing, truncated, corrupt, foreign or too new.
        """
        resolved = resolve_device(device)
        tensors, payload = load_model_file(path)
        try:
            params = dict(payload["params"])
            params["hidden_dims"] = tuple(params["hidden_dims"])
            params["device"] = device
            schema = Schema.from_dict(payload["schema"], source=f"model file {str(path)!r}")
            syn = cls(schema=schema, **{k: v for k, v in params.items() if k != "schema"})
            config = VAEConfig.from_dict(payload["vae_config"])
            model = TabularVAE(config)  # weights replaced below
            prior_tensors = {k: tensors.pop(k) for k in list(tensors) if k.startswith("prior.")}
            model.load_state_dict(tensors, strict=True)
            syn.model_ = model.to(resolved).eval()
            syn.prior_ = MixturePrior.from_tensors(prior_tensors).to(resolved) if prior_tensors else None
            syn.schema_ = schema
            syn.preprocessor_ = TablePreprocessor.from_state(schema, payload["preprocessor"])
            syn.train_config_ = TrainConfig(**payload["train_config"])
            syn.history_ = list(payload["history"])
            syn.fit_info_ = FitInfo(**payload["fit_info"])
            syn.device_ = resolved
        except (KeyError, TypeError, ValueError, RuntimeError, SchemaError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"model file {str(path)!r} is corrupt: {type(exc).__name__}: {exc}") from None
        sample_seed = _fit_seeds(syn.seed)[2]
        syn._sample_rng = np.random.default_rng(int(sample_seed))
        return syn

    # -------------------------------------------------------------- helpers
    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters (the schema as given is left out)."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "latent_dim": self.latent_dim,
            "hidden_dims": list(self.hidden_dims),
            "beta": self.beta,
            "learning_rate": self.learning_rate,
            "validation_fraction": self.validation_fraction,
            "patience": self.patience,
            "max_categories": self.max_categories,
            "numeric_encoding": str(NumericEncoding(self.numeric_encoding).value),
            "prior": str(PriorKind(self.prior).value),
            "prior_components": self.prior_components,
            "seed": self.seed,
            "device": str(self.device),
        }

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Synthesizer is not fitted yet; call fit(data) or Synthesizer.load(path)")

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"Synthesizer(latent_dim={self.latent_dim}, hidden_dims={self.hidden_dims}, seed={self.seed}; {state})"


def _fit_seeds(seed: int) -> np.ndarray:
    """The four seeds a fit derives from its seed: weights, training, unseeded samples, prior.

    ``load`` derives the same unseeded-sample stream, so a loaded model continues as a fitted one.
    """
    return np.random.SeedSequence(seed).generate_state(4)


@torch.no_grad()
def _posterior_means(model: TabularVAE, data: torch.Tensor, seed: int, max_rows: int = 50_000) -> np.ndarray:
    """Posterior means of (at most ``max_rows`` seeded-random) training rows, ``(N, latent)``."""
    model.eval()
    rows = np.arange(data.shape[0])
    if rows.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    index = torch.from_numpy(rows).to(data.device)
    means = [model.encode(data[index[i : i + 8192]])[0].cpu() for i in range(0, len(rows), 8192)]
    return torch.cat(means).numpy()


def _read(data: TableLike) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "training data"
    if isinstance(data, (str, os.PathLike)):
        return read_table(data), f"{str(data)!r}"
    raise DataError(f"expected a DataFrame or a CSV/Parquet path, got {type(data).__name__}")
