"""The conditional latent prior: where ``z`` lies given the values of *some* of a row's columns.

Conditional sampling and imputation both need ``p(z | observed cells)``. Searching the latent
space at sampling time (rejection, importance sampling, Metropolis-within-Gibbs) costs many
decoder passes per row, and rejection fails outright on rare conditions. Instead, after the VAE is
trained, synthvae fits an amortised conditional density of the latent (a mixture density
network, Bishop 1994): given an encoded row with a random subset of its columns hidden and the
mask of which are shown, it outputs a Gaussian mixture over the row's posterior mean. Trained by
maximum likelihood on random masks, one network answers every pattern of observed columns: one
pass gives the latents of a conditional sample or of a row to impute. With no column shown it
is an unconditional prior, with every column shown it is (close to) the encoder.

The same targets (posterior means) as the unconditional mixture prior of :mod:`synthvae.prior`
keep the two consistent.

Torch only: this module knows nothing of pandas or of the schema, only of which matrix column
belongs to which table column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from synthvae.errors import TrainingError
from synthvae.model import JsonConfig, init_linear, logsumexp, mlp
from synthvae.optim import Adam
from synthvae.prior import MixturePrior


@dataclass(frozen=True)
class ConditionalPriorConfig(JsonConfig):
    """Shape of the network.

    Attributes:
        data_dim: Width of the encoded matrix.
        column_of: For every matrix column, the number of its table column (0..n_columns-1).
        latent_dim: Size of the latent.
        hidden_dims: Hidden layer widths.
        components: Gaussian components of the output mixture (a fitted ``Synthesizer`` builds
            ``synthesizer._CONDITIONAL_COMPONENTS``, 4; model files store their own).
        target_dim: Principal components of the latent that the mixture models (the rest of the
            latent is fixed at its mean).
        full_covariance: Each component a Gaussian with a full covariance, given by its
            Cholesky factor (scales on the diagonal, free entries below it), rather than a
            diagonal one. Given most of a row, the latent is pinned along the directions its
            known cells fix and free along the others, which lie oblique to the coordinate
            axes; diagonal components can only cover such a thin, tilted cloud by being narrow
            along every axis (churn, one numeric cell of a row hidden: the hidden value's spread
            under the diagonal network was 0.47 of its true one, on the model's own rows too;
            0.79 with full covariances). Model files written before it have ``False``.
    """

    data_dim: int
    column_of: tuple[int, ...]
    latent_dim: int
    hidden_dims: tuple[int, ...] = (256, 256)
    components: int = 8
    target_dim: int | None = None
    full_covariance: bool = False

    @property
    def out_dim(self) -> int:
        """Dimension of the modelled (whitened principal) coordinates."""
        return self.target_dim or self.latent_dim

    @property
    def factor_size(self) -> int:
        """Network outputs a component for its Cholesky factor beyond its ``d`` log standard
        deviations: the entries below the diagonal (none for diagonal covariances)."""
        d = self.out_dim
        return d * (d - 1) // 2 if self.full_covariance else 0

    @property
    def n_columns(self) -> int:
        """Number of (learned) table columns."""
        return (max(self.column_of) + 1) if self.column_of else 0


class ConditionalPrior(nn.Module):
    """Mixture density network ``p(z | x * mask, mask)`` over the latent.

    Args:
        config: The network's configuration.
        generator: Random generator for the initial weights (default: seed 0).
    """

    def __init__(self, config: ConditionalPriorConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        k, d = config.components, config.out_dim
        dims = [config.data_dim + config.n_columns, *config.hidden_dims]
        with torch.random.fork_rng(devices=[]):
            self.body = mlp(dims)
            self.head = nn.Linear(dims[-1], k * (1 + 2 * d + config.factor_size), dtype=torch.float32)
        self.register_buffer("column_of", torch.tensor(config.column_of, dtype=torch.long), persistent=False)
        # Where a Cholesky factor's entries (below the diagonal, then the diagonal) go in the
        # flattened d x d matrix: scattered, whose gradient is a gather (index assignment and a
        # 0/1 matmul cost more, the matmul growing as d^4).
        rows, cols = torch.tril_indices(d, d, offset=-1)
        self.register_buffer("places", torch.cat([rows * d + cols, torch.arange(d) * (d + 1)]), persistent=False)
        # Whitened principal coordinates of the latent: c = (z - center) @ basis / scale.
        self.register_buffer("center", torch.zeros(config.latent_dim, dtype=torch.float32))
        self.register_buffer("basis", torch.eye(config.latent_dim, dtype=torch.float32)[:, :d].contiguous())
        self.register_buffer("scale", torch.ones(d, dtype=torch.float32))
        init_linear(self, generator if generator is not None else torch.Generator().manual_seed(0))

    def forward(self, x: torch.Tensor, shown: torch.Tensor) -> "Mixtures":
        """Mixture parameters for rows ``x`` ``(B, W)`` whose columns ``shown`` ``(B, C)`` (bool) are observed."""
        shown = shown.to(x.dtype)
        visible = x * shown[:, self.column_of]
        out = self.head(self.body(torch.cat([visible, shown], dim=1)))
        k, d = self.config.components, self.config.out_dim
        log_w = torch.log_softmax(out[:, :k], dim=1)
        means = out[:, k : k + k * d].reshape(-1, k, d)
        log_std = out[:, k + k * d : k + 2 * k * d].reshape(-1, k, d).clamp(-7.0, 3.0)
        tril = None
        if self.config.full_covariance:
            # Each component's Cholesky factor: the scales on its diagonal, free entries below.
            entries = torch.cat([out[:, k + 2 * k * d :].reshape(out.shape[0] * k, self.config.factor_size), log_std.exp().reshape(-1, d)], dim=1)
            tril = entries.new_zeros((entries.shape[0], d * d)).scatter(1, self.places.expand(entries.shape[0], -1), entries)
            tril = tril.view(-1, k, d, d)
        return Mixtures(log_w, means, log_std, tril)

    @torch.no_grad()
    def set_whitening(self, axes: "PrincipalAxes") -> None:
        """Model the first ``out_dim`` principal coordinates of the training latents."""
        d = self.config.out_dim
        self.center.copy_(axes.center)
        self.basis.copy_(axes.vectors[:, :d].float())
        self.scale.copy_(axes.variances[:d].sqrt().clamp_min(1e-6).float())

    def whiten(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, D)`` to modelled coordinates ``(B, out_dim)``."""
        return (z - self.center) @ self.basis / self.scale

    def log_prob(self, z: torch.Tensor, x: torch.Tensor, shown: torch.Tensor) -> torch.Tensor:
        """Log density of the modelled coordinates of latents ``z`` ``(B, D)`` given the shown cells, ``(B,)``."""
        return self(x, shown).log_density(self.whiten(z).unsqueeze(1)).squeeze(1)

    @torch.inference_mode()
    def sample(
        self,
        x: torch.Tensor,
        shown: torch.Tensor,
        draws: int,
        generator: torch.Generator | None = None,
        defensive=None,
        defensive_share: float = 0.0,
        widen: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``draws`` latents per row from one pass of the network.

        Args:
            defensive: Optional density over the modelled coordinates with ``sample(n,
                generator, device)`` and ``log_prob(c)`` (the unconditional prior there): a
                ``defensive_share`` of each row's draws come from it instead, and the proposal's
                log densities are those of the mixture of the two (defensive importance
                sampling, Hesterberg 1995). Importance weights against a target near the
                unconditional prior (a condition that says little about the row) then stay even,
                where this network's own mixture alone can be far from it.
            widen: Draw from this network's components with their standard deviations times
                ``widen`` (the log densities are those of the widened mixture).

        Returns:
            Latents ``(B, draws, D)``, their modelled coordinates ``(B, draws, out_dim)`` (the
            latent is ``center + (coords * scale) @ basis.T``), the coordinates' log densities
            under the proposal ``(B, draws)``, which is what importance weights need, and (with
            ``defensive``) under ``defensive`` ``(B, draws)``.
        """
        mixtures = self(x, shown).widened(widen)
        log_w, means = mixtures.log_w, mixtures.means  # (B, K), (B, K, d)
        rows, k, d = means.shape
        own = draws - int(round(defensive_share * draws)) if defensive is not None else draws
        c = means.new_empty((rows, 0, d))
        if own:
            comp = torch.multinomial(log_w.exp(), own, replacement=True, generator=generator)  # (B, own)
            index = comp.unsqueeze(-1).expand(rows, own, d)
            eps = torch.randn((rows, own, d), generator=generator, device=x.device, dtype=means.dtype)
            if mixtures.tril is None:
                c = eps * torch.gather(mixtures.log_std, 1, index).exp()  # (B, own, d)
            else:
                factor = torch.gather(mixtures.tril, 1, comp[:, :, None, None].expand(rows, own, d, d))  # (B, own, d, d)
                c = (factor @ eps.unsqueeze(-1)).squeeze(-1)
            c = torch.gather(means, 1, index) + c
        if own < draws:
            other = defensive.sample(rows * (draws - own), generator, x.device).to(means.dtype)
            c = torch.cat([c, other.view(rows, draws - own, d)], dim=1)  # (B, draws, d)
        log_defensive = None if defensive is None else defensive.log_prob(c.reshape(-1, d)).view(rows, draws)
        if own == draws:
            log_q = mixtures.log_density(c)
        elif own == 0:
            log_q = log_defensive
        else:
            log_q = torch.logaddexp(mixtures.log_density(c) + math.log(own / draws),
                                    log_defensive + math.log(1 - own / draws))
        return self.latents(c), c, log_q, log_defensive

    def latents(self, c: torch.Tensor) -> torch.Tensor:
        """Latents ``(..., D)`` at modelled coordinates ``c`` ``(..., out_dim)`` (the other axes at the centre)."""
        return self.center + (c * self.scale) @ self.basis.T

    @torch.inference_mode()
    def proposal(self, x: torch.Tensor, shown: torch.Tensor, defensive: MixturePrior, defensive_share: float) -> MixturePrior:
        """:meth:`sample`'s proposal for one row ``x`` ``(1, W)`` as one mixture over the
        modelled coordinates: this network's components first (weight ``1 - defensive_share``
        in all), then those of ``defensive`` (weight ``defensive_share``). Several rows ``(P,
        W)`` (points of a range of a known cell) share the first part equally: the components
        of each row's mixture.
        Its weights can then be adapted to the row's target (:meth:`MixturePrior.adapted`)."""
        mixtures = self(x, shown)
        rows, _, d = mixtures.means.shape
        means = mixtures.means.reshape(-1, d)
        own = (torch.diag_embed(mixtures.log_std.exp()) if mixtures.tril is None else mixtures.tril).reshape(-1, d, d)  # (B K, d, d)
        weights = torch.cat([(1 - defensive_share) / rows * mixtures.log_w.exp().reshape(-1), defensive_share * defensive.weights.to(means.dtype)])
        return MixturePrior(weights, torch.cat([means, defensive.means.to(means.dtype)]),
                            torch.cat([own, defensive.scale_tril.to(means.dtype)]))


@dataclass
class Mixtures:
    """Each row's Gaussian mixture over the modelled coordinates.

    Attributes:
        log_w: Log weights ``(B, K)``.
        means: ``(B, K, d)``.
        log_std: Log standard deviations ``(B, K, d)`` (the Cholesky factors' log diagonals).
        tril: The components' Cholesky factors ``(B, K, d, d)``; ``None`` for diagonal
            covariances (``exp(log_std)^2``).
    """

    log_w: torch.Tensor
    means: torch.Tensor
    log_std: torch.Tensor
    tril: torch.Tensor | None = None

    def widened(self, factor: float) -> "Mixtures":
        """The same mixtures with every component's standard deviations times ``factor``."""
        if factor == 1.0:
            return self
        return Mixtures(self.log_w, self.means, self.log_std + math.log(factor), None if self.tril is None else self.tril * factor)

    def log_density(self, c: torch.Tensor) -> torch.Tensor:
        """Log density of points ``c`` ``(B, M, d)`` under each row's mixture, ``(B, M)``."""
        diff = c.unsqueeze(2) - self.means.unsqueeze(1)  # (B, M, K, d)
        if self.tril is None:
            diff = diff * torch.exp(-self.log_std).unsqueeze(1)  # (B, M, K, d)
        elif c.shape[1] == 1:  # training: a batched solve (and its gradient)
            diff = torch.linalg.solve_triangular(self.tril, diff.squeeze(1).unsqueeze(-1), upper=False).squeeze(-1).unsqueeze(1)
        else:  # many points a row: each factor inverted once
            eye = torch.eye(c.shape[-1], dtype=c.dtype, device=c.device).expand_as(self.tril)
            inverse = torch.linalg.solve_triangular(self.tril, eye, upper=False)  # (B, K, d, d)
            diff = torch.einsum("bkij,bmkj->bmki", inverse, diff)
        comp = -0.5 * (diff**2).sum(-1) - self.log_std.sum(-1).unsqueeze(1) - 0.5 * c.shape[-1] * math.log(2 * math.pi)
        joint = self.log_w.unsqueeze(1) + comp
        # Training keeps torch's own (its gradient's rounding differs); draws take the fast one.
        return torch.logsumexp(joint, dim=2) if torch.is_grad_enabled() else logsumexp(joint, dim=2)


@dataclass(frozen=True)
class ConditionalTrainConfig:
    """How the conditional prior is trained: Adam, random column masks, early stopping.

    Attributes:
        steps: Most optimisation steps.
        batch_size: Rows per step.
        learning_rate: Adam step size.
        validation_fraction: Share of rows held out for early stopping.
        check_every: Steps between validation checks.
        patience: Checks without improvement before stopping.
    """

    steps: int = 3000
    batch_size: int = 512
    learning_rate: float = 3e-3
    validation_fraction: float = 0.1
    check_every: int = 100
    patience: int = 5


@dataclass(frozen=True)
class PrincipalAxes:
    """Principal axes of a cloud of latents.

    Attributes:
        center: The mean ``(D,)``.
        variances: Variance along each axis, largest first ``(D,)``.
        vectors: The axes as columns, in the same order ``(D, D)``.
    """

    center: torch.Tensor
    variances: torch.Tensor
    vectors: torch.Tensor

    @classmethod
    def fit(cls, latents: torch.Tensor) -> "PrincipalAxes":
        """Principal axes of latents ``(N, D)`` (one row: a single axis of unit variance)."""
        center = latents.mean(0)
        if latents.shape[0] < 2:
            variances = torch.zeros(latents.shape[1], dtype=torch.float64)
            variances[0] = 1.0
            return cls(center, variances, torch.eye(latents.shape[1], dtype=torch.float64).flip(1))
        values, vectors = torch.linalg.eigh(torch.atleast_2d(torch.cov((latents - center).T.double())))  # one latent: 0-d
        return cls(center, values.flip(0).clamp_min(0), vectors.flip(1))

    def dim(self, kept_variance: float = 0.99) -> int:
        """The fewest axes that keep ``kept_variance`` of the variance."""
        share = torch.cumsum(self.variances, 0) / self.variances.sum().clamp_min(1e-12)
        return int(min(self.variances.numel(), int((share < kept_variance).sum()) + 1))


def random_shown(rows: int, columns: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Random masks that cover every share of observed columns: per row a share ``p ~ U(0, 1)``,
    then each column shown with probability ``p``. ``(rows, columns)`` bool."""
    share = torch.rand((rows, 1), generator=generator, device=device, dtype=torch.float32)
    return torch.rand((rows, columns), generator=generator, device=device, dtype=torch.float32) < share


def train_conditional_prior(
    model: ConditionalPrior,
    data: torch.Tensor,
    latents: torch.Tensor,
    config: ConditionalTrainConfig,
    generator: torch.Generator,
) -> list[float]:
    """Fit ``model`` to the latents of the rows of ``data`` under random masks.

    Args:
        model: The network (trained in place; the best validation weights are kept).
        data: The encoded training matrix ``(N, W)``.
        latents: The training rows' posterior means ``(N, D)``.
        config: Steps, batch and stopping.
        generator: All randomness (split, batches, masks).

    Returns:
        The validation negative log-likelihood at each check.
    """
    n = data.shape[0]
    device = data.device
    order = torch.randperm(n, generator=generator, device=device)
    n_val = int(n * config.validation_fraction) if n >= 50 else 0
    val, train = order[:n_val], order[n_val:]
    c = model.config.n_columns
    val_shown = random_shown(n_val, c, generator, device)
    optimizer = Adam(model.parameters(), lr=config.learning_rate)
    batch = min(config.batch_size, train.numel())
    best, best_state, stale, history = math.inf, None, 0, []
    model.train()
    for step in range(1, config.steps + 1):
        index = train[torch.randint(train.numel(), (batch,), generator=generator, device=device)]
        shown = random_shown(batch, c, generator, device)
        loss = -model.log_prob(latents[index], data[index], shown).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if n_val and (step % config.check_every == 0 or step == config.steps):
            model.eval()
            with torch.no_grad():
                nll = float(-model.log_prob(latents[val], data[val], val_shown).mean())
            model.train()
            history.append(nll)
            if nll < best - 1e-3:
                best, stale = nll, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
                if stale >= config.patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise TrainingError(
            f"the conditional prior's training diverged (NaN weights); lower its learning rate "
            f"(now {config.learning_rate}) or fit with conditional=False"
        )
    model.eval()
    return history
