"""The pandas-facing facade: fit a tabular VAE on a table, sample new rows, save and load."""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import torch

from synthvae import __version__
from synthvae.conditional_prior import (
    ConditionalPrior,
    ConditionalPriorConfig,
    ConditionalTrainConfig,
    PrincipalAxes,
    train_conditional_prior,
)
from synthvae.checkpoint import Checkpointer, checkpoint_interval
from synthvae.conditions import Condition, ConditionsLike, intersect, parse_conditions, unknown_column
from synthvae.constraints.plan import ConstraintPlan, id_limits
from synthvae.constraints.resampling import RowCheck, full_keys
from synthvae.constraints.spec import Derived, Unique
from synthvae.device import resolve_device
from synthvae.distributed import Parallel
from synthvae.errors import (DataError, ModelFileError, NotFittedError, ParameterError, SchemaError, TrainingError,
                             is_integer, is_real, preview)
from synthvae.generation import RARE_TOGETHER, Generator, decoded_matrix, embed, in_users_dtype, with_columns
from synthvae.inference import infer_schema, target_classes
from synthvae.io import CSV_SUFFIXES, PARQUET_SUFFIXES, atomic_folder, datetime_formats, read_table, remove_stale_fit_folders, text_columns, write_tables
from synthvae.model import TabularVAE, VAEConfig
from synthvae.modelfile import load_model_file, save_model_file
from synthvae.preprocessing import NumericEncoding, TablePreprocessor
from synthvae.preprocessing.codecs import CategoricalCodec, grid_words, id_numbers, real_value, real_values, unit_ns
from synthvae.preprocessing.layout import SpanKind
from synthvae.prior import MixturePrior, PriorKind, fit_mixture_prior, prior_latents
from synthvae.privacy.spec import PrivacySpec
from synthvae.resources import check_fit_memory, check_sample_memory, memory_budget
from synthvae.schema import ColumnKind, PersonalStrategy, Schema, load_schema, time_zone
from synthvae.streaming import (RESERVOIR_ROWS, TableSource, TableStream, exact_counts, open_source, read_as_data, scan,
                                widen_schema, with_partition)
from synthvae.training import Callback, TrainConfig, residual_noise, train
from synthvae.validation import (UNIT_NAMES, as_durations, conform, dtype_zone, finer_than_unit, holds_durations, in_zone, ranked_counts,
                                 refuse_out_of_bounds, zeros_dropped)

logger = logging.getLogger(__name__)

# The model file's name of the continuous outputs' noise correlation factor (see
# TabularVAE.set_noise), kept beside the network's weights.
_NOISE_FACTOR = "noise.factor"

# Latent size, hidden widths and learning rate when not given: ordinary fits, and private fits
# below and from _PRIVATE_LARGE rows. DP-SGD's noise per step is fixed while the signal grows with
# the batch, so a small table affords fewer parameters (benchmarks/bench_privacy.py; on
# german_credit at epsilon 3 the quality score went 0.859 -> 0.914 from (128, 128) / 16 to
# (64, 64) / 8, while diamonds lost 0.006).
# Ordinary fits: (128, 128) hidden layers up to _WIDE encoded matrix columns, (256, 256) above.
# Measured at 1 thread, 80/20 split (issue 4's note): on churn (width 75) 128 scored as 256
# (0.9764 / 0.9760) at half the step cost; on loans (width 386) 256 scored 0.9611 against
# 0.9576 at the same epochs.
# Learning rate 2e-3 rather than 1e-3 (means over seeds 0-2 / 0-1 for loans and diamonds, with the
# subspace mixture prior and the defensive conditional proposals): TSTR churn 0.805 -> 0.825,
# german_credit 0.623 -> 0.657, seattle_weather 0.502 -> 0.565, loans 0.417 -> 0.425, diamonds
# 0.941 -> 0.940; detection AUC lower on all five (churn 0.769 -> 0.767, loans 0.901 -> 0.873);
# quality within -0.001 / +0.002.
# The (128, 128) network then at 3e-3 (2026-12-02, means over fit seeds 0-5; diamonds 0-1,
# flights100k 0): TSTR churn 0.878 -> 0.887, german_credit 0.697 -> 0.717, seattle_weather
# 0.524 -> 0.534, diamonds 0.960 -> 0.962, flights100k 0.828 -> 0.836 (from every column,
# air_time and arr_time included, which bench_peers drops); quality -0.0004 /
# +0.0004 / +0.0036 / +0.0021 / +0.0004. The (256, 256) network stays at 2e-3: loans (seeds
# 0-1) 3e-3 scored quality 0.9705 -> 0.9697 and 4e-3 0.9696, stopping early. 4e-3 on the small
# tables: TSTR 0.887 / 0.711 / 0.578. At the final code (with the share matching's passes),
# benchmarks/bench_seeds.py: TSTR 0.881 -> 0.888, 0.702 -> 0.715, 0.520 -> 0.522.
_NETWORK = (64, (128, 128), 3e-3)
_NETWORK_WIDE = (64, (256, 256), 2e-3)
_WIDE = 200
_PRIVATE_NETWORK = (8, (64, 64), 1e-2)
_PRIVATE_NETWORK_LARGE = (16, (128, 128), 1e-2)
_PRIVATE_LARGE = 10_000
# The loss's default categorical_balance (nats; see ``category_weights``): 0, the plain ELBO.
# categorical_balance=5 against 0, measured at 1 thread (issue 4's note of 2026-12-01): TSTR as
# means over seeds 0-2 rose on churn 0.759 -> 0.807, german_credit 0.596 -> 0.634 and
# seattle_weather 0.419 -> 0.495, but in bench_peers (seed 0) it fell on loans 0.429 -> 0.406
# and diamonds 0.931 -> 0.906 (numeric targets; quality 0.9678 -> 0.9633, 0.9769 -> 0.9720),
# and german_credit's share of synthetic rows closer to training than to held-out rows rose
# 0.542 -> 0.574, past issue 4's 0.55. A trade, not a default: ask for it when the synthetic
# rows are to train classifiers of categorical targets. A private fit refuses it (the weights
# come from the real category shares).
_CATEGORICAL_BALANCE = 0.0
# Widest default hidden layer of the one-hot logits' own (``VAEConfig.categorical_head``): by
# default it is as wide as the decoder's last hidden layer, at most this. Means of seeds 0-2 at
# 1 thread (issue 4's notes of 2026-12-01), linear logits -> a 128-wide head: TSTR churn 0.759 ->
# 0.813, german_credit 0.596 -> 0.653, seattle_weather 0.419 -> 0.467 at the same quality and
# closer-to-training share; 64 wide: churn 0.797, german 0.629 (0.582 / 0.731 / 0.573, a head
# too narrow to be stable there). On the wide tables (seeds 0-1) its quality costs a little:
# loans 0.9678 -> 0.9639 (TSTR 0.429 -> 0.420; a 256-wide head 0.9632 / 0.420, so 128 is the
# cap), diamonds 0.9769 -> 0.9760 with TSTR 0.931 -> 0.943; the category-share matching after
# the fit (``_match_category_shares``) more than makes up for it (loans 0.9689, diamonds
# 0.9813, with TSTR 0.416 and 0.939). It costs a hidden layer's
# multiply-adds: about a quarter of a training step on churn. Private fits keep linear logits
# (not measured under DP-SGD).
_CATEGORICAL_HEAD_MAX = 128
# Most principal axes of the latent for which the conditional prior's components get full
# covariances (diagonal beyond). Default fits use 9-24 (german_credit 9, seattle_weather 10,
# churn 11, loans 21, diamonds 24; seed 0), unchanged by it.
_FULL_COVARIANCE_AXES = 32
# Units of the categorical head that also read the one-hot spans before their own
# (``VAEConfig.autoregressive``), by default: one per this many training rows, at most
# _AUTOREGRESSIVE (and at most the head's width). Fit seeds at 1 thread, each scored by
# bench_peers.score (issue 4's note of 2026-12-02, fourth session): TSTR churn 0.823 -> 0.879
# (seeds 0-2, TRTR 0.911), german_credit 0.660 -> 0.727 (seeds 0-5), seattle_weather 0.538 ->
# 0.564, quality the same or better, detection AUC lower; 32 units on german_credit's 800 rows
# put 0.574 of its rows closer to training than to held-out rows (0.550 without), 8 units
# (one per 100 rows) 0.557.
_AUTOREGRESSIVE = 32
# How conform's refusal of values outside a schema's categories ends (see synthvae.validation).
_ADD_CATEGORIES = "; add them to the schema's categories"
_ROWS_PER_AUTOREGRESSIVE_UNIT = 100
# Pairs (model row, the latent it was decoded from) the conditional prior learns from, at least
# (or as many as the fit's rows, at most 50,000): see Synthesizer._fit_conditional.
_CONDITIONAL_PAIRS = 20_000
_CONDITIONAL_PAIRS_MAX = 50_000
# Most training steps of the conditional prior (see Synthesizer._fit_conditional;
# benchmarks/bench_conditional_prior.py --max-steps compares others): 1,500 where its latent has
# more than _CONDITIONAL_NARROW_AXES axes, whose steps cost most (a full covariance holds d^2
# outputs; loans' 21 axes: first use 159 -> 81 s, diamonds' 24: 84 -> 63 s, imputation as good over
# fit seeds 0-2), 3,000 below (flights100k's 9 axes, fit seed 1: numeric RMSE 0.366 at 1,500 steps
# against 0.338 at 3,000, category accuracy 0.558 / 0.576, for ~10 s of a 45-55 s first use).
_CONDITIONAL_MAX_STEPS = 1500
# The most steps the conditional prior's floor of 100 passes over its rows asks for (see
# Synthesizer._fit_conditional), whatever its latent's width.
_CONDITIONAL_FLOOR = 1500
# How datetime columns are learned (``Synthesizer(datetime_encoding=...)``; see
# synthvae.constraints.plan._Calendar). "calendar" against "timestamp", each fit scored by
# bench_peers.score at 1 thread (/tmp/s17/enc_cmp.py, 2026-12-03): seattle_weather, fit seeds
# 0-5: quality 0.9642 -> 0.9660, trends 0.9597 -> 0.9614, detection AUC 0.744 -> 0.528, closer
# 0.547 -> 0.537, TSTR 0.550 -> 0.530 (its seed noise is about 0.03); as month and day parts
# instead of the angle: 0.9679 / 0.557 / 0.539, with a month's last days drawn at half their
# share. flights100k, fit seed 0: quality 0.9614 -> 0.9555, trends 0.9393 -> 0.9324, TSTR 0.789
# -> 0.800, detection 0.934 -> 0.928, closer 0.509 -> 0.521: its time_hour repeats the table's
# own year, month, day and hour columns, which the parts learn a second time (its time of day in
# hours rather than seconds changed nothing: the quantile codec is scale-free). On the held-out
# protocol (bench_peers --against holdout, seattle, seed 0): trends 0.9138 -> 0.9190, detection
# 0.693 -> 0.537, but shapes 0.9494 -> 0.9295 and TSTR 0.571 -> 0.471 at seed 0; over fit seeds
# 0-5 (/tmp/s18/enc_hold.py, 2026-12-03) score 0.9251 -> 0.9273, shapes 0.9327 -> 0.9342, trends
# 0.9175 -> 0.9204, detection 0.652 -> 0.554, closer 0.547 -> 0.537, TSTR (macro F1) 0.550 ->
# 0.530. "auto" (default) was then the calendar for a column of whole days and the timestamp for
# finer units, after flights100k (its time_hour as parts lost quality 0.9614 -> 0.9555); since
# flights' time_hour is composed from its own year, month, day and hour columns (derived rules),
# which neither encoding touches (fit seed 0, 2026-12-07: quality 0.9454, detection 0.895, TSTR
# 0.840 under both). On generated tables whose finer times carry a time of day
# (benchmarks/bench_datetime_encoding.py, fit seeds 0-1, held-out rows), timestamp -> calendar:
# an event log of 20,000 purchases in minutes (shop hours by channel, amounts larger on
# Fridays): hour-of-day TVD 0.155 -> 0.040-0.043, the web share by 3-hour block off by 0.45 ->
# 0.08-0.10, Friday's median amount 23.9-25.6 -> 29.4-30.2 (real 31.9); hourly sensor readings
# of two years (a Paris zone): temperature by hour off by 2.46-2.52 -> 0.88-1.03, load by hour
# 9.9-10.0 -> 4.6-5.2, detection AUC 0.563-0.590 -> 0.554-0.556; times uniform over 3 years
# (no structure): quality 0.9495-0.9604 -> 0.9448-0.9520, detection 0.504-0.508 -> 0.523-0.524;
# an hour of millisecond request times: alike (and a timestamp under "auto": it spans less than
# two days). So "auto" is the calendar for every datetime column whose training rows span two
# days or more and that no numeric column follows monotonically: customers numbered in signup
# order had detection AUC 0.84-0.85 as parts (0.78 in whole days) against 0.50-0.53 as a
# timestamp (see _learns_parts; the timestamp in streamed fits).
_DATETIME_ENCODINGS = ("auto", "calendar", "timestamp")
# "auto" learns a datetime column whose training rows span less than this as a timestamp (see
# _learns_parts)...
_CALENDAR_MIN_SPAN = pd.Timedelta(days=2)
# ... or a numeric column follows it with at least this rank correlation (in absolute value).
_CALENDAR_MONOTONE = 0.99
# ... over this many distinct values of it at least.
_CALENDAR_MONOTONE_VALUES = 50
_CONDITIONAL_NARROW_MAX_STEPS = 3000
_CONDITIONAL_NARROW_AXES = 16
# The conditional prior's mixture components (see Synthesizer._fit_conditional). Its
# full-covariance output layer (each component: 1 + 2d + d(d-1)/2 numbers, 325 at d = 24) is most
# of its work, so 8 -> 4 components halves it. Measured side by side on one default fit (seed 0)
# a table, conditional priors of seeds 0-2, 1 thread (/tmp/s36/cp_exp.py, 2026-12-06; imputation
# as bench_conditional_prior.py measures it: numeric RMSE in sd units / category accuracy /
# central-90% coverage of 20 draws), 8 components against 4:
# - churn (11 axes, 1,500 steps): 30-34 s -> 17 s; best validation loss 5.77-5.98 -> 5.78-5.97
#   nats; 0.579-0.586 / 0.653-0.671 / 0.901-0.911 -> 0.580-0.586 / 0.645-0.665 / 0.898-0.902;
# - diamonds (24 axes, 1,500 steps), prior seeds 0-1 for 4: 117-122 s -> 59-63 s; 29.70-29.80 ->
#   29.68-29.75 nats; 0.287-0.298 / 0.419-0.436 / 0.902-0.910 -> 0.293-0.314 / 0.427-0.443 /
#   0.902-0.914: numeric RMSE a little worse (means 0.292 -> 0.303; with the cosine below,
#   4 components 0.299-0.306, 8 components 0.291-0.301).
# benchmarks/bench_conditional_prior.py --tables loans diamonds --seeds 0 1 (fit seeds), 8
# components at 9ec3d93 against 4, side by side (results/conditional_prior_components{8,4}.md):
# first use loans 175 / 178 -> 101 / 98 s, diamonds 123 / 117 -> 67 / 63 s; numeric RMSE loans
# 0.649 / 0.640 -> 0.654 / 0.642, diamonds 0.298 / 0.274 -> 0.293 / 0.271; category accuracy
# loans 0.432 / 0.405 -> 0.423 / 0.390, diamonds 0.436 / 0.392 -> 0.427 / 0.427; coverage loans
# 0.915 / 0.900 -> 0.922 / 0.913, diamonds 0.910 / 0.938 -> 0.902 / 0.923. flights100k (10 axes,
# 3,000 steps; fit seed 0): 130.5 -> 95.9 s, RMSE 0.290 -> 0.267, accuracy 0.619 -> 0.617,
# coverage 0.900 -> 0.902.
# Tried and not kept: a step size decayed along a half cosine (lower validation loss on churn,
# diamonds and loans at 1,500 steps, but tests/test_generation.py's churn_model, 400 steps: 9.45-9.57
# nats against 8.36-8.47, imputation draws 0.47 of the column's spread against 0.86-0.88, and 0.78
# of the model's own hidden values inside 20 draws' central 90% against 0.905); halving
# diamonds' steps with it (RMSE 0.307-0.349).
_CONDITIONAL_COMPONENTS = 4

TableLike = pd.DataFrame | str | os.PathLike


def _rarity(log_share: float) -> str:
    """"1 of N" for the log of an estimated share, N to two significant digits (197,342 as
    200,000), "fewer than 1 of 10^12" below that (math.exp overflowed past 1e308)."""
    if -log_share > 12 * math.log(10):
        return "fewer than 1 of 10^12"
    rows = max(1.0, math.exp(-log_share))
    digits = max(0, int(math.floor(math.log10(rows))) - 1)
    return f"about 1 of {int(round(rows / 10**digits) * 10**digits):,}"


def _warn_losses(frame: pd.DataFrame, schema: Schema, source: str) -> None:
    """Warn of what the schema takes from the training values without refusing them: parts of
    datetimes finer than the column's unit (:func:`synthvae.validation.finer_than_unit`), the
    leading zeros of codes a schema lists as numbers (:func:`~synthvae.validation.zeros_dropped`)."""
    for column in schema:
        if column.name in frame:
            check = {ColumnKind.DATETIME: finer_than_unit, ColumnKind.CATEGORICAL: zeros_dropped}.get(column.kind)
            lost = check(frame[column.name], column) if check else None
            if lost:
                logger.warning("%s, column %r: %s", source, column.name, lost)


def _calendar_columns(schema: Schema, encoding: str) -> tuple[str, ...]:
    """The datetime columns learned as their calendar parts under ``datetime_encoding``."""
    if encoding == "timestamp":
        return ()
    return tuple(c.name for c in schema if c.kind is ColumnKind.DATETIME)


def _learns_parts(frame: pd.DataFrame, schema: Schema, name: str, private: bool) -> bool:
    """Whether ``"auto"`` learns datetime column ``name`` as its calendar parts: unless its
    training rows span less than :data:`_CALENDAR_MIN_SPAN`, or a numeric column follows it
    monotonically (a rank correlation of :data:`_CALENDAR_MONOTONE` or more in absolute value).
    A private fit reads no row here: the schema's bounds, or else the parts.

    Within a day the timestamp is the time of day already, and parts across a midnight or a
    year's end composed times beyond the range (1969-12-31 23:59:59 and 1970-01-01 00:00:00: a
    year of 1970 drawn with 23:59, every row refused, a fuzz test). A number that grows with the
    date (customers numbered in signup order) must trace the year and the day's angle, which it
    did loosely: detection AUC 0.84-0.85 against 0.50-0.51 as a timestamp
    (``benchmarks/bench_datetime_encoding.py``)."""
    if private:
        low, high = schema[name].min, schema[name].max
    else:
        present = frame[name].dropna()
        low, high = (present.min(), present.max()) if len(present) else (None, None)
    if low is None or high is None:
        return True
    # In Python's datetimes: pandas' Timedelta holds no span past 292 years.
    if pd.Timestamp(high).to_pydatetime(warn=False) - pd.Timestamp(low).to_pydatetime(warn=False) < _CALENDAR_MIN_SPAN:
        return False
    if private:
        return True
    rows = frame.sample(n=20_000, random_state=0) if len(frame) > 20_000 else frame
    # Not a column a rule computes (a year derived from the date follows it, but is never
    # learned), nor one of a few values (a fiscal year of 12 values, rank correlation 0.997: a
    # step the year part takes by itself); as one timestamp an event log's rows outside shop
    # hours were 28% against 4.8% (a user review).
    derived = {rule.column for rule in schema.constraints if isinstance(rule, Derived)}
    for other in schema:
        if other.kind is ColumnKind.NUMERIC and other.name in rows and other.name not in derived:
            both = rows[name].notna() & rows[other.name].notna()
            if rows.loc[both, other.name].nunique() >= _CALENDAR_MONOTONE_VALUES:
                # Ranks of the values as they are (numbers, durations; dates with a zone).
                rho = rows.loc[both, name].rank().corr(rows.loc[both, other.name].rank())
                if abs(rho) >= _CALENDAR_MONOTONE:
                    logger.warning("column %r is learned as one timestamp, not as its calendar parts (no time of day or "
                                   "weekday of its own): %r follows it monotonically (rank correlation %.3f); give "
                                   "datetime_encoding='calendar' to learn its parts", name, other.name, rho)
                    return False
    return True


def _with_autograd(method: Callable) -> Callable:
    """``method`` run with autograd on whatever the caller's mode: a fit (or the conditional
    prior's training on first use) called inside ``torch.no_grad()`` or ``torch.inference_mode()``
    failed with "element 0 of tensors does not require grad"."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        with torch.inference_mode(False), torch.enable_grad():
            return method(*args, **kwargs)

    return run

STREAM_BYTES = 512 * 2**20  # files larger than this on disk are streamed by default
# A set of values drawn one value at a time (Synthesizer._by_value): at most _SPLIT_MOST_VALUES
# values; a set of more than _SPLIT_FEW values whose pilot of _SPLIT_PILOT_ROWS rows meets it at
# least _SPLIT_BELOW of the time is not split; the values' shares are counted on pilots of at
# least _SPLIT_PILOT_ROWS rows (at most 16 times as many) until _SPLIT_PILOT_KEPT a value (at
# least 2,000; at most 10 a row asked for, above 200) meet the conditions or _SPLIT_PILOT_DRAWS
# are drawn (Synthesizer._pilot_counts), where that is enough; else each value's share is
# estimated from _SPLIT_VALUE_ROWS rows given it (_SPLIT_VALUES_ROWS in all for many values, at
# least an eighth of _SPLIT_VALUE_ROWS a value: Synthesizer._value_shares).
_SPLIT_MOST_VALUES = 256
_SPLIT_PILOT_ROWS = 1024
_SPLIT_PILOT_KEPT = 50
_SPLIT_PILOT_DRAWS = 131_072
_SPLIT_BELOW = 0.05
_SPLIT_FEW = 16
_SPLIT_VALUE_ROWS = 2048
_SPLIT_VALUES_ROWS = 65_536
# A single value of an inequality's rebuilt side (see ConstraintPlan.pins) is set, the other side
# given by the model's difference, when fewer than _PIN_BELOW_HITS of _PIN_PILOT_ROWS plain draws
# meet it (the check then draws over 100 rows a row kept).
_PIN_PILOT_ROWS = 1024
_PIN_BELOW_HITS = 8
_STREAM_BUFFER = 65_536  # rows of a streamed fit's shuffle buffer
# augment's guidance of each class's rows (see Synthesizer.augment; benchmarks/bench_augment.py)
AUGMENT_GUIDANCE = 10.0
_MOST_GUIDANCE = 100.0  # beyond it a pool's weights leave one draw (and float32 log-weights overflow near 1e38)


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
        seconds: Wall-clock seconds of the whole fit (0.0 for a model loaded from a file, which
            holds no wall times: the same fit gives the same bytes).
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


@dataclass(frozen=True)
class _ConditionalInputs:
    """What the conditional prior's training needs to know of the fit, kept until it is first
    needed (it trains on rows the fitted model generates, see ``Synthesizer._fit_conditional``).

    Attributes:
        rows: Rows the fit saw (the conditional prior's batch and step budget follow them).
        seed: Seed of its pairs, initial weights, split, batches and masks.
        vae_steps: Steps the VAE trained for (the conditional prior's budget follows it).
    """

    rows: int
    seed: int
    vae_steps: int


@dataclass
class _Prepared:
    """What a fit trains from, however the table was read.

    Attributes:
        rows: Rows of the table.
        schema: The user's schema (given or inferred).
        rules: The schema's rules, fitted.
        preprocessor: The fitted codecs.
        marginals: Encoded rows whose column means set the decoder's output bias and the
            categorical columns' weights in the loss.
        train_data: The encoded rows in memory (a validation split is drawn from them), or
            the stream of training batches.
        validation: A stream's held-out rows.
        prior_data: Encoded rows the priors are fitted on (the posterior means of some of them).
        train_config: How to train.
        network: Latent size, hidden widths, the categorical head's width and its units that see
            the spans before their own (``VAEConfig.autoregressive``).
        plan: A private fit's plan.
    """

    rows: int
    schema: Schema
    rules: ConstraintPlan
    preprocessor: TablePreprocessor
    marginals: np.ndarray
    train_data: Any
    validation: torch.Tensor | None
    prior_data: torch.Tensor
    train_config: TrainConfig
    network: tuple[int, tuple[int, ...], int, int]
    plan: Any


def _pilot_wanted(n: int, values: int) -> int:
    """The rows meeting the conditions that count the shares of a set's ``values`` values
    (see :meth:`Synthesizer._pilot_counts`) for ``n`` rows asked for: :data:`_SPLIT_PILOT_KEPT` a
    value, at least 2,000, but no more than 10 a row asked for when that is more than 200."""
    return min(max(2000, _SPLIT_PILOT_KEPT * values), max(200, 10 * n))


@dataclass(frozen=True)
class _ValueSplit:
    """A set of values drawn one value at a time (see :meth:`Synthesizer._by_value`).

    Attributes:
        shares: Each value's share of the rows.
        conditions: Each value's conditions on the model's table.
    """

    shares: np.ndarray
    conditions: list[list[Condition]]


_FROM_CONSTRUCTOR = object()  # transform's components when not given: the constructor's


class Synthesizer:
    """Learns a table's joint distribution with a tabular VAE and samples new rows from it.

    ``__init__`` only stores parameters; :meth:`fit` validates, encodes, builds, trains and returns
    ``self``. Learned state ends in ``_``.

    Args:
        schema: A :class:`Schema`, a path to a schema JSON file, the JSON document as a dict
            (``json.load`` of such a file), or ``None`` to infer one from the data at fit time.
        epochs: Training epochs; ``None`` picks them from the table size (a step budget), and
            early stopping on a validation split may end sooner.
        batch_size: Rows per step; ``None`` picks from the table size.
        latent_dim: Size of the latent embedding; ``None``: 64 (with ``privacy``: 8, or 16 from
            10,000 rows).
        hidden_dims: Hidden layer widths of the encoder (the decoder mirrors them); ``None``:
            (128, 128), or (256, 256) above 200 encoded columns (with ``privacy``: (64, 64), or
            (128, 128) from 10,000 rows).
        beta: Weight of the KL term of the loss.
        categorical_balance: Nats of cross-entropy each categorical column is made worth in the
            loss: a column whose categories have entropy ``H`` nats gets weight
            ``max(1, categorical_balance / H)`` (:func:`synthvae.training.category_weights`);
            ``None``: 0, the plain ELBO. Under the plain ELBO the latent leaves out low-entropy
            columns (a 14% churn flag), which are then sampled nearly independently of the rest
            of the row; 5 keeps them and trains better classifiers of categorical targets at
            some cost to numeric columns and privacy distance (see
            :data:`_CATEGORICAL_BALANCE` for the measurements).
        categorical_head: Width of a hidden layer of the categorical columns' logits of their
            own (``VAEConfig.categorical_head``; 0: linear logits, as in TVAE). ``None``: the
            decoder's last hidden width, at most 128 (private fits: 0). Classifiers trained on
            the synthetic rows are better for it (churn TSTR 0.759 -> 0.813) at some fit and
            sampling time (see :data:`_CATEGORICAL_HEAD_MAX`).
        autoregressive: How many of the categorical head's hidden units also read the
            categories drawn before their column in the row (``VAEConfig.autoregressive``): the
            categorical columns are then drawn one after another, each given ``z`` and the ones
            before it, instead of independently given ``z``. ``None``: one per 100 rows of the
            table, at most 32 (and at most the head's width; none without a head, as in private
            fits); 0: off. See :data:`_AUTOREGRESSIVE` for the measurements.
        target: A categorical or boolean column the rows are meant to be drawn by, or
            predicted from (a classifier's label): its cross-entropy alone is weighted as
            ``categorical_balance=10`` would weigh it, so the latent keeps it. What that buys
            and costs at today's defaults (fit seeds 0-5, ``benchmarks/results/seeds_target.md``
            and ``generation.md``): the embedding separates the classes (5-nearest-neighbour
            accuracy of churn 0.884 -> 0.998, creditability 0.660 -> 0.995; see
            :meth:`encode`); but unconditional rows train worse classifiers of a two-class
            target (TSTR churn 0.890 -> 0.862, german_credit 0.715 -> 0.690; seattle_weather's
            five classes 0.581 -> 0.605), with detection AUC up 0.01-0.02, and with the class in
            the latent :meth:`augment`'s guidance has nothing to sharpen (its rows trained a
            worse classifier than a plain model's: ``benchmarks/results/augment.md``). So: name
            it for ``encode``, not for a plain ``sample`` or ``augment``. A numeric target changes
            nothing (see :data:`synthvae.training.TARGET_BALANCE`).
            Refused with ``privacy`` (the weight comes from the real class shares).
        learning_rate: Adam step size; ``None``: 3e-3, or 2e-3 for a network as wide as (256,
            256) or wider (the default one of tables encoded wider than 200 columns, or one
            given by ``hidden_dims``; see ``_NETWORK``); 1e-2 with ``privacy``: DP-SGD's noise grows with the parameter count
            and its steps are few, so a private fit takes a smaller network and larger steps
            (see ``benchmarks/bench_privacy.py``).
        validation_fraction: Share of rows held out for early stopping.
        patience: Epochs without improvement before early stopping.
        max_categories: One-hot slots per categorical column before rare categories are pooled.
        min_category_rows: A categorical column's categories held by fewer training rows than
            this are never generated: a value that one or a few people hold (a job title, a
            rare country) can identify them. Their rows still train the model (as one "other"
            slot); before each draw the model moves their share of that slot to the kept
            categories in proportion to the row's own probabilities, so a row takes a category
            the rest of it makes likely (never null). Sampled columns leave them out of their
            categories; a condition asking only for them is refused; ``augment`` adds no rows of
            such a class. ``1`` (default) keeps every category. Applied to a private fit's
            noisy counts, scaled to rows (post-processing): there a category fewer rows hold
            may still be generated, and one more rows hold left out (a fit warns of it). The
            schema in the model file still names them.
        min_tail_rows: Top- and bottom-coding of numeric and datetime columns: each is cut
            halfway between its ``k``-th and ``k + 1``-th largest (smallest) training values
            (inwards onto its grid), values beyond a cut are learned as the cut, and no sampled
            or imputed value lies beyond it: ``k`` training rows lie beyond each end of a sampled
            column, and the cut is no row's value. An inferred schema then leaves out numeric and
            datetime bounds (the extremes themselves; a given schema keeps its own). An extreme value
            one person holds can identify them, and a plain fit brings it back: an income of
            9,876,543, where the next was 2,300,000, was sampled as 9,687,514 (a privacy
            review; ``privacy_check`` notes such values). Those rows still train the model, at
            the tail's value; conditions beyond the tails are refused (the model's range).
            A column a rule rebuilds (an inequality's side, a range's column, a date learned as
            its calendar parts) is kept within its own tails too; a column derived from others
            (a sum) through its inputs' only. ``1`` (default) keeps each
            column's training range. Applied to a private fit's proxy rows, scaled to rows.
        numeric_encoding: ``"quantile"`` (default: Gaussian quantile transform) or ``"mode"``
            (mode-specific normalisation with a Gaussian mixture, as CTGAN / TVAE). The mixture
            is fitted in the column's own units, so it suits columns of a few bumps, not values
            spread over orders of magnitude: of a column drawn log-uniformly from 1e-6 to 1e9,
            its widest component put 38% of the sampled values at the min (0.7% with
            ``"quantile"``).
        datetime_encoding: ``"calendar"``: each datetime column that no rule of the schema
            rebuilds (nor a unique rule keys) is learned as its year, the day of the year (as an
            angle; as a category when the rows hold 48 or fewer days of the year, 5 rows each
            on average: monthly dates) and the time of day, and composed from them when sampled, so seasons relate
            to the other columns (seattle_weather, fit seeds 0-5: detection AUC 0.744 -> 0.528,
            quality 0.9642 -> 0.9660), and times of day and days of the week too (an event
            log's hour-of-day TVD 0.155 -> 0.04). ``"timestamp"``: each is learned as one time
            since the epoch, quantile transformed: better for a datetime that a number follows
            monotonically (numbers given in signup order), which the parts lose. ``"auto"``
            (default): the calendar, but the timestamp for a column whose training rows span
            less than two days, where it is the time of day already, or that a numeric column
            follows monotonically (rank correlation 0.99 or more over 50 or more of its values, not a
            column a rule computes; see
            :data:`_DATETIME_ENCODINGS`; models fitted before 2026-12-07 learned units finer
            than a day as a timestamp, and keep it). Streamed fits use ``"timestamp"``.
        prior: What sampling draws latents from: ``"mixture"`` (default: a Gaussian mixture
            fitted to the training rows' posterior means, see :mod:`synthvae.prior`) or
            ``"standard"`` (N(0, I)).
        prior_components: Most components of the mixture prior (at least 50 training rows
            each, see :mod:`synthvae.prior`). 30 rather than 10 (issue 4's note of 2026-12-02,
            1 thread): flights100k's trends 0.9294 -> 0.9342 and TSTR 0.760 -> 0.801 (seed 0);
            over fit seeds 0-4 TSTR german_credit 0.623 -> 0.682 (16 components) and
            seattle_weather 0.522 -> 0.570 (23), detection AUC seattle 0.786 -> 0.752; quality
            within +-0.002. churn (seeds 0-4) about the same (TSTR 0.822 -> 0.818, detection
            0.778 -> 0.785) with its closer-to-training share 0.531 -> 0.542; diamonds the same.
            EM costs about 10 s of flights100k's fit and under 3 s elsewhere.
        conditional: Keep what the conditional prior (:mod:`synthvae.conditional_prior`) that
            conditional sampling (``sample(conditions=...)``), :meth:`augment` and
            :meth:`impute` need is trained from; it is trained when first needed (see
            ``conditional_``). ``False``: none, and those refuse.
        privacy: Differential privacy: ``None`` (default, off), an epsilon, a mapping of
            :class:`synthvae.privacy.PrivacySpec` settings or a spec. The fit then needs a schema
            with public bounds, fits the codecs from noisy histograms, trains with DP-SGD
            (Opacus), samples latents from N(0, I) and fits the conditional prior on synthetic
            rows only; ``privacy_`` (and the model file) records the epsilon spent. The spec
            has its own epochs and batch size (``epochs`` and ``batch_size`` given here too are
            refused); ``validation_fraction`` and ``prior`` are then ignored.
        seed: Seed of every random choice in ``fit`` (and of ``sample`` calls without a seed).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        components: What :meth:`transform` gives when not told (a scikit-learn Pipeline's step
            cannot be told): ``None`` the latent means, ``"active"`` or ``k`` their principal
            axes (see :meth:`encode`); fitting does not use it.

    Example:
        >>> syn = Synthesizer(epochs=5).fit(df)          # doctest: +SKIP
        >>> fake = syn.sample(1000, seed=1)               # doctest: +SKIP
    """

    def __init__(
        self,
        schema: Schema | dict | str | os.PathLike | None = None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        latent_dim: int | None = None,
        hidden_dims: tuple[int, ...] | None = None,
        beta: float = 1.0,
        categorical_balance: float | None = None,
        categorical_head: int | None = None,
        autoregressive: int | None = None,
        target: str | None = None,
        learning_rate: float | None = None,
        validation_fraction: float = 0.1,
        patience: int = 20,
        max_categories: int = 200,
        min_category_rows: int = 1,
        min_tail_rows: int = 1,
        numeric_encoding: str = "quantile",
        datetime_encoding: str = "auto",
        prior: str = "mixture",
        prior_components: int = 30,
        conditional: bool = True,
        privacy: PrivacySpec | dict | float | None = None,
        seed: int = 0,
        device: str = "cpu",
        components: int | str | None = None,
    ) -> None:
        self.schema = schema
        self.epochs = epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.hidden_dims = tuple(hidden_dims) if isinstance(hidden_dims, (list, tuple)) else hidden_dims  # checked by fit
        self.beta = beta
        self.categorical_balance = categorical_balance
        self.categorical_head = categorical_head
        self.autoregressive = autoregressive
        self.target = target
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_categories = max_categories
        self.min_category_rows = min_category_rows
        self.min_tail_rows = min_tail_rows
        self.numeric_encoding = numeric_encoding
        self.datetime_encoding = datetime_encoding
        self.prior = prior
        self.prior_components = prior_components
        self.conditional = conditional
        self.privacy = privacy
        self.seed = seed
        self.device = device
        self.components = components

    # ------------------------------------------------------------------ fit
    @_with_autograd
    def fit(
        self,
        data: TableLike,
        y: Any = None,
        *,
        callback: Callback | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        checkpoint_every: float = 30.0,
        streaming: bool | None = None,
        reservoir_rows: int | None = None,
    ) -> "Synthesizer":
        """Learn the table's distribution.

        Started by ``torchrun`` (``WORLD_SIZE`` > 1 in the environment), the fit is
        data-parallel (:mod:`synthvae.distributed`): every process calls ``fit`` with the same
        arguments, each trains on its share of every batch, and all end with the same model.

        Args:
            data: A DataFrame, the path of a CSV or Parquet file, or of a folder of Parquet
                files (a dataset: streamed unless ``streaming=False``).
            y: Ignored: scikit-learn's pipelines pass their labels to every step. The model
                learns the columns of ``data``; ``target=`` keeps a class in the latent.
            callback: Called with a :class:`synthvae.training.Progress` after every epoch.
            checkpoint_dir: Save the training state to this folder (``checkpoint.safetensors``)
                at most every ``checkpoint_every`` seconds and after the last epoch (see
                :mod:`synthvae.checkpoint`).
            resume: Continue from ``checkpoint_dir``'s checkpoint, if there is one. With the same
                data and settings the fit ends with the same model as an uninterrupted one.
            checkpoint_every: Least seconds between checkpoints (0: after every epoch;
                ``math.inf``: only after the last).
            streaming: Read a file in streamed batches instead of whole (see
                :mod:`synthvae.streaming`): memory then grows with the batch, not the table.
                ``None``: stream folders and files over ``STREAM_BYTES`` (512 MB) on disk.
            reservoir_rows: Rows of the uniform sample a streamed fit infers the schema and
                fits the codecs on (default ``RESERVOIR_ROWS``); refused for a fit that does not
                stream.

        Returns:
            ``self``.

        Raises:
            DataError: The table is empty or does not fit the schema, or ``checkpoint_dir``
                cannot be created or written to (found before any training).
            SchemaError: The schema file is invalid.
            TrainingError: The loss diverged.
            ParameterError: The checkpoint to resume from belongs to another run, or a private
                fit was asked to checkpoint, stream or run data-parallel.
            ModelFileError: The checkpoint to resume from is unreadable, damaged (its checksum
                does not match) or holds NaN or infinite values.
        """
        self._check_params()
        spec = PrivacySpec.parse(self.privacy)
        if resume and checkpoint_dir is None:
            raise ParameterError("resume=True needs the checkpoint_dir to resume from")
        checkpoint_interval(checkpoint_every)  # also without a folder: a bad value is never ignored
        if callback is not None and not callable(callback):
            # Found after the first epoch, as a raw TypeError.
            raise ParameterError(f"callback must be a function taking a Progress, called after every epoch; got {callback!r}")
        if checkpoint_dir is not None and (not isinstance(checkpoint_dir, (str, os.PathLike)) or checkpoint_dir == ""):
            raise ParameterError(f"checkpoint_dir must be the path of a folder, got {checkpoint_dir!r}")
        memory_budget()  # a malformed SYNTHVAE_MEMORY_LIMIT is refused before the table is read
        if checkpoint_dir is not None and spec is not None:
            raise ParameterError(
                "a private fit cannot be checkpointed yet (its privacy accounting and Poisson "
                "batches would have to resume too); drop checkpoint_dir or privacy"
            )
        parallel = Parallel.from_environment()
        stream = _wants_stream(data, streaming)
        if parallel is not None and (spec is not None or checkpoint_dir is not None):
            raise ParameterError(
                "a data-parallel fit (torchrun) cannot be private or checkpointed yet; run it as one "
                "process, or drop privacy / checkpoint_dir"
            )
        if stream and spec is not None:
            raise ParameterError("a private fit cannot stream its input yet: give a table that fits in memory")
        if reservoir_rows is not None and not stream:
            # It did nothing there, silently.
            raise ParameterError(f"reservoir_rows (--reservoir-rows) sets the sample a streamed fit infers the schema from, "
                                 f"and this fit reads its data whole; drop it, or stream the file (streaming=True, --streaming)")
        reservoir_rows = RESERVOIR_ROWS if reservoir_rows is None else reservoir_rows
        _check_count("reservoir_rows", reservoir_rows, minimum=1)
        if stream and checkpoint_dir is not None and read_as_data(checkpoint_dir, data):
            raise ParameterError(
                f"checkpoint_dir {str(checkpoint_dir)!r} is inside the dataset folder {str(data)!r}, every file of "
                f"which is read as data (a resume would find the checkpoint there); put it outside that folder"
            )
        checkpointer = Checkpointer(checkpoint_dir, checkpoint_every, resume) if checkpoint_dir is not None else None
        try:
            return self._fit(data, spec, stream, callback, checkpointer, parallel, reservoir_rows)
        except BaseException:
            if checkpointer is not None:
                checkpointer.discard()  # the folders it made, while empty (a fit refused on its input)
            if parallel is not None:
                # Left to the interpreter's exit, the process group's threads aborted the process
                # ("terminate called without an active exception", exit -6) after its error.
                with contextlib.suppress(RuntimeError):
                    parallel.stop()
            raise

    def _fit(self, data: TableLike, spec: PrivacySpec | None, stream: bool, callback, checkpointer, parallel,
             reservoir_rows) -> "Synthesizer":
        """:meth:`fit` once its arguments are checked and its checkpointer made."""
        started = time.perf_counter()
        device = resolve_device(self.device)
        if parallel is not None:
            device = parallel.device(device)
            parallel.start(device)
        seeds = _fit_seeds(int(self.seed))
        if stream:
            # Only a streamed fit spills to disk; a folder made for every fit was left behind by
            # each fit that was killed (127 empty folders in /tmp after a day of benchmarks).
            # A killed fit's folder (a CSV's Parquet copy) is removed by the next streamed fit.
            remove_stale_fit_folders()
            with tempfile.TemporaryDirectory(prefix=f"synthvae-fit-{os.getpid()}-") as workdir:
                prepared = self._prepare_stream(data, seeds, device, parallel, reservoir_rows, workdir)
                self._train(prepared, seeds, device, callback, checkpointer, parallel)
        else:
            try:
                prepared = self._prepare_table(data, spec, seeds, device, parallel.world if parallel is not None else 1)
            except DataError as exc:
                text = str(exc)
                if spec is None or not text.endswith(_ADD_CATEGORIES):
                    raise
                # The advice to list the rare values contradicted the privacy warning (a user review).
                raise DataError(text.removesuffix(_ADD_CATEGORIES) + "; a private fit's schema lists only categories "
                                "known in public: map those values to one of them (or to an 'other' category the schema "
                                "lists), or drop those rows") from None
            self._train(prepared, seeds, device, callback, checkpointer, parallel)
        info = self.fit_info_
        self.fit_info_ = FitInfo(**{**asdict(info), "seconds": time.perf_counter() - started})
        return self

    def _prepare_table(self, data: TableLike, spec: PrivacySpec | None, seeds: np.ndarray, device, world: int = 1) -> "_Prepared":
        """Validate, encode and hold in memory a whole table (and, for a private fit, release
        its noisy statistics); ``world``: data-parallel processes, each of which needs a row."""
        given = self._given_schema()
        frame, source = _read(data, schema=given)
        if 0 < len(frame) < world:  # an empty table is refused as such below
            # A process without rows stepped on an empty batch: "the loss became nan".
            raise DataError(
                f"{source} has {len(frame)} rows, fewer than the {world} data-parallel processes: each needs rows "
                f"to train on; fit it in fewer processes"
            )
        schema = self._resolve_schema(frame, given, private=spec is not None, source=source)
        _warn_losses(frame, schema, source)
        calendar = _calendar_columns(schema, self.datetime_encoding)
        conformed = conform(frame, schema, source) if schema.constraints or calendar else frame
        if self.datetime_encoding == "auto":
            calendar = tuple(name for name in calendar if _learns_parts(conformed, schema, name, spec is not None))
        rules = ConstraintPlan(schema, calendar=calendar)
        rules.fit(conformed, source, private=spec is not None, tail_rows=int(self.min_tail_rows))
        self._check_target(schema, rules)

        def model_table(table: pd.DataFrame, name: str) -> pd.DataFrame:
            """The table the model learns: the schema's rules kept by construction (see
            :mod:`synthvae.constraints.plan`)."""
            if not rules.active:
                return table
            return rules.forward(conformed if table is frame else conform(table, schema, name))

        chosen: dict = {}

        def check_memory(layout) -> None:
            """Pick the network and training budget for the layout; refuse a table too wide for
            memory before it is encoded (:mod:`synthvae.resources`); the rows are the training
            table's, also when the codecs see the private proxy."""
            rows = len(frame)
            chosen["network"], chosen["config"] = self._network_and_budget(spec is not None, rows, layout)
            latent_dim, hidden_dims, head, _ = chosen["network"]
            batch = spec.resolve_batch_size(rows) if spec is not None else chosen["config"].resolve_batch_size(rows)
            check_fit_memory(layout, rows, hidden_dims, latent_dim, batch, source, categorical_head=head,
                             model_rows=self._conditional_rows(rows))

        plan = None
        if spec is None:
            preprocessor = self._preprocessor(rules)
            matrix = preprocessor.fit_transform(model_table(frame, source), source=source, before_encoding=check_memory)
            marginals = matrix
        else:
            from synthvae.privacy.fitting import prepare_private_fit  # Opacus is loaded only here

            named = f"the schema {str(self.schema)!r}" if isinstance(self.schema, (str, os.PathLike)) else "the schema"
            plan = prepare_private_fit(frame, schema, spec, source, named)
            proxy = "the private proxy table"
            nulled = [c.name for c in schema if c.is_generated and c.nullable and frame[c.name].isna().any()]
            if nulled:
                # 37% of e-mails empty in the real rows, none in a private model's (a user review).
                logger.warning("%s: the nulls of %s are not reproduced by a private fit, which releases no statistic of "
                               "personal or id columns: their sampled values are never null", source, preview(nulled))
            if int(self.min_category_rows) > 1:
                # A category one patient held was drawn for 1.7-4% of 20,000 rows at epsilon 3.
                logger.warning("%s: min_category_rows=%d is judged on the private fit's noisy counts: a category fewer "
                               "training rows hold may still be generated, and one more rows hold left out; list only "
                               "categories known in public in the schema", source, int(self.min_category_rows))
            preprocessor = self._preprocessor(rules, private=True, count_scale=len(frame) / len(plan.proxy))
            marginals = preprocessor.fit_transform(model_table(plan.proxy, proxy), source=proxy, before_encoding=check_memory)
            matrix = preprocessor.transform(model_table(frame, source), source=source)
        data = torch.from_numpy(matrix).to(device)
        return _Prepared(len(frame), schema, rules, preprocessor, marginals, data, None, data, chosen["config"],
                         chosen["network"], plan)

    def _prepare_stream(self, data, seeds: np.ndarray, device, parallel, reservoir_rows: int, workdir: str) -> "_Prepared":
        """Scan a table on disk once (reservoir, exact statistics, validation rows; see
        :mod:`synthvae.streaming`) and set up the stream of its training batches."""
        given = self._given_schema()
        source = open_source(data, workdir, text_columns(given))
        label = repr(source.label)
        found = scan(source, int(seeds[5]), int(reservoir_rows), float(self.validation_fraction), parallel=parallel)
        # No derived rules from a sample: a streamed fit cannot keep rules yet, and one that held
        # on the reservoir might not on every row. Those inference finds there are named, then
        # dropped (flights streamed sampled time_hour 05:00 beside hour 6 without a word).
        schema = self._resolve_schema(found.reservoir, given, derived=self.schema is None, source=label)
        if self.schema is None:
            if schema.constraints:
                logger.warning("%s: %d rule%s found on the streamed sample (%s), which a streamed fit cannot keep: the "
                               "columns are learned as they are and synthetic rows may break the rules; to keep them, read the "
                               "data whole (--in-memory, streaming=False)", label, len(schema.constraints),
                               "s" if len(schema.constraints) > 1 else "",
                               "; ".join(rule.describe() for rule in schema.constraints[:3])
                               + (f"; ... ({len(schema.constraints) - 3} more)" if len(schema.constraints) > 3 else ""))
            schema = widen_schema(schema.with_constraints(()), found, source)
        # The columns first: another table's schema was told to drop its rules (a user review).
        conform(found.reservoir.iloc[:0], schema, label, check_bounds=False)
        rules = ConstraintPlan(schema)
        if rules.active:
            raise ParameterError(
                f"the schema's rules ({len(schema.constraints)}) cannot be learned from a streamed input yet; "
                f"read the file or folder whole (streaming=False, --in-memory), or drop the rules"
            )
        rules.fit(found.reservoir.iloc[:0], label)
        self._check_target(schema, rules)
        preprocessor = self._preprocessor(rules)
        # Every categorical column's counts over the whole table (a given schema's too: past the
        # scan's count one more read of the column), or its slots came from the sample alone and
        # an epoch's row of another category failed the fit.
        for column in rules.model_schema_:
            if column.kind is ColumnKind.CATEGORICAL and column.name in found.stats:
                exact_counts(column, found.stats[column.name], source, label)
        counts = {name: stats.counts for name, stats in found.stats.items() if stats.counts is not None}
        chosen: dict = {}

        def before_encoding(layout) -> None:
            """Slots of categorical columns from the whole table's counts; the network and
            training budget for the layout; then the memory check of what a streamed fit holds
            (the sample, the validation rows and the shuffle buffer)."""
            preprocessor.fit_category_counts(counts, source=label)
            chosen["network"], chosen["config"] = self._network_and_budget(False, found.rows, preprocessor.layout_)
            latent_dim, hidden_dims, head, _ = chosen["network"]
            # The shuffle buffer holds at most the training rows (344 of a small table, not 65,536).
            rows = len(found.reservoir) + len(found.validation) + min(_STREAM_BUFFER, sum(found.train_rows.values()))
            batch = chosen["config"].resolve_batch_size(found.rows)
            check_fit_memory(preprocessor.layout_, rows, hidden_dims, latent_dim, batch, label, streamed=True,
                             categorical_head=head, model_rows=self._conditional_rows(found.rows))

        sample = label if len(found.reservoir) == found.rows else f"{label} (a sample of {len(found.reservoir)} rows)"
        marginals = source.naming_files(found.reservoir, sample, lambda rows, where: preprocessor.fit_transform(
            rows, source=where, before_encoding=before_encoding))
        check_bounds = self.schema is not None  # a given schema is checked; inferred bounds are the table's

        def encode(frame: pd.DataFrame, where: str = label) -> np.ndarray:
            return preprocessor.transform_conformed(conform(frame, schema, where, check_bounds=check_bounds))

        rank, world = (parallel.rank, parallel.world) if parallel is not None else (0, 1)
        batches = TableStream(source, found, encode, int(seeds[1]), buffer_rows=_STREAM_BUFFER, rank=rank, world=world)
        validation = torch.from_numpy(source.naming_files(found.validation, label, encode) if len(found.validation)
                                      else marginals[:0]).to(device)
        return _Prepared(found.rows, schema, rules, preprocessor, marginals, batches, validation,
                         torch.from_numpy(marginals).to(device), chosen["config"], chosen["network"], None)

    def _preprocessor(self, rules: ConstraintPlan, private: bool = False, count_scale: float = 1.0) -> TablePreprocessor:
        # A private fit's codecs see a proxy table made from noisy marginals: no relation
        # between columns to link rare categories by, and none may be taken from the real rows.
        # Its rows each stand for count_scale real ones, by which min_category_rows is judged.
        return TablePreprocessor(rules.model_schema_, max_categories=int(self.max_categories), numeric_encoding=self.numeric_encoding,
                                 link_pools=not private, point_masses=not private, min_category_rows=int(self.min_category_rows),
                                 count_scale=count_scale, min_tail_rows=int(self.min_tail_rows))

    def _train(self, prepared: "_Prepared", seeds: np.ndarray, device, callback, checkpointer, parallel) -> None:
        """Build and train the VAE, fit the priors, and keep the fitted state."""
        init_seed, train_seed, sample_seed, prior_seed, conditional_seed, _ = (int(s) for s in seeds)
        layout = prepared.preprocessor.layout_
        latent_dim, hidden_dims, head, ordered = prepared.network
        column_means = torch.from_numpy(prepared.marginals.mean(axis=0, dtype=np.float64))
        model = self._build_model(layout, column_means, init_seed, latent_dim, hidden_dims, head, ordered).to(device)
        plan, rows_seen = prepared.plan, prepared.rows
        if parallel is not None:
            parallel.agree("table", {"rows": prepared.rows, "columns": list(prepared.schema.names),
                                     "encoded columns": layout.width})
        if plan is None:
            generator = torch.Generator(device=device).manual_seed(train_seed)
            result = train(model, prepared.train_data, prepared.train_config, generator, callback, checkpointer,
                           validation=prepared.validation, parallel=parallel, column_means=column_means.to(device))
            rows = _training_sample(prepared.prior_data, prior_seed)
            latents = _posterior_means(model, rows)
            observed = layout.observed_index(prepared.rules.null_owners())
            noise = residual_noise(model, rows, torch.from_numpy(observed).to(device), torch.Generator(device=device).manual_seed(prior_seed))
            if noise is not None:
                model.set_noise(*noise)
            prior = self._fit_prior(latents, prior_seed)
            _match_category_shares(model, prior, column_means, prior_seed, device)
        else:
            from synthvae.privacy.dpsgd import train_private

            result = train_private(
                model,
                prepared.train_data,
                prepared.train_config,
                sample_rate=plan.noise.sample_rate,
                steps=plan.noise.steps,
                epochs=plan.spec.epochs,
                noise_multiplier=plan.noise.sgd_noise,
                max_grad_norm=plan.spec.max_grad_norm,
                callback=callback,
            )
            # Only post-processing from here: the priors see synthetic rows, never real ones.
            prior = None
            self._calibrate_marginals(model, prepared.preprocessor, rows_seen, prior_seed, device)
        # Only now: the category shares above are matched to the model's own probabilities.
        _suppress(model, prepared.preprocessor)
        vae_steps = len(result.history) * max(1, result.train_rows // result.batch_size)
        # The conditional prior is trained when first needed (see ``conditional_``).
        self.conditional_ = None
        for stale in ("conditional_history_", "last_resampling_"):  # the last table's, set when used
            self.__dict__.pop(stale, None)
        if self.conditional and layout.width:
            self._conditional_inputs = _ConditionalInputs(rows_seen, conditional_seed, vae_steps)

        self.schema_ = prepared.schema
        self.constraints_ = prepared.rules
        self.preprocessor_ = prepared.preprocessor
        self.model_ = model
        self.prior_ = prior.to(device) if prior is not None else None
        self.privacy_ = plan.record() if plan is not None else None
        self.train_config_ = prepared.train_config
        self.history_ = result.history
        self.device_ = device
        self._start_sampling(sample_seed)
        # What the model was fitted with, as the model file stores it: parameters set after fit
        # (s.seed = 5) were saved as though the model had been fitted with them.
        self.fit_params_ = self._file_params()
        self._schema_given = self.schema is not None
        self.fit_info_ = FitInfo(
            rows=rows_seen,
            columns=len(prepared.schema),
            encoded_width=layout.width,
            epochs_planned=result.epochs_planned,
            epochs_run=len(result.history),
            best_epoch=result.best_epoch,
            seconds=0.0,
            device=str(device),
        )

    def _conditional_rows(self, rows: int) -> int:
        """Rows of its own a model fitted on ``rows`` rows encodes for its conditional prior
        (see :meth:`_fit_conditional`); none without one."""
        return _conditional_pairs(rows) if self.conditional else 0

    def _network_and_budget(self, private: bool, rows: int, layout) -> tuple[tuple[int, tuple[int, ...], int, int], TrainConfig]:
        """Latent size, hidden widths, the categorical head's width and its autoregressive units,
        and how to train, the defaults filled in for the mode, the table's rows and the encoded
        layout."""
        if private:
            latent, hidden, rate = _PRIVATE_NETWORK_LARGE if rows >= _PRIVATE_LARGE else _PRIVATE_NETWORK
        else:
            latent, hidden, rate = _NETWORK_WIDE if layout.width > _WIDE else _NETWORK
            if self.hidden_dims is not None:  # the rate goes with the network, as documented
                rate = _NETWORK_WIDE[2] if max(self.hidden_dims) >= max(_NETWORK_WIDE[1]) else _NETWORK[2]
        hidden = self.hidden_dims if self.hidden_dims is not None else hidden
        head = self.categorical_head
        if head is None:
            head = 0 if private else min(_CATEGORICAL_HEAD_MAX, hidden[0])
        ordered = self.autoregressive
        if ordered is None:
            ordered = min(_AUTOREGRESSIVE, rows // _ROWS_PER_AUTOREGRESSIVE_UNIT)
        elif ordered > head:  # cut to the head's units without a word
            logger.warning("autoregressive=%d units, but the categorical head has %d: it uses %d; widen the head "
                           "(categorical_head, --categorical-head) for more", ordered, head, head)
        ordered = min(head, ordered)
        network = (self.latent_dim if self.latent_dim is not None else latent, hidden, head, ordered)
        rate = self.learning_rate if self.learning_rate is not None else rate
        balance = self.categorical_balance if self.categorical_balance is not None else _CATEGORICAL_BALANCE
        return network, self._train_config(rate, len(layout.columns), balance, self._target_segments(layout))

    def _check_target(self, schema: Schema, rules: ConstraintPlan) -> None:
        """Refuse a ``target`` the model does not learn as a column of its own, saying why: not a
        column of the table, a datetime (learned as its calendar parts), a column rebuilt by the
        schema's rules, or an id or personal column. Before, each was "an unknown column", with
        the model's part names ('joined~sin') offered in its place.

        Raises:
            ParameterError: As above.
        """
        learned = {column.name for column in rules.model_schema_ if not column.is_generated}
        if self.target is None or self.target in learned:
            return
        classes = [c.name for c in schema if c.name in learned and c.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)]
        fix = f"name a categorical or boolean column ({preview(classes)}) or leave it unset" if classes else "leave it unset"
        if self.target not in schema.names:
            raise ParameterError(f"target {self.target!r} is not a column of the table: "
                                 f"{unknown_column(self.target, schema.names, 'the table')}; {fix} (target=, --target)")
        column = schema[self.target]
        rebuilt = rules.rebuilt_by(self.target)
        if rebuilt is not None:
            why = f"the model does not learn it: it is {rebuilt}"
        elif column.kind is ColumnKind.DATETIME:
            why = "it is a datetime column, which the model learns as its calendar parts"
        elif column.is_generated:
            why = f"it is {'an id' if column.kind is ColumnKind.ID else 'a personal'} column, generated for each row, not learned"
        else:
            why = "the model does not learn it"
        raise ParameterError(f"target {self.target!r} cannot be the target: {why}; target= weighs the classes of a "
                             f"column the model learns: {fix} (target=, --target)")

    def _target_segments(self, layout) -> tuple[int, ...]:
        """The one-hot spans (by number) of ``target`` in the encoded layout (a column it learns:
        :meth:`_check_target`); none for no target or a numeric one."""
        if self.target is None:
            return ()
        if not any(span.kind is SpanKind.CATEGORY for span in layout.for_column(self.target)):
            # fit --target on a numeric column said nothing, though it weighs nothing there.
            logger.warning("target %r is not categorical or boolean: target= weighs a class column's classes, so it "
                           "changes nothing for this column", self.target)
        block = layout.column_slice(self.target)
        return tuple(sorted({int(segment) for index, segment in zip(layout.one_hot_index, layout.one_hot_segment)
                             if block.start <= int(index) < block.stop}))

    @staticmethod
    def _build_model(layout, column_means: torch.Tensor, seed: int, latent_dim: int, hidden_dims: tuple[int, ...],
                     categorical_head: int = 0, autoregressive: int = 0) -> TabularVAE:
        """A fresh VAE for the layout, weights from ``seed``, output bias at the data's marginals."""
        config = VAEConfig(
            data_dim=layout.width,
            continuous_index=tuple(int(i) for i in layout.continuous_index),
            one_hot_index=tuple(int(i) for i in layout.one_hot_index),
            one_hot_segment=tuple(int(i) for i in layout.one_hot_segment),
            latent_dim=int(latent_dim),
            hidden_dims=tuple(int(h) for h in hidden_dims),
            categorical_head=int(categorical_head),
            autoregressive=int(autoregressive),
        )
        model = TabularVAE(config, generator=torch.Generator().manual_seed(seed))
        model.init_output_bias(column_means)
        return model

    @staticmethod
    @torch.no_grad()
    def _calibrate_marginals(model: TabularVAE, preprocessor: TablePreprocessor, rows: int, seed: int, device) -> None:
        """Quantile-map each numeric / datetime column's decoded values onto its codec's
        distribution (see ``calibrate`` of the codecs), from ``rows`` rows the model samples.

        A private fit's codecs hold the released noisy histograms while DP-SGD leaves the decoder's
        marginals off (on diamonds at epsilon 10, column shapes 0.907 against 0.988 without DP);
        the map uses only the model and the release, so it is post-processing."""
        _, matrix = _model_draws(model, None, int(min(max(rows, 1000), 50_000)), seed + 1, device)
        layout = preprocessor.layout_
        for codec in preprocessor.codecs_:
            if hasattr(codec, "calibrate") and codec.width:
                codec.calibrate(np.ascontiguousarray(matrix[:, layout.column_slice(codec.column.name)]))

    def _fit_prior(self, latents: np.ndarray, seed: int) -> MixturePrior | None:
        """The latent mixture prior, or ``None`` for N(0, I)."""
        if PriorKind(self.prior) is PriorKind.STANDARD:
            return None
        try:
            return fit_mixture_prior(latents, int(self.prior_components), seed % 2**31)
        except torch.linalg.LinAlgError:  # latents spread past float precision: a diverged fit
            raise TrainingError(
                f"the latent prior could not be fitted to the training rows' latents (largest magnitude "
                f"{float(np.nanmax(np.abs(latents))):.3g}): the training diverged; lower the learning rate "
                f"(now {self.learning_rate if self.learning_rate is not None else 'the default'}) or check the data for extreme values"
            ) from None

    @property
    def conditional_(self) -> ConditionalPrior | None:
        """The conditional prior over the latent given any subset of columns
        (:mod:`synthvae.conditional_prior`), or ``None`` (``conditional=False``, or not fitted).

        It is trained the first time it is needed: by a conditional sample, :meth:`augment`,
        :meth:`impute` or :meth:`save`; a fit that only samples rows skips its cost (1 thread, one
        day: churn 17 s after an 11-21 s fit, diamonds 59-67 s after 62-73 s, loans 98-101 s
        after 232-237 s). It learns from rows the
        fitted model generates (see :meth:`_fit_conditional`), from its own seed, so it is the
        same whenever it is trained, and the fit keeps no training rows for it.
        """
        inputs = self.__dict__.get("_conditional_inputs")
        if inputs is not None:  # kept until the training succeeds, so a failure can be retried
            started = time.perf_counter()
            with torch.inference_mode(False), torch.enable_grad():  # whatever the caller's mode
                self._conditional = self._fit_conditional(inputs)
            del self.__dict__["_conditional_inputs"]
            logger.info("trained the conditional prior in %.1f s", time.perf_counter() - started)
        return self.__dict__.get("_conditional")

    @conditional_.setter
    def conditional_(self, value: ConditionalPrior | None) -> None:
        self.__dict__.pop("_conditional_inputs", None)
        self._conditional = value

    def _fit_conditional(self, inputs: "_ConditionalInputs") -> ConditionalPrior:
        """The conditional prior over the latent given any subset of columns.

        It learns from pairs the fitted model generates: a latent from the model's prior and
        the row decoded from it (:func:`_model_pairs`, :data:`_CONDITIONAL_PAIRS` of them), so
        that, given any cells of a row, it approximates the model's own posterior over the
        latent, which is the distribution importance sampling corrects its draws towards. Fitted
        to the training rows' posterior means instead, it was narrow where the cells leave the
        latent free: the posterior mean of a row is the latent's mean given all of it, so it
        varies less than the latent that generated the row (conditional draws' spread follows
        them). On churn's own rows with every cell shown, 20 draws' central 90% held the
        latent's whitened coordinates 0.79 of the time (0.94 now), and multiple imputation's 90%
        intervals hold more hidden values (``benchmarks/bench_generation.py``).

        It trains for 1,500 steps with early stopping; on a table where 100 passes over the
        training rows take fewer, for as many steps as the VAE did but at least those 100
        passes (and at most 1,500). The cap was 3,000, and wide tables took as many steps as the
        VAE: 1,500 impute as well, in half the time on loans (``benchmarks/bench_conditional_prior.py
        --max-steps 1500 3000``, fit seed 0, 1 thread: numeric RMSE in sd units / category
        accuracy / central-90% coverage of 20 draws; training seconds): loans 0.637 / 0.533 /
        0.901 -> 0.628 / 0.534 / 0.917, 159 -> 81 s; diamonds 0.346 / 0.415 / 0.914 -> 0.302 /
        0.437 / 0.902, 84 -> 63 s. It needs that floor of its own: the VAE's default budget is a
        few hundred steps on small tables, where the conditional prior's validation loss was
        still falling fast (churn: 7.7 nats after 480 steps, 3.3 after 3,000), and the
        conditionals and imputations it gives were worse for it. Batches are a sixteenth of the training rows, 256 to 512: on german_credit's
        800 rows, 64-row batches took 1,200 steps (+0.8 s of fit) for an imputation no better
        than 256-row ones.

        It has 4 Gaussian components (:data:`_CONDITIONAL_COMPONENTS`, 8 before 2026-12-06:
        about half the time for imputation within its noise; loans' category accuracy 0.01 lower).
        """
        layout, hidden_dims = self.preprocessor_.layout_, self.model_.config.hidden_dims
        seed, vae_steps, rows = inputs.seed, inputs.vae_steps, min(inputs.rows, _CONDITIONAL_PAIRS_MAX)
        data, targets = _model_pairs(self.model_, self.prior_, self.preprocessor_, _conditional_pairs(inputs.rows), seed, self.device_)
        axes = PrincipalAxes.fit(targets)
        target_dim = axes.dim()
        config = ConditionalPriorConfig(
            data_dim=layout.width,
            column_of=layout.column_of,
            latent_dim=targets.shape[1],
            hidden_dims=tuple(hidden_dims),
            components=_CONDITIONAL_COMPONENTS,
            target_dim=target_dim,
            # Full covariances cost ~d^2 outputs and d^3 work per component: a barely trained
            # VAE (churn after 1 epoch: 54 axes, against 11 at the default fit) took 56 s.
            full_covariance=target_dim <= _FULL_COVARIANCE_AXES,
        )
        generator = torch.Generator(device=data.device).manual_seed(seed)
        prior = ConditionalPrior(config, generator=torch.Generator().manual_seed(seed)).to(data.device)
        prior.set_whitening(axes)
        batch = min(512, max(256, rows // 16))
        floor = min(_CONDITIONAL_FLOOR, 100 * max(1, rows // batch))
        cap = _CONDITIONAL_MAX_STEPS if target_dim > _CONDITIONAL_NARROW_AXES else _CONDITIONAL_NARROW_MAX_STEPS
        train_config = ConditionalTrainConfig(steps=int(min(cap, max(floor, vae_steps))), batch_size=batch)
        self.conditional_history_ = train_conditional_prior(prior, data, targets, train_config, generator)
        return prior

    def _check_params(self, alone: bool = False) -> None:
        """Refuse parameters of the wrong type or range, and (unless ``alone``: a model file's,
        whose rules of several parameters may predate a file) combinations a fit cannot use."""
        problems = []
        # errors.is_integer / is_real: numpy numbers pass; True, text, None and NaN do not (epochs=True
        # ran one epoch, validation_fraction="0.1" raised a raw TypeError).
        if self.epochs is not None and (not is_integer(self.epochs) or self.epochs < 1):
            problems.append(f"epochs must be a positive integer or None, got {self.epochs!r}")
        if self.batch_size is not None and (not is_integer(self.batch_size) or self.batch_size < 1):
            problems.append(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if self.latent_dim is not None and (not is_integer(self.latent_dim) or self.latent_dim < 1):
            problems.append(f"latent_dim must be a positive integer or None, got {self.latent_dim!r}")
        if self.hidden_dims is not None and (
            not isinstance(self.hidden_dims, (list, tuple)) or not self.hidden_dims
            or any(not is_integer(h) or h < 1 for h in self.hidden_dims)
        ):
            problems.append(f"hidden_dims must be positive integers or None, got {self.hidden_dims!r}")
        if not is_integer(self.patience) or self.patience < 1:
            problems.append(f"patience must be a positive integer, got {self.patience!r}")
        if not is_integer(self.seed) or self.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not is_real(self.validation_fraction) or not 0 <= self.validation_fraction < 1:
            problems.append(f"validation_fraction must be a number in [0, 1), got {self.validation_fraction!r}")
        if not _is_number(self.beta, minimum=0.0):
            problems.append(f"beta must be a non-negative number, got {self.beta!r}")
        if self.categorical_balance is not None and not _is_number(self.categorical_balance, minimum=0.0):
            problems.append(f"categorical_balance must be a non-negative number or None, got {self.categorical_balance!r}")
        if self.learning_rate is not None and not (_is_number(self.learning_rate, minimum=0.0) and self.learning_rate > 0):
            problems.append(f"learning_rate must be a positive number or None, got {self.learning_rate!r}")
        if self.categorical_head is not None:
            _check_count("categorical_head", self.categorical_head)
        if self.autoregressive is not None:
            _check_count("autoregressive", self.autoregressive)
            if self.autoregressive and self.categorical_head == 0 and not alone:
                problems.append("autoregressive units belong to the categorical head, which categorical_head=0 leaves out; "
                                "give the head a width or set autoregressive=0")
        if self.target is not None and not isinstance(self.target, str):
            problems.append(f"target must be a column name or None, got {self.target!r}")
        if self.privacy is not None and not alone:  # what a private fit cannot take beside it
            if self.target is not None:
                problems.append("target weighs its column by the real class shares, which a private fit must not use; "
                                "leave it None with privacy")
            if self.epochs is not None or self.batch_size is not None:
                # They were ignored: Synthesizer(epochs=5, privacy=3) ran the spec's 30 epochs.
                problems.append("a private fit takes its epochs and batch size from privacy (e.g. privacy={'epsilon': 3, "
                                "'epochs': 5, 'batch_size': 256}): they enter its accounting; leave epochs and batch_size None")
            if self.categorical_balance:
                problems.append("categorical_balance weighs columns by their real category shares, which a private fit "
                                "must not use; leave it None (or 0) with privacy")
        if self.numeric_encoding not in [e.value for e in NumericEncoding]:
            problems.append(f"numeric_encoding must be 'quantile' or 'mode', got {self.numeric_encoding!r}")
        if self.datetime_encoding not in _DATETIME_ENCODINGS:
            problems.append(f"datetime_encoding must be 'auto', 'calendar' or 'timestamp', got {self.datetime_encoding!r}")
        if self.prior not in [p.value for p in PriorKind]:
            problems.append(f"prior must be 'mixture' or 'standard', got {self.prior!r}")
        if not is_integer(self.prior_components) or self.prior_components < 1:
            problems.append(f"prior_components must be a positive integer, got {self.prior_components!r}")
        if not is_integer(self.max_categories) or self.max_categories < 2:
            problems.append(f"max_categories must be an integer of at least 2, got {self.max_categories!r}")
        if not is_integer(self.min_category_rows) or self.min_category_rows < 1:
            problems.append(f"min_category_rows must be an integer of at least 1, got {self.min_category_rows!r}")
        if not is_integer(self.min_tail_rows) or self.min_tail_rows < 1:
            problems.append(f"min_tail_rows must be an integer of at least 1, got {self.min_tail_rows!r}")
        if not isinstance(self.conditional, (bool, np.bool_)):
            # "no" is truthy (the prior was trained and saved), None turned it off.
            problems.append(f"conditional must be True or False, got {self.conditional!r}")
        if self.components is not None and not (self.components == "active" or (is_integer(self.components) and self.components >= 1)):
            # components=0 passed the fit, and transform refused it after the whole fit.
            problems.append(f"components must be None, 'active' or a positive whole number, got {self.components!r}")
        if problems:
            raise ParameterError("; ".join(problems))

    def _given_schema(self) -> Schema | None:
        """The schema given to the constructor, read once if it is a path (``None``: none given)."""
        if self.schema is None or isinstance(self.schema, Schema):
            return self.schema
        if isinstance(self.schema, (str, os.PathLike)):
            return load_schema(self.schema)
        if isinstance(self.schema, dict):  # the JSON document, parsed (it was refused: a user review)
            return Schema.from_dict(self.schema, source="schema= (a dict)")
        raise SchemaError(f"schema must be a Schema, a schema JSON document (a dict), a path or None, got {type(self.schema).__name__}")

    def _resolve_schema(self, frame: pd.DataFrame, given: Schema | None, private: bool = False, derived: bool = True,
                        source: str = "training data") -> Schema:
        """``given`` (:meth:`_given_schema`), or one inferred from ``frame``."""
        if given is None:
            if private:
                raise ParameterError(
                    "differentially private training needs a schema given by you: one inferred from "
                    "the table holds its exact bounds and categories, which the guarantee cannot "
                    "cover. Write one (synthvae infer-schema DATA -o schema.json), replace min/max "
                    "and categories by public knowledge, and pass it (schema= in Python, --schema on the "
                    "command line)"
                )
            schema = infer_schema(frame, derived=derived, source=source)
            if self.target is not None:
                schema = target_classes(schema, frame, self.target, source)
            if int(self.min_tail_rows) > 1:
                # The inferred bounds are the training extremes that top- and bottom-coding keeps
                # out of the rows: the model file kept 9,876,543 as a max (a user review). The
                # codecs keep their own range, the cuts.
                for column in schema:
                    if column.kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME) and (column.min is not None or column.max is not None):
                        schema = schema.replace_column(replace(column, min=None, max=None))
        else:
            schema = given
        if all(column.is_generated for column in schema):
            raise DataError(
                f"every column is an id or personal column ({preview(schema.names)}), regenerated and "
                f"never learned: there is nothing for the model to learn; a table needs a numeric, "
                f"categorical, boolean or datetime column"
            )
        return schema

    def _train_config(self, learning_rate: float, columns: int, categorical_balance: float,
                      target_segments: tuple[int, ...] = ()) -> TrainConfig:
        # Plain Python numbers (numpy ones pass the checks): the configuration goes into JSON.
        return TrainConfig(
            epochs=int(self.epochs) if self.epochs is not None else None,
            columns=columns,
            batch_size=int(self.batch_size) if self.batch_size is not None else None,
            learning_rate=learning_rate,
            beta=self.beta,
            categorical_balance=categorical_balance,
            target_segments=target_segments,
            validation_fraction=float(self.validation_fraction),
            patience=int(self.patience),
        )

    # --------------------------------------------------------------- sample
    def sample(
        self,
        n: int,
        *,
        conditions: ConditionsLike = None,
        seed: int | None = None,
        batch_size: int = 50_000,
        guidance: float = 1.0,
    ) -> pd.DataFrame:
        """Draw ``n`` synthetic rows, optionally all satisfying ``conditions``.

        The rows are those :meth:`iter_sample` yields for the same arguments, in one table.

        Args:
            n: Number of rows.
            conditions: Values some columns must take, as ``{column: value}``,
                ``{column: [values]}``, ``{column: {">=": low, "<": high}}`` or a list of
                ``"column>=value"`` strings (see :mod:`synthvae.conditions`). Every row satisfies
                them exactly; the other columns follow the model's distribution given them.
                Single values (``col=value``) are drawn through the conditional prior, so a rare
                category costs about what a common one does (2-3x an unconditional draw).
                Ranges and sets of values are met by resampling the model's own draws that meet
                them, from a pool whose proposal adapts towards them: they cost more the rarer
                they are (churn's top-decile range: 13x; ``benchmarks/results/generation.md``).
                Where even that pool would be too large, their values are drawn first, one
                column at a time, and a value the model cannot draw given the rest (conditions
                it finds too rare together) comes from the training values that meet its
                condition, with a warning.
            seed: Same seed, same rows (bit for bit on CPU), but for their ids: each call takes
                the next new ids, so that the rows of several calls share none (see
                :meth:`reset_sampling`). ``None`` continues a stream seeded by the synthesizer's
                ``seed``, so successive calls differ but a fresh run repeats.
            batch_size: Rows decoded per batch: bounds memory. The draws are made batch by batch,
                so the rows for a seed depend on it too: keep it fixed to reproduce a sample.
            guidance: How typical of the conditions the rows are. 1 (default): the model's
                own distribution given them. Above 1, the likelihood of the conditions' single
                values (``col=value``, one category or number) is raised to this power when the
                rows' latents are drawn, as classifier guidance does: rows of a class lie further
                from the other classes (a column's spread may grow or shrink), drawn from
                ``guidance`` times as many proposals, so a draw can take up to ``guidance`` times
                as long (churn ``churn = no`` and ``total_day_minutes >= 330``, 2,000 rows: 2.8 s
                at 1, 16 s at 10, 158 s at 100; ``churn = yes`` alone barely changes). Ranges
                and sets of values are met by a check, which guidance leaves as it is (nor does
                it weigh their values where they are drawn first), and a single value the model
                sees only as a range or a set (a derived column's, a category of a fixed
                combination) is refused; it needs a single value of a column the model learns.
                At most 100.

        Returns:
            Exactly ``n`` rows with exactly the schema's columns, order and dtypes (``Int64``,
            ``float64``, ``category``, ``boolean``, ``datetime64[ns]``, or ``datetime64[ns, zone]``
            for a datetime column with a ``timezone``, ``timedelta64[ns]`` for a numeric column
            with a ``duration``; not the widths of the fitted table, such as ``int8`` or
            ``float32``: ``rows.astype(table.dtypes.to_dict())`` restores those where the values
            allow).

        Raises:
            ParameterError: A bad argument, or an impossible condition (unknown column or
                category, empty range, values the training data never had).
        """
        self._check_fitted()
        rows = self._in_schema_types(self._sample(n, conditions, seed, batch_size, guidance, id_offset=self._ids_drawn))
        self._ids_drawn += int(n)
        return rows

    def reset_sampling(self) -> "Synthesizer":
        """Sample as the freshly fitted (or loaded) model would: id columns count from their
        first new id again, and ``seed=None`` restarts the stream of the synthesizer's ``seed``.

        Each call of :meth:`sample`, :meth:`iter_sample` or :meth:`sample_to` takes the next ids,
        so that rows of several calls (one per condition, say) share none, as SDV's keys do;
        this is SDV's ``reset_sampling``. Nothing else of a sample depends on the calls before
        it: the same ``seed`` gives the same rows but for their ids.

        Returns:
            The synthesizer.
        """
        self._check_fitted()
        self._start_sampling(self._sample_seed)
        return self

    def _start_sampling(self, sample_seed: int) -> None:
        """Sampling's state, as after a fit or load: the stream ``seed=None`` continues, and how
        many ids the calls so far took."""
        self._sample_seed = int(sample_seed)
        self._sample_rng = np.random.default_rng(self._sample_seed)
        self._ids_drawn = 0

    def _in_schema_types(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A sampled table in the schema's types where they are not the model's: datetimes of a
        column with a ``timezone`` in it (the model's are naive clock times there), the numbers
        of a duration column as durations."""
        for column in self.schema_:
            if column.name not in frame:
                continue
            if column.timezone:
                frame[column.name] = in_zone(frame[column.name], time_zone(column.timezone))
            elif column.duration:
                frame[column.name] = as_durations(frame[column.name], column.duration)
        return frame

    def _sample(self, n: int, conditions: ConditionsLike, seed: int | None, batch_size: int = 50_000, guidance: float = 1.0,
                taken: dict | None = None, id_offset: int = 0) -> pd.DataFrame:
        """:meth:`sample`; with ``taken`` (``{unique rule: keys}``), rows whose key of a
        ``unique`` rule is among the keys are not returned, and the returned rows' keys are added
        (see :meth:`_iter_sample`); ``id_offset``: ids start this many after the first new id."""
        self._check_sample_memory(n, batch_size, whole=True, guidance=guidance if _any_conditions(conditions) else None)
        frames = list(self._iter_sample(n, conditions, seed, batch_size, None, guidance, taken, id_offset))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _check_sample_memory(self, n: int, batch_size: int, whole: bool, guidance=None) -> None:
        """Refuse a sample (or, not ``whole``, a batch) that would not fit in memory
        (:func:`synthvae.resources.check_sample_memory`; ``guidance``: that of a sample with
        conditions, checked here, ``None`` without conditions)."""
        self._check_fitted()
        _check_count("n", n)
        _check_count("batch_size", batch_size, minimum=1)
        if guidance is not None:
            _check_guidance(guidance)
        kinds = [c.kind.value for c in self.schema_]
        check_sample_memory(int(n), min(int(batch_size), max(1, int(n))), self.preprocessor_.layout_.width,
                            tuple(self.model_.config.hidden_dims), kinds, whole,
                            conditional=float(guidance) if guidance is not None else 0.0)

    def _check_id_room(self, n: int, offset: int = 0) -> None:
        """Refuse ``n`` rows whose new ids (from ``offset`` after the first) would pass the last
        number a string id column's regex rule allows (:func:`synthvae.constraints.plan.id_limits`),
        before any row is drawn."""
        limits = id_limits(self.schema_)
        for codec in self.preprocessor_.codecs_ if limits and n else ():
            if codec.column.name in limits:
                limit, rule = limits[codec.column.name]
                first = codec.first_ + offset
                if first + n - 1 > limit:
                    room = max(limit - first + 1, 0)
                    width = codec.column.width
                    earlier = (f", after the {offset:,} that earlier samples took: reset_sampling() counts from the first again"
                               if offset else "")
                    raise ParameterError(
                        f"column {codec.column.name!r}: {n:,} new ids from {codec.column.prefix}{str(first).zfill(width)} "
                        f"would pass {codec.column.prefix}{str(limit).zfill(width)}, the last the rule {rule.describe()!r} "
                        f"allows (ids count on from above the real ones{earlier}): sample at most {room:,} rows, or widen the "
                        f"pattern and the column's width")

    def iter_sample(
        self,
        n: int,
        *,
        conditions: ConditionsLike = None,
        seed: int | None = None,
        batch_size: int = 50_000,
        shard: tuple[int, int] | None = None,
        guidance: float = 1.0,
    ) -> Iterator[pd.DataFrame]:
        """Draw ``n`` synthetic rows as consecutive tables of at most ``batch_size`` rows, with
        memory bounded by one batch whatever ``n`` is (see :meth:`sample_to` to write them).

        The arguments are checked, and impossible conditions refused, when this is called, not
        when the first batch is asked for. Each table's index continues the previous one's; ids
        stay unique across tables; rules of the schema (uniqueness too) hold across all of them.
        Together they are the rows of ``sample(n, ...)`` with the same arguments, called instead
        (ids too: the call takes the next ``n`` ids, as :meth:`sample` does).

        Batch ``b`` draws from its own random streams, derived from the seed and ``b``, so any
        batch can be drawn without the ones before it: that is what ``shard`` uses.

        Args:
            shard: ``(i, k)``: only the ``i``-th of ``k`` consecutive runs of batches (0-based).
                The ``k`` shards, drawn in any order, by any processes, with the same ``n``,
                seed and batch size, are together exactly the rows of ``sample(n, ...)`` (their
                ids from where the ids taken stand, which a shard leaves as they are).
                A schema with a ``unique`` rule cannot be sharded (uniqueness would need the
                other shards' rows).

        Other args, raises: as :meth:`sample`.

        Returns:
            An iterator of tables with exactly the schema's columns, order and dtypes (one empty
            table when ``n`` is 0).
        """
        self._check_fitted()
        batches = map(self._in_schema_types, self._iter_sample(n, conditions, seed, batch_size, shard, guidance,
                                                                id_offset=self._ids_drawn))
        if shard is None:  # a shard's ids are those of one sample of all the shards: the next sample's too
            self._ids_drawn += int(n)
        return batches

    def _iter_sample(self, n: int, conditions: ConditionsLike, seed: int | None, batch_size: int, shard: tuple[int, int] | None,
                     guidance: float, taken: dict | None = None, id_offset: int = 0) -> Iterator[pd.DataFrame]:
        """:meth:`iter_sample`; ``taken``: keys of the schema's ``unique`` rules already used
        (``{rule: set of keys}``, as :func:`synthvae.constraints.resampling.full_keys` gives
        them), which the rows keep clear of and to which their keys are added: ``augment``'s
        calls, one per class, share it, and it starts with the real rows' keys. ``id_offset``:
        ids start this many after the first new id (the ids earlier calls took)."""
        self._check_sample_memory(n, batch_size, whole=False, guidance=guidance if _any_conditions(conditions) else None)
        self._check_id_room(n, id_offset)
        _check_guidance(guidance)
        parsed = [_on_step(c, self.schema_) for c in self._runs_as_ranges(parse_conditions(conditions, self.schema_))]
        model_conditions, residual = self.constraints_.split_conditions(parsed)
        names = self.preprocessor_.schema.names
        guided = self._guided(model_conditions, residual)
        if guidance != 1 and not guided:
            singles = ", ".join(c.describe() for c in parsed if c.is_exact)
            if not singles:
                given = f"the conditions given ({', '.join(c.describe() for c in parsed)}) name none" if parsed else "no condition was given"
                raise ParameterError(f"guidance={guidance!r} weighs the values of single-value conditions (COLUMN=VALUE), and "
                                     f"{given}; give one, or leave guidance at 1")
            # A derived column's value reaches the model as a range of its input, a category of
            # a fixed combination as a set of the combinations' labels: guidance would do nothing.
            raise ParameterError(
                f"guidance={guidance!r} weighs single values the model learns, and {singles} reach the model only as a range "
                f"or a set of values (a column the schema's rules compute from others, or a category of a fixed combination), "
                f"which guidance cannot weigh; condition on the columns the model learns, or leave guidance at 1")
        for condition in model_conditions:  # impossible conditions fail before any work (training the conditional prior too)
            if condition.column in self.schema_.names:
                _check_step(condition, self.schema_[condition.column])
            try:
                self.preprocessor_.codecs_[names.index(condition.column)].draw_given(condition, 1, np.random.default_rng(0))
            except ParameterError as exc:
                if self.privacy_ is None or "training" not in str(exc):
                    raise
                # The codecs of a private fit never saw a training row: "no training value lies
                # there" of a range the real rows do hold would mislead.
                raise ParameterError(
                    f"{exc} (this model was fitted with differential privacy: it knows column {condition.column!r} "
                    f"from a noisy histogram of the training rows, not from the rows, and that histogram is "
                    f"what 'training values' means here)") from None
        parts = self._generator(guidance, guided) if model_conditions else None  # refuses a model without a conditional prior
        for condition in residual:  # a rebuilt column's range is its schema's: beyond it, refuse now
            _check_within_bounds(condition, self.schema_[condition.column])
        pins = self.constraints_.pins(residual, parsed)
        steered = self._steered(model_conditions, residual)
        if steered is not None:
            parts = parts or self._generator(guidance, guided)
        model_conditions = steered or model_conditions
        first, stop = self._shard_batches(n, batch_size, shard)
        base_seed = self._resolve_seed(seed)
        self.model_.eval()

        warned, told = [], []
        named = preview(list(dict.fromkeys(c.column for c in parsed)))
        judged = len({c.column for c in parsed}) > 1 and not any(
            c.values is not None and self.schema_[c.column].kind in (ColumnKind.NUMERIC, ColumnKind.DATETIME) for c in parsed)
        checker = RowCheck(self.constraints_, residual, batch_size, conditioned=frozenset(c.column for c in parsed), taken=taken)
        # Personal values no rule or condition reads are made for the rows the check keeps only,
        # not for every row it draws (Faker's: 5.3 of 5.5 s for 2,000 rows of a rare condition on
        # a rebuilt column, 52,000 drawn).
        deferred = self._unchecked_personal(residual) if checker.needed else []
        decoded = [name for name in self.preprocessor_.schema.names if name not in deferred] if deferred else None

        def model_rows(rows: int, conditions: list[Condition], generator: torch.Generator, rng: np.random.Generator,
                       pilot: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, float | None]:
            """``rows`` rows of the model's table given ``conditions`` on it. A ``pilot``'s rows
            (see :meth:`_by_value`) come with the log of the conditions' estimated probability;
            they are counted, never returned: they say nothing of the rows returned, so they do
            not warn (their warning stood for rows no user saw, and kept the
            returned rows' own warning back)."""
            if conditions:
                frame, missed, evidence = parts.sample_conditional(rows, conditions, generator, rng, columns=decoded)
                if pilot:
                    return frame, evidence
                drawn = [c.column for c in conditions if not c.is_exact]
                if evidence is not None and rows and not told:
                    told.append(evidence)
                    # Only conditions on several columns, none an exact number or date, are
                    # warned of: one exact value of a fine column is rare by its resolution alone
                    # (one day of 34 years' dates: about 1 of 12,000), not by its company.
                    if judged and evidence < math.log(RARE_TOGETHER):
                        # Seattle's snow in December 2015 (no training row: the last snow was in
                        # 2013) came back as 2,000 rows, some at 23.9 C, without a word.
                        logger.warning(
                            "the conditions on %s hold together in %s of the model's rows (estimated): the rows "
                            "returned meet them, but the model learned little of such rows (the training data may "
                            "hold none), so check that the conditions can hold together", named, _rarity(evidence))
                    else:
                        logger.info("the conditions on %s hold together in %s of the model's rows (estimated from the "
                                    "draws that met them)", named, _rarity(evidence))
                if missed and not warned and missed >= 0.05 * rows * max(1, len(drawn)):
                    # Rows unlike any real one (snow at 34 C) came back with an info line only.
                    warned.append(missed)
                    # Named as the user's columns: a date's model parts ('date~year', 'date~cos')
                    # are no names the user knows.
                    users = self.constraints_.user_columns([c.column for c in conditions])
                    # One column the model learns as parts (a datetime's year, day and time of
                    # day): a set or range of it bounds each part, and there are no "other
                    # conditions" to check.
                    reason = (f"given each other (the model learns {users[0]!r} as several parts, each bounded by the "
                              f"condition, and finds those values too rare together)" if len(users) == 1 else
                              "given the other conditions (the model finds them too rare together)")
                    logger.warning(
                        "%d of %d values (%d a row) for the conditions on %s could not be drawn %s and were drawn from the "
                        "training values that meet their condition, independently of the rest of the row: such rows may "
                        "be unlike any real one; %s", missed,
                        rows * max(1, len(drawn)), max(1, len(drawn)), preview(self.constraints_.user_columns(drawn)), reason,
                        "a range of it instead of a set of values draws the parts together" if len(users) == 1 and any(
                            c.values is not None for c in parsed) else "check the conditions can hold together")
                elif missed:
                    logger.info("%d of %d conditioned values came from the restricted training distribution", missed, rows)
                return frame
            frame = self.preprocessor_.reverse_transform(self._sample_matrix(rows, generator), rng, columns=decoded)
            return (frame, None) if pilot else frame

        def pilot(rows: int, generator: torch.Generator, rng: np.random.Generator,
                  conditions: list[Condition] | None = None) -> tuple[pd.DataFrame, float | None]:
            """``rows`` rows of the user's table (before the check) given ``conditions`` (default:
            the model's), and the log of their estimated probability (see :meth:`_by_value`)."""
            frame, evidence = model_rows(rows, model_conditions if conditions is None else conditions, generator, rng, pilot=True)
            return self.constraints_.reverse(frame, pins), evidence

        if pins and n:
            # Pinned, the other side is the owned value less a difference drawn without it:
            # close, not exact; the check of plain draws is exact, and kept wherever the model
            # draws the value often enough (a whole number of credit lines, not a minute).
            frame, _ = model_rows(_PIN_PILOT_ROWS, model_conditions, *self._side_streams(base_seed), pilot=True)
            if self._meet(self.constraints_.reverse(frame), [c for c in residual if c.column in pins]).sum() >= _PIN_BELOW_HITS:
                pins = {}
        by_value = self._by_value(int(n), parsed, residual, pilot, self._side_streams(base_seed)) if n else None

        def draw(rows: int, generator: torch.Generator, rng: np.random.Generator) -> pd.DataFrame:
            """``rows`` rows of the user's table, before the check of rules and conditions."""
            if by_value is None:
                return self.constraints_.reverse(model_rows(rows, model_conditions, generator, rng), pins)
            # Each value's rows drawn given it alone (see _by_value), in random order.
            counts = rng.multinomial(rows, by_value.shares)
            frame = pd.concat([model_rows(int(count), conditions, generator, rng)
                               for count, conditions in zip(counts, by_value.conditions) if count or not rows], ignore_index=True)
            return self.constraints_.reverse(frame.iloc[rng.permutation(len(frame))].reset_index(drop=True), pins)

        self.last_resampling_ = checker.report()

        def state() -> tuple:
            return self.model_, self.prior_, self.preprocessor_, self.constraints_

        fitted = state()

        def unchanged() -> None:
            """Refuse a batch once the synthesizer was fitted again (the next batches were another
            table's columns), or one drawn while a refit set its new state."""
            if any(now is not then for now, then in zip(state(), fitted)):
                raise NotFittedError("the synthesizer was fitted again while its iter_sample was open: the batches "
                                     "left would come from the new model; call iter_sample again")

        def one_batch(batch: int) -> pd.DataFrame:
            """Batch ``batch``, from its own random streams only."""
            unchanged()
            start = batch * batch_size
            rows = min(batch_size, int(n) - start)
            generator, rng = self._batch_streams(base_seed, batch)
            if checker.needed:
                try:
                    frame = checker.rows(rows, lambda count: draw(count, generator, rng))
                finally:  # also after a ConstraintError: what the failed draws rejected
                    self.last_resampling_ = checker.report()
                if deferred:
                    width = self.preprocessor_.layout_.width
                    made = self.preprocessor_.reverse_transform(np.zeros((len(frame), width), dtype=np.float32), rng, columns=deferred)
                    frame = pd.concat([frame, made.set_axis(frame.index)], axis=1)
                    frame = frame[[c.name for c in self.schema_ if c.name in frame]]
            else:
                frame = draw(rows, generator, rng)
            frame = self.preprocessor_.finalize(frame.set_axis(pd.RangeIndex(start, start + rows)), offset=id_offset + start)
            unchanged()
            return frame

        def batches() -> Iterator[pd.DataFrame]:
            if first == stop:
                _, rng = self._batch_streams(base_seed, first)
                empty = np.zeros((0, self.preprocessor_.layout_.width), dtype=np.float32)
                yield self.preprocessor_.finalize(self.constraints_.reverse(self.preprocessor_.reverse_transform(empty, rng)), offset=id_offset)
            # Without conditions or unique rules (whose keys the batches share), a batch depends
            # on nothing but its streams, so whole batches can be drawn by several threads and
            # still give the same rows.
            parallel = not model_conditions and not checker.unique and self.device_.type == "cpu"
            yield from _ordered_map(one_batch, range(first, stop), workers=torch.get_num_threads() if parallel else 1)

        return batches()

    def _runs_as_ranges(self, parsed: list[Condition]) -> list[Condition]:
        """``parsed`` with each set of a calendar datetime's values that is every tick of a run
        (40 consecutive minutes) as that run's range, the same rows: a set only bounds each part
        the model learns, and of an event log's 40 minutes 141 of 882 values could not be drawn
        given the others (drawn from the training values alone, unlike any real row), where the
        range draws the parts together."""
        out = []
        for condition in parsed:
            values = condition.values
            if values is not None and len(values) > 1 and condition.column in self.constraints_.calendar and not any(pd.isna(v) for v in values):
                column = self.schema_[condition.column]
                ticks = {real_value(v, column): v for v in values}
                run = np.sort(np.fromiter(ticks, dtype=np.float64))
                if np.all(run == np.round(run)) and np.all(np.diff(run) == 1):
                    condition = Condition(condition.column, low=ticks[run[0]], high=ticks[run[-1]])
            out.append(condition)
        return out

    def _unchecked_personal(self, residual: list[Condition]) -> list[str]:
        """The personal columns sampling makes (not dropped) that no rule of the schema and no
        condition checked after drawing (``residual``) reads."""
        read = {name for rule in self.schema_.constraints for name in rule.columns} | {c.column for c in residual}
        return [c.column.name for c in self.preprocessor_.codecs_
                if c.column.kind is ColumnKind.PERSONAL and c.column.strategy is not PersonalStrategy.DROP and c.column.name not in read]

    def _ranges(self) -> dict[str, tuple[float, float]]:
        """The model's range of each numeric column (what the rules' hints and solved inputs of
        :class:`ConstraintPlan` may assume the inputs span)."""
        return {codec.column.name: (float(codec.low_), float(codec.high_)) for codec in self.preprocessor_.codecs_
                if getattr(codec, "low_", None) is not None and getattr(codec, "high_", None) is not None}

    def _steered(self, model_conditions: list[Condition], residual: list[Condition]) -> list[Condition] | None:
        """The conditions on the model's table once the ``residual`` ones (on rebuilt columns)
        steer it too, or ``None`` when they give no steer or the model has no conditional prior.

        A condition on a derived column steers the model through its input (the check still
        decides); a hint too narrow for the training values (a single value seen once) is
        widened until some lie in it, and meets the input's own condition if any.

        Raises:
            ParameterError: A hint and the input's own condition cannot both hold."""
        names = self.preprocessor_.schema.names
        given = {c.column: c for c in model_conditions}
        steered: dict[str, Condition] = {}
        for source, hint in self.constraints_.hints(residual, self._ranges(), model_conditions):
            own = steered.get(hint.column, given.get(hint.column))
            if own is not None and intersect(own, hint) is None:
                shown = replace(hint, **{end: float(f"{getattr(hint, end):.6g}") for end in ("low", "high") if getattr(hint, end) is not None})
                raise ParameterError(
                    f"conditions {own.describe()} and {source.describe()} cannot both hold: {source.column!r} is computed "
                    f"from {hint.column!r} by the schema's rules, and needs {shown.describe()}; drop or change one of them")
            codec = self.preprocessor_.codecs_[names.index(hint.column)]
            # A set of values (of a category: a calendar day) is not widened.
            pads = [0.0] if hint.values is not None else [(codec.high_ - codec.low_) * (2.0**d / 4096 if d else 0.0) for d in range(12)]
            for pad in pads:
                wider = replace(hint, low=None if hint.low is None else hint.low - pad,
                                high=None if hint.high is None else hint.high + pad)
                merged = wider if own is None else intersect(own, wider)
                try:
                    codec.draw_given(merged, 1, np.random.default_rng(0))
                except ParameterError:
                    continue
                steered[hint.column] = merged
                break
        if not steered or getattr(self, "conditional_", None) is None:
            return None
        return [steered.get(c.column, c) for c in model_conditions] + [h for column, h in steered.items() if column not in given]

    def _by_value(self, n: int, parsed: list[Condition], residual: list[Condition],
                  pilot: Callable[..., tuple[pd.DataFrame, float | None]],
                  streams: tuple[torch.Generator, np.random.Generator]) -> "_ValueSplit | None":
        """A set of values on a rebuilt column that the model draws one value at a time, or
        ``None``: a calendar datetime's dates (``date in [2012-01-01, 2015-06-01]``) or times, or
        a composed one's times. One date pins the columns the model learns (its year and its
        day's angle), but a set of them only bounds each column (the years, an arc of the
        circle), and the rows drawn within those bounds rarely rebuild one of the dates:
        seattle_weather's two dates three years and five months apart kept 7,149 of 1.47 million
        draws and failed at 20,000 rows. Each value's rows are drawn given that value alone
        instead, as many as the value's share of the model's rows that meet the conditions
        (:meth:`_value_shares`). A set of more than :data:`_SPLIT_FEW` values whose draws a
        first pilot of :data:`_SPLIT_PILOT_ROWS` of the model's rows given the whole set meet
        at least :data:`_SPLIT_BELOW` of the time (consecutive dates, whose arc is short) is not
        split: its draws stay, in the model's own shares and at no more cost (a review found 200
        consecutive dates 8x slower split, their shares off by up to 40% from a pilot of 20 rows
        a date). A few values are split even so: flights' two hours of two days kept half the
        draws, and took 20.2 s for 5,000 rows, 3.4 s split.

        Args:
            pilot: ``pilot(k, generator, rng, conditions=None)``: ``k`` rows of the user's
                table (before the check) given ``conditions`` on the model's table (default:
                the whole set's), and the log of the conditions' estimated probability
                (``None`` where none was estimated).
            streams: The pilots' random streams.
        """
        if not residual or getattr(self, "conditional_", None) is None:
            return None
        ranges = self._ranges()
        for condition in residual:
            values = condition.distinct_values
            if not 2 <= len(values) <= _SPLIT_MOST_VALUES:
                continue
            loose = {hint.column for _, hint in self.constraints_.hints([condition], ranges) if not hint.is_exact}
            if len(loose) < 2:  # a set on one learned column is drawn value by value already
                continue
            # The pilot first: where it keeps the set's draws, no value's conditions are needed
            # (200 consecutive dates took 3.9 s to build them, 0.4 s to draw).
            first = pilot(_SPLIT_PILOT_ROWS, *streams)
            if len(values) > _SPLIT_FEW and self._meet(first[0], residual).mean() >= _SPLIT_BELOW:
                return None
            kept, per_value = [], []
            for value in values:
                one = replace(condition, values=(value,))
                try:
                    if not all(hint.is_exact for _, hint in self.constraints_.hints([one], ranges)):
                        return None  # a value that pins no learned column: the set as it is
                    mine = [one if c is condition else c for c in parsed]
                    own, rest = self.constraints_.split_conditions(mine)
                    per_value.append(self._steered(own, rest) or own)
                except ParameterError:  # a value no sampled row can have: left out, as the set's hints do
                    continue
                kept.append(value)
            if len(kept) < 2:
                return None
            shares = self._value_shares(n, condition, kept, per_value, residual, pilot, streams, first)
            return None if shares is None else _ValueSplit(shares, per_value)
        return None

    def _meet(self, frame: pd.DataFrame, conditions: list[Condition]) -> np.ndarray:
        """Which rows of ``frame`` (the user's table) meet every one of ``conditions``."""
        ok = np.ones(len(frame), dtype=bool)
        for condition in conditions:
            ok &= self.constraints_.meets(frame, condition)
        return ok

    def _value_shares(self, n: int, condition: Condition, values: list, per_value: list[list[Condition]],
                      residual: list[Condition], pilot: Callable[..., tuple[pd.DataFrame, float | None]],
                      streams: tuple[torch.Generator, np.random.Generator],
                      first: tuple[pd.DataFrame, float | None]) -> np.ndarray | None:
        """Each of ``values``' share of the model's rows that meet the ``residual`` conditions
        (``condition``, the set, among them), or ``None`` when no value's rows meet them.

        Counted among the model's rows given the whole set (``first``, then more pilots: see
        :meth:`_pilot_counts`) where a weighted pool of the model's own rows drew ``first`` (its
        probability estimated) and the share of it that meets the conditions says fewer draws
        give enough than the probabilities below take (about 2 a row of each value's pool) and
        at most :data:`_SPLIT_PILOT_DRAWS`: seattle_weather's 60 dates at random, 1.6 s for
        20,000 rows, shares within 0.007 of the model's own rows. Elsewhere counting was slow,
        and only as right as the draws given the set's bounds: two minutes of one day (an hour's
        arc of the time of day and the set's days' arc, widened to hold training days) took
        82-167 s for 100 rows, each value drawn first, or a pool that kept 0.1% of its draws.

        A value's share is then the probability of conditions on the model's table that hold
        every way the model rebuilds the value (:meth:`ConstraintPlan.around`: a calendar
        date's years and arc of the days up to three away, which its weekday moves to it; else
        the value's own), as the pool that draws :data:`_SPLIT_VALUE_ROWS` rows given them
        estimates it (fewer for many values: :data:`_SPLIT_VALUES_ROWS` in all), times the
        share of those rows that rebuild the value and meet the other residual conditions: 0.3
        s. On seattle_weather (20 epochs) the shares of its first date against 2015-06-01 are
        0.37:0.63, the model's own rows' 0.36:0.64 (by the value's pinned parts alone
        0.52:0.48); of three dates with sun 0.10 / 0.37 / 0.53 against 0.12 / 0.39 / 0.50.
        Where no probability is estimated (under guidance, whose pools' weights are tilted) the
        shares are counted even so.
        """
        frame, evidence = first
        rows = max(_SPLIT_VALUE_ROWS // 8, min(_SPLIT_VALUE_ROWS, _SPLIT_VALUES_ROWS // len(values)))
        # Counting's draws against the probabilities' (a pool of about 2 draws a row, each value's).
        needed = _pilot_wanted(n, len(values)) / max(self._meet(frame, residual).mean(), 1e-9)
        if evidence is not None and needed <= min(_SPLIT_PILOT_DRAWS, 2 * rows * len(values)):
            counts = self._pilot_counts(n, condition, values, residual, pilot, streams, frame)
            return counts / counts.sum() if counts.sum() else None
        generator, rng = streams
        logs = []
        for value, conditions in zip(values, per_value):
            one = replace(condition, values=(value,))
            try:
                wide = {c.column: c for c in self.constraints_.around(one) or ()}
                frame, evidence = pilot(rows, generator, rng, [wide.get(c.column, c) for c in conditions])
            except ParameterError:  # no training value in the wider conditions: the value's own
                frame, evidence = pilot(rows, generator, rng, conditions)
            if evidence is None:
                counts = self._pilot_counts(n, condition, values, residual, pilot, streams, first[0])
                return counts / counts.sum() if counts.sum() else None
            share = self._meet(frame, [one if c is condition else c for c in residual]).mean()
            logs.append(evidence + math.log(share) if share else -math.inf)
        logs = np.asarray(logs)
        if not np.isfinite(logs).any():
            return None
        weights = np.exp(logs - logs.max())
        return weights / weights.sum()

    def _pilot_counts(self, n: int, condition: Condition, values: list, residual: list[Condition],
                      pilot: Callable[..., tuple[pd.DataFrame, float | None]],
                      streams: tuple[torch.Generator, np.random.Generator], first: pd.DataFrame) -> np.ndarray:
        """How many of the model's rows given the whole set (``first``, then more pilots of at
        least :data:`_SPLIT_PILOT_ROWS` rows) that meet every residual condition rebuild each
        value: until :func:`_pilot_wanted` do or :data:`_SPLIT_PILOT_DRAWS` are drawn."""
        generator, rng = streams
        counts, drawn, frame = np.zeros(len(values), dtype=np.int64), 0, first
        wanted = _pilot_wanted(n, len(values))
        while True:
            drawn += len(frame)
            met = frame.loc[self._meet(frame, residual), condition.column]
            for i, value in enumerate(values):
                counts[i] += int(self.constraints_.meets(met.to_frame(), replace(condition, values=(value,))).sum())
            if counts.sum() >= wanted or drawn >= _SPLIT_PILOT_DRAWS:
                return counts
            # Enough for the rest at the share met so far (plus 20%), in rounds of a bounded size.
            share = max(counts.sum(), 1) / drawn
            frame = pilot(int(min(_SPLIT_PILOT_DRAWS - drawn, 16 * _SPLIT_PILOT_ROWS,
                                  max(_SPLIT_PILOT_ROWS, 1.2 * (wanted - counts.sum()) / share))), generator, rng)[0]

    def sample_to(
        self,
        path: str | os.PathLike,
        n: int,
        *,
        conditions: ConditionsLike = None,
        seed: int | None = None,
        batch_size: int = 50_000,
        rows_per_file: int | None = None,
        shard: tuple[int, int] | None = None,
        guidance: float = 1.0,
    ) -> Path:
        """Draw ``n`` rows straight into Parquet or CSV, one batch at a time: memory stays that
        of one batch at any ``n``. The output holds exactly the rows of ``sample`` with the same
        arguments, called instead (taking the same next ids), and each file appears complete or
        not at all (atomic, as
        :func:`synthvae.write_table`).

        Args:
            path: A ``.parquet`` / ``.csv`` file; with ``rows_per_file`` or ``shard`` a folder
                (a partitioned dataset that ``pyarrow.dataset`` or ``read_table`` of each part
                reads), whose parts are Parquet unless the folder's name ends like a CSV file
                (``.csv``, ``.csv.gz``, ``.tsv``, ...: parts ``part-00000.csv.gz``, ...).
            rows_per_file: Split the rows into files ``part-00000.parquet``, ... of this many
                rows (the last fewer). The folder appears complete once every part is written;
                an existing folder of that name is replaced, when it holds only such parts (a
                folder holding anything else is refused: it would be deleted). Files are cut
                from the batches wherever they end, so the rows are those of ``sample`` with
                the same ``batch_size``, whatever ``rows_per_file`` is.
            shard: ``(i, k)``: write only shard ``i`` of ``k`` (see :meth:`iter_sample`) as
                ``part-{i:05d}-of-{k:05d}`` in the folder, created if missing. ``k`` processes
                (or machines sharing the folder) with the same arguments write one dataset,
                reproducible, with no stream drawn twice.
            Other args, raises: as :meth:`sample`, and as :func:`synthvae.io.write_tables`.

        Returns:
            The path written (the file, the folder, or the shard's part).
        """
        path = Path(path)
        if rows_per_file is not None and shard is not None:
            raise ParameterError("give rows_per_file or shard, not both (each shard writes one file)")
        if rows_per_file is None and shard is None:
            batches = self.iter_sample(n, conditions=conditions, seed=seed, batch_size=batch_size, guidance=guidance)
            return write_tables(batches, path, datetime_formats(self.schema_))[0]
        # Parts in the folder's own format: a ".csv.gz" or ".tsv" folder got Parquet parts.
        suffix = next((end for end in CSV_SUFFIXES if path.name.lower().endswith(end)), ".parquet")
        if shard is not None:
            batches = self.iter_sample(n, conditions=conditions, seed=seed, batch_size=batch_size, shard=shard, guidance=guidance)
            index, count = (int(v) for v in shard)
            if path.exists() and not path.is_dir():
                raise DataError(f"cannot write shards into {str(path)!r}: it is a file; give a folder")
            if not path.parent.is_dir():
                raise DataError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
            mine = re.compile(rf"part-\d{{5}}-of-{count:05d}{re.escape(suffix)}")
            # Hidden names are other shards' files being written (".part-...tmp").
            others = sorted(p.name for p in path.iterdir() if not p.name.startswith(".") and not mine.fullmatch(p.name)) if path.is_dir() else []
            if others:
                # Shards of another split (or format), a rows_per_file dataset or any other file
                # would be read as one dataset with these (a finished dataset of 10,000 rows and a
                # shard of another run were read back as 12,000 rows: a user review).
                raise DataError(f"cannot write shard {index} of {count} into {str(path)!r}: it holds files that are no "
                                f"parts of this split {preview(others)}; write into an empty folder, or remove them")
            made = not path.exists()
            try:
                path.mkdir(exist_ok=True)
            except OSError as exc:  # a raw traceback (a folder it may not write in)
                raise DataError(f"cannot write shards into {str(path)!r}: cannot create the folder ({exc.strerror or exc})") from None
            try:
                return write_tables(batches, path / f"part-{index:05d}-of-{count:05d}{suffix}", datetime_formats(self.schema_))[0]
            except BaseException:
                if made:  # a stopped or failed shard leaves no empty folder it made (other shards' parts stay)
                    with contextlib.suppress(OSError):
                        path.rmdir()
                raise
        _check_count("rows_per_file", rows_per_file, minimum=1)
        _check_replaceable(path)
        batches = self.iter_sample(n, conditions=conditions, seed=seed, batch_size=batch_size, guidance=guidance)
        with atomic_folder(path) as folder:
            for number, group in enumerate(_row_files(batches, int(rows_per_file))):
                write_tables(group, folder / f"part-{number:05d}{suffix}", datetime_formats(self.schema_))
        return path

    def _draw_streams(self, seed: int | None) -> tuple[torch.Generator, np.random.Generator]:
        """The torch and numpy random streams of one call, from ``seed`` (or the instance stream)."""
        return self._batch_streams(self._resolve_seed(seed), 0)

    def _resolve_seed(self, seed: int | None) -> int:
        """``seed``, checked, or the next seed of the instance stream when ``None``."""
        if seed is not None and (not is_integer(seed) or seed < 0):
            raise ParameterError(f"seed must be a non-negative integer or None, got {seed!r}")
        return int(self._sample_rng.integers(0, 2**63 - 1)) if seed is None else int(seed)

    def _batch_streams(self, seed: int, batch: int) -> tuple[torch.Generator, np.random.Generator]:
        """The torch and numpy streams of batch ``batch`` of a call seeded ``seed``: the seed's
        own for batch 0, its ``batch``-th child sequence after that."""
        return self._streams(np.random.SeedSequence(seed, spawn_key=(batch,) if batch else ()))

    def _side_streams(self, seed: int) -> tuple[torch.Generator, np.random.Generator]:
        """The torch and numpy streams of a call's work before its batches (the same in every
        shard of it), apart from every batch's (see :meth:`_batch_streams`)."""
        return self._streams(np.random.SeedSequence(seed, spawn_key=(0, 1)))

    def _streams(self, sequence: np.random.SeedSequence) -> tuple[torch.Generator, np.random.Generator]:
        """A torch and a numpy stream seeded from ``sequence``."""
        torch_seed, numpy_seed = sequence.generate_state(2)
        return torch.Generator(device=self.device_).manual_seed(int(torch_seed)), np.random.default_rng(int(numpy_seed))

    def _shard_batches(self, n: int, batch_size: int, shard: tuple[int, int] | None) -> tuple[int, int]:
        """The batches ``[first, stop)`` of ``shard`` among the ``ceil(n / batch_size)``."""
        total = -(-int(n) // batch_size)
        if shard is None:
            return 0, total
        pair = tuple(shard) if isinstance(shard, (tuple, list)) else ()
        if len(pair) != 2 or not all(is_integer(v) for v in pair):
            # int() took (0.5, 2), ("0", "2") and (True, 2).
            raise ParameterError(f"shard must be a pair (i, k) of integers, got {shard!r}")
        index, count = (int(v) for v in pair)
        if not 0 <= index < count:
            raise ParameterError(f"shard ({index}, {count}): need 0 <= i < k")
        if count > 1 and any(rule.kind.value == "unique" for rule in self.schema_.constraints):
            raise ParameterError(
                "a schema with a unique rule cannot be sampled in shards: each shard would need "
                "the others' rows to keep it; sample in one process"
            )
        if count > total and n:
            fix = (f"give every shard a batch size of at most {int(n) // count} (--batch-size)" if int(n) >= count else
                   f"{int(n)} rows cannot fill {count} shards: some must stay empty")
            logger.warning("%d rows are %d batches of %d and shards are cut by whole batches (so that together they are "
                           "sample(n)): %d of the %d shards get no rows; %s", n, total, batch_size, count - total, count, fix)
        return index * total // count, (index + 1) * total // count

    def _guided(self, model_conditions: list, residual: list) -> set[str]:
        """The model's columns guidance weighs for conditions split by
        ``constraints_.split_conditions``: the user's single values, on the model's table (not a
        set's values drawn one by one, nor a range's values drawn first)."""
        guided = {c.column for c in model_conditions if c.is_exact}
        hints = self.constraints_.hints([c for c in residual if c.is_exact], self._ranges())
        return guided | {hint.column for _, hint in hints if hint.is_exact}

    def _generator(self, guidance: float = 1.0, guided: frozenset = frozenset()) -> Generator:
        if getattr(self, "conditional_", None) is None:
            raise NotFittedError(
                "this model has no conditional prior, which conditional sampling, augment and impute "
                "need: fit with Synthesizer(conditional=True) (the default), or synthvae fit without --no-conditional"
            )
        return Generator(self.preprocessor_, self.model_, self.conditional_, self.prior_, self.device_, guidance=float(guidance),
                         guided=frozenset(guided), null_owners=self.constraints_.null_owners(),
                         periods=self.constraints_.periods())

    # ------------------------------------------------------- beyond sampling
    def augment(
        self,
        data: TableLike,
        *,
        target: str | None = None,
        balance: bool = False,
        rows: int | None = None,
        ratio: float | None = None,
        marker: str = "synthetic",
        seed: int | None = None,
        guidance: float | None = None,
        source: str | None = None,
    ) -> pd.DataFrame:
        """The real rows plus synthetic ones, with a boolean column ``marker`` saying which is which.

        Give exactly one of:
        - ``balance=True`` (needs ``target``): each class of ``target`` gets synthetic rows of
          that class (conditional sampling) until it has as many rows as the largest class;
        - ``rows=N``: ``N`` synthetic rows (of the real class mix, or with ``target`` given, of
          the real class proportions exactly; rows whose target is missing are no class, and
          every synthetic row then names one);
        - ``ratio=R``: ``R`` times as many synthetic rows as real ones.

        With ``target``, each class's rows are drawn with ``guidance`` (``None``: 10, or 1 for a
        target the model learns only through the schema's rules, such as a category of a fixed
        combination, which guidance cannot weigh; see :meth:`sample`): rows where the model is
        surest of their class, which teach a classifier better than the model's own rows of the
        class (``guidance=1``), many of which the model itself would give another class
        (balancing with them taught a classifier to see the minority everywhere). Guided rows
        are not the class's distribution but a narrower one drawn toward its most typical
        rows: seattle_weather's synthetic drizzle days fell 96% in November to January at 10,
        against 28% of the real ones. Where the added rows are read as data, not only fed to a
        classifier, use ``guidance=1``. ``benchmarks/bench_augment.py`` (fit seeds 0-3, a
        gradient boosting classifier scored on held-out rows), macro F1 with ``balance=True`` at
        guidance 1 / 3 / 6 / 10, and the added rows' fidelity to their class (quality score
        against the class's real rows) at 1 and 10: churn 0.815 / 0.867 / 0.880 / 0.888 (real
        rows alone 0.899, random oversampling and SMOTE-NC 0.896; minority recall 0.820 at 10
        against 0.750 / 0.780 / 0.768), fidelity 0.943 / 0.918; german_credit 0.684 / 0.711 /
        0.714 / 0.698 (real 0.729, oversampling 0.696, SMOTE-NC 0.683), fidelity 0.923 / 0.849;
        seattle_weather's five classes 0.517 / 0.569 / 0.588 / 0.593 (real 0.606, 0.608,
        0.584), fidelity 0.905 / 0.811. With ``ratio=1`` (the real class mix): churn 0.864 at
        1, 0.899 at 10. A model fitted with ``Synthesizer(target=...)`` naming the column
        keeps the class in its latent, so guidance has nothing to sharpen there (churn 0.821 at
        1, 0.815 at 10): fit without it.

        The schema's rules hold in the whole table: a ``unique`` rule's key of a synthetic row is
        none of the real rows' nor another synthetic row's (across classes too).

        Columns of ``data`` the model does not know are kept for the real rows and left null in
        the synthetic ones (integer and boolean ones as nullable ``Int64`` / ``boolean``: an
        int64 column came back as floats). ``source`` names the table in error messages
        (default: the path, or "data to augment").

        Returns:
            Real rows first (index reset), then synthetic rows, in the schema's dtypes.
        """
        self._check_fitted()
        frame, label = _read(data, "data to augment", self.schema_)
        source = source or label  # the CLI reads the file once and names it
        check_augment_arguments(frame.columns, target, balance, rows, ratio, guidance, marker, self.schema_.names)
        self._warn_zones(frame, source, "augment's synthetic rows")
        real = conform(frame, self.schema_, source, check_bounds=False, allow_extra=True, check_nulls=False)
        if target is not None and str(target) in real and not self.schema_[str(target)].nullable and real[str(target)].isna().any():
            # The advice was to impute them: class labels guessed by the model, then balanced.
            raise DataError(f"{source}: {int(real[str(target)].isna().sum())} rows have no value of the target {target!r}, which "
                            f"the model never saw missing: drop them first (frame.dropna(subset=[{target!r}])), then augment")
        self._refuse_missing_cells(real, source, "the real rows keep the schema's types beside the synthetic ones: fill them "
                                                 "first (Synthesizer.impute, synthvae impute), then augment")
        real = self._as_sampled(real)
        # Columns the model does not know stay with the real rows (the synthetic ones get nulls);
        # a column labelled 0 is the model's column "0" (conformed, the rows have it as "0").
        extra = [c for c in frame.columns if str(c) not in self.schema_.names]
        if extra:
            logger.warning("%s: columns %s are not in the model: the real rows keep them, the synthetic rows get nulls there "
                           "(drop them first to leave them out)", source, preview(extra))
        for name in extra:
            values = frame[name]
            if values.dtype.kind in "iub":  # a nullable dtype of the same kind holds the synthetic rows' nulls
                values = values.astype({"i": "Int64", "u": "UInt64", "b": "boolean"}[values.dtype.kind])
            real[name] = pd.Series(values.array, index=real.index)
        if target is not None and not isinstance(target, str):
            target = str(target)  # the model's column names are text: a column labelled 0 is "0"
        if target is not None and self.schema_[target].kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            # Each distinct value would be a class: 1,959 "classes" of churn's day minutes, every
            # synthetic row pinned to an exact real value.
            raise ParameterError(numeric_target(target, self.schema_[target], real[target]))
        if rows is not None:
            _check_count("rows", rows)
            total = int(rows)
        elif ratio is not None:
            if not _is_number(ratio, 0):
                raise ParameterError(f"ratio must be a finite non-negative number, got {ratio!r}")
            total = int(round(ratio * len(real)))
        counts = {}
        if target is not None:
            observed = ranked_counts(real[target].dropna())  # ties in one order under any pandas
            observed = observed[observed > 0]
            if observed.empty:
                raise ParameterError(f"target {target!r} has no value in {source} " +
                                     ("(it has no rows)" if real.empty else "(every cell is null)") +
                                     ", so there are no classes to draw rows of; name another target, or leave it out")
            largest = int(observed.max())
            classes = self._classes(target)
            known = set(classes)
            never = [c for c in observed.index if c not in known]
            if never:
                # A class min_category_rows keeps out (or no training row had) failed the whole
                # call with a condition the user never gave.
                logger.warning("%s: classes %s of target %r are never generated (no training row, or fewer than "
                               "min_category_rows=%d), so no synthetic rows of them are added", source, preview(never),
                               target, int(self.min_category_rows))
                observed = observed[[c in known for c in observed.index]]
                if observed.empty:
                    raise ParameterError(f"target {target!r}: the classes of {source} ({preview(never)}) are never "
                                         f"generated by this model, so there are no rows to add")
            if guidance is None:
                # The default steers a class the model learns as a value; a target it sees only
                # through the schema's rules (a category of a fixed combination: grade beside
                # sub_grade) gets the model's own rows of each class, as at guidance 1.
                split = self.constraints_.split_conditions(parse_conditions({target: [observed.index[0]]}, self.schema_))
                guidance = AUGMENT_GUIDANCE if self._guided(*split) else 1.0
            if balance:
                counts = {value: largest - int(count) for value, count in observed.items()}
                absent = [c for c in classes if c not in set(observed.index)]
                if absent:
                    # Nothing was added for them, and nothing said so.
                    logger.warning("%s: classes %s of target %r, which the model knows, have no row in it, so balance adds "
                                   "none of them (it equalises the classes the table has); to add them, sample them "
                                   "(conditions={%r: [...]}) or augment rows=", source, preview(absent), target, target)
                elif len(observed) == 1:
                    # Wrote the table back unchanged with exit 0 and no word (a review).
                    logger.warning("%s: target %r holds one class (%r), already balanced: balance adds no row; for more "
                                   "rows give rows= or ratio=", source, target, observed.index[0])
            else:
                shares = observed / observed.sum()
                counts = dict(zip(shares.index, _apportion(total, shares.to_numpy())))
        # The keys of the schema's unique rules: the synthetic rows take none the real rows hold,
        # nor one another's across the classes' draws (each a sample call of its own repeated
        # 45 of 1,339 keys, and 164 of 750 rows repeated a real row's).
        taken = {rule: full_keys(real, rule) for rule in self.constraints_.schema.constraints if isinstance(rule, Unique)}
        if target is None:
            synthetic = self._sample(total, None, seed, taken=taken)
        else:
            streams = np.random.SeedSequence(seed if seed is not None else int(self._sample_rng.integers(0, 2**63 - 1)))
            parts = [
                self._sample(count, {target: [value]}, int(child.generate_state(1)[0]), guidance=guidance, taken=taken)
                for (value, count), child in zip(counts.items(), streams.spawn(len(counts)))
            ]
            synthetic = pd.concat(parts, ignore_index=True) if parts else self.sample(0)
            synthetic = self.preprocessor_.finalize(synthetic)  # ids unique across the classes
        # New ids also above those of the rows given, which may pass the training rows' (real
        # ids 1400-1409 and five new rows gave 1400-1404 twice).
        for codec in self.preprocessor_.codecs_:
            if codec.column.kind is ColumnKind.ID and len(real):
                numbers = id_numbers(real[codec.column.name], codec.column)
                if len(numbers) and int(numbers.max()) >= codec.first_:
                    ids = codec.ids(len(synthetic), int(numbers.max()) + 1 - codec.first_).set_axis(synthetic.index)
                    synthetic[codec.column.name] = ids.mask(synthetic[codec.column.name].isna())  # null rows stay null
        real[marker], synthetic[marker] = False, True
        for name in synthetic.columns:  # categories the sample leaves out (min_category_rows) stay the real rows'
            if isinstance(synthetic[name].dtype, pd.CategoricalDtype) and isinstance(real[name].dtype, pd.CategoricalDtype):
                synthetic[name] = synthetic[name].astype(real[name].dtype)
        out = pd.concat([real, synthetic], ignore_index=True)
        # Datetimes given with a time zone come back in it, the real rows' as given (conformed
        # they were UTC without one: 2021-08-16 00:00+02:00 became 2021-08-15 22:00); others of
        # a column with a timezone in that zone, as sample gives them.
        for column in self.schema_:
            given = frame[column.name] if column.name in frame.columns else None
            if given is not None and dtype_zone(given.dtype) is not None:
                out[column.name] = in_users_dtype(out[column.name], given.dtype, time_zone(column.timezone))
            elif column.timezone and column.name in out:
                out[column.name] = in_zone(out[column.name], time_zone(column.timezone))
            elif column.duration and column.name in out:  # durations as sample gives them, in the user's resolution
                out[column.name] = as_durations(out[column.name], column.duration)
                if given is not None and holds_durations(given) and given.dtype != object:
                    out[column.name] = in_users_dtype(out[column.name], given.dtype)
        # The table's own labels (a column labelled 0 came back as "0", the real rows' too).
        labels = {str(label): label for label in frame.columns}
        for name in self.schema_.names:
            given = frame[labels[name]] if name in labels else None
            if given is not None and isinstance(given.dtype, pd.CategoricalDtype) and name in out:
                # A categorical dtype comes back as given (its order, its categories): it came back
                # as text, and concatenated with the input the column became text (a user review).
                new = [v for v in pd.unique(out[name].dropna()) if v not in set(given.cat.categories)]
                if all(isinstance(v, str) for v in new) and all(isinstance(c, str) for c in given.cat.categories):
                    kept = given.dtype if not new else pd.CategoricalDtype([*given.cat.categories, *sorted(new)], given.cat.ordered)
                    out[name] = out[name].astype(kept)
                elif not new:
                    out[name] = out[name].astype(given.dtype)
            elif (given is not None and name in out and isinstance(out[name].dtype, pd.CategoricalDtype)
                  and pd.api.types.is_numeric_dtype(given.dtype) and not pd.api.types.is_bool_dtype(given.dtype)
                  and pd.api.types.is_numeric_dtype(out[name].cat.categories.dtype)):
                # Whole numbers learned as classes (a 0/1 target) come back as the table gave them,
                # not as a categorical dtype, whose mean raised (a review of the session's diff).
                kind = given.dtype if not out[name].isna().any() or given.dtype.kind == "f" else (
                    "Int64" if given.dtype.kind == "i" else given.dtype)
                out[name] = out[name].astype(kind)
        return out.set_axis([labels.get(name, name) for name in out.columns], axis=1)

    def impute(
        self,
        data: TableLike,
        *,
        columns: list[str] | str | None = None,
        method: str = "mean",
        draws: int | None = None,
        calibrate: bool = True,
        seed: int | None = None,
        source: str | None = None,
    ) -> pd.DataFrame | list[pd.DataFrame]:
        """Fill the unknown cells of a table with values drawn from the model given each row's
        observed cells. Observed cells, and nulls the schema marks as meaningful
        (``meaningful_nulls``), are left as they are.

        Args:
            data: A DataFrame or a CSV / Parquet path with the schema's columns (other columns
                are carried along untouched).
            columns: Only fill these columns (a list, or one name; default: all).
            method: ``"mean"`` (default): one table whose numeric cells are the mean of
                ``draws`` (default 32) draws and other cells the most frequent draw: the best
                single guess (a datetime's time of day averaged on the clock's circle: 23:00
                and 01:00 give midnight, not noon). ``"draw"``: ``draws`` (default 1) tables, each one independent draw
                from the model given the observed cells (multiple imputation); a list when
                ``draws > 1``. With 20% of held-out rows' cells hidden, the hidden number lay in
                the central 90% of its 20 draws (randomised PIT, 0.90 for exact draws) for 0.882
                (churn) and 0.891 (german_credit) of cells (``benchmarks/results/generation.md``):
                between-imputation variances about right, a little narrow.
                ``"expectation"``: as ``"mean"``, but numeric cells are the model's expected
                value given the row, off the column's grid (floats: 1.56 service calls, where
                ``"mean"`` gives 2), as scikit-learn's IterativeImputer fills them: the best
                estimate in squared error, for a model downstream, not a value the column holds.
            calibrate: With ``method="mean"`` or ``"expectation"``, mix each numeric or datetime column's means
                with the best linear prediction from the row's observed cells under the model
                (a Gaussian conditional fitted on 20,000 rows the model generates,
                :class:`synthvae.linear_conditional.LinearConditional`): the draws, chosen
                among a few proposals a row, use the observed cells' linear evidence only in
                part. The mix's weight is the one that predicts hidden values best on 2,000
                further model rows (fewer for more than 32 draws) hiding the cells the table's
                rows hide (see :meth:`synthvae.generation.Generator._calibration`). Costs one
                imputation of those rows, whatever the table's size: about 5 s on churn at 1
                thread, so a table of a few rows takes 5 s instead of 0.1 s. No real row is
                used. ``False``: the plain means, for a few rows at a time where speed matters
                more (churn's held-out rows in tables of 50, numeric RMSE in standard units
                0.742 against 0.733; german_credit's in tables of 10, 0.930 against 0.927).
            seed: Same seed and table, same result. The draws share one random stream over the
                rows, so a row's fill moves with its place in the table and the rows beside it as
                it does with the seed (``"mean"``'s best guess of a category is the most frequent
                of its draws: where two are near even, a toss); more ``draws`` steady it.
            source: The table's name in error messages (default: the path, or "data to
                impute"): the CLI reads the file once and names it.

        Returns:
            The completed table (the input's columns, dtypes and index; a column given as text
            comes back as text, its observed numbers written as the model writes them: "39.10"
            as "39.1", "3,750" as "3750"), or a list of them.
        """
        self._check_fitted()
        frame, label = _read(data, "data to impute", self.schema_)
        source = source or label
        parts = self._generator()
        if method not in ("mean", "expectation", "draw"):
            raise ParameterError(f"method must be 'mean', 'expectation' or 'draw', got {method!r}")
        draws = (1 if method == "draw" else 32) if draws is None else draws
        _check_count("draws", draws, minimum=1)
        if columns is not None and (isinstance(columns, str) or not isinstance(columns, Iterable)):
            columns = [columns]  # one name, not its letters
        if columns is not None:
            # The model's column names are text: a column labelled 2 is the model's "2".
            columns = [c if isinstance(c, str) else str(c) for c in columns]
            unknown = [c for c in columns if c not in self.schema_.names]
            if unknown:
                raise ParameterError(f"impute columns: {unknown_column(unknown[0], self.schema_.names)}"
                                     + (f" (also unknown: {preview(unknown[1:])})" if len(unknown) > 1 else ""))
            # Their nulls stayed, without a word (a user review); columns=df.columns with complete
            # ids asks nothing impossible.
            made_up = [c for c in columns if self.schema_[c].is_generated and c in frame.columns and frame[c].isna().any()]
            if made_up:
                raise ParameterError(f"impute columns: {preview(made_up)} are id or personal columns with missing cells, "
                                     f"which the model does not learn (sample makes their values up), so impute cannot "
                                     f"fill them; name learned columns, or fill them yourself")
        user = self._conformed(frame, source)
        self._warn_out_of_bounds(user, source)
        made_up = [c.name for c in self.schema_ if c.is_generated and c.name in user and user[c.name].isna().any()]
        if made_up and columns is None:
            # Used as SDV's sample_remaining_columns, impute left the keys and e-mails of the new
            # rows empty without a word (an SDV migrant's review).
            logger.warning("%s: columns %s (id or personal: the model does not learn them) keep their %d missing cells; "
                           "for new rows, take such values from sample(n), which makes them up", source, preview(made_up),
                           int(user[made_up].isna().sum().sum()))
        learned = [c.name for c in self.schema_ if not c.is_generated and not c.meaningful_nulls]
        blank = user[learned].isna().all(axis=1).to_numpy() if learned and len(user) else np.zeros(len(user), bool)
        if blank.any():
            # A row of nothing was filled with Adelie penguins of the all-species mean bill length.
            logger.warning("%s: %d rows (index %s) have no observed cell the model learns: they are filled from the model "
                           "alone, like sampled rows%s", source, int(blank.sum()), preview(frame.index[blank].tolist()),
                           f"; method={method!r} averages draws of unrelated rows, a mix of several kinds of row, not one "
                           f"of them" if method != "draw" else "")
        generator, rng = self._draw_streams(seed)
        self.model_.eval()
        if self.constraints_.active:
            self._warn_broken_rules(user, frame.index, source)
            tables = self._impute_with_rules(parts, frame, user, source, columns, int(draws), method, generator, rng, calibrate)
        else:
            tables = parts.impute(frame, source, columns, int(draws), method, generator, rng, calibrate, conformed=user)
        return tables if method == "draw" and draws > 1 else tables[0]

    def _warn_out_of_bounds(self, user: pd.DataFrame, source: str,
                            consequence: str = "the missing cells of those rows are imputed given values the model never saw") -> None:
        """Log observed cells of a conformed table beyond the schema's bounds: the rows are
        imputed (or embedded) all the same (such a table is not training data), with what
        that means said by ``consequence``."""
        for column in (c for c in self.schema_ if c.name in user):
            try:
                refuse_out_of_bounds(user[column.name], column, source)
            except DataError as exc:
                logger.warning("%s; %s", str(exc).split("; ")[0], consequence)

    def _warn_off_grid(self, user: pd.DataFrame, source: str) -> None:
        """Log datetimes of a conformed table to embed that lie between the whole units of their
        column (10:30 of a column of whole hours): the model learned none such, and embeds
        each as the unit it falls in (a time of day learned as a part) or beside it (a
        timestamp): an encoded 10:30 was 10:00's embedding, without a word."""
        for column in (c for c in self.schema_ if c.name in user and c.kind is ColumnKind.DATETIME):
            ticks = real_values(user[column.name], column)
            off = ~np.isnan(ticks) & (ticks != np.floor(ticks))
            if off.any():
                words = grid_words(column)
                logger.warning("%s: %d value%s of datetime column %r (e.g. %s) lie between the %s the model learned: each "
                               "is embedded as (or beside) the one it falls in; round them to %s first to choose which",
                               source, int(off.sum()), "" if off.sum() == 1 else "s", column.name,
                               preview([str(v) for v in user[column.name][off].head(3)]), words, words)

    def _warn_broken_rules(self, user: pd.DataFrame, index: pd.Index, source: str) -> None:
        """Log rows of a conformed table to impute whose observed cells alone break a rule of the
        schema (every cell of the rule given): they are imputed all the same, given cells the
        model never saw together, and stay broken (encode refuses such rows)."""
        given = user.reset_index(drop=True)
        for rule, rows in self.constraints_.violations(given).items():
            known = [given[name].notna().to_numpy() for name in rule.columns if name in given]
            broken = rows & np.logical_and.reduce(known) if known else rows
            if broken.any():
                at = np.flatnonzero(broken)
                one = at.size == 1
                logger.warning("%s: %d row%s (index %s) break%s %s with observed cells alone; missing cells there are imputed "
                               "given them all the same, and the rule stays broken: fix those cells or drop the row%s",
                               source, at.size, "" if one else "s", preview(index[at].tolist()), "s" if one else "",
                               rule.describe(), "" if one else "s")

    def _impute_with_rules(self, parts: Generator, frame, user, source, columns, draws, method, generator, rng,
                           calibrate: bool, rounds: int = 20):
        """Imputation when the schema has rules: the model completes the model's table (a model
        cell is unknown when any user cell it is made of is), the rules rebuild the user's
        columns (the learned side of an inequality whose other side the row knows is that side
        less the drawn difference: :meth:`ConstraintPlan.known_sides`), the user's observed
        cells are put back, and rows that then break a rule are
        completed again by single draws (``rounds`` times at most); the rows left are mended by
        :meth:`ConstraintPlan.repair` (only filled cells change). Rows still breaking a rule
        (their observed cells alone break it) are logged and counted in ``last_resampling_``.
        ``user`` is ``frame`` conformed (:meth:`_conformed`)."""
        # A null a null-when rule makes (an individual application's joint income) is no
        # unknown value: kept, like a meaningful null.
        structural = self.constraints_.structural_nulls(user)
        kept = {c.name: np.full(len(user), c.meaningful_nulls) | structural.get(c.name, False) for c in self.schema_}
        fill = {
            c.name: user[c.name].isna().to_numpy() & ~kept[c.name] & (columns is None or c.name in columns)
            for c in self.schema_
            if not c.is_generated
        }
        given = user.reset_index(drop=True)
        # Unknown cells left unknown (not among ``columns``): a rule over one of them cannot be
        # judged on that row (a null charge beside filled minutes broke "charge = minutes *
        # 0.17", and the mean was replaced by 20 rounds of single draws).
        unjudged = {name: given[name].isna().to_numpy() & ~cells & ~kept[name] for name, cells in fill.items()}
        # Rows no filled cell can make keep a lookup rule (their given keys never seen together)
        # are filled once, as the model gives them, and not drawn again.
        none = np.zeros(len(given), dtype=bool)
        stuck = {rule: rows & np.logical_or.reduce([fill.get(name, none) for name in rule.columns])
                 for rule, rows in self.constraints_.unmendable(given, fill).items()}
        for rule, rows in stuck.items():
            if rows.any():
                at = np.flatnonzero(rows)
                logger.warning("%s: %d row%s (index %s) cannot keep %s whatever is filled: their given cells were never seen "
                               "together in the training rows; filled as the model gives them, the rule stays broken: fix "
                               "those cells or drop the rows", source, at.size, "" if at.size == 1 else "s",
                               preview(frame.index[at].tolist()), rule.describe())
        ranges = self._ranges()
        user = self.constraints_.solve_inputs(given, fill, ranges=ranges)
        model = self.constraints_.forward(user, partial=True)
        observed = self._as_sampled(user)
        any_fill = np.logical_or.reduce([cells for cells in fill.values()]) if fill else np.zeros(len(user), bool)

        def complete(rows: np.ndarray, how: str = method, copies: int = draws) -> list[pd.DataFrame]:
            tables = parts.impute(model.iloc[rows].reset_index(drop=True), source, None, copies, how, generator, rng, calibrate)
            out = []
            seen = pd.DataFrame({name: observed[name].iloc[rows].reset_index(drop=True) for name in fill})
            holes = {name: cells[rows] for name, cells in fill.items()}
            for table in tables:
                rebuilt = self.constraints_.reverse(table[self.preprocessor_.schema.names])
                # A learned side of an inequality whose other side the row knows: from that side.
                for name, (cells, values) in self.constraints_.known_sides(table, seen, holes).items():
                    rebuilt[name] = rebuilt[name].where(~cells, values.astype(rebuilt[name].dtype))
                merged = {}
                for name, cells in holes.items():
                    mine = seen[name]
                    if not cells.any():
                        merged[name] = mine
                        continue
                    if how == "expectation" and pd.api.types.is_integer_dtype(mine.dtype):
                        mine = mine.astype("float64")  # expected values off an integer column's grid
                    merged[name] = mine.where(~cells, rebuilt[name])
                out.append(pd.DataFrame(merged))
            return out

        def broken(table: pd.DataFrame, counts: dict[str, int] | None = None) -> np.ndarray:
            """Rows breaking a rule over a cell filled here (a rule between cells left unfilled,
            by ``columns=``, was counted and warned about though no imputation touched it), or
            with a filled date composed of calendar parts beyond the training range (drawn
            again: clipped, 2.8% of 600 filled dates sat on the last training day)."""
            bad = np.zeros(len(table), dtype=bool)
            for name, beyond in self.constraints_.outside_bounds(table).items():
                if name in self.constraints_.calendar and name in fill:
                    bad |= beyond & fill[name]
            for rule, rows in self.constraints_.violations(table).items():
                touched, open_cells = np.zeros(len(table), dtype=bool), np.zeros(len(table), dtype=bool)
                for name in rule.columns:
                    if name in fill:
                        touched |= fill[name]
                        open_cells |= unjudged[name]
                hit = rows & touched & ~open_cells & ~stuck.get(rule, np.zeros(len(table), dtype=bool))
                if counts is not None and hit.any():
                    counts[rule.describe()] = counts.get(rule.describe(), 0) + int(hit.sum())
                bad |= hit
            return bad

        # Only rows with a cell to fill are drawn; the others are as observed.
        holes = np.flatnonzero(any_fill)
        tables = complete(holes)
        if holes.size < len(user):
            rest = pd.DataFrame({name: observed[name] for name in fill}).drop(index=holes)
            tables = [pd.concat([table.set_axis(holes), rest]).sort_index() for table in tables]
        redone = 0
        for k in range(len(tables)):
            for _ in range(rounds):
                todo = np.flatnonzero(broken(tables[k]) & any_fill)
                if not todo.size:
                    break
                redone += todo.size
                # A fresh draw given the observed cells (a mean of draws would repeat the miss).
                again = complete(todo, "draw", 1)[0].set_axis(todo)
                tables[k] = pd.concat([tables[k].drop(index=todo), again]).sort_index()
        if method == "draw":
            # Each draw takes its own value among those a rounded derived cell allows for a
            # solved input (the model was given the nearest; a tenth of a minute moves nothing).
            solved = {name: cells & given[name].isna().to_numpy() & user[name].notna().to_numpy() for name, cells in fill.items()}
            solved = {name: cells for name, cells in solved.items() if cells.any()}
            if solved:
                for table in tables:
                    drawn = self._as_sampled(self.constraints_.solve_inputs(given.iloc[holes].reset_index(drop=True),
                                                                            {name: cells[holes] for name, cells in fill.items()}, rng, ranges))
                    for name, cells in solved.items():
                        at = np.flatnonzero(cells)  # rows among the holes
                        values = table[name].copy()
                        values.iloc[at] = drawn[name].iloc[np.searchsorted(holes, at)].to_numpy()
                        table[name] = values
        tables = [self.constraints_.repair(t.reset_index(drop=True), fill, rng, ranges) for t in tables]
        counts: dict[str, int] = {}
        left = sum(int((broken(t, counts) & any_fill).sum()) for t in tables)
        if left:
            logger.warning("%d imputed rows still break a constraint after %d rounds of redraws (%s)", left, rounds,
                           ", ".join(f"{rule!r}: {n}" for rule, n in counts.items()))
        self.last_resampling_ = {"redrawn": int(redone), "still_broken": left}
        formats = datetime_formats(self.schema_)
        return [with_columns(frame, {name: table[name] for name in fill}, fill, formats, self.schema_) for table in tables]

    def encode(self, data: TableLike, *, variance: bool = False, components: int | str | None = None,
               source: str | None = None) -> pd.DataFrame:
        """Each row's latent embedding: the posterior mean (columns ``z0``, ``z1``, ...) and, with
        ``variance=True``, the posterior variances (``var_z0``, ...); the input's index.

        The latent has ``latent_dim`` (64) dimensions, most of them inactive (their posterior
        means hardly vary: churn's 20 columns use 11). ``components="active"`` gives the
        embedding in the active principal axes of the training rows' posterior means (columns
        ``pc0``, ``pc1``, ..., largest spread first; the axes are the latent prior's, fitted
        with the model, so every table is projected alike), ``components=k`` the first ``k`` of
        them: a reduction of the table to a few numbers a row. Their variances are the
        posterior's along those axes. It needs the fitted mixture prior (not a private model's,
        whose prior is N(0, I)).

        Under the default plain ELBO the latent leaves out low-entropy categorical columns: the
        embedding's 5-nearest-neighbour accuracy of churn's `churn` flag is 0.884 against 0.892
        for PCA of the encoded matrix at the same dimension, german_credit's `creditability`
        0.660 against 0.887. A model fitted with ``target=`` naming the column keeps it: 0.998
        and 0.995 (PCA 0.891 / 0.889; ``benchmarks/results/generation.md``);
        ``categorical_balance=5`` keeps every low-entropy column (0.900 / 0.884,
        ``generation_balance5.md``)."""
        self._check_fitted()
        axes = self._embedding_axes(components)
        frame, label = _read(data, "data to encode", self.schema_)
        source = source or label  # the CLI reads the file once and names it
        # Columns the schema does not list are left out, rules or not (a label to colour an
        # embedding by was refused when the schema had no rules).
        user = self._conformed(frame, source)
        self._refuse_missing_cells(user, source)
        # The codecs clip to the schema's bounds: an outlier far beyond one embeds as a row at it.
        self._warn_out_of_bounds(user, source, "those values are embedded as the bound itself, so such rows look like rows at it")
        self._warn_off_grid(user, source)
        means, variances = embed(self.preprocessor_, self.model_, self.constraints_.forward(user), source, self.device_)
        # float64 either way (the latent's float32 beside the axes' float64, a user review).
        means, variances = means.astype(np.float64), variances.astype(np.float64)
        if axes is None:
            names = [f"z{i}" for i in range(means.shape[1])]
        else:
            center, basis = axes
            means, variances = (means - center) @ basis, variances @ (basis * basis)
            names = [f"pc{i}" for i in range(basis.shape[1])]
        out = pd.DataFrame(means, index=frame.index, columns=names)
        if variance:
            out = pd.concat([out, pd.DataFrame(variances, index=frame.index, columns=[f"var_{c}" for c in names])], axis=1)
        return out

    def transform(self, data: TableLike, *, components: int | str | None | object = _FROM_CONSTRUCTOR) -> pd.DataFrame:
        """:meth:`encode` (the posterior means, or with ``components`` their principal axes), as
        a scikit-learn transformer's ``transform``: ``Pipeline([("vae", Synthesizer()),
        ("knn", KNeighborsClassifier())])`` embeds the rows before the next step;
        ``Synthesizer(components="active")`` makes that step reduce them (a Pipeline passes no
        ``components`` to ``transform``). Not given, ``components`` is the constructor's."""
        return self.encode(data, components=self.components if components is _FROM_CONSTRUCTOR else components)

    def fit_transform(self, data: TableLike, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """:meth:`fit` on ``data`` (``y`` ignored, ``fit_params`` passed on), then
        :meth:`transform` of it."""
        return self.fit(data, **fit_params).transform(data)

    def _embedding_axes(self, components) -> tuple[np.ndarray, np.ndarray] | None:
        """The center ``(D,)`` and axes ``(D, k)`` :meth:`encode` projects onto (``None``: the
        raw latent)."""
        if components is None:
            return None
        dim = self.model_.config.latent_dim
        if not (components == "active" or (is_integer(components) and 1 <= int(components) <= dim)):
            raise ParameterError(f"components (components=, --components) must be None, 'active' or a whole number from 1 to the latent's {dim}, "
                                 f"got {components!r}")
        if self.prior_ is None:
            raise ParameterError(
                "components= projects onto the principal axes of the training rows' latent, which this model does not "
                "keep (its prior is N(0, I): " + ("a private fit's, fitted to no row" if self.privacy_ is not None else
                "prior='standard'") + "); encode with components=None"
                + ("" if self.privacy_ is not None else ", or fit with prior='mixture' (the default)"))
        center, axes, active = self.prior_.principal_axes()
        k = active if components == "active" else int(components)
        return center.cpu().numpy().astype(np.float64), axes[:, :k].cpu().numpy().astype(np.float64)

    def _conformed(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        """A table to impute or encode, conformed to the schema: other columns left out, values
        beyond the bounds and missing cells let through (the callers say what they do with them).
        Id and personal columns the table leaves out are taken as unknown: the model never learns
        them (a table without its keys or personal data was refused)."""
        given = {str(label) for label in frame.columns}
        extra = [label for label in frame.columns if str(label) not in self.schema_.names]
        if extra:
            logger.info("%s: columns %s are not in the model and are not used (impute gives them back as they are)", source, preview(extra))
        unlearned = [c.name for c in self.schema_ if c.name not in given and c.kind in (ColumnKind.ID, ColumnKind.PERSONAL)]
        self._warn_zones(frame, source, "impute's filled values")
        if unlearned:
            frame = frame.assign(**{name: pd.Series(None, index=frame.index, dtype=object) for name in unlearned})
        try:
            return conform(frame, self.schema_, source, allow_extra=True, check_bounds=False, check_nulls=False)
        except DataError as exc:
            # A fitted model's categories are fixed: "add them to the schema" meant a refit.
            text = str(exc)
            if text.endswith(_ADD_CATEGORIES):
                raise DataError(text.removesuffix(_ADD_CATEGORIES) +
                                "; the model was fitted without them: set those cells to null (impute fills them) or map "
                                "them to one of its categories") from None
            raise

    def _warn_zones(self, frame: pd.DataFrame, source: str, made: str) -> None:
        """Warn of datetimes with a time zone (other than UTC) in a column the model has none
        for: they are read as UTC clock times, and what the model ``made`` are its UTC clock
        times shown in that zone. Los Angeles midnights became 08:00 UTC, and filled dates 16:00
        the day before in Los Angeles; augment's synthetic dates in Paris came at 01:00 and
        02:00: right as instants, unlike the table's own (user reviews)."""
        for column in self.schema_:
            zone = dtype_zone(frame[column.name].dtype) if column.kind is ColumnKind.DATETIME and column.name in frame.columns else None
            if zone is not None and not column.timezone and str(zone) != "UTC":
                logger.warning("%s, column %r: its datetimes have a time zone (%s) and the model's column has none: they "
                               "are read as UTC clock times (midnight at UTC-8 is 08:00), and %s are the model's UTC clock "
                               "times shown in %s; give the values without their zone (.dt.tz_localize(None)) to use their "
                               "own clock times", source, column.name, zone, made, zone)

    def _refuse_missing_cells(self, user: pd.DataFrame, source: str,
                              why: str = "the encoder reads whole rows: fill them first (Synthesizer.impute, synthvae impute), then encode") -> None:
        """Refuse rows of a conformed table with missing cells the model has no null for, saying
        how to fill them (``why``): the generic message said to mark the column nullable, which
        a fitted model cannot take."""
        holes = {c.name: int(user[c.name].isna().sum()) for c in self.schema_
                 if c.name in user and not c.nullable and not c.is_generated}
        holes = {name: count for name, count in holes.items() if count}
        if holes:
            rows = int(user[list(holes)].isna().any(axis=1).sum())
            shown = ", ".join(f"{name!r} ({count})" for name, count in list(holes.items())[:5])
            shown += f", ... ({len(holes) - 5} more)" if len(holes) > 5 else ""
            raise DataError(f"{source}: {rows} rows have missing cells in columns the model never saw missing: {shown}; {why}")

    def _classes(self, target: str) -> list:
        """The classes of a categorical or boolean column the model can generate (a category
        no training row held, or one ``min_category_rows`` keeps out, is none)."""
        column = self.schema_[target]
        if column.kind is ColumnKind.BOOLEAN:
            return [False, True]
        codec = next((c for c in self.preprocessor_.codecs_ if c.column.name == target), None)
        if codec is None:  # a column the schema's rules rebuild: every category it lists
            return list(column.categories)
        return [c for c, n in zip(codec._categories, codec.counts_) if n > 0]

    def _as_sampled(self, data: pd.DataFrame) -> pd.DataFrame:
        """A conformed user table in the dtypes sampling gives (integers as Int64, ...)."""
        codecs = {codec.column.name: codec for codec in self.preprocessor_.codecs_}
        out = {}
        for column in self.schema_:
            if column.name in codecs:
                out[column.name] = codecs[column.name].as_sampled(data[column.name])
            elif column.kind.value == "numeric":
                out[column.name] = data[column.name].astype("Int64" if column.is_integer else "float64")
            else:
                out[column.name] = data[column.name]
        return pd.DataFrame(out)

    def _sample_matrix(self, rows: int, generator: torch.Generator) -> np.ndarray:
        """One sampled encoded matrix of ``rows`` rows, column-major on the CPU."""
        z = prior_latents(self.prior_, self.model_.config.latent_dim, rows, generator, self.device_)
        return decoded_matrix(self.model_, z, generator)

    # ------------------------------------------------------------ save/load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to one file (weights, configs, schema, codec state).

        The file is written atomically and holds no pickle.
        """
        self._check_fitted()
        payload = {
            "synthvae_version": __version__,
            # The default datetime encoding is not written: files of default fits stay readable by
            # releases that had no such parameter (they refused it as an unexpected keyword).
            "params": {k: v for k, v in self.fit_params_.items() if not (k == "datetime_encoding" and v == "auto")},
            # The default is said apart (a release without "auto" refused it as a parameter).
            **({"datetime_auto": True} if self.fit_params_["datetime_encoding"] == "auto" else {}),
            "schema": self.schema_.to_dict(),
            "preprocessor": self.preprocessor_.get_state(),
            "vae_config": self.model_.config.to_dict(),
            "train_config": self.train_config_.to_dict(),
            # A private model keeps no training losses: they are read from the rows, unaccounted.
            "history": self.history_ if self.privacy_ is None else [],
            # Without the fit's wall time: the same fit gives the same bytes (a user review), and a
            # private model's file tells nothing of how long its rows took. 0.0 keeps the files
            # readable by readers that expect the field.
            "fit_info": {**asdict(self.fit_info_), "seconds": 0.0},
            # A loaded model's schema parameter is the fitted schema only where one was given: a
            # refit of its clone refused newer rows outside the old table's inferred bounds.
            "schema_given": getattr(self, "_schema_given", True),  # unpickled from before it was kept: as before
        }
        if self.constraints_.active:
            payload["constraints"] = self.constraints_.get_state()
        if self.privacy_ is not None:
            # The leak warnings are read from the rows (unaccounted): reported at fit time only.
            payload["privacy"] = {k: v for k, v in self.privacy_.items() if k != "warnings"}
        tensors = dict(self.model_.state_dict())
        if self.model_.noise_factor is not None:
            tensors[_NOISE_FACTOR] = self.model_.noise_factor
        if self.prior_ is not None:
            tensors.update(self.prior_.tensors())
        if self.conditional_ is not None:
            payload["conditional_config"] = self.conditional_.config.to_dict()
            if getattr(self, "conditional_history_", None) is not None:
                payload["conditional_history"] = list(self.conditional_history_)
            tensors.update({f"conditional.{k}": v for k, v in self.conditional_.state_dict().items()})
        broken = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if broken:
            raise TrainingError(
                f"the model has NaN or infinite weights ({preview(broken)}), so it was not saved to "
                f"{str(path)!r}; fit again with a lower learning rate"
            )
        # Format 2 added the noise correlation: a file without one stays readable by version 1's readers.
        return save_model_file(path, tensors, payload, version=2 if _NOISE_FACTOR in tensors else 1)

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
            broken = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
            if broken:
                raise ModelFileError(f"model file {str(path)!r} is corrupt: NaN or infinite weights in {preview(broken)}")
            params = dict(payload["params"])
            # Files of default fits leave the encoding out; before "auto" the default was the
            # timestamp (their plans hold no calendar column), which a refit keeps.
            params.setdefault("datetime_encoding", "auto" if payload.get("datetime_auto") else "timestamp")
            params["hidden_dims"] = tuple(params["hidden_dims"]) if params.get("hidden_dims") is not None else None
            params["device"] = device
            schema = Schema.from_dict(payload["schema"], source=f"model file {str(path)!r}")
            # Files before "schema_given" keep the fitted schema as the parameter, as they did.
            given = payload.get("schema_given", True)
            if not isinstance(given, bool):
                raise ValueError(f"schema_given must be true or false, got {given!r}")  # "no" read as true
            syn = cls(schema=schema if given else None, **{k: v for k, v in params.items() if k != "schema"})
            # Each checked as a fit checks it: latent_dim "abc" loaded, and a refit refused it (a
            # user review of crafted files); not their combinations, which rules newer than the
            # file may refuse (a private fit's file of before 2026-11 holds epochs beside privacy).
            syn._check_params(alone=True)
            syn._schema_given = given
            config = VAEConfig.from_dict(payload["vae_config"])
            # Sizes from the file's settings are checked against its weights before anything is
            # built: hidden_dims [25000, 25000] in a 600 KB file made load allocate 5.3 GB first.
            _check_sizes("vae_config", _vae_parameters(config), sum(t.numel() for k, t in tensors.items()
                                                                   if not k.startswith(("prior.", "conditional.")) and k != _NOISE_FACTOR), path)
            model = TabularVAE(config)  # weights replaced below
            noise_factor = tensors.pop(_NOISE_FACTOR, None)
            prior_tensors = {k: tensors.pop(k) for k in list(tensors) if k.startswith("prior.")}
            conditional_tensors = {k[len("conditional.") :]: tensors.pop(k) for k in list(tensors) if k.startswith("conditional.")}
            syn.conditional_ = None
            if "conditional_config" in payload:
                conditional_config = ConditionalPriorConfig.from_dict(payload["conditional_config"])
                _check_sizes("conditional_config", _conditional_parameters(conditional_config),
                             sum(t.numel() for t in conditional_tensors.values()), path)
                conditional = ConditionalPrior(conditional_config)
                conditional.load_state_dict(conditional_tensors, strict=True)
                syn.conditional_ = conditional.to(resolved).eval()
                if "conditional_history" in payload:
                    syn.conditional_history_ = [float(v) for v in payload["conditional_history"]]
            model.load_state_dict(tensors, strict=True)
            if noise_factor is not None:
                outputs = model.cont_idx.numel()
                if tuple(noise_factor.shape) != (outputs, outputs):
                    raise ValueError(f"{_NOISE_FACTOR} has shape {tuple(noise_factor.shape)} for {outputs} continuous outputs")
                model.noise_factor = noise_factor.to(torch.float32)
            syn.model_ = model.to(resolved).eval()
            syn.prior_ = MixturePrior.from_tensors(prior_tensors).to(resolved) if prior_tensors else None
            syn.schema_ = schema
            syn.constraints_ = ConstraintPlan.from_state(schema, payload.get("constraints"))
            syn.preprocessor_ = TablePreprocessor.from_state(syn.constraints_.model_schema_, payload["preprocessor"])
            _suppress(syn.model_, syn.preprocessor_)
            # JSON keeps tuples as lists: target_segments came back [15], not (15,).
            syn.train_config_ = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in payload["train_config"].items()})
            syn.history_ = _checked_record("history", payload["history"], list)
            syn.privacy_ = _checked_record("privacy", payload.get("privacy"), (dict, type(None)))
            syn.fit_info_ = FitInfo(**payload["fit_info"])
            wrong = {f.name: getattr(syn.fit_info_, f.name) for f in fields(FitInfo)
                     if not isinstance(getattr(syn.fit_info_, f.name), _FIT_INFO_TYPES[f.type])
                     or isinstance(getattr(syn.fit_info_, f.name), bool)}
            if wrong:
                raise ValueError(f"fit_info holds values of the wrong type: {wrong}")
            syn.device_ = resolved
            syn._start_sampling(int(_fit_seeds(syn.seed)[2]))
            syn.fit_params_ = syn._file_params()
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, ArithmeticError, SchemaError) as exc:
            if isinstance(exc, torch.OutOfMemoryError) or (isinstance(exc, ModelFileError) and repr(str(path)) in str(exc)):
                raise  # a full GPU is not a corrupt file; a refusal naming the file says it already
            what = "" if isinstance(exc, ModelFileError) else f"{type(exc).__name__}: "  # a codec's refusal: its words
            raise ModelFileError(f"model file {str(path)!r} is corrupt: {what}{exc}") from None
        _check_decodes(syn, path)
        return syn

    # -------------------------------------------------------------- helpers
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters as they are now, the schema among them (scikit-learn's
        convention: ``Synthesizer(**s.get_params())`` and ``sklearn.base.clone(s)`` make an
        unfitted copy). ``deep`` is accepted for scikit-learn; no parameter holds an estimator.
        What a fitted model was fitted with is :attr:`fit_params_`."""
        return {name: getattr(self, name) for name in _PARAMETERS}

    def set_params(self, **params: Any) -> "Synthesizer":
        """Set constructor parameters by name (scikit-learn's convention); they take effect at
        the next :meth:`fit`. Returns the synthesizer.

        Raises:
            ParameterError: A name that is no parameter."""
        unknown = sorted(set(params) - set(_PARAMETERS))
        if unknown:
            raise ParameterError(f"Synthesizer has no parameters {preview(unknown)}; its parameters are {preview(list(_PARAMETERS))}")
        for name, value in params.items():
            if name == "hidden_dims" and isinstance(value, (list, tuple)):
                value = tuple(value)  # as the constructor keeps it
            setattr(self, name, value)
        return self

    def _file_params(self) -> dict[str, Any]:
        """The constructor's parameters but the schema, as the model file stores them: numpy
        numbers as the Python numbers they hold, encodings by name."""
        params = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "latent_dim": self.latent_dim,
            "hidden_dims": list(self.hidden_dims) if self.hidden_dims is not None else None,
            "beta": self.beta,
            "categorical_balance": self.categorical_balance,
            "categorical_head": self.categorical_head,
            "autoregressive": self.autoregressive,
            "target": self.target,
            "learning_rate": self.learning_rate,
            "validation_fraction": self.validation_fraction,
            "patience": self.patience,
            "max_categories": self.max_categories,
            "min_category_rows": self.min_category_rows,
            "min_tail_rows": self.min_tail_rows,
            "numeric_encoding": str(NumericEncoding(self.numeric_encoding).value),
            "datetime_encoding": str(self.datetime_encoding),
            "prior": str(PriorKind(self.prior).value),
            "prior_components": self.prior_components,
            "conditional": bool(self.conditional),
            "privacy": spec.to_dict() if (spec := PrivacySpec.parse(self.privacy)) is not None else None,
            "seed": self.seed,
            "device": str(self.device),
            "components": int(self.components) if is_integer(self.components) else self.components,
        }
        return {name: [_plain(v) for v in value] if isinstance(value, list) else _plain(value)
                for name, value in params.items()}

    def __sklearn_is_fitted__(self) -> bool:
        """Whether :meth:`fit` or :meth:`load` made this synthesizer (scikit-learn's
        ``check_is_fitted``, which a ``Pipeline`` calls before ``transform``)."""
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        """scikit-learn's tags (1.6 and later ask every step of a ``Pipeline`` for them): a
        transformer of tables (text and categorical columns, missing cells allowed), with no
        target, whose fits differ by seed."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False), transformer_tags=TransformerTags(),
                    non_deterministic=True,
                    input_tags=InputTags(two_d_array=True, categorical=True, string=True, allow_nan=True))

    def set_output(self, *, transform: str | None = None) -> "Synthesizer":
        """scikit-learn's ``set_output`` (``Pipeline.set_output(transform="pandas")`` calls it on
        every step): :meth:`transform` always returns a pandas DataFrame, so ``"pandas"``,
        ``"default"`` and ``None`` leave it so; any other container is refused.

        Raises:
            ParameterError: ``transform`` other than those."""
        if transform not in (None, "default", "pandas"):
            raise ParameterError(f"set_output(transform={transform!r}): a Synthesizer's transform returns a pandas DataFrame; "
                                 "use transform='pandas' or 'default'")
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of :meth:`transform`'s columns (``z0``, ``z1``, ...; ``pc0``, ... with the
        constructor's ``components``), as scikit-learn's transformers give them;
        ``input_features`` is ignored."""
        self._check_fitted()
        axes = self._embedding_axes(self.components)
        if axes is not None:
            return np.asarray([f"pc{i}" for i in range(axes[1].shape[1])], dtype=object)
        return np.asarray([f"z{i}" for i in range(self.model_.config.latent_dim)], dtype=object)

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns the model was fitted on (the schema's, in order), as scikit-learn's
        fitted estimators name their input's; ``n_features_in_`` counts them. Before a fit,
        reading either raises :class:`NotFittedError` (an AttributeError: ``hasattr`` is False)."""
        self._check_fitted()
        return np.asarray(self.schema_.names, dtype=object)

    @property
    def n_features_in_(self) -> int:
        """How many columns the model was fitted on (see :attr:`feature_names_in_`)."""
        return len(self.feature_names_in_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this Synthesizer is not fitted yet; call fit(data) or Synthesizer.load(path)")

    def __repr__(self) -> str:
        """The parameters that differ from their defaults (as scikit-learn shows an estimator),
        and whether it is fitted."""
        defaults = {name: parameter.default for name, parameter in _PARAMETERS.items()}
        changed = []
        for name, value in self.get_params().items():
            try:
                same = bool(value == defaults[name])
            except (TypeError, ValueError):  # an object whose == is no truth value
                same = False
            if not same:
                shown = f"<schema of {len(value)} columns>" if isinstance(value, Schema) else repr(value)
                changed.append(f"{name}={shown}")
        state = "fitted" if hasattr(self, "model_") else "not fitted"
        return f"Synthesizer({', '.join(changed)}; {state})"


# What each field of FitInfo holds in a model file (a JSON int is a number of seconds too).
_FIT_INFO_TYPES = {"int": int, "float": (int, float), "str": str}


def _checked_record(name: str, value, kind):
    """A model file's record ``value`` when it is of ``kind``, else a ValueError: a history of
    "abc" loaded as ['a', 'b', 'c'], a privacy record of "lots" as it was."""
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be a {getattr(kind, '__name__', 'record')}, got {type(value).__name__}")
    return list(value) if isinstance(value, list) else value


def numeric_target(target: str, column, values: pd.Series) -> str:
    """Why augment refuses a target the schema makes numeric (or another kind than classes),
    and how to fix it: each distinct value would be a class (1,959 "classes" of churn's day
    minutes, every synthetic row pinned to an exact real value); a 0/1 label read as whole
    numbers was refused saying only "leave it out" (a user review)."""
    distinct = pd.unique(values.dropna())
    numeric = len(distinct) and pd.api.types.is_numeric_dtype(distinct.dtype) and not pd.api.types.is_bool_dtype(distinct.dtype)
    if numeric and not (np.isfinite(distinct).all() and (np.abs(distinct) < 2**53).all()):
        distinct = distinct[:0]  # infinities or 1e20 are no classes (they were cast to -2**63)
    elif numeric and (distinct == np.round(distinct)).all():
        distinct = distinct.astype(np.int64)  # 0, 1: the categories to write, not 0.0, 1.0
    fix = ("; if its values are classes, fit a model whose schema makes it categorical: name it as the target "
           "when fitting (Synthesizer(target=...), which learns up to 20 whole numbers as classes; augment --target "
           "does so when it fits the model), or set its kind to categorical in the schema (synthvae infer-schema, "
           f"edit, --schema; categories {preview(sorted(distinct.tolist()))})" if 0 < len(distinct) <= 20 else "")
    return (f"target {target!r} is a {column.kind.value} column: augment draws rows class by class, so the target must "
            f"be categorical or boolean; leave it out to add rows of the whole table{fix}")


def check_augment_arguments(columns, target, balance, rows, ratio, guidance, marker, names=()) -> None:
    """Refuse arguments of :meth:`Synthesizer.augment` that need no model: the CLI checks them
    before it fits one (a misspelt --target was refused after a whole fit). ``columns`` are the
    table's, ``names`` the model's (none before a fit).

    Raises:
        ParameterError: Not exactly one of balance, rows and ratio; an empty marker name (a CSV
            with an unnamed column, which no read takes back) or one the table or model has; a
            target the table lacks; balancing or guidance without a target."""
    if sum([bool(balance), rows is not None, ratio is not None]) != 1:
        raise ParameterError("give exactly one of balance=True, rows=N or ratio=R")
    if not isinstance(marker, str) or not marker.strip():
        raise ParameterError(f"marker column (marker=, --marker-column) must be a non-empty name (text), got {marker!r}")
    if not isinstance(balance, (bool, np.bool_)):
        raise ParameterError(f"balance must be True or False, got {balance!r}")  # "no" balanced
    # By text: a table's column labelled 99 and marker "99" made two columns labelled 99.
    if marker in names or marker in {str(c) for c in columns}:
        raise ParameterError(f"marker column {marker!r} is already a column of the table; choose another name "
                             f"(marker=, --marker-column)")
    known = list(names) or [str(c) for c in columns]  # the model's columns, else the table's
    if target is not None and str(target) not in known:
        raise ParameterError(f"target {target!r}: {unknown_column(str(target), known)}")
    if balance and target is None:
        raise ParameterError("balancing (balance=True, --balance) needs a target column: name it (target=, --target)")
    if guidance is not None:
        _check_guidance(guidance)
    if guidance is not None and guidance != 1 and target is None:
        raise ParameterError("guidance (--guidance) steers each class's synthetic rows, so it needs a target column: "
                             "name it (target=, --target), or leave guidance out")


# The constructor's parameters by name, in order (get_params, set_params, repr).
_PARAMETERS = {name: parameter for name, parameter in inspect.signature(Synthesizer.__init__).parameters.items()
               if name != "self"}


def _chain(widths: list[int]) -> int:
    """Weights and biases of linear layers between consecutive ``widths``."""
    return sum(a * b + b for a, b in zip(widths, widths[1:]))


def _vae_parameters(config: VAEConfig) -> int:
    """The numbers :class:`TabularVAE` allocates for ``config`` (its layers, as it builds them)."""
    hidden = list(config.hidden_dims) or [0]
    count = (_chain([config.data_dim, *hidden]) + 2 * _chain([hidden[-1], config.latent_dim])
             + _chain([config.latent_dim, *reversed(hidden)]) + _chain([hidden[0], config.data_dim]))
    head, one_hot = int(config.categorical_head or 0), len(config.one_hot_index)
    if head:
        count += _chain([hidden[0], head, one_hot]) + (head * one_hot if config.autoregressive else 0)
    return count


def _conditional_parameters(config: ConditionalPriorConfig) -> int:
    """The numbers :class:`ConditionalPrior` allocates for ``config``."""
    dims = [config.data_dim + config.n_columns, *config.hidden_dims]
    width = config.components * (1 + 2 * config.out_dim + config.factor_size)
    return _chain(dims) + _chain([dims[-1], width]) + config.latent_dim * config.latent_dim


def _check_sizes(name: str, implied: int, stored: int, path) -> None:
    """Refuse settings that would build a network far larger than the weights the file holds."""
    if implied > 2 * stored + 100_000:
        raise ModelFileError(f"model file {str(path)!r} is corrupt: its {name} makes a network of {implied:,} numbers, but the "
                             f"file holds {stored:,}")


def _suppress(model: TabularVAE, preprocessor: TablePreprocessor) -> None:
    """Give the model's draws the categories its codecs keep out (``min_category_rows``): each
    such column's one-hot span, its other and null slots, and the other slot's share of
    suppressed rows (see :meth:`TabularVAE.suppress`)."""
    span_of = {first: index for index, (first, _) in enumerate(model.one_hot_spans)}
    spans = {}
    for codec in preprocessor.codecs_:
        found = codec.suppression() if isinstance(codec, CategoricalCodec) else None
        if found is not None:
            start = next(s.start for s in preprocessor.layout_.for_column(codec.column.name) if s.kind is SpanKind.CATEGORY)
            spans[span_of[start]] = found
    model.suppress(spans)


def _check_decodes(syn: Synthesizer, path: str | os.PathLike) -> None:
    """Decode two rows of a loaded model, so that a model file whose parts do not fit together
    (hand-edited, or damaged before it had a checksum) fails at load, not at sampling."""
    try:
        generator = torch.Generator(device=syn.device_).manual_seed(0)
        with torch.no_grad():
            frame = syn.preprocessor_.reverse_transform(syn._sample_matrix(2, generator), np.random.default_rng(0))
        syn.constraints_.reverse(frame)
    except torch.OutOfMemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here is the file's
        raise ModelFileError(
            f"model file {str(path)!r} is corrupt: its weights and settings do not fit together "
            f"({type(exc).__name__}: {exc})"
        ) from None


def _fit_seeds(seed: int) -> np.ndarray:
    """The seeds a fit derives from its seed: weights, training, unseeded samples, prior,
    conditional prior, private histograms (a prefix-stable sequence: adding one leaves the others as they were).

    ``load`` derives the same unseeded-sample stream, so a loaded model continues as a fitted one.
    """
    return np.random.SeedSequence(seed).generate_state(6)


def _check_within_bounds(condition: Condition, column) -> None:
    """Refuse a condition on a numeric or datetime column that no value within its schema bounds,
    or on its grid (whole numbers, ``decimals`` places; a datetime's unit), meets."""
    if column.kind is ColumnKind.DATETIME:
        _check_datetime_within(condition, column)
        return
    if column.kind is not ColumnKind.NUMERIC:
        return
    places = 0 if column.is_integer else column.decimals
    if condition.values is not None and places is not None:
        if all(round(float(v), places) != float(v) for v in condition.values):
            raise ParameterError(f"condition {condition.describe()}: column {column.name!r} holds {grid_words(column)} only (its "
                                 f"schema); no sampled row can equal {preview(list(condition.values))}")
    _check_step(condition, column)
    if column.min is None and column.max is None:
        return
    inside = intersect(condition, Condition(column.name, low=column.min, high=column.max)) is not None
    if not inside:
        raise ParameterError(
            f"condition {condition.describe()}: no value of column {column.name!r} can satisfy it (its schema "
            f"range is {column.min:g} to {column.max:g}); widen the range"
            if column.min is not None and column.max is not None else
            f"condition {condition.describe()}: no value of column {column.name!r} within its schema bounds can satisfy it"
        )


def _check_datetime_within(condition: Condition, column) -> None:
    """:func:`_check_within_bounds` of a datetime column (a rule's, rebuilt from others: its
    conditions were met by drawing rows until 100,000 draws failed, "relax the condition")."""
    if condition.values is not None and column.unit in UNIT_NAMES:
        stamps = [pd.Timestamp(v) for v in condition.values]
        if all(t.value % unit_ns(column) for t in stamps):
            raise ParameterError(f"condition {condition.describe()}: column {column.name!r} holds whole {UNIT_NAMES[column.unit]} "
                                 f"only (its schema's unit {column.unit!r}); no sampled row can equal {preview([str(t) for t in stamps])}")
    if column.min is None and column.max is None:
        return
    low = None if column.min is None else pd.Timestamp(column.min)
    high = None if column.max is None else pd.Timestamp(column.max)
    if intersect(condition, Condition(column.name, low=low, high=high)) is None:
        span = f"{low} to {high}" if low is not None and high is not None else f"{'from ' + str(low) if low is not None else 'to ' + str(high)}"
        raise ParameterError(f"condition {condition.describe()}: no value of column {column.name!r} can satisfy it (its schema "
                             f"range is {span}); change the condition or widen the schema's range")




@torch.no_grad()
def _conditional_pairs(rows: int) -> int:
    """Rows of its own a model fitted on ``rows`` rows generates and encodes to train its
    conditional prior: as many as the training rows, at least ``_CONDITIONAL_PAIRS`` and at most
    ``_CONDITIONAL_PAIRS_MAX``."""
    return max(_CONDITIONAL_PAIRS, min(rows, _CONDITIONAL_PAIRS_MAX))


def _any_conditions(conditions) -> bool:
    """Whether ``conditions`` (any form :func:`synthvae.conditions.parse_conditions` reads:
    a dict, text, a list, a numpy array or Series of text) holds one."""
    if conditions is None:
        return False
    return len(conditions) > 0 if hasattr(conditions, "__len__") else True


def _match_category_shares(model: TabularVAE, prior: MixturePrior | None, column_means: torch.Tensor, seed: int,
                           device, draws: int = 20_000) -> None:
    """Make the category shares of sampled rows the training rows' (see
    :meth:`TabularVAE.match_category_shares`), averaged over ``draws`` latents from the prior."""
    generator = torch.Generator(device=device).manual_seed(seed + 7)
    z = prior_latents(prior, model.config.latent_dim, draws, generator, device)
    model.eval()
    model.match_category_shares(z, column_means.to(device)[model.oh_idx])


@torch.no_grad()
def _model_pairs(model: TabularVAE, prior: MixturePrior | None, preprocessor: TablePreprocessor, rows: int, seed: int,
                 device) -> tuple[torch.Tensor, torch.Tensor]:
    """``rows`` rows the fitted model generates, encoded as training rows are (exact one-hots,
    values on the columns' grids), ``(rows, W)``, and the latents they were decoded from
    ``(rows, latent)``: all drawn from ``seed``."""
    model.eval()
    z, matrix = _model_draws(model, prior, rows, seed, device)
    drawn = [c.name for c in preprocessor.schema if c.kind is not ColumnKind.ID]
    frame = preprocessor.finalize(preprocessor.reverse_transform(matrix, np.random.default_rng(seed), columns=drawn), ids=False)
    # Columns the model does not learn (ids: 20,000 new ids from near the largest 64-bit integer
    # refused an augment of 240 rows; a personal column's "drop" strategy) are not drawn; the
    # encoding reads nothing of them, but checks they are there, and blank is no value.
    frame = frame.assign(**{name: pd.Series([""] * rows, dtype=object) for name in preprocessor.schema.names if name not in frame})
    x = preprocessor.transform(frame, source="the model's own rows")
    return torch.from_numpy(x).to(device), z


def _model_draws(model: TabularVAE, prior: MixturePrior | None, rows: int, seed: int, device) -> tuple[torch.Tensor, np.ndarray]:
    """``rows`` latents from ``prior`` (N(0, I) for ``None``) and the sampled encoded matrix
    decoded from them (column-major), all drawn from ``seed``."""
    generator = torch.Generator(device=device).manual_seed(seed)
    z = prior_latents(prior, model.config.latent_dim, rows, generator, device)
    return z, decoded_matrix(model, z, generator)


@torch.no_grad()
def _posterior_means(model: TabularVAE, rows: torch.Tensor) -> np.ndarray:
    """The posterior means ``(N, latent)`` of encoded rows ``(N, W)``."""
    model.eval()
    means = [model.encode(rows[i : i + 8192])[0].cpu() for i in range(0, rows.shape[0], 8192)]
    return torch.cat(means).numpy()


def _training_sample(data: torch.Tensor, seed: int, max_rows: int = 50_000) -> torch.Tensor:
    """At most ``max_rows`` seeded-random rows of ``data``, in their order (all of them, not
    copied, when there are no more): the rows the latent prior and the noise correlation are
    fitted on."""
    if data.shape[0] <= max_rows:
        return data
    rows = np.sort(np.random.default_rng(seed).choice(data.shape[0], max_rows, replace=False))
    return data[torch.from_numpy(rows).to(data.device)]


def _plain(value):
    """A numpy number as the Python number it holds; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def _is_number(value, minimum: float) -> bool:
    """Whether ``value`` is a finite real number (not a bool) of at least ``minimum``."""
    return is_real(value) and value >= minimum


def _check_guidance(guidance) -> None:
    if not _is_number(guidance, 1) or guidance > _MOST_GUIDANCE:
        raise ParameterError(f"guidance must be a number from 1 (the model's own conditional) to {_MOST_GUIDANCE:g}, got {guidance!r}")


def _check_count(name: str, value, minimum: int = 0) -> None:
    if not is_integer(value) or value < minimum:
        kind = "positive" if minimum else "non-negative"
        raise ParameterError(f"{name} must be a {kind} integer, got {value!r}")


def _row_files(batches: Iterator[pd.DataFrame], rows: int) -> Iterator[Iterator[pd.DataFrame]]:
    """The rows of ``batches`` as consecutive files of ``rows`` rows (the last fewer): each file
    an iterator of tables, consumed before the next starts, a batch cut where a file ends (one
    batch in memory at a time)."""
    source = iter(batches)
    rest: list[pd.DataFrame] = []  # what a file's end left of a batch

    def following() -> pd.DataFrame | None:
        return rest.pop() if rest else next(source, None)

    def one_file(first: pd.DataFrame) -> Iterator[pd.DataFrame]:
        need, batch = rows, first
        while batch is not None:
            if len(batch) > need:
                rest.append(batch.iloc[need:])
                batch = batch.iloc[:need]
            need -= len(batch)
            yield batch
            if not need:
                return
            batch = following()

    while (head := following()) is not None:
        yield one_file(head)


def _apportion(total: int, shares: np.ndarray) -> list[int]:
    """Split ``total`` into integers proportional to ``shares`` (largest remainders)."""
    exact = shares * total
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _wants_stream(data: TableLike, streaming: bool | None) -> bool:
    """Whether a fit streams ``data``: asked, or ``None`` and a folder or a file over ``STREAM_BYTES``."""
    if isinstance(data, pd.DataFrame):
        if streaming:
            raise ParameterError("streaming=True needs the path of a file or folder, not a DataFrame")
        return False
    if not isinstance(data, (str, os.PathLike)):
        return False  # _read names what it expected
    path = Path(data)
    if streaming is not None:
        return bool(streaming)  # open_source refuses what it cannot stream
    if path.is_dir():
        return True
    return path.is_file() and path.stat().st_size > STREAM_BYTES


def _read(data: TableLike, name: str = "training data", schema: Schema | None = None) -> tuple[pd.DataFrame, str]:
    """A table given as a DataFrame or a file; a file's categorical columns of ``schema`` read as
    text (see :func:`synthvae.io.read_table`)."""
    if isinstance(data, pd.DataFrame):
        return data, name
    if isinstance(data, (str, os.PathLike)):
        if Path(data).is_dir() and any(p.name.lower().endswith(CSV_SUFFIXES) for p in Path(data).iterdir()
                                       if not p.name.startswith((".", "_"))):
            # A folder of CSV parts (sample --rows-per-file to a .csv.gz folder): read_table's.
            return read_table(data, text_columns(schema)), f"{str(data)!r}"
        if Path(data).is_dir():
            # A folder of Parquet parts read whole (fit --in-memory): its parts checked as a
            # streamed fit checks them (same columns), then joined.
            source = TableSource(data)
            parts = [with_partition(read_table(file, text_columns(schema)), source.partitions.get(file, {}))
                     for file in dict.fromkeys(unit.path for unit in source.units)]
            return pd.concat(parts, ignore_index=True), f"{str(data)!r}"
        return read_table(data, text_columns(schema)), f"{str(data)!r}"
    raise DataError(f"expected a DataFrame or a CSV/Parquet path, got {type(data).__name__}")


def _check_replaceable(path: Path) -> None:
    """Refuse to replace a folder that holds anything but part files of a sample: a folder of
    parts is written whole and replaces the folder, so its other contents (the model sampled
    from, the real data) would be deleted. Parts are named as :meth:`Synthesizer.sample_to`
    names them, five digits or more each: pyarrow's ``write_dataset`` names its files ``part-0.parquet``,
    ``part-1.parquet``, ..., and a real dataset so written was replaced by ten synthetic rows (a
    user review)."""
    if not path.is_dir():
        return
    ends = "|".join(re.escape(end) for end in CSV_SUFFIXES + PARQUET_SUFFIXES)  # the suffixes io reads
    others = sorted(p.name for p in path.iterdir() if not re.fullmatch(rf"part-\d{{5,}}(-of-\d{{5,}})?({ends})", p.name))
    if others:
        raise DataError(
            f"cannot write the parts into {str(path)!r}: the folder is replaced whole, and it holds "
            f"{preview(others)}, which are not parts of a sample; give a new or empty folder"
        )


def _ordered_map(function: Callable[[int], pd.DataFrame], items: range, workers: int) -> Iterator[pd.DataFrame]:
    """``function(item)`` for every item, in order, computed by ``workers`` threads that each run
    torch on one intra-op thread: whole batches in parallel rather than each matrix product on
    all cores (OpenMP teams stall when another thread or process takes a core; independent
    threads do not). At most ``workers`` results are drawn ahead of the consumer; with one
    worker, everything runs in the caller's thread."""
    if workers <= 1 or len(items) <= 1:
        yield from map(function, items)
        return
    threads = torch.get_num_threads()
    try:
        with ThreadPoolExecutor(max_workers=workers, initializer=torch.set_num_threads, initargs=(1,),
                                thread_name_prefix="synthvae-sample") as pool:
            pending = collections.deque(pool.submit(function, item) for item in items[:workers])
            following = workers
            try:
                while pending:
                    result = pending.popleft().result()
                    if following < len(items):
                        pending.append(pool.submit(function, items[following]))
                        following += 1
                    yield result
            finally:
                for future in pending:
                    future.cancel()
    finally:
        torch.set_num_threads(threads)  # the workers' setting also became the default of new threads


def _on_step(condition: Condition, schema: Schema) -> Condition:
    """A condition's list of values on a column with a ``step`` without the values off it, where
    some are on it (those none are are refused by :func:`_check_step`): [3010, 4000] of masses in
    25 g drew 3025 beside 4000, a value not asked for."""
    step = _step_of(schema[condition.column]) if condition.column in schema.names else None
    if condition.values is None or step is None:
        return condition
    kept = tuple(v for v in condition.values if _on_the_step(v, step))
    return replace(condition, values=kept) if kept and len(kept) < len(condition.values) else condition


def _step_of(column) -> int | None:
    """A numeric column's ``step`` where it is more than 1, else ``None``."""
    return column.step if column.kind is ColumnKind.NUMERIC and column.step and column.step > 1 else None


def _on_the_step(value, step: int) -> bool:
    """Whether ``value`` is a whole multiple of ``step``."""
    return float(value).is_integer() and float(value) % step == 0


def _check_step(condition: Condition, column) -> None:
    """Refuse a condition on an integer column with a ``step`` that no multiple of it meets
    (``body_mass_g = 4010`` of masses in 25 g: rows came back at 4010, off the schema's grid)."""
    step = _step_of(column)
    if step is None:
        return
    # Values off the whole numbers are the integer grid's to refuse (the codec says so).
    if condition.values is not None and all(float(v).is_integer() and not _on_the_step(v, step) for v in condition.values):
        raise ParameterError(f"condition {condition.describe()}: column {column.name!r} holds whole multiples of {step} only "
                             f"(its schema's step); no sampled row can equal {preview(list(condition.values))}")
    if condition.values is None and condition.low is not None and condition.high is not None and math.isfinite(float(condition.low)):
        low = float(condition.low)
        first = math.floor(low / step) * step + step if condition.low_strict or low % step else low
        if first > condition.high or (condition.high_strict and first >= condition.high):
            raise ParameterError(f"condition {condition.describe()}: column {column.name!r} holds whole multiples of {step} "
                                 f"only (its schema's step), and none lies in the range; widen it")
