"""The tabular variational autoencoder (Kingma & Welling, 2014; TVAE of Xu et al., 2019).

The encoder maps an encoded row to the mean and log-variance of a Gaussian posterior over the
latent ``z``; the decoder maps ``z`` to one output head per span of the layout: a mean for every
continuous span (with a learned per-column standard deviation, as in TVAE) and logits for every
one-hot span. Heads, losses and sampling are vectorised over spans: one-hot spans of any widths
share one segmented log-softmax, so no Python loop runs per column in the hot path.

Torch only: this module knows nothing of pandas or of the schema, only of the layout's indices.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn


class JsonConfig:
    """``to_dict`` / ``from_dict`` for frozen dataclass configs whose tuples become JSON lists."""

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict):
        """Rebuild from :meth:`to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class VAEConfig(JsonConfig):
    """Shape of the network, and everything it needs to know of the layout.

    Attributes:
        data_dim: Width of the encoded matrix.
        continuous_index: Matrix column of every continuous span.
        one_hot_index: Matrix column of every one-hot entry.
        one_hot_segment: For every one-hot entry, the number of its span.
        latent_dim: Size of the latent ``z`` (the embedding dimension).
        hidden_dims: Widths of the hidden layers of the encoder (the decoder mirrors them).
        init_log_sigma: Initial log standard deviation of continuous outputs.
        categorical_head: Width of a hidden layer of the one-hot spans' own (0: none, the
            logits are a linear map of the decoder's last hidden layer, as in TVAE). The head
            adds ``Linear(SiLU(Linear(h)))`` to those logits; its last layer starts at zero, so
            a fresh model still starts at the data's marginals.
        autoregressive: How many of the categorical head's hidden units also see the one-hot
            spans before their own in the layout (masked as in MADE, Germain et al., 2015): a
            span's logits then depend on the categories drawn before it in the row, not only on
            ``z``. Needs ``categorical_head``; 0: none, every span drawn given ``z`` alone.
    """

    data_dim: int
    continuous_index: tuple[int, ...]
    one_hot_index: tuple[int, ...]
    one_hot_segment: tuple[int, ...]
    latent_dim: int = 64
    hidden_dims: tuple[int, ...] = (256, 256)
    init_log_sigma: float = math.log(0.1)
    categorical_head: int = 0
    autoregressive: int = 0

    @property
    def n_segments(self) -> int:
        """Number of one-hot spans."""
        return (max(self.one_hot_segment) + 1) if self.one_hot_segment else 0


def mlp(dims: list[int]) -> nn.Sequential:
    """Linear layers of widths ``dims``, each followed by SiLU."""
    layers: list[nn.Module] = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(d_in, d_out, dtype=torch.float32), nn.SiLU()]
    return nn.Sequential(*layers)


@torch.no_grad()
def init_linear(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default ``nn.Linear`` initialisation for every linear layer of ``module``, drawn
    from ``generator`` (never the global RNG)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            bound = 1.0 / math.sqrt(layer.in_features)
            # kaiming_uniform_(a=sqrt(5)) as nn.Linear does gives the same bound for weights.
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)


@dataclass
class VAEOutput:
    """What a forward pass returns.

    Attributes:
        mu: Posterior means, ``(B, latent_dim)``.
        logvar: Posterior log-variances, ``(B, latent_dim)``.
        recon: Decoder output, ``(B, data_dim)``: means of continuous spans, logits of one-hots.
    """

    mu: torch.Tensor
    logvar: torch.Tensor
    recon: torch.Tensor


@dataclass
class LossParts:
    """The loss and its parts, each a scalar averaged over the batch: ``total`` is the negative
    ELBO with the loss's weights, ``categorical`` the cross-entropy without them."""

    total: torch.Tensor
    continuous: torch.Tensor
    categorical: torch.Tensor
    kl: torch.Tensor
    extras: dict = field(default_factory=dict)


class TabularVAE(nn.Module):
    """Encoder, reparameterised latent and decoder with one head per span.

    Args:
        config: The network's configuration.
        generator: Random generator for the initial weights; ``None`` uses a fixed seed (0).
            The global RNG is never used.
    """

    def __init__(self, config: VAEConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        hidden = list(config.hidden_dims)
        # nn.Linear draws default weights from the global RNG; fork it so construction leaves no
        # trace there, then draw the real initial weights from ``generator``.
        with torch.random.fork_rng(devices=[]):
            self.encoder = mlp([config.data_dim, *hidden])
            self.to_mu = nn.Linear(hidden[-1], config.latent_dim, dtype=torch.float32)
            self.to_logvar = nn.Linear(hidden[-1], config.latent_dim, dtype=torch.float32)
            self.decoder = nn.Sequential(mlp([config.latent_dim, *reversed(hidden)]), nn.Linear(hidden[0], config.data_dim, dtype=torch.float32))
            width = config.categorical_head if config.one_hot_index else 0
            self.categorical_head = (
                nn.Sequential(nn.Linear(hidden[0], width, dtype=torch.float32), nn.SiLU(),
                              nn.Linear(width, len(config.one_hot_index), dtype=torch.float32))
                if width else None
            )
        n_cont = len(config.continuous_index)
        self.log_sigma = nn.Parameter(torch.full((n_cont,), float(config.init_log_sigma), dtype=torch.float32))
        # The Cholesky factor of the continuous outputs' noise correlation (see set_noise);
        # None: independent noise. Not a weight: set after training, kept out of the state dict
        # (the model file stores it beside it).
        self.register_buffer("noise_factor", None, persistent=False)
        self.register_buffer("cont_idx", torch.tensor(config.continuous_index, dtype=torch.long), persistent=False)
        self.register_buffer("oh_idx", torch.tensor(config.one_hot_index, dtype=torch.long), persistent=False)
        self.register_buffer("oh_seg", torch.tensor(config.one_hot_segment, dtype=torch.long), persistent=False)
        self.one_hot_spans = _one_hot_spans(config)
        # Spans whose "other" slot also stands for categories never generated (see suppress).
        self.suppressed: dict[int, tuple[int, int, float]] = {}
        # The autoregressive part of the categorical head: one-hot inputs into its hidden layer,
        # and the masks that keep each span's logits from reading its own or later spans.
        self.ar_in = None
        if self.categorical_head is not None and config.autoregressive:
            self.ar_in = nn.Parameter(torch.zeros(width, len(config.one_hot_index), dtype=torch.float32))
            self.ar_units = min(config.autoregressive, width)
            into, out_of, self.span_entries, degree = _made_masks(config, width, self.ar_units)
            self.register_buffer("ar_in_mask", into, persistent=False)
            self.register_buffer("head_mask", out_of, persistent=False)
            # For the sampler (_sample_ordered): the autoregressive units in order of degree,
            # and for each span how many of them its logits read (degree <= span).
            k = self.ar_units
            self.register_buffer("ar_order", torch.argsort(degree[:k], stable=True), persistent=False)
            self.ar_final = [int((degree[:k] <= span).sum()) for span in range(config.n_segments)]
        self.reset_parameters(generator if generator is not None else torch.Generator().manual_seed(0))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "noise_factor" not in self._buffers:  # pickled before the noise correlation: independent noise
            self._buffers["noise_factor"] = None
            self._non_persistent_buffers_set.add("noise_factor")

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default ``nn.Linear`` initialisation, drawn from ``generator``."""
        init_linear(self, generator)
        self.log_sigma.fill_(float(self.config.init_log_sigma))
        self.noise_factor = None
        if self.categorical_head is not None:
            self.categorical_head[-1].weight.zero_()
            self.categorical_head[-1].bias.zero_()
        if self.ar_in is not None:
            self.ar_in.zero_()

    @torch.no_grad()
    def init_output_bias(self, column_means: torch.Tensor) -> None:
        """Start the decoder at the data's marginals: the last layer's bias becomes the mean of
        each continuous column and the log-frequency of each one-hot entry.

        From the first step the model then samples the right category and null rates, instead of
        starting from uniform ones and spending hundreds of steps getting there.

        Args:
            column_means: Mean of every column of the encoded training matrix, ``(data_dim,)``.
        """
        bias = self.decoder[-1].bias
        means = column_means.to(bias.device, bias.dtype)
        bias[self.cont_idx] = means[self.cont_idx]
        bias[self.oh_idx] = torch.log(means[self.oh_idx].clamp_min(1e-4))

    @torch.no_grad()
    def match_category_shares(self, z: torch.Tensor, shares: torch.Tensor, rounds: int = 8, tolerance: float = 1e-3) -> None:
        """Shift the one-hot logits' bias so that, averaged over latents ``z`` ``(N, latent)``,
        the decoder's category probabilities equal ``shares`` ``(n_one_hot,)`` (e.g. the
        training rows' category frequencies).

        Each round adds ``log(share / mean probability)`` to every entry's bias, as iterative
        proportional fitting does, until no mean probability is more than ``tolerance`` off its
        share (at most ``rounds`` rounds); entries with a zero share or mean are left alone.
        Where the prior puts its mass a little off the aggregate posterior, decoders whose
        categories depend on ``z`` (the categorical head) sample category shares a little off
        the data's; this puts them back without touching how categories depend on the rest of
        the row.

        With an autoregressive head the rounds run on logits decoded once per pass (up to
        :data:`_MATCH_PASSES`), since a span's logits follow the entries drawn before it: fitted
        on one decoding, 40,000 rows of a 600-row churn model (seeds 2-3, learning rate 3e-3)
        drew voice_mail_plan 0.012-0.014 off its share; after 2 / 3 passes at most 0.009 / 0.006.
        """
        if not self.oh_idx.numel() or z.shape[0] == 0:
            return
        bias = self.decoder[-1].bias
        target = shares.to(bias.device, bias.dtype)
        # Only the one-hot entries' bias moves, so the logits are decoded once and shifted by
        # what the rounds add (at most _MATCH_LOGITS of them are kept: fewer latents for very
        # wide tables).
        z = z[: max(1, min(z.shape[0], _MATCH_LOGITS // self.oh_idx.numel()))]
        # With an autoregressive head a span's logits depend on the entries drawn for the spans
        # before it, which the shifts change: the logits are decoded again after each pass.
        for _ in range(_MATCH_PASSES if self.ar_in is not None else 1):
            logits = torch.cat([self.decode(z[start : start + SAMPLE_CHUNK])[:, self.oh_idx] for start in range(0, z.shape[0], SAMPLE_CHUNK)])
            if self._match_pass(logits, target, bias, rounds, tolerance):
                break

    def _match_pass(self, logits: torch.Tensor, target: torch.Tensor, bias: torch.Tensor, rounds: int, tolerance: float) -> bool:
        """The rounds of :meth:`match_category_shares` on fixed decoded ``logits`` ``(N,
        n_one_hot)``; whether the first round found every share within ``tolerance``."""
        added = torch.zeros_like(target)
        for round_ in range(rounds):
            mean = torch.zeros_like(target)
            for start in range(0, logits.shape[0], SAMPLE_CHUNK):
                chunk = logits[start : start + SAMPLE_CHUNK] + added
                lse = segment_logsumexp(chunk, self.oh_seg, self.config.n_segments)
                mean += torch.exp(chunk - lse[:, self.oh_seg]).sum(0)
            mean /= logits.shape[0]
            if float((mean - target).abs().max()) <= tolerance:
                return round_ == 0
            usable = (target > 0) & (mean > 0)
            shift = torch.where(usable, torch.log(target.clamp_min(1e-30)) - torch.log(mean.clamp_min(1e-30)), 0.0).clamp(-5.0, 5.0)
            bias[self.oh_idx] += shift
            added += shift
        return False

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of ``x`` ``(B, data_dim)`` -> two ``(B, latent)``."""
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h).clamp(-20.0, 10.0)

    def decode(self, z: torch.Tensor, x: torch.Tensor | None = None, known: torch.Tensor | None = None,
               generator: torch.Generator | None = None, adjust=None, stop: int | None = None):
        """Decoder output ``(B, data_dim)`` for latents ``z`` ``(B, latent)``: means of the
        continuous spans, logits of the one-hot spans.

        With an autoregressive head (``VAEConfig.autoregressive``) a span's logits depend on the
        spans before it. They come from ``x`` ``(B, data_dim)``, the encoded rows, when ``known``
        is ``None`` (training: every span as in the data), or else are drawn span after span
        from ``generator``. With ``known``, a ``(B, data_dim)`` boolean mask of the matrix
        columns whose cells ``x`` gives, a known span is taken from ``x`` and keeps its logits
        (its likelihood given ``z`` and the spans before it), while every other span's logits
        are pinned to the entry drawn for it, so that drawing from these outputs later gives
        the same entries as the ones the known spans were scored after. ``adjust`` edits the
        outputs in place before any draw (see :meth:`sample_matrix`). Without ``known`` and
        ``x``, the logits are those given the spans drawn before (their softmax averaged over
        many rows is the span's probabilities).

        ``stop`` (with ``known``): draw only the first ``stop`` one-hot spans, and return the
        outputs with the autoregressive units' state (``None`` without them), from which
        :meth:`finish_decode` draws the rest: what importance weights of known cells need,
        the spans up to the last known one, for every proposal, and the rest only for the
        proposals kept.
        """
        h = self.decoder[0](z)
        out = self.decoder[1](h)
        if adjust is not None:
            adjust(out)
        if self.categorical_head is None:
            return out if stop is None else (out, None)
        if self.ar_in is None:
            out = out.index_add(1, self.oh_idx, self.categorical_head(h))
            return out if stop is None else (out, None)
        if x is not None and known is None:
            first, act, last = self.categorical_head
            into, out_of = self._ordered_weights()
            pre = first(h) + x[:, self.oh_idx] @ into.T
            return out.index_add(1, self.oh_idx, nn.functional.linear(act(pre), out_of, last.bias))
        return self._ancestral(h, out, x, known, generator, stop)

    def suppress(self, spans: dict[int, tuple[int, int, float]]) -> None:
        """Keep categories out of every draw (``min_category_rows``, see
        :class:`synthvae.preprocessing.codecs.CategoricalCodec`): for one-hot span ``s`` (its
        index in ``one_hot_spans``), ``(other, null, share)``: the entry of its "other" slot,
        of its null slot (-1: none), and the share of the other slot's training rows that held
        a suppressed category. Before each draw the span's probabilities become
        ``other * (1 - share)`` for the other slot, the null slot's own, and for each kept
        entry ``p * (1 + other * share / kept)`` (``kept``: their total): the suppressed
        rows' mass goes to the kept categories as the row's own probabilities share it, so a
        row keeps what the rest of it says (:func:`_without_suppressed`). Not saved with the
        weights: the synthesizer sets it from its codecs."""
        self.suppressed = dict(spans)

    def _ordered_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The autoregressive head's weights under their masks: the one-hot inputs into its
        hidden layer ``(width, n_one_hot)`` and its output layer ``(n_one_hot, width)``."""
        return self.ar_in * self.ar_in_mask, self.categorical_head[-1].weight * self.head_mask

    def _ancestral(self, h: torch.Tensor, out: torch.Tensor, x: torch.Tensor | None, known: torch.Tensor | None,
                   generator: torch.Generator | None, stop: int | None = None):
        """:meth:`decode`'s one-hot logits of an autoregressive head, span after span: all of
        them, or (``stop``) the first ``stop`` spans, the others left at their share of the
        logits that does not depend on earlier spans; then the outputs and the autoregressive
        units' state, to draw the rest with (:meth:`finish_decode`)."""
        first, act, last = self.categorical_head
        generator = generator if generator is not None else torch.Generator(device=h.device).manual_seed(0)
        weights = self._ordered_weights()
        pre = first(h)
        k = self.ar_units  # only these units read earlier spans (see _sample_ordered)
        logits = out[:, self.oh_idx] + nn.functional.linear(act(pre[:, k:]), weights[1][:, k:], last.bias)
        spans = range(len(self.one_hot_spans) if stop is None else stop)
        moving = self._draw_spans(logits, pre[:, :k], spans, weights, x, known, generator, pin=known is not None)
        out = out.index_copy(1, self.oh_idx, logits)
        return out if stop is None else (out, moving)

    def spans_through(self, known: torch.Tensor) -> int:
        """How many one-hot spans, in layout order, reach the last one with a column in
        ``known`` ``(data_dim,)`` bool (0 for none): the ``stop`` of :meth:`decode` for
        proposals whose known cells are those."""
        last = [span for span, (column, _) in enumerate(self.one_hot_spans) if bool(known[column])]
        return last[-1] + 1 if last else 0

    @torch.inference_mode()
    def finish_decode(self, out: torch.Tensor, moving: torch.Tensor, start: int, generator: torch.Generator) -> torch.Tensor:
        """Outputs of :meth:`decode` ``(B, data_dim)`` whose first ``start`` one-hot spans were
        drawn (``decode(..., stop=start)``, which also gives the autoregressive units' state
        ``moving``), with the rest drawn now, span after span, and pinned to their draws."""
        if self.ar_in is None or start >= len(self.one_hot_spans):
            return out
        logits = out[:, self.oh_idx]
        self._draw_spans(logits, moving, range(start, len(self.one_hot_spans)), self._ordered_weights(), None, None, generator, pin=True)
        return out.index_copy(1, self.oh_idx, logits)

    def _draw_spans(self, logits: torch.Tensor, moving: torch.Tensor, spans: range, weights: tuple[torch.Tensor, torch.Tensor],
                    x: torch.Tensor | None, known: torch.Tensor | None, generator: torch.Generator, pin: bool) -> torch.Tensor:
        """Draw one-hot ``spans`` in order, in place on their ``logits`` ``(B, n_one_hot)`` (each
        span's share from the autoregressive units added), the units' pre-activations
        ``moving`` ``(B, ar_units)`` moved by every draw; a span ``known`` (``(B, data_dim)``
        mask) takes its entry from ``x``. With ``pin``, a drawn span's logits are pinned to its
        draw. ``weights``: :meth:`_ordered_weights`. Returns the units' pre-activations after the
        last span."""
        act = self.categorical_head[1]
        into, out_of = weights
        k = self.ar_units
        into_rows, out_of = into[:k].T.contiguous(), out_of[:, :k]  # a drawn entry adds one row
        for span in spans:
            start, width = self.span_entries[span]
            column = self.one_hot_spans[span][0]
            entries = slice(start, start + width)
            block = logits[:, entries] + act(moving) @ out_of[entries].T
            if span in self.suppressed:
                _without_suppressed(block, *self.suppressed[span], dim=1)
            given = known[:, column] if known is not None else None
            if given is not None and bool(given.all()):  # known in every row: nothing to draw or pin
                drawn = x[:, column : column + width].argmax(1)
            else:
                # Gumbel-max: the argmax of the logits plus Gumbel noise is a draw from the softmax
                noise = torch.rand(block.shape, generator=generator, device=block.device, dtype=block.dtype)
                drawn = (block - torch.log(-torch.log(noise))).argmax(1)
                if pin:
                    some = given is not None and bool(given.any())
                    if some:
                        drawn = torch.where(given, x[:, column : column + width].argmax(1), drawn)
                    pinned = torch.full_like(block, -_PINNED).scatter_(1, drawn.unsqueeze(1), 0.0)
                    block = torch.where(given.unsqueeze(1), block, pinned) if some else pinned
            logits[:, entries] = block
            moving = moving + into_rows[start + drawn]
        return moving

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        """Encode, draw ``z`` by the reparameterisation trick, decode."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)  # (B, latent)
        return VAEOutput(mu=mu, logvar=logvar, recon=self.decode(z, x))

    @torch.no_grad()
    def set_noise(self, scale: torch.Tensor | None, correlation: torch.Tensor | None) -> None:
        """Draw the continuous outputs' noise with this scale ``(n_cont,)`` (clamped as
        :attr:`sigma` is; ``None``: the learned one) and correlation ``(n_cont, n_cont)``
        (``None``: independent, as trained).

        The correlation is mixed with the identity by :data:`NOISE_CORRELATION_FLOOR` first, so
        that its factor exists for columns whose residuals move together exactly."""
        if scale is not None:
            self.log_sigma.copy_(torch.log(scale.clamp(SIGMA_MIN, SIGMA_MAX)).to(self.log_sigma.dtype))
        if correlation is None or not self.cont_idx.numel():
            self.noise_factor = None
            return
        eye = torch.eye(self.cont_idx.numel(), dtype=torch.float64, device=correlation.device)
        mixed = (1 - NOISE_CORRELATION_FLOOR) * correlation.double() + NOISE_CORRELATION_FLOOR * eye
        self.noise_factor = torch.linalg.cholesky(mixed).to(self.log_sigma.device, torch.float32)

    def _continuous_noise(self, rows: int, generator: torch.Generator | None, device, dtype) -> torch.Tensor:
        """Noise for every continuous output of ``rows`` rows, ``(n_cont, rows)``, scaled by each
        column's sigma and correlated by :attr:`noise_factor` when set."""
        noise = torch.randn((self.cont_idx.numel(), rows), generator=generator, device=device, dtype=dtype)
        if self.noise_factor is not None and rows:
            noise = torch.mm(self.noise_factor.to(dtype), noise)
        return noise.mul_(self.sigma.to(dtype).unsqueeze(1))

    @property
    def sigma(self) -> torch.Tensor:
        """Standard deviation of each continuous output, clamped as in TVAE to [0.01, 1]."""
        return self.log_sigma.exp().clamp(SIGMA_MIN, SIGMA_MAX)

    def loss(self, x: torch.Tensor, out: VAEOutput, beta: float, span_weights: torch.Tensor | None = None) -> LossParts:
        """Negative ELBO: Gaussian NLL of continuous spans + cross-entropy of one-hot spans +
        ``beta`` * KL(q(z|x) || N(0, I)), each summed over the row and averaged over the batch.

        Args:
            span_weights: Optional weight of each one-hot span's cross-entropy, ``(n_segments,)``
                (see :func:`synthvae.training.category_weights`); ``None``: 1 each. A weight
                changes what the latent spends its capacity on, not the calibration of the span's
                head: a softmax's cross-entropy is minimised by the true conditional
                probabilities whatever its weight.
        """
        batch = x.shape[0]
        # No continuous column: the (empty) log_sigma still takes part, or a data-parallel fit
        # failed on its first step ("parameters that were not used in producing loss").
        cont = self.log_sigma.sum() * 0.0
        if self.cont_idx.numel():
            target = x[:, self.cont_idx]  # (B, n_cont)
            pred = out.recon[:, self.cont_idx]
            sigma = self.sigma
            cont = (((target - pred) ** 2) / (2 * sigma**2) + torch.log(sigma)).sum() / batch
        cat = weighted = torch.zeros((), device=x.device)
        if self.oh_idx.numel():
            logits = out.recon[:, self.oh_idx]  # (B, n_one_hot)
            lse = segment_logsumexp(logits, self.oh_seg, self.config.n_segments)  # (B, n_segments)
            if span_weights is None:
                cat = weighted = (lse.sum() - (logits * x[:, self.oh_idx]).sum()) / batch
            else:
                picked = torch.zeros_like(lse).index_add(1, self.oh_seg, logits * x[:, self.oh_idx])
                per_span = (lse - picked).sum(0) / batch  # (n_segments,)
                cat, weighted = per_span.sum(), per_span @ span_weights
        kl = -0.5 * torch.sum(1 + out.logvar - out.mu.pow(2) - out.logvar.exp()) / batch
        return LossParts(total=cont + weighted + beta * kl, continuous=cont, categorical=cat, kl=kl)

    def cell_log_likelihood(self, x: torch.Tensor, recon: torch.Tensor, columns: torch.Tensor | None = None) -> torch.Tensor:
        """Log-likelihood of every matrix column of rows ``x`` under decoder outputs ``recon``,
        ``(B, data_dim)``: a Gaussian log density for continuous columns, the log-probability of
        the observed entry for one-hot columns (0 for the entries that are not hot). Summed over
        a table column's matrix columns, it is that cell's log-likelihood.

        Args:
            columns: Optional sorted matrix column indices that make up whole table columns
                (every entry of a one-hot span or none). ``x`` and ``recon`` then hold only those
                columns, ``(B, len(columns))``, and so does the result: conditional sampling
                needs the likelihood of a few known cells, not of the whole row.
        """
        cont_idx, sigma, spans = self.cont_idx, self.sigma, self.one_hot_spans
        if columns is not None:
            position = torch.full((self.config.data_dim,), -1, dtype=torch.long, device=x.device)
            position[columns] = torch.arange(columns.numel(), device=x.device)
            inside = position[cont_idx] >= 0
            cont_idx, sigma = position[cont_idx[inside]], sigma[inside]
            starts = position[[start for start, _ in spans]].tolist() if spans else []
            spans = [(start, length) for start, (_, length) in zip(starts, spans) if start >= 0]
        out = torch.zeros_like(x)
        if cont_idx.numel():
            z = (x[:, cont_idx] - recon[:, cont_idx]) / sigma
            out[:, cont_idx] = -0.5 * z**2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
        for start, length in spans:  # contiguous blocks: a plain logsumexp each, no scatter
            block = recon[:, start : start + length]
            out[:, start : start + length] = (block - logsumexp(block, 1, keepdim=True)) * x[:, start : start + length]
        return out

    @torch.inference_mode()
    def sample_matrix(self, z: torch.Tensor, generator: torch.Generator | None = None, adjust=None) -> torch.Tensor:
        """Decode latents into sampled rows of the encoded matrix.

        Continuous spans get ``mean + sigma * noise``. Each one-hot span gets an exact one-hot of
        an entry drawn from its softmax, by inverting the span's cumulative distribution with one
        uniform per row: one draw per span, where the Gumbel-max trick needs one per entry.

        The decoder runs on chunks of :data:`SAMPLE_CHUNK` rows, so that a chunk's activations
        stay in the CPU's cache, and writes a column-major buffer, so that each matrix column is
        contiguous for the codecs (see :func:`synthvae.generation.as_columns`). A chunk's draws
        are made as soon as it is decoded, from random numbers drawn for the whole batch first
        (:meth:`_randomness`), so the chunk size does not change the rows.

        Args:
            z: Latents ``(B, latent_dim)``.
            generator: Randomness for the draws.
            adjust: Optional edit, in place, of each chunk's decoder outputs ``(rows, data_dim)``
                (means and logits) before the draws; e.g. a large negative logit forbids an entry.

        Returns:
            ``(B, data_dim)`` float tensor, column-major (the transpose of a contiguous one).
        """
        out = torch.empty((self.config.data_dim, z.shape[0]), device=z.device, dtype=z.dtype)  # (W, B)
        noise, uniform = self._randomness(out, generator)
        for start in range(0, z.shape[0], SAMPLE_CHUNK):
            chunk = slice(start, start + SAMPLE_CHUNK)
            block = out[:, chunk]  # (W, chunk)
            if self.ar_in is not None:
                self._sample_ordered(z[chunk], block, noise[:, chunk], uniform[:, chunk], adjust)
                continue
            self._decode_into(z[chunk], block)
            if adjust is not None:
                adjust(block.T)
            # drawn while the chunk's outputs are still in the cache
            self._draw_into(block, noise[:, chunk], uniform[:, chunk])
        return out.T

    def _hidden(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's last hidden layer for ``z`` ``(rows, latent)``, activations updated in
        place (inference only)."""
        h = z
        for layer in self.decoder[0]:
            if isinstance(layer, nn.Linear):
                # mm then the bias in place: cheaper than addmm, which first copies the bias
                # into every row of its output.
                h = torch.mm(h, layer.weight.T).add_(layer.bias)  # (rows, width)
            elif isinstance(layer, nn.SiLU):
                nn.functional.silu(h, inplace=True)
            else:
                h = layer(h)
        return h

    def _decode_into(self, z: torch.Tensor, block: torch.Tensor) -> None:
        """:meth:`decode` of ``z`` ``(rows, latent)`` written transposed into ``block``
        ``(data_dim, rows)`` (not for an autoregressive head: see :meth:`_sample_ordered`)."""
        h = self._hidden(z)
        last = self.decoder[-1]
        torch.mm(last.weight, h.T, out=block).add_(last.bias.unsqueeze(1))  # (W, rows)
        if self.categorical_head is not None:
            first, _, logits = self.categorical_head
            hidden = nn.functional.silu(torch.mm(h, first.weight.T).add_(first.bias), inplace=True)
            block.index_add_(0, self.oh_idx, torch.mm(logits.weight, hidden.T).add_(logits.bias.unsqueeze(1)))

    def _sample_ordered(self, z: torch.Tensor, block: torch.Tensor, noise: torch.Tensor, uniform: torch.Tensor, adjust) -> None:
        """:meth:`_decode_into` then :meth:`_draw_into` for an autoregressive head: the spans are
        drawn in layout order, each one's drawn entry fed to the head's hidden layer (one column
        of its input weights added) before the next span's logits are computed.

        A unit of degree ``d`` (see :func:`_made_masks`) reads spans ``< d`` and feeds the logits
        of spans ``>= d``: once span ``d - 1`` is drawn it no longer moves. So the units are
        taken in order of degree, each one's activation computed once, when it is final, and a
        span's logits read only the units final by then (the others' weights there are masked
        to 0). With binary spans drawn by a threshold, wide ones by running sums along rows, and
        a narrow span's draw fed to the units as a product with its one-hot, ``sample(1_000_000)``
        took 9.2 s instead of 11.2 on loans (28 spans, 1 thread, median of 3), 2.84 s instead of
        3.08 on churn, 1.96 instead of 2.05 on diamonds; the rows were the same (200,000 of
        loans', equal as tables): the reordered sums move logits by rounding only."""
        h = self._hidden(z)
        last = self.decoder[-1]
        torch.mm(last.weight, h.T, out=block).add_(last.bias.unsqueeze(1))  # (W, rows)
        if adjust is not None:
            adjust(block.T)
        if self.cont_idx.numel():
            block.index_add_(0, self.cont_idx, noise)
        first, _, logits = self.categorical_head
        into, out_of = self._ordered_weights()
        pre = torch.mm(first.weight, h.T).add_(first.bias.unsqueeze(1))  # (head width, rows)
        # Only the first ar_units units read earlier spans: the others' share of every span's
        # logits is computed once, as a plain head's.
        k = self.ar_units
        fixed = torch.mm(out_of[:, k:], nn.functional.silu(pre[k:])).add_(logits.bias.unsqueeze(1))  # (n_one_hot, rows)
        block.index_add_(0, self.oh_idx, fixed)
        order, final = self.ar_order, self.ar_final
        moving = pre[order]  # (k, rows), in order of degree: a drawn entry adds its column of into
        active = torch.empty_like(moving)
        into, out_of = into[order], out_of[:, order]
        done, spans = 0, len(self.one_hot_spans)
        for span, ((column, width), (start, _)) in enumerate(zip(self.one_hot_spans, self.span_entries)):
            ready = final[span]  # units whose degree is <= span: final, and all this span reads
            if ready > done:
                active[done:ready] = nn.functional.silu(moving[done:ready])
                done = ready
            cols = block[column : column + width]
            if ready:
                cols.addmm_(out_of[start : start + width, :ready], active[:ready])
            if span in self.suppressed:
                _without_suppressed(cols, *self.suppressed[span], dim=0)
            drawn = _draw_span(cols, uniform[span])
            if span + 1 < spans and ready < k:
                if width <= _GATHER_WIDTH:  # the drawn one-hot times the span's inputs
                    moving[ready:].addmm_(into[ready:, start : start + width], cols)
                else:
                    moving[ready:] += into[ready:, start + drawn]

    @torch.inference_mode()
    def add_noise(self, out: torch.Tensor, generator: torch.Generator | None = None, columns: torch.Tensor | None = None) -> torch.Tensor:
        """Turn decoder outputs ``(B, data_dim)`` into a sampled matrix, as :meth:`sample_matrix`
        does (column-major; ``out`` is left as it was).

        Args:
            columns: Optional ``(data_dim,)`` bool mask: draw only the continuous columns and
                one-hot spans in it (whole spans), and leave the others at the outputs (to check a
                few cells of many rows). The draws then come from other random numbers.
        """
        if columns is None:
            return self._draw_columns(out.T.contiguous(), generator).T
        sampled = out.T.contiguous()  # (data_dim, B)
        chosen = columns[self.cont_idx]
        cont = self.cont_idx[chosen]
        if cont.numel():
            if self.noise_factor is None:
                noise = torch.randn((cont.numel(), out.shape[0]), generator=generator, device=out.device, dtype=out.dtype)
                noise.mul_(self.sigma[chosen].to(out.dtype).unsqueeze(1))
            else:  # the chosen columns' share of correlated noise has their joint distribution
                noise = self._continuous_noise(out.shape[0], generator, out.device, out.dtype)[chosen]
            sampled.index_add_(0, cont, noise)
        for span, (first, width) in enumerate(self.one_hot_spans):
            if bool(columns[first]):
                uniform = torch.rand(out.shape[0], generator=generator, device=out.device, dtype=torch.float64)
                if span in self.suppressed and self.ar_in is None:  # an autoregressive head's come pinned
                    _without_suppressed(sampled[first : first + width], *self.suppressed[span], dim=0)
                _draw_span(sampled[first : first + width], uniform)
        return sampled.T

    @torch.inference_mode()
    def add_noise_given(self, out: torch.Tensor, x: torch.Tensor, known: torch.Tensor,
                        generator: torch.Generator | None = None, columns: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`add_noise` for rows some of whose continuous outputs are known: ``known``
        ``(B, n_cont)`` marks them and ``x`` ``(B, data_dim)`` holds their values, which they
        take. The other continuous outputs' noise is drawn given the known ones' residuals
        (value minus decoder mean, in units of sigma) under the noise correlation, a Gaussian
        conditional: as the model's own rows would have it, a hidden width follows a known
        length's departure from its mean. Without a noise correlation, or with nothing known,
        the same as :meth:`add_noise`. With ``columns`` (as :meth:`add_noise` takes it) only
        those are drawn, from their share of the conditional."""
        sampled = self.add_noise(out, generator, columns)
        if self.noise_factor is None or not bool(known.any()):
            return sampled
        chosen = columns[self.cont_idx] if columns is not None else torch.ones_like(self.cont_idx, dtype=torch.bool)
        correlation = self.noise_correlation()
        cont, sigma = self.cont_idx, self.sigma.double()
        residual = (x[:, cont].double() - out[:, cont].double()) / sigma
        patterns, inverse = row_patterns(known)
        for number, pattern in enumerate(patterns):
            if not bool(pattern.any()):
                continue
            rows = torch.nonzero(inverse == number).squeeze(1)
            seen, unseen = torch.nonzero(pattern).squeeze(1), torch.nonzero(~pattern & chosen).squeeze(1)
            at_seen = (rows[:, None], cont[seen][None, :])
            sampled[at_seen] = x[at_seen].to(sampled.dtype)
            if not unseen.numel():
                continue
            # E[u_h | u_o] = R_ho R_oo^-1 u_o, with covariance R_hh - R_ho R_oo^-1 R_oh.
            across = correlation[unseen][:, seen]
            weights = torch.linalg.solve(correlation[seen][:, seen], across.T).T  # (hidden, seen)
            spread = torch.linalg.cholesky(correlation[unseen][:, unseen] - weights @ across.T)
            noise = torch.randn((rows.numel(), unseen.numel()), generator=generator, device=out.device, dtype=torch.float64)
            drawn = residual[rows][:, seen] @ weights.T + noise @ spread.T
            at_unseen = (rows[:, None], cont[unseen][None, :])
            sampled[at_unseen] = (out[at_unseen].double() + drawn * sigma[unseen]).to(sampled.dtype)
        return sampled

    def noise_correlation(self) -> torch.Tensor | None:
        """The continuous outputs' noise correlation ``(n_cont, n_cont)`` in float64 (``None``:
        independent)."""
        if self.noise_factor is None:
            return None
        factor = self.noise_factor.double()
        return factor @ factor.T

    def _draw_columns(self, cols: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """The draws of :meth:`sample_matrix`, in place on decoder outputs laid out one matrix
        column per row, ``(data_dim, B)``."""
        noise, uniform = self._randomness(cols, generator)
        for start in range(0, cols.shape[1], SAMPLE_CHUNK):
            chunk = slice(start, start + SAMPLE_CHUNK)
            self._draw_into(cols[:, chunk], noise[:, chunk], uniform[:, chunk])
        return cols

    def _randomness(self, cols: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The random numbers the draws into ``cols`` ``(data_dim, B)`` use, drawn for the whole
        batch at once (so chunking does not change them): Gaussian noise already scaled by each
        continuous column's sigma ``(n_cont, B)``, then one float64 uniform per row for each
        one-hot span ``(n_spans, B)``."""
        rows = cols.shape[1]
        noise = self._continuous_noise(rows, generator, cols.device, cols.dtype)
        uniform = torch.rand((len(self.one_hot_spans), rows), generator=generator, device=cols.device, dtype=torch.float64)
        return noise, uniform

    def _draw_into(self, cols: torch.Tensor, noise: torch.Tensor, uniform: torch.Tensor) -> None:
        """Turn one chunk of decoder outputs ``(data_dim, rows)`` into sampled columns, in place:
        the continuous columns get their ``noise``; each one-hot span becomes the one-hot of an
        entry drawn by inverting the span's cumulative distribution at its ``uniform`` (both the
        chunk's slices of :meth:`_randomness`; ``uniform`` is consumed)."""
        if self.cont_idx.numel():
            cols.index_add_(0, self.cont_idx, noise)
        for span, (first, width) in enumerate(self.one_hot_spans):
            if span in self.suppressed and self.ar_in is None:  # an autoregressive head's come pinned
                _without_suppressed(cols[first : first + width], *self.suppressed[span], dim=0)
            _draw_span(cols[first : first + width], uniform[span])


def row_patterns(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of a bool matrix ``(B, k)`` and each row's number among them, as
    ``torch.unique(mask, dim=0, return_inverse=True)`` gives them, faster: one pattern shared by
    every row (a pool's) costs no sort, and up to 62 columns sort as one integer a row."""
    if not mask.shape[0] or bool((mask == mask[:1]).all()):
        return mask[:1], torch.zeros(mask.shape[0], dtype=torch.long, device=mask.device)
    if mask.shape[1] > 62:
        return torch.unique(mask, dim=0, return_inverse=True)
    keys = (mask.long() << torch.arange(mask.shape[1], device=mask.device)).sum(1)  # no integer matmul on CUDA
    distinct, inverse = torch.unique(keys, return_inverse=True)
    bits = ((distinct[:, None] >> torch.arange(mask.shape[1], device=mask.device)) & 1).bool()
    return bits, inverse


def _without_suppressed(logits: torch.Tensor, other: int, null: int, share: float, dim: int) -> None:
    """In place on one span's logits (entries along ``dim``): the other slot's share of
    suppressed rows moved to the kept entries in proportion to their probabilities, the null
    slot's left as it is (see :meth:`TabularVAE.suppress`)."""
    probs = torch.softmax(logits.double(), dim)
    held = probs.select(dim, other)
    rest = 1.0 - held - (probs.select(dim, null) if null >= 0 else 0.0)
    lift = torch.log1p(held * share / rest.clamp_min(1e-300)).to(logits.dtype)
    logits.add_(lift.unsqueeze(dim))
    if share < 1:
        logits.select(dim, other).sub_(lift).add_(math.log1p(-share))
    else:  # never drawn; finite, as a cell's likelihood multiplies it by 0
        logits.select(dim, other).fill_(-_PINNED)
    if null >= 0:
        logits.select(dim, null).sub_(lift)


def _draw_span(block: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Turn one span's logits ``(width, rows)`` into the one-hot of an entry drawn by inverting
    the span's cumulative distribution at ``uniform`` ``(rows,)`` (float64, consumed), in place;
    the drawn entries ``(rows,)``."""
    width, rows = block.shape
    if width == 2:
        # The same draw in four operations: entry 1 when uniform >= p0 / (p0 + p1).
        drawn = uniform >= torch.sigmoid((block[0] - block[1]).double())
        block[1] = drawn
        block[0] = ~drawn
        return drawn.long()
    if width >= _CUMSUM_WIDTH:
        # Running sums along each row's entries, laid out contiguously: the same sums, fewer
        # operations than the loop below for a wide span.
        probs = block.sub_(block.amax(0)).exp_().T.to(torch.float64).contiguous()  # (rows, width)
        running = probs.cumsum_(1)
        total = running[:, -1]
        target = torch.minimum(uniform.mul_(total), total * (1.0 - 2.0**-52))
        drawn = torch.searchsorted(running, target.unsqueeze(1), right=True).squeeze(1)
        block.zero_().scatter_(0, drawn.unsqueeze(0), 1.0)
        return drawn
    probs = block.sub_(block.amax(0)).exp_().double()  # unnormalised, float64
    total = probs.sum(0)  # (rows,): row after row, the same sums at any chunk size
    target = torch.minimum(uniform.mul_(total), total * (1.0 - 2.0**-52))  # < total
    # The drawn entry is the number of entries whose cumulative mass is <= target (one of
    # mass 0 is never drawn); running sums in float64 keep rare entries' shares.
    below = torch.zeros(rows, dtype=torch.float64, device=block.device)
    drawn = torch.zeros(rows, dtype=torch.int64, device=block.device)
    for entry in range(width - 1):
        drawn += below.add_(probs[entry]) <= target
    block.zero_().scatter_(0, drawn.unsqueeze(0), 1.0)
    return drawn


def _made_masks(config: VAEConfig, width: int, units: int) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]], torch.Tensor]:
    """The masks of an autoregressive categorical head (MADE): the first ``units`` hidden units
    get degrees 1, 2, ..., K - 1 in turn (K spans), the others degree 0; a unit of degree ``d``
    reads the one-hot entries of spans ``< d`` (input mask ``(width, n_one_hot)``), and span
    ``s``'s logits read the units of degree ``<= s`` (output mask ``(n_one_hot, width)``), so
    no span's logits depend on itself or on a later span. Also each span's (first entry,
    width) in the one-hot entries, and each unit's degree ``(width,)``."""
    segment = torch.tensor(config.one_hot_segment, dtype=torch.long)
    spans = config.n_segments
    degree = torch.zeros(width, dtype=torch.long)
    if spans > 1:
        degree[:units] = torch.arange(units) % (spans - 1) + 1
    into = (segment.unsqueeze(0) < degree.unsqueeze(1)).float()
    out_of = (degree.unsqueeze(0) <= segment.unsqueeze(1)).float()
    entries = []
    for span in range(spans):
        where = torch.nonzero(segment == span).squeeze(1)
        if where.numel() and int(where[-1] - where[0]) + 1 != where.numel():
            raise ValueError(f"one-hot span {span} is not a contiguous block of entries")
        entries.append((int(where[0]), int(where.numel())))
    return into, out_of, entries, degree


# A pinned span's other entries get this logit below the drawn one's: never drawn again.
_PINNED = 1e4

# Most one-hot logits (latents x entries) that match_category_shares keeps: 128 MB in float32.
_MATCH_LOGITS = 2**25
# Decodings match_category_shares makes with an autoregressive head (see there).
_MATCH_PASSES = 3

# Rows decoded at a time when sampling: a chunk's activations (chunk x hidden floats) stay in
# the CPU's cache. The random draws are made per batch, not per chunk, so it does not change them.
SAMPLE_CHUNK = 4096
# The continuous outputs' noise scale is clamped to this range, as in TVAE.
SIGMA_MIN, SIGMA_MAX = 0.01, 1.0
# Share of the identity mixed into a noise correlation (see TabularVAE.set_noise):
# columns whose residuals move together exactly (loans' have pairs at 1.0) still get a factor.
NOISE_CORRELATION_FLOOR = 1e-3
_CUMSUM_WIDTH = 24  # a span this wide draws by running sums along rows (see _draw_span)
_GATHER_WIDTH = 8  # a drawn entry's inputs are gathered, not multiplied in, above this width


def _one_hot_spans(config: VAEConfig) -> list[tuple[int, int]]:
    """The (first matrix column, width) of every one-hot span, in segment order."""
    spans: dict[int, list[int]] = {}
    for index, segment in zip(config.one_hot_index, config.one_hot_segment):
        spans.setdefault(segment, []).append(index)
    for segment, indices in spans.items():
        if indices != list(range(indices[0], indices[0] + len(indices))):
            raise ValueError(f"one-hot span {segment} is not a contiguous block of matrix columns")
    return [(indices[0], len(indices)) for _, indices in sorted(spans.items())]


def segment_max(values: torch.Tensor, segment: torch.Tensor, n_segments: int) -> torch.Tensor:
    """Row-wise maximum within each segment of columns: ``(B, W)`` -> ``(B, n_segments)``."""
    index = segment.unsqueeze(0).expand_as(values)
    init = torch.full((values.shape[0], n_segments), float("-inf"), device=values.device, dtype=values.dtype)
    return init.scatter_reduce(1, index, values, reduce="amax", include_self=True)


def logsumexp(values: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    """``torch.logsumexp`` (the same numbers on every input measured), without its slow path.

    ``torch.logsumexp`` on this CPU spends ~80 ns a value whose shifted exponent underflows
    (below about -87 in float32): an importance pool's log densities, which spread over hundreds
    of nats, took 0.13 s for 65,536 x 38 values against 0.01 s for narrow ones, 18% of churn's
    range condition. Terms that far below the largest add nothing at float precision, so they
    are clamped to ``exp(-87)`` first: 0.018 s, equal to ``torch.logsumexp`` bit for bit on
    those values. Rows of only ``-inf`` give ``-inf``."""
    peak = values.amax(dim, keepdim=True)
    finite = torch.isfinite(peak)
    shift = torch.where(finite, peak, torch.zeros_like(peak)).detach()
    floor = -87.0 if values.dtype in (torch.float32, torch.float16, torch.bfloat16) else -700.0
    out = torch.log(torch.exp((values - shift).clamp(min=floor)).sum(dim, keepdim=True)) + shift
    out = torch.where(finite, out, peak)  # -inf rows stay -inf (+inf and nan pass through)
    return out if keepdim else out.squeeze(dim)


def segment_logsumexp(values: torch.Tensor, segment: torch.Tensor, n_segments: int) -> torch.Tensor:
    """Row-wise log-sum-exp within each segment of columns: ``(B, W)`` -> ``(B, n_segments)``."""
    with torch.no_grad():
        shift = segment_max(values, segment, n_segments)  # a constant for stability only
    exp = torch.exp(values - shift[:, segment])
    sums = torch.zeros((values.shape[0], n_segments), device=values.device, dtype=values.dtype)
    sums = sums.index_add(1, segment, exp)
    return torch.log(sums) + shift
