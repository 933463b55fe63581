"""The training loop: minibatch Adam on the negative ELBO, early stopping on a validation split.

Organised, not abstracted (as Lightning puts it): :func:`make_optimizer`, one step (``_Stepper``),
:func:`validation_loss` and :func:`train` are kept apart. Torch only; no pandas.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, Protocol

import numpy as np
import torch

from synthvae.checkpoint import Checkpointer, LoopState
from synthvae.errors import ParameterError, TrainingError
from synthvae.model import TabularVAE, VAEOutput
from synthvae.optim import Adam

logger = logging.getLogger(__name__)

# Fewest training rows per continuous output for which residual_noise estimates their
# noise (below: independent noise, as trained).
RESIDUAL_ROWS_PER_COLUMN = 5


@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes:
        epochs: Passes over the training rows; ``None`` picks ``auto_epochs`` (a step budget).
        batch_size: Rows per step; ``None`` picks from the number of rows.
        learning_rate: Adam step size.
        weight_decay: Adam L2 penalty.
        beta: Weight of the KL term (1 is the plain ELBO).
        categorical_balance: Nats of cross-entropy that every categorical column's weight makes
            worth encoding: a column whose training distribution has entropy ``H`` nats gets
            weight ``max(1, categorical_balance / H)`` (see :func:`category_weights`); 0 is the
            plain ELBO.
        target_segments: One-hot spans (by number) of a column the synthetic rows are meant to
            predict (``Synthesizer(target=...)``): each is weighted as ``categorical_balance =
            TARGET_BALANCE`` would weigh it (or more, if ``categorical_balance`` says so), the
            other spans as ``categorical_balance`` says.
        validation_fraction: Share of rows held out for early stopping (0 disables it).
        patience: Epochs without a better validation loss before stopping.
        target_steps: Step budget that ``epochs=None`` aims at.
        min_epochs: Fewest epochs ``epochs=None`` picks.
        min_steps: Fewest steps ``epochs=None`` picks, whatever ``columns`` caps: a small, narrow
            table makes few steps an epoch (seattle_weather's 1,051 training rows, 6 columns: 9
            steps, 270 in its 30 epochs, against churn's 384 (now 400) and german_credit's 504). At 405
            steps (45 epochs) its TSTR over fit seeds 0-5 rose 0.522 -> 0.581 (TRTR 0.606; lowest
            seed 0.443 -> 0.548), quality 0.9684 -> 0.9654, closer-to-train share 0.543 -> 0.539
            (``benchmarks/results/seeds_epochs.md``); 540 steps scored the same (0.577).
        max_epochs: Most epochs ``epochs=None`` picks.
        columns: Table columns the model learns; with ``epochs_per_column`` it caps the epochs
            ``epochs=None`` picks (``None``: only ``max_epochs`` does).
        epochs_per_column: Epochs per learned column that ``epochs=None`` allows, at least
            ``min_epochs``. A few columns are learned in a few passes, a wide table needs more:
            measured at 1 thread (issue 4's note), churn (20 columns) scored 0.9712 after 60
            epochs against 0.9764 after 300 in a fifth of the time, while loans (55 columns)
            went 0.9611 -> 0.9678 from 60 to 165 epochs.
        flush_denormal: Flush denormal floats to zero while training on CPU. It made SDV's TVAE
            3.5x faster here, but our loop measured the same with and without it
            (``benchmarks/bench_core.py --flush-denormal-ab``), and it is process-wide state, so
            it is off by default.
    """

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    beta: float = 1.0
    categorical_balance: float = 0.0
    target_segments: tuple[int, ...] = ()
    validation_fraction: float = 0.1
    patience: int = 20
    target_steps: int = 6000
    min_epochs: int = 30
    min_steps: int = 400
    max_epochs: int = 300
    flush_denormal: bool = False
    columns: int | None = None
    epochs_per_column: float = 3.0

    def resolve_batch_size(self, n_rows: int) -> int:
        """The batch size used for ``n_rows`` training rows: an eighth of them, within 64..512."""
        if self.batch_size is not None:
            return max(1, min(self.batch_size, n_rows))
        return int(min(n_rows, max(64, min(512, n_rows // 8))))

    def resolve_epochs(self, n_rows: int) -> int:
        """The number of epochs used for ``n_rows`` training rows."""
        if self.epochs is not None:
            return self.epochs
        steps_per_epoch = math.ceil(n_rows / self.resolve_batch_size(n_rows))
        cap = self.max_epochs
        if self.columns is not None:
            cap = min(cap, max(self.min_epochs, math.ceil(self.epochs_per_column * self.columns)))
        cap = max(cap, min(self.max_epochs, math.ceil(self.min_steps / steps_per_epoch)))
        return int(min(cap, max(self.min_epochs, math.ceil(self.target_steps / steps_per_epoch))))

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """What a training callback receives after each epoch.

    Attributes:
        epoch: Epochs done (1-based).
        epochs: Epochs planned.
        train_loss: Mean negative ELBO per row over the epoch.
        val_loss: Negative ELBO per row on the validation split (``None`` without one).
        best_epoch: Epoch whose weights the fit keeps if it ends here: the one of the best
            validation loss so far, or, without a validation split, this epoch (the last
            weights are kept). It is what ``fit_info_.best_epoch`` says at the end.
        stopped_early: Whether training stops after this epoch by early stopping.
    """

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    best_epoch: int
    stopped_early: bool = False


Callback = Callable[[Progress], None]


class BatchStream(Protocol):
    """Training rows that do not sit in memory (:class:`synthvae.streaming.TableStream`)."""

    rows: int

    def batches(self, epoch: int, batch_size: int) -> Iterator[np.ndarray]:
        """The shuffled encoded batches of ``epoch`` (1-based)."""

    def identity(self) -> dict:
        """What identifies the rows, for checkpoints."""


class Parallel(Protocol):
    """Data-parallel training (:class:`synthvae.distributed.Parallel`)."""

    rank: int
    world: int

    def wrap(self, model: TabularVAE) -> torch.nn.Module:
        """The module whose forward pass synchronises gradients."""

    def mean(self, value: float) -> float:
        """The mean of ``value`` over all processes."""


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` reports.

    Attributes:
        history: One dict per epoch with ``epoch``, ``train_loss`` and ``val_loss``.
        epochs_planned: Epochs the configuration asked for, for the training rows.
        best_epoch: Epoch whose weights were kept: the one of the best validation loss, or the
            last without a validation split.
        batch_size: Rows per step.
        train_rows: Rows trained on (after the validation split).
        validation_rows: Rows held out for early stopping.
    """

    history: list[dict]
    epochs_planned: int
    best_epoch: int
    batch_size: int
    train_rows: int
    validation_rows: int


def make_optimizer(model: TabularVAE, config: TrainConfig) -> Adam:
    """Adam over every parameter of the model."""
    return Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)


# Nats a target column's cross-entropy is made worth (see category_weights). Chosen before the
# autoregressive head, for TSTR: means over fit seeds 0-2 for 5 / 10 / 20 / 40 (default 0) were
# churn 0.836 / 0.882 / 0.889 / 0.892 (0.825), german_credit 0.701 / 0.702 / 0.743 / 0.689
# (0.637), seattle_weather 0.570 / 0.573 / 0.534 / - (0.569). At today's defaults (2026-12-03,
# fit seeds 0-5, ``bench_seeds.py --params '{}' '{"target": "@target"}'``,
# ``benchmarks/results/seeds_target.md``) the plain model does better on two-class targets: 0 /
# 1 / 2.5 / 10 give TSTR churn 0.890 / 0.890 / 0.891 / 0.862, german_credit 0.715 / 0.723 /
# 0.717 / 0.690, seattle_weather 0.581 / 0.581 / 0.575 / 0.605; detection AUC 0.462 -> 0.474,
# 0.456 -> 0.480, 0.742 -> 0.762 at 10. What 10 still buys is a latent that keeps the class:
# 5-nearest-neighbour accuracy of the target in the embedding (fit seed 0) at 1 / 2.5 / 5 / 10
# churn 0.886 / 0.890 / 0.900 / 0.998, german_credit 0.663 / 0.670 / 0.846 / 0.995 (PCA 0.892 /
# 0.888), and with it rows drawn given the class (augment's macro F1 churn 0.812 -> 0.831,
# german 0.680 -> 0.719, ``benchmarks/results/generation.md``). Kept at 10 for those uses.
TARGET_BALANCE = 10.0


def category_weights(model: TabularVAE, column_means: torch.Tensor, balance: float,
                     targets: tuple[int, ...] = ()) -> torch.Tensor | None:
    """The weight of each one-hot span's cross-entropy in the loss: ``max(1, balance / H)`` for a
    span whose training distribution has entropy ``H`` nats, and at least ``TARGET_BALANCE / H``
    for the spans in ``targets``; ``None`` (all 1) for ``balance`` 0 and no target, or no
    one-hot span.

    Why: under the plain ELBO a category is put in the latent only if the cross-entropy it saves
    (at most ``H``) exceeds the KL it costs, and with Gaussian posteriors the KL of separating
    a category's rows costs about a nat whatever ``H``. Low-entropy columns (a 14% churn flag:
    0.40 nats) are then left out of the latent and sampled nearly independently of the rest of
    the row, which is what a classifier trained on synthetic rows needs most (TSTR). The weight
    makes every column's cross-entropy worth at least ``balance`` nats; high-entropy columns
    (a 51-state column: 3.9 nats) keep weight 1.

    Args:
        model: The VAE (its one-hot spans).
        column_means: Mean of every column of the encoded training matrix, ``(data_dim,)``: each
            span's category shares.
        balance: Nats (see above).
        targets: Spans of the column the rows are meant to be drawn by (``Synthesizer(target=)``).
            Weighting that column alone keeps the other columns' plain ELBO; weighting every
            low-entropy column (``balance=5``) costs numeric columns (loans, diamonds). See
            :data:`TARGET_BALANCE` for what it buys and costs.
    """
    if (balance <= 0 and not targets) or not model.oh_idx.numel():
        return None
    shares = column_means.to(model.oh_idx.device, torch.float64)[model.oh_idx].clamp_min(1e-12)
    entropy = torch.zeros(model.config.n_segments, dtype=torch.float64, device=shares.device)
    entropy.index_add_(0, model.oh_seg, -shares * shares.log())
    weights = (balance / entropy.clamp_min(1e-3)).clamp_min(1.0)
    if targets:
        index = torch.tensor(list(targets), dtype=torch.long, device=weights.device)
        weights[index] = torch.maximum(weights[index], TARGET_BALANCE / entropy[index].clamp_min(1e-3))
    return weights.float()


@torch.no_grad()
def validation_loss(model: TabularVAE, data: torch.Tensor, beta: float, batch_size: int,
                    span_weights: torch.Tensor | None = None) -> float:
    """The training loss per row on ``data`` (negative ELBO with the loss's weights), using the
    posterior means (no sampling noise; an autoregressive head reads the rows' own categories,
    as in training)."""
    model.eval()
    total = 0.0
    for start in range(0, data.shape[0], batch_size):
        batch = data[start : start + batch_size]
        mu, logvar = model.encode(batch)
        out = VAEOutput(mu=mu, logvar=logvar, recon=model.decode(mu, batch))
        total += float(model.loss(batch, out, beta, span_weights).total) * batch.shape[0]
    model.train()
    return total / max(1, data.shape[0])


@torch.no_grad()
def residual_noise(model: TabularVAE, data: torch.Tensor, observed: torch.Tensor, generator: torch.Generator,
                   chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The scale and correlation of the continuous outputs' residuals on training rows
    ``data``: each row's value minus the decoder's mean for a latent drawn from the encoder's
    posterior, as training draws it. ``None`` without continuous outputs or with too few rows
    (:data:`RESIDUAL_ROWS_PER_COLUMN` a column).

    Training fits each column's noise alone, so the values drawn around the decoder's means
    miss the error the decoder makes in several columns at once: diamonds' ``y - x`` (length
    minus width) lies within -0.06 and 0.06 mm for the middle 80% of real rows, and came out
    within -0.17 and 0.16 mm, so that a classifier told synthetic rows from real ones by the
    two columns alone (ROC AUC 0.76). Drawn with this correlation (see
    :meth:`TabularVAE.set_noise`), they keep what the errors share. The scale is each column's
    root mean square residual: the noise's maximum-likelihood scale for the trained network,
    which the learned ``sigma`` only approaches (diamonds' ``carat``: learned 0.080, residuals
    0.070).

    Args:
        observed: For each continuous output, the matrix column of its column's "observed"
            flag, or -1 when the column has no nulls: a null row's value slot holds a fill
            value, whose residual is left out (each pair's correlation is taken over the rows
            that hold both, then made positive semi-definite, :func:`_nearest_correlation`).
        generator: Draws the latents.

    Returns:
        ``(scale, correlation)``: ``(n_cont,)`` and ``(n_cont, n_cont)``, float64; a column
        with no residual (never present, or always exact) has scale 0 and no correlation.
    """
    n_cont = model.cont_idx.numel()
    if not n_cont or data.shape[0] < RESIDUAL_ROWS_PER_COLUMN * n_cont:
        return None
    model.eval()
    sums = torch.zeros(n_cont, dtype=torch.float64, device=data.device)
    counts = torch.zeros_like(sums)
    gram = torch.zeros((n_cont, n_cont), dtype=torch.float64, device=data.device)
    # Over the rows where i and j are both present: the sum of r_i, of r_i^2, and their number.
    weighted, squares, pairs = torch.zeros_like(gram), torch.zeros_like(gram), torch.zeros_like(gram)
    flagged = observed >= 0
    for start in range(0, data.shape[0], chunk):
        batch = data[start : start + chunk]
        residual = (batch[:, model.cont_idx] - model(batch, generator).recon[:, model.cont_idx]).double()
        present = torch.ones_like(residual)
        if bool(flagged.any()):
            present[:, flagged] = batch[:, observed[flagged]].double()
        residual *= present
        sums += residual.sum(0)
        counts += present.sum(0)
        gram += residual.T @ residual
        weighted += residual.T @ present
        squares += (residual * residual).T @ present
        pairs += present.T @ present
    scale = torch.sqrt(torch.diagonal(gram) / counts.clamp_min(1))
    mean = sums / counts.clamp_min(1)
    # The pairwise-complete correlation: each pair's centred products over the rows holding
    # both, over each one's centred sum of squares on those rows (counted over all its rows, a
    # column's pairs with one null in 40% of rows came out 0.77 times as strong).
    product = gram - weighted * mean[None, :] - weighted.T * mean[:, None] + pairs * torch.outer(mean, mean)
    own = (squares - 2 * weighted * mean[:, None] + pairs * (mean * mean)[:, None]).clamp_min(0)  # i's, on j's rows
    norm = torch.sqrt(own * own.T)
    alive = norm > 0
    correlation = torch.zeros_like(gram)
    correlation[alive] = product[alive] / norm[alive]
    correlation.fill_diagonal_(1.0)
    correlation.clamp_(-1.0, 1.0)
    if bool(flagged.any()):
        correlation = _nearest_correlation(correlation)
    return scale, correlation


def _nearest_correlation(matrix: torch.Tensor) -> torch.Tensor:
    """A symmetric matrix with unit diagonal made positive semi-definite: negative eigenvalues
    set to 0, then the diagonal rescaled back to 1 (one step of Higham's alternating
    projections, 2002). A pairwise-complete correlation can be indefinite; a noise factor
    needs a correlation."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    if bool((values >= 0).all()):
        return matrix
    clipped = (vectors * values.clamp_min(0)) @ vectors.T
    scale = torch.sqrt(torch.diagonal(clipped).clamp_min(1e-300))
    clipped = clipped / torch.outer(scale, scale)
    clipped.fill_diagonal_(1.0)
    return clipped.clamp_(-1.0, 1.0)


def split_validation(n_rows: int, fraction: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random train / validation row indices; no validation split below 50 rows."""
    perm = torch.randperm(n_rows, generator=generator, device=generator.device)
    n_val = int(round(n_rows * fraction)) if n_rows >= 50 and fraction > 0 else 0
    n_val = min(n_val, 20_000)
    return perm[n_val:], perm[:n_val]


@contextlib.contextmanager
def flush_denormal(enabled: bool) -> Iterator[None]:
    """Flush denormal floats to zero on CPU inside the block, then turn it off again.

    Denormals made SDV's TVAE 3.5x slower on these machines (see DESIGN.md).
    """
    if not enabled:
        yield
        return
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def train(
    model: TabularVAE,
    data: torch.Tensor,
    config: TrainConfig,
    generator: torch.Generator,
    callback: Callback | None = None,
    checkpoint: Checkpointer | None = None,
    *,
    validation: torch.Tensor | None = None,
    parallel: Parallel | None = None,
    column_means: torch.Tensor | None = None,
) -> TrainResult:
    """Train ``model`` on the encoded rows ``data`` ``(N, data_dim)``, or on a stream of them.

    Keeps the weights of the epoch with the best validation loss (or the last epoch without a
    validation split).

    Args:
        model: The VAE, on the same device as ``data``.
        data: Encoded rows (a validation split is drawn from them), or a :class:`BatchStream`
            of training rows read from disk batch by batch (then ``validation`` holds the
            held-out rows).
        config: How to train.
        generator: The only source of randomness (split, shuffles, latent noise); on the
            device of ``data``.
        callback: Called with a :class:`Progress` after every epoch (not for epochs restored
            from a checkpoint).
        checkpoint: Saves the loop's state after epochs (and restores it first when resuming):
            a resumed run ends with the same weights as an uninterrupted one.
        validation: The held-out rows of a stream.
        parallel: Train data-parallel: each process steps on its share of every batch
            (``batch_size / world`` rows) and the gradients are averaged, so the steps are
            those of one process with the whole batch. ``data`` and ``generator`` must be the
            same on every process; the latent noise of each comes from its own stream.
        column_means: Mean of every encoded column over the training rows, for
            ``config.categorical_balance`` (:func:`category_weights`); ``None``: the mean of
            ``data`` (of ``validation`` for a stream).

    Returns:
        The history and facts of the run.

    Raises:
        TrainingError: The loss became NaN or infinite.
        ParameterError: The checkpoint to resume from belongs to another run, or
            ``config.validation_fraction`` holds out every row.
    """
    settings = {"train": config.to_dict(), "model": model.config.to_dict()}
    if isinstance(data, torch.Tensor):
        train_idx, val_idx = split_validation(data.shape[0], config.validation_fraction, generator)
        train_data, val_data = data[train_idx], data[val_idx]
        n = train_data.shape[0]
    else:
        train_data, n = data, data.rows
        val_data = validation if validation is not None else torch.zeros((0, model.config.data_dim), dtype=torch.float32)
        settings["stream"] = data.identity()
    if n == 0:
        # Else a batch size of 0 ("range() arg 3 must not be zero"), or streamed "too few row groups".
        raise ParameterError(
            f"validation_fraction={config.validation_fraction} holds out all {n + val_data.shape[0]:,} rows "
            f"for early stopping, leaving none to train on; lower validation_fraction (0 holds out none)"
        )
    held = val_data.shape[0]
    if held > n:
        # validation_fraction=0.99 on 120 rows trained on one row without a word.
        logger.warning("validation_fraction=%s holds out %d rows for early stopping and leaves %d to train on: the model "
                       "learns from those alone; lower validation_fraction (0.1 is usual, 0 holds out none)",
                       config.validation_fraction, held, n)
    batch_size = config.resolve_batch_size(n)
    epochs = config.resolve_epochs(n)
    if column_means is None and (config.categorical_balance > 0 or config.target_segments):
        source = data if isinstance(data, torch.Tensor) else val_data
        column_means = source.double().mean(0) if source.shape[0] else None
    weights = (category_weights(model, column_means, config.categorical_balance, tuple(config.target_segments))
               if column_means is not None else None)
    optimizer = make_optimizer(model, config)
    loop = LoopState()
    if checkpoint is not None:
        checkpoint.start(data if isinstance(data, torch.Tensor) else val_data, model, settings, rows=n + val_data.shape[0])
        loop = checkpoint.restore(model, optimizer, generator) or loop
    # The untrained model's loss (its outputs start at the data's marginals): a fit that ends
    # far above it diverged, NaN or not (learning_rate=0.3 ended at 1e9-1e20 without a word).
    reference = val_data if val_data.shape[0] else (train_data[:4096] if isinstance(train_data, torch.Tensor) else val_data)
    start_loss = validation_loss(model, reference, config.beta, 4096, weights) if loop.epoch == 0 and reference.shape[0] else None
    step = _Stepper(model, optimizer, config, generator, parallel, weights)
    logger.info("training on %d rows (%d validation), %d epochs of batch %d", n, val_data.shape[0], epochs, batch_size)
    model.train()
    with flush_denormal(config.flush_denormal and next(model.parameters()).device.type == "cpu"):
        while not loop.finished and loop.epoch < epochs:
            epoch = loop.epoch + 1
            train_loss = _train_epoch(step, train_data, batch_size, generator, epoch)
            val_loss = validation_loss(model, val_data, config.beta, 4096, weights) if val_data.shape[0] else None
            if val_loss is not None and not math.isfinite(val_loss):
                raise TrainingError(
                    f"the validation loss became {val_loss} at epoch {epoch}; lower the learning "
                    f"rate (now {config.learning_rate}) or check the data for extreme values"
                )
            if val_loss is None:  # no validation split: the last weights are kept
                loop.best_loss, loop.best_epoch = train_loss, epoch
            elif val_loss < loop.best_loss:
                loop.best_loss, loop.best_epoch = val_loss, epoch
                loop.best_state = copy.deepcopy(model.state_dict())
            stop = val_loss is not None and epoch - loop.best_epoch >= config.patience
            loop.epoch = epoch
            loop.history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
            loop.finished = stop or epoch == epochs
            if checkpoint is not None and checkpoint.due(final=loop.finished):
                checkpoint.save(model, optimizer, generator, loop)
            if callback is not None:
                callback(Progress(epoch, epochs, train_loss, val_loss, loop.best_epoch, stopped_early=stop))
            if stop:
                logger.info("early stop at epoch %d (best %d)", epoch, loop.best_epoch)
    if start_loss is not None:
        end_loss = loop.best_loss if val_data.shape[0] else validation_loss(model, reference, config.beta, 4096, weights)
        if end_loss > start_loss + max(abs(start_loss), 1.0):
            raise TrainingError(
                f"training diverged: the loss ended at {end_loss:.4g}, above the untrained model's {start_loss:.4g}; "
                f"lower the learning rate (now {config.learning_rate}) or check the data for extreme values"
            )
    best_epoch = loop.best_epoch
    if loop.best_state is not None:
        model.load_state_dict(loop.best_state)
    else:
        best_epoch = len(loop.history)  # also for checkpoints that counted the best training loss
    model.eval()
    return TrainResult(loop.history, epochs, best_epoch, batch_size, n, int(val_data.shape[0]))


class _Stepper:
    """One gradient step at a time: the model (wrapped for data-parallel training when asked),
    its optimiser and the latent noise."""

    def __init__(self, model: TabularVAE, optimizer, config: TrainConfig, generator: torch.Generator, parallel,
                 weights: torch.Tensor | None = None) -> None:
        self.model, self.optimizer, self.config, self.parallel = model, optimizer, config, parallel
        self.weights = weights
        self.rank, self.world = (parallel.rank, parallel.world) if parallel is not None else (0, 1)
        self.module = parallel.wrap(model) if parallel is not None else model
        self.noise = generator
        if self.world > 1:  # each process its own latent noise; the row order stays shared
            seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
            self.noise = torch.Generator(device=generator.device).manual_seed(seed + self.rank)

    def __call__(self, batch: torch.Tensor, epoch: int) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        out = self.module(batch, generator=self.noise)
        loss = self.model.loss(batch, out, self.config.beta, self.weights).total
        loss.backward()
        self.optimizer.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingError(
                f"the loss became {value} at epoch {epoch}; lower the learning rate "
                f"(now {self.config.learning_rate}) or check the data for extreme values"
            )
        return value


# Within an epoch longer than this (a streamed fit of millions of rows), an INFO line this often.
EPOCH_LOG_SECONDS = 30.0


def _train_epoch(step: _Stepper, train_data, batch_size: int, generator: torch.Generator, epoch: int) -> float:
    """One shuffled pass over the training rows; returns the mean loss per row (over all
    processes)."""
    total, used = 0.0, 0
    rows = train_data.shape[0] if isinstance(train_data, torch.Tensor) else train_data.rows
    started = said = time.monotonic()
    for batch in _epoch_batches(step, train_data, batch_size, generator, epoch):
        loss = step(batch, epoch)
        total += loss * batch.shape[0]
        used += batch.shape[0]
        now = time.monotonic()
        if now - said >= EPOCH_LOG_SECONDS:
            # A streamed epoch of 6M rows ran for minutes without a line, -v or not (a review).
            said = now
            logger.info("epoch %d: %s of %s rows, loss %.3f, %.0f s", epoch, f"{min(used * step.world, rows):,}",
                        f"{rows:,}", total / used, now - started)
    mean = total / used
    return step.parallel.mean(mean) if step.parallel is not None else mean


def _epoch_batches(step: _Stepper, train_data, batch_size: int, generator: torch.Generator, epoch: int) -> Iterator[torch.Tensor]:
    """This process's batches of one epoch (its share of each batch when data-parallel)."""
    device = next(step.model.parameters()).device
    per_process = max(1, batch_size // step.world)
    if not isinstance(train_data, torch.Tensor):
        for batch in train_data.batches(epoch, per_process):
            yield torch.from_numpy(batch).to(device)
        return
    n = train_data.shape[0]
    perm = torch.randperm(n, generator=generator, device=generator.device)
    if step.world > 1:
        mine = perm[step.rank :: step.world]
        for start in range(0, max(1, (n // step.world) // per_process) * per_process, per_process):
            yield train_data[mine[start : start + per_process]]
        return
    # Drop a last batch smaller than half a batch: tiny batches make noisy steps.
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        if idx.numel() < batch_size // 2 and start > 0:
            break
        yield train_data[idx]
