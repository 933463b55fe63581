"""Memory a fit will need, estimated before the table is encoded, and refused up front when it
cannot fit.

A fit holds the encoded matrix (rows x encoded width, float32) about twice (the matrix and the
shuffled training split), the network's weights five times (weights, gradients, Adam's two
moments, the best epoch's copy) and a batch's activations. One-hot categories make the width: a
thousand categorical columns of 200 categories are 200,000 floats a row. Without this check such
a table runs the machine out of memory half-way through encoding; with it the user is told which
columns make the width and what to do, before any work is done.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

from synthvae.errors import DataError, ParameterError
from synthvae.model import SAMPLE_CHUNK
from synthvae.preprocessing.layout import Layout

logger = logging.getLogger(__name__)

# Share of the available memory a fit may plan to use: the estimate leaves out pandas' copies
# of the table and the allocator's slack.
MEMORY_SHARE = 0.6


@dataclass(frozen=True)
class FitMemory:
    """Estimated bytes of a fit, by part."""

    matrix: int
    network: int
    activations: int
    after_fit: int = 0  # the model's own rows, encoded, when the training rows are gone

    @property
    def total(self) -> int:
        return max(self.matrix + self.network + self.activations, self.network + self.after_fit)


def estimate_fit_memory(rows: int, width: int, hidden_dims: tuple[int, ...], latent_dim: int, batch_size: int,
                        categorical_head: int = 0, model_rows: int = 0) -> FitMemory:
    """Bytes a fit of ``rows`` encoded rows of ``width`` floats will hold at its peak.

    Args:
        rows: Training rows.
        width: Encoded width (the layout's).
        hidden_dims: Encoder widths (the decoder mirrors them).
        latent_dim: Latent size.
        batch_size: Rows per step.
        categorical_head: Width of the categorical head (0: none); its output, and the
            one-hot inputs of its autoregressive units, are counted as ``width`` wide, an upper
            bound of the one-hot columns. Its hidden layer's values take the most memory of a
            wide head: before and after the activation, with their gradients, for each row of a
            training batch, and for each of the :data:`~synthvae.model.SAMPLE_CHUNK` rows a
            sampling step decodes (the fit samples to match its shares). Without them a head of
            400,000 units on 2,000 rows was estimated at 2.3 GB and peaked at 15 GB.
        model_rows: Rows the fitted model generates and encodes again after training (the
            conditional prior's), whatever the training rows: 2,000 rows of encoded width 10,001
            were estimated at 0.47 GB and peaked at 2.6 GB when saved (20,000 model rows).
    """
    widths = [width, *hidden_dims, 2 * latent_dim]
    encoder = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    back = [latent_dim, *reversed(hidden_dims), width]
    decoder = sum((a + 1) * b for a, b in zip(back[:-1], back[1:]))
    if categorical_head:
        decoder += (hidden_dims[0] + 1) * categorical_head + (categorical_head + 1) * width + categorical_head * width
    head_values = categorical_head * (4 * batch_size + 2 * SAMPLE_CHUNK)
    return FitMemory(
        matrix=4 * int(2.2 * rows * width),
        network=4 * 5 * (encoder + decoder),
        activations=4 * (12 * batch_size * (width + sum(hidden_dims)) + head_values),
        # The sampled matrix, the table decoded from it and the matrix encoded again (measured
        # 2.2 GB for 20,000 rows of width 10,001).
        after_fit=4 * 3 * model_rows * width,
    )


def available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``, capped by a cgroup
    limit), or ``None`` where that cannot be read."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            with open(limit_file, encoding="ascii") as handle:
                limit = handle.read().strip()
            with open(usage_file, encoding="ascii") as handle:
                usage = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            room = max(0, int(limit) - usage)
            available = room if available is None else min(available, room)
        break
    return available


def memory_budget() -> int | None:
    """Bytes a fit or a sample may use: ``SYNTHVAE_MEMORY_LIMIT`` when set (a positive number of
    bytes: ``4000000000`` or ``4e9``), else ``MEMORY_SHARE`` of the available memory (``None``
    where that cannot be read).

    Raises:
        ParameterError: ``SYNTHVAE_MEMORY_LIMIT`` is not a positive, finite number of bytes
            (``4GB`` crashed the command line with a raw ValueError; ``-1`` refused every fit as
            needing "more than the -0.0 GB").
    """
    override = os.environ.get("SYNTHVAE_MEMORY_LIMIT", "").strip()
    if override:
        try:
            budget = float(override)
        except ValueError:
            budget = math.nan
        if not (math.isfinite(budget) and budget >= 1):
            raise ParameterError(
                f"SYNTHVAE_MEMORY_LIMIT={override!r} is not a positive number of bytes: set it to the bytes a "
                f"fit or sample may use, as digits (4000000000) or in e-notation (4e9), or unset it to use "
                f"{MEMORY_SHARE:.0%} of the free memory"
            )
        return int(budget)
    available = available_memory()
    return int(available * MEMORY_SHARE) if available is not None else None


# Bytes a sampled cell takes in a table, by column kind: 8-byte values and a null mask; text
# (ids, personal values) about what a short Python string costs.
_CELL_BYTES = {"numeric": 9, "datetime": 9, "boolean": 2, "categorical": 8, "id": 64, "personal": 80}


def check_sample_memory(rows: int, batch_size: int, width: int, hidden_dims: tuple[int, ...], kinds: list[str],
                        whole: bool, budget: int | None = None, conditional: float = 0.0) -> int:
    """Refuse a sample whose estimated memory exceeds the budget, before drawing a row.

    A batch holds its decoder activations (as a training step does, with no gradients) and its
    table; ``whole`` (``sample``): the ``rows`` rows' table twice (the batches and their
    concatenation). ``sample(10**11)`` used to draw until the process was killed; a churn
    batch of 400k rows peaked at 638 MB (about 0.6 KB a row).

    ``conditional`` (the guidance, 0: no conditions): a conditional batch also holds the decoder
    outputs of its weighted pool (1.5 draws a row, or past that up to 16 a row and 65,536 in all
    where its effective sample is small; times the guidance) and of one round of draws (up to
    65,536, twice: the outputs and the sampled matrix). Without them, 40,000 rows of
    width 10,001 given ``x > 0`` were estimated at 1.8 GB and peaked at 6.8 GB (20,000: 3.7 GB,
    5,000: 1.1 GB).

    Returns:
        The estimate in bytes.

    Raises:
        ParameterError: The estimate exceeds the budget.
    """
    row_bytes = sum(_CELL_BYTES.get(kind, 16) for kind in kinds)
    per_batch = 4 * batch_size * (width + sum(hidden_dims)) + 3 * batch_size * row_bytes  # ~4x churn's 0.6 KB
    if conditional:
        pool = max(1.5 * batch_size, min(16 * batch_size, 65_536))
        per_batch += 4 * width * int(pool * conditional + 2 * min(65_536, 1.5 * batch_size))
    estimate = per_batch + (2 * rows * row_bytes if whole else 0)
    budget = memory_budget() if budget is None else budget
    if budget is None or estimate <= budget:
        return estimate
    stream = ("write them with sample_to(path, n) (synthvae sample -o FILE) or read them batch by batch with "
              "iter_sample(n), which hold one batch at a time; or sample fewer rows")
    if whole and per_batch <= budget:
        advice = stream
    elif whole:
        # A smaller batch alone led to a second refusal, for the whole table.
        advice = f"lower batch_size (now {batch_size:,}) and {stream}"
    else:
        advice = f"lower batch_size (now {batch_size:,})"
    what = f"sampling {rows:,} rows into one table" if whole else f"a batch of {batch_size:,} rows"
    raise ParameterError(f"{what} would need about {_size(estimate)}, more than the {_size(budget)} "
                         f"it may use (SYNTHVAE_MEMORY_LIMIT, or {MEMORY_SHARE:.0%} of the free memory): {advice}")


def _size(nbytes: float) -> str:
    """Bytes for a message: GB from 1 GB, MB from 1 MB, else kB or bytes (a 30 MB budget read
    "0.0 GB", a 1,000-byte one "0.0 MB")."""
    if nbytes >= 1e9:
        return f"{nbytes / 1e9:.1f} GB"
    if nbytes >= 1e6:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{nbytes / 1e3:.1f} kB" if nbytes >= 1e3 else f"{nbytes:,.0f} bytes"


def check_fit_memory(
    layout: Layout,
    rows: int,
    hidden_dims: tuple[int, ...],
    latent_dim: int,
    batch_size: int,
    source: str,
    budget: int | None = None,
    streamed: bool = False,
    categorical_head: int = 0,
    model_rows: int = 0,
) -> FitMemory:
    """Refuse a fit whose estimated memory exceeds the budget, naming the widest columns.

    Args:
        layout: The fitted preprocessor's layout.
        rows: Training rows.
        hidden_dims: Encoder widths.
        latent_dim: Latent size.
        batch_size: Rows per step.
        source: Name of the table, for the message.
        budget: Bytes the fit may use; ``None``: ``MEMORY_SHARE`` of the available memory
            (the environment variable ``SYNTHVAE_MEMORY_LIMIT``, in bytes, overrides it). No
            check when neither is known.
        streamed: The rows are streamed (the message then suggests a smaller sample, not
            streaming).
        categorical_head: Width of the categorical head (0: none).
        model_rows: Rows of its own the fitted model encodes for its conditional prior (see
            :func:`estimate_fit_memory`).

    Returns:
        The estimate.

    Raises:
        DataError: The estimate exceeds the budget.
        ParameterError: ``SYNTHVAE_MEMORY_LIMIT`` is malformed (see :func:`memory_budget`).
    """
    estimate = estimate_fit_memory(rows, layout.width, hidden_dims, latent_dim, batch_size, categorical_head, model_rows)
    budget = memory_budget() if budget is None else budget
    logger.info("fit memory estimate %.2f GB (budget %s)", estimate.total / 1e9,
                "none" if budget is None else f"{budget / 1e9:.2f} GB")
    if budget is None or estimate.total <= budget:
        return estimate
    per_column: dict[str, int] = {}
    for span in layout.spans:
        per_column[span.column] = per_column.get(span.column, 0) + span.width
    widest = sorted(per_column.items(), key=lambda item: -item[1])[:5]
    shown = ", ".join(f"{name!r} ({width})" for name, width in widest)
    wide = sum(1 for width in per_column.values() if width > 20)
    without_head = estimate_fit_memory(rows, layout.width, hidden_dims, latent_dim, batch_size, 0, model_rows).total
    head = (f" A categorical head of {categorical_head:,} units takes {_size(estimate.total - without_head)} of it: "
            f"lower categorical_head." if estimate.total - without_head > estimate.total / 2 else "")
    if estimate.after_fit + estimate.network == estimate.total and model_rows:
        head += (f" The conditional prior (conditional sampling, augment, impute) trains on {model_rows:,} rows "
                 f"the model generates, {_size(estimate.after_fit)} at this width: fit with conditional=False "
                 f"(Python) if you need none of them.")
    raise DataError(
        f"{source}: a fit of {rows:,} rows x {len(per_column):,} columns would need about "
        f"{_size(estimate.total)} (encoded width {layout.width:,}: {_size(estimate.matrix)} "
        f"of encoded rows, {_size(estimate.network)} of network, {_size(estimate.activations)} of "
        f"intermediate values), more than the {_size(budget)} it may use.{head} The widest columns (encoded values): {shown}; "
        f"{wide} columns take more than 20. Lower max_categories (rare categories are pooled), "
        f"mark high-cardinality columns as id or personal in the schema, drop columns, or fit on "
        f"fewer rows"
        + ("; or sample fewer rows (the rows a streamed fit holds are its sample, its validation rows and "
           "its shuffle buffer): lower reservoir_rows (synthvae fit --reservoir-rows)" if streamed else
           "; or stream the table from its file (fit(path, streaming=True), "
           "synthvae fit --streaming): memory then follows the batch, not the rows")
    )


__all__ = ["FitMemory", "available_memory", "check_fit_memory", "check_sample_memory", "estimate_fit_memory", "memory_budget"]
