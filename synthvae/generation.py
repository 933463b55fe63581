"""Rows from a fitted model given some of their cells: conditional sampling and imputation.

Both work the same way: the known cells of each row (the conditions, or the observed cells of a
row to complete) are encoded, the conditional prior of :mod:`synthvae.conditional_prior` draws
the row's latent given them in one pass, and the decoder draws the unknown cells. The known
cells are then written back exactly, so every row satisfies its conditions by construction.

A condition that names one value (``species = Adelie``) is known outright. A condition that
allows several values or a range (``age >= 40``) first needs each row's value: the first such
column is drawn from its training distribution restricted to the condition (exact, from the
codec); a later one, which depends on the columns already fixed, from the model's own
conditional given them, by keeping one of ``candidates`` proposals that satisfies the condition
(rows where none does fall back to the restricted training distribution, and are counted).

This module knows the preprocessor, the VAE and the conditional prior; the facade
(:class:`synthvae.synthesizer.Synthesizer`) checks the user's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from synthvae.conditional_prior import ConditionalPrior
from synthvae.conditions import Condition
from synthvae.model import SAMPLE_CHUNK, TabularVAE
from synthvae.preprocessing import TablePreprocessor
from synthvae.preprocessing.layout import SpanKind
from synthvae.prior import MixturePrior
from synthvae.schema import ColumnKind
from synthvae.validation import conform

_BIG = 1e4  # a logit shift that makes a one-hot slot certain (or impossible) after Gumbel noise


@dataclass
class Generator:
    """The fitted parts that generate rows.

    Attributes:
        preprocessor: The fitted table preprocessor.
        model: The trained VAE.
        prior: The trained conditional prior.
        latent_prior: The unconditional prior (a mixture, or ``None`` for N(0, I)).
        device: Where the networks run.
        proposals: Conditional-prior draws per row among which importance weights choose.
        pool_factor: For conditions shared by all rows, the pool of draws is this many times
            the number of rows.
    """

    preprocessor: TablePreprocessor
    model: TabularVAE
    prior: ConditionalPrior
    latent_prior: MixturePrior | None
    device: torch.device
    proposals: int = 8
    pool_factor: int = 2

    def __post_init__(self) -> None:
        layout = self.preprocessor.layout_
        self.column_index = {name: i for i, name in enumerate(layout.columns)}
        self.codec_of = {c.column.name: c for c in self.preprocessor.codecs_}
        self.slices = {name: layout.column_slice(name) for name in layout.columns}

    # ------------------------------------------------------------ encode known cells
    def _put(self, x: np.ndarray, shown: np.ndarray, name: str, values: pd.Series) -> None:
        """Write a column's values into the evidence matrix and mark the column shown."""
        x[:, self.slices[name]] = self.codec_of[name].transform(values.reset_index(drop=True))
        shown[:, self.column_index[name]] = True

    @torch.inference_mode()
    def _latents(
        self, x: np.ndarray, shown: np.ndarray, generator: torch.Generator, chunk: int = 4096
    ) -> torch.Tensor:
        """One latent per row given its shown cells, by sampling-importance-resampling: draws
        from the conditional prior ``r``, kept by weight ``p(z) p(shown cells | z) / r(z | shown)``.

        ``r`` alone is fitted to where the *encoder* puts rows with those cells; a cell that the
        encoder hardly encodes (a class the decoder mostly draws as noise) leaves it close to the
        unconditional prior. The weights correct it towards the model's own conditional, the
        distribution a filter on unconditional samples would give, at no risk of failing.

        Args:
            x, shown: Encoded known cells ``(n, W)`` and which columns are known ``(n, C)``;
                each row gets ``proposals`` draws (see :meth:`_shared_pool` for rows that all
                know the same cells).
        """
        n = x.shape[0]
        if n == 0:
            return torch.zeros((0, self.model.config.latent_dim), device=self.device)
        parts = []
        for start in range(0, n, chunk):
            z, log_w, _ = self._weighted(x[start : start + chunk], shown[start : start + chunk], self.proposals, generator)
            pick = torch.multinomial(torch.softmax(log_w, dim=1), 1, generator=generator).squeeze(1)
            parts.append(z[torch.arange(z.shape[0], device=z.device), pick])
        return torch.cat(parts)

    @torch.inference_mode()
    def _shared_pool(self, x: np.ndarray, shown: np.ndarray, n: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` latents for rows that all know the same cells (the first row's), resampled with
        replacement from one weighted pool, with their decoder outputs (so they are not decoded
        twice)."""
        draws = max(self.pool_factor * n, 64)
        z, log_w, recon = self._weighted(x[:1], shown[:1], draws, generator, keep_outputs=True)  # (1, draws)
        pick = torch.multinomial(torch.softmax(log_w[0], dim=0), n, replacement=True, generator=generator)
        return z[0, pick], recon[pick]

    @torch.inference_mode()
    def _weighted(
        self, x: np.ndarray, shown: np.ndarray, draws: int, generator, keep_outputs: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``draws`` proposals per row, their log importance weights, ``(B, draws, D)`` and
        ``(B, draws)``, and (``keep_outputs``) their decoder outputs ``(B * draws, W)``."""
        xs = torch.from_numpy(x).to(self.device)
        ss = torch.from_numpy(shown).to(self.device)
        z, coords, log_q = self.prior.sample(xs, ss, draws, generator)
        rows, _, d = z.shape
        flat = z.reshape(-1, d)
        if self.latent_prior is not None:
            # Evaluated in the prior's few principal coordinates, where the draws lie.
            basis = self.prior.basis * self.prior.scale  # (D, out_dim)
            log_p = self.latent_prior.log_prob_affine(coords.reshape(flat.shape[0], -1), self.prior.center, basis)
        else:
            log_p = -0.5 * (flat**2).sum(1)
        known = ss[:, self.prior.column_of]  # (B, W)
        # Only the matrix columns of cells some row knows: one known column of 20 costs a
        # twentieth of the whole row's likelihood.
        columns = torch.nonzero(known.any(0)).squeeze(1)
        known_x, known = xs[:, columns], known[:, columns].to(xs.dtype)
        weights, outputs = [], []
        for start in range(0, flat.shape[0], SAMPLE_CHUNK):  # activations stay in the cache
            piece = flat[start : start + SAMPLE_CHUNK]
            row = torch.div(torch.arange(start, start + piece.shape[0], device=xs.device), draws, rounding_mode="floor")
            recon = self.model.decode(piece)
            cells = self.model.cell_log_likelihood(known_x[row], recon[:, columns], columns)
            weights.append((cells * known[row]).sum(1))
            if keep_outputs:
                outputs.append(recon)
        log_w = log_p.view(rows, draws) + torch.cat(weights).view(rows, draws) - log_q
        return z, log_w, torch.cat(outputs) if keep_outputs else None

    def _decode(self, z: torch.Tensor, generator: torch.Generator, adjust=None) -> np.ndarray:
        return decoded_matrix(self.model, z, generator, adjust)

    # ------------------------------------------------------------------ conditional
    def sample_conditional(
        self,
        n: int,
        conditions: list[Condition],
        generator: torch.Generator,
        rng: np.random.Generator,
        candidates: int = 16,
    ) -> tuple[pd.DataFrame, int]:
        """``n`` rows that satisfy every condition (ids not yet finalised).

        Returns:
            The rows, and how many value draws fell back to the restricted training distribution.
        """
        width = self.preprocessor.layout_.width
        x = np.zeros((n, width), dtype=np.float32)
        shown = np.zeros((n, len(self.column_index)), dtype=bool)
        fixed: dict[str, pd.Series] = {}
        fallbacks = 0
        # Exact conditions first: they are known outright and inform the others.
        for condition in sorted(conditions, key=lambda c: not c.is_exact):
            codec = self.codec_of[condition.column]
            if condition.is_exact or not shown.any():
                values = codec.draw_given(condition, n, rng)
            else:
                values, missed = self._draw_dependent(x, shown, condition, generator, rng, candidates)
                fallbacks += missed
            fixed[condition.column] = values
            self._put(x, shown, condition.column, values)
        if all(c.is_exact for c in conditions):
            # Every row knows the same cells: one weighted pool, its decoder outputs reused.
            _, recon = self._shared_pool(x, shown, n, generator)
            matrix = as_columns(self.model.add_noise(recon, generator))
        else:
            matrix = self._decode(self._latents(x, shown, generator), generator)
        frame = self.preprocessor.reverse_transform(matrix, rng)
        for name, values in fixed.items():
            frame[name] = values.set_axis(frame.index)
        return frame, fallbacks

    def _draw_dependent(self, x, shown, condition, generator, rng, candidates) -> tuple[pd.Series, int]:
        """One value per row of a column, from the model given the cells already fixed and
        restricted to ``condition``: a random one of the ``candidates`` proposals that satisfy it
        (rows with none take a draw from the restricted training distribution)."""
        n = x.shape[0]
        codec = self.codec_of[condition.column]
        rep_x, rep_shown = np.repeat(x, candidates, axis=0), np.repeat(shown, candidates, axis=0)
        matrix = self._decode(self._latents(rep_x, rep_shown, generator), generator)
        proposals = codec.reverse_transform(np.ascontiguousarray(matrix[:, self.slices[condition.column]]), rng)
        ok = codec.satisfies(proposals, condition).reshape(n, candidates)
        # A random satisfying proposal per row (its rank under random keys).
        keys = np.where(ok, rng.random(ok.shape), -1.0)
        pick = keys.argmax(axis=1)
        found = ok[np.arange(n), pick]
        chosen = proposals.iloc[np.arange(n) * candidates + pick].reset_index(drop=True)
        missed = int((~found).sum())
        if missed:
            backup = codec.draw_given(condition, n, rng)
            chosen = chosen.where(found, backup)
        return chosen, missed

    # -------------------------------------------------------------------- imputation
    def impute(
        self,
        frame: pd.DataFrame,
        source: str,
        columns: list[str] | None,
        draws: int,
        method: str,
        generator: torch.Generator,
        rng: np.random.Generator,
    ) -> list[pd.DataFrame]:
        """Fill the unknown cells of ``frame``.

        Args:
            frame: The table; it must have the schema's columns (others are carried along).
            source: Its name in error messages.
            columns: Only fill these columns (default: every learned column).
            draws: Number of completed tables (``method="draw"``), or draws averaged into one
                (``method="mean"``).
            method: ``"draw"``: each table is one draw from the model given the row's observed
                cells; ``"mean"``: one table, numeric cells the mean of the draws, others the most
                frequent draw.

        Returns:
            The completed tables.
        """
        data = conform(frame, self.preprocessor.schema, source, allow_extra=True, check_bounds=False, check_nulls=False)
        n = len(data)
        unknown = self._unknown_cells(data)
        fill = {name: cells & (columns is None or name in columns) for name, cells in unknown.items()}
        x, shown = self._evidence(data, unknown)
        adjust = self._forbid_nulls([name for name, cells in fill.items() if cells.any() and self.codec_of[name].column.nullable])
        reps = draws if method == "mean" else 1
        chunk = max(1, 50_000 // reps)
        tables = []
        for _ in range(1 if method == "mean" else draws):
            parts = []
            for start in range(0, n, chunk):
                stop = min(n, start + chunk)
                rep_x, rep_shown = np.repeat(x[start:stop], reps, axis=0), np.repeat(shown[start:stop], reps, axis=0)
                matrix = self._decode(self._latents(rep_x, rep_shown, generator), generator, adjust)
                sampled = self.preprocessor.reverse_transform(matrix, rng)
                parts.append(self._aggregate(sampled, stop - start, reps) if reps > 1 else sampled)
            sampled = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0] if parts else None
            tables.append(self._merge(frame, data, sampled, fill))
        return tables

    def _unknown_cells(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per learned column, the null cells that are unknown values (not meaningful nulls)."""
        unknown = {}
        for name in self.column_index:
            column = self.codec_of[name].column
            isnull = data[name].isna().to_numpy()
            unknown[name] = isnull & (not column.meaningful_nulls)
        return unknown

    def _evidence(self, data: pd.DataFrame, unknown: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The encoded observed cells and the shown mask; unknown cells are hidden."""
        placeholder = data.copy()
        for name, cells in unknown.items():
            column = self.codec_of[name].column
            if cells.any() and not column.nullable:
                # Any valid value: the cell is hidden from the prior, only the codec needs one.
                placeholder[name] = _fill_any(placeholder[name], column.kind)
        x = self.preprocessor.transform_conformed(placeholder)
        shown = np.ones((len(data), len(self.column_index)), dtype=bool)
        for name, cells in unknown.items():
            shown[:, self.column_index[name]] = ~cells
        return x, shown

    def _forbid_nulls(self, names: list[str]):
        """An edit of the sampled matrix that makes the given nullable columns draw a value."""
        if not names:
            return None
        edits = []
        for name in names:
            for span in self.preprocessor.layout_.for_column(name):
                if span.kind is SpanKind.MISSING:
                    edits.append((span.start, _BIG))  # "observed" slot
                elif span.kind is SpanKind.CATEGORY:
                    edits.append((span.stop - 1, -_BIG))  # the null slot is the last one

        def adjust(matrix: torch.Tensor) -> None:
            for col, shift in edits:
                matrix[:, col] += shift

        return adjust

    def _aggregate(self, sampled: pd.DataFrame, n: int, reps: int) -> pd.DataFrame:
        """Collapse ``reps`` consecutive draws per row into one value per cell (see
        :meth:`~synthvae.preprocessing.codecs.ColumnCodec.collapse`)."""
        return pd.DataFrame({name: self.codec_of[name].collapse(sampled[name], n, reps) for name in sampled.columns})

    def _merge(self, frame: pd.DataFrame, data: pd.DataFrame, sampled: pd.DataFrame, fill: dict[str, np.ndarray]) -> pd.DataFrame:
        """The user's table with filled cells from ``sampled``; schema columns in the sampled dtypes."""
        out = frame.copy()
        out.columns = [str(c) for c in out.columns]
        for name, codec in self.codec_of.items():
            if name not in fill:
                continue
            merged = codec.as_sampled(data[name]).reset_index(drop=True)
            cells = fill[name]
            if cells.any():
                merged = merged.where(~cells, sampled[name].reset_index(drop=True))
            out[name] = merged.set_axis(frame.index)
        return out

    # -------------------------------------------------------------------- embedding
    @torch.inference_mode()
    def encode(self, frame: pd.DataFrame, source: str, batch_size: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and variances of the rows of ``frame``, two ``(n, latent)`` arrays."""
        matrix = self.preprocessor.transform(frame, source)
        means, variances = [], []
        self.model.eval()
        for start in range(0, len(matrix), batch_size):
            batch = torch.from_numpy(matrix[start : start + batch_size]).to(self.device)
            mu, logvar = self.model.encode(batch)
            means.append(mu.cpu().numpy())
            variances.append(logvar.exp().cpu().numpy())
        latent = self.model.config.latent_dim
        if not means:
            return np.zeros((0, latent), np.float32), np.zeros((0, latent), np.float32)
        return np.concatenate(means), np.concatenate(variances)


def decoded_matrix(model: TabularVAE, z: torch.Tensor, generator: torch.Generator, adjust=None) -> np.ndarray:
    """The sampled encoded matrix for latents ``z``, column-major on the CPU.

    Args:
        adjust: Optional edit, in place, of the decoder outputs ``(rows, W)`` (means and logits)
            before the draws, as :meth:`~synthvae.model.TabularVAE.sample_matrix` takes it.
    """
    return as_columns(model.sample_matrix(z, generator, adjust))


def as_columns(matrix: torch.Tensor) -> np.ndarray:
    """A torch matrix as a column-major numpy array on the CPU, so every codec's block of
    columns is one contiguous slice. Free for the column-major matrices that sampling makes;
    others are transposed in torch (fast)."""
    return matrix.T.contiguous().cpu().numpy().T


def _fill_any(series: pd.Series, kind: ColumnKind) -> pd.Series:
    """The column with its nulls replaced by one of its values (or a neutral one if all null)."""
    present = series.dropna()
    if len(present):
        return series.fillna(present.iloc[0])
    if kind is ColumnKind.NUMERIC:
        return series.fillna(0.0)
    if kind is ColumnKind.DATETIME:
        return series.fillna(pd.Timestamp(0))
    if kind is ColumnKind.BOOLEAN:
        return series.fillna(False)
    return series.fillna(series.cat.categories[0])
