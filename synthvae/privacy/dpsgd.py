"""DP-SGD for the tabular VAE (Abadi et al., 2016), through Opacus.

Every step takes a Poisson-sampled batch (each row independently with probability ``q``, so the
batch size varies and may be 0), computes every row's gradient of its own negative ELBO with
``torch.func`` (``vmap`` over ``grad``: one batched pass, every parameter included, the decoder's
learned output scales too), and hands them to Opacus' ``DPOptimizer``, which clips each row's
gradient to ``max_grad_norm``, sums, adds Gaussian noise of ``noise_multiplier * max_grad_norm``
and divides by the expected batch size before Adam's step.

There is no validation split and no early stopping: both would read the rows outside the
accounted mechanism. The step count is fixed in advance (it enters the accounting).

The randomness of the mechanism (which rows each batch holds, the latent noise, the gradient
noise) comes from a generator seeded from the operating system (:func:`secret_generator`), never
from the fit's seed: the seed is stored in the model file and defaults to 0, so noise drawn from it
could be replayed by anyone holding the file, who could then subtract it (or, knowing every row
but one, refit each candidate table and see which one gives the released weights bit for bit),
and the guarantee would not hold. A private fit is therefore not reproducible bit for bit; its
weight initialisation (independent of the data) and everything drawn from the fitted model are.
"""

from __future__ import annotations

import logging
import math
import secrets

import torch
from synthvae.privacy.opacus_names import DPOptimizer, ModuleValidator
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from synthvae.errors import ParameterError, TrainingError
from synthvae.model import TabularVAE, VAEOutput
from synthvae.training import Callback, Progress, TrainConfig, TrainResult

logger = logging.getLogger(__name__)


class _RowLoss(nn.Module):
    """The negative ELBO of one row, with its latent noise given (for ``functional_call``)."""

    def __init__(self, vae: TabularVAE, beta: float) -> None:
        super().__init__()
        self.vae = vae
        self.beta = beta

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.vae.encode(x)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.vae.loss(x, VAEOutput(mu, logvar, self.vae.decode(z, x)), self.beta).total


def secret_generator(device: torch.device | str) -> torch.Generator:
    """A torch generator on ``device`` seeded with 63 bits from the operating system's entropy
    (``secrets``): its draws cannot be replayed from anything the fit stores. Like Opacus without
    ``secure_mode``, the generator itself is torch's (Mersenne Twister on CPU, Philox on CUDA),
    not a cryptographic one."""
    return torch.Generator(device=device).manual_seed(secrets.randbits(63))


def check_compatible(model: nn.Module) -> None:
    """Refuse a model that Opacus cannot train privately (BatchNorm mixes rows of a batch).

    Raises:
        ParameterError: Opacus' validator found incompatible layers.
    """
    was_training = model.training
    model.train()  # the validator also asks for training mode, which train_private sets itself
    errors = ModuleValidator.validate(model, strict=False)
    model.train(was_training)
    if errors:
        raise ParameterError(f"the model cannot be trained with differential privacy: {errors}")


def train_private(
    model: TabularVAE,
    data: torch.Tensor,
    config: TrainConfig,
    *,
    sample_rate: float,
    steps: int,
    epochs: int,
    noise_multiplier: float,
    max_grad_norm: float,
    callback: Callback | None = None,
) -> TrainResult:
    """Train ``model`` on the encoded rows ``data`` ``(N, data_dim)`` with DP-SGD.

    Args:
        model: The VAE, on the device of ``data``.
        data: All training rows (no validation split).
        config: Learning rate, weight decay and beta (epochs and batch size come from the plan).
        sample_rate: Poisson sampling rate of the rows.
        steps: Optimiser steps (as accounted).
        epochs: The passes over the rows those steps make in expectation, as asked: epoch ``k``
            ends at step ``round(k * steps / epochs)`` (for the history and ``callback`` only).
        noise_multiplier: Noise over ``max_grad_norm`` (as accounted).
        max_grad_norm: Per-row gradient clipping bound.
        callback: Called with a :class:`Progress` after each epoch's worth of steps.

    Returns:
        The run's history (train loss of the sampled rows, for the data holder only).

    Raises:
        TrainingError: The loss became NaN or infinite.
    """
    check_compatible(model)
    generator = secret_generator(data.device)
    n = data.shape[0]
    expected = max(1, int(round(sample_rate * n)))
    names = [name for name, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    # Detached views share the parameters' storage, so they follow every in-place optimiser step.
    weights = {f"vae.{name}": p.detach() for name, p in zip(names, params)}
    optimizer = DPOptimizer(
        torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay),
        noise_multiplier=noise_multiplier,
        max_grad_norm=max_grad_norm,
        expected_batch_size=expected,
        generator=generator,
    )
    row_loss = _RowLoss(model, config.beta)

    def one(weights: dict, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        return functional_call(row_loss, weights, (x.unsqueeze(0), eps.unsqueeze(0)))

    per_row = vmap(grad_and_value(one), in_dims=(None, 0, 0))
    epochs = max(1, min(epochs, steps))
    ends = {round(k * steps / epochs) for k in range(1, epochs + 1)}
    history: list[dict] = []
    total, used = 0.0, 0
    logger.info("DP-SGD on %d rows: %d steps at rate %.4g, noise %.3g", n, steps, sample_rate, noise_multiplier)
    model.train()
    for step in range(1, steps + 1):
        mask = torch.rand(n, generator=generator, device=data.device, dtype=torch.float32) < sample_rate
        batch = data[mask]  # (B, data_dim), B ~ Binomial(n, q)
        if batch.shape[0]:
            eps = torch.randn((batch.shape[0], model.config.latent_dim), generator=generator, device=data.device, dtype=torch.float32)
            grads, losses = per_row(weights, batch, eps)
            for name, p in zip(names, params):
                p.grad_sample = grads[f"vae.{name}"]
            loss = float(losses.sum())
            if not math.isfinite(loss):
                raise TrainingError(
                    f"the loss became {loss} at step {step}; lower the learning rate "
                    f"(now {config.learning_rate}) or check the data for extreme values"
                )
            total += loss
            used += batch.shape[0]
        else:  # an empty Poisson batch still takes a (pure noise) step, as accounted
            for p in params:
                p.grad_sample = torch.zeros((0, *p.shape), device=p.device, dtype=p.dtype)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step in ends:
            epoch = len(history) + 1
            history.append({"epoch": epoch, "train_loss": total / max(1, used), "val_loss": None})
            if callback is not None:
                callback(Progress(epoch, epochs, history[-1]["train_loss"], None, epoch))
            total, used = 0.0, 0
    for p in params:
        p.grad_sample = None
    model.eval()
    return TrainResult(history, epochs, len(history), expected, n, 0)
