"""``evaluate``: real vs synthetic (and held-out) tables in, an :class:`EvaluationReport` out."""

from __future__ import annotations

import enum
import logging
import os
import time
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from synthvae.errors import DataError, preview
from synthvae.evaluation import fidelity, plots
from synthvae.evaluation.detection import MIN_DETECTION_ROWS, chance_spread, detection
from synthvae.evaluation.disclosure import disclosure_notes
from synthvae.evaluation.fidelity import SDMETRICS_ASSOCIATION_THRESHOLD, SDMETRICS_CORRELATION_THRESHOLD, Binning
from synthvae.evaluation.privacy import (COPY_P_VALUE, MEMBERSHIP_LIMIT, MIN_ATTACK_ROWS, NEAR_RESOLUTION, copy_resolution,
                                        holdout_overlap, holdout_p_value, near_hashes, privacy, row_hashes)
from synthvae.evaluation.report import REPORT_FORMAT_VERSION, EvaluationReport, detection_far_off, far_off
from synthvae.evaluation.tables import (
    as_written,
    column_infos,
    evaluation_schema,
    foreign_columns,
    prepare,
    table_sources,
)
from synthvae.evaluation.utility import distinct_values, utility
from synthvae.inference import infer_schema
from synthvae.schema import ColumnKind, Schema, load_schema
from synthvae.validation import conform, dtype_zone, index_hint, renamed_hint

logger = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 50_000
_UTILITY_TEST_SHARE = 0.2
# How far the related pairs' trends may fall below their baseline before a note says so.
RELATED_PAIRS_LOSS = 0.05
# How far a column's share of nulls may differ from the real one's before a note names it.
NULL_RATE_GAP = 0.05


class Metric(str, enum.Enum):
    """The groups of metrics :func:`evaluate` can compute."""

    QUALITY = "quality"
    UTILITY = "utility"
    DETECTION = "detection"
    PRIVACY = "privacy"


def _refuse_missing_columns(inferred: Schema, real: pd.DataFrame, others: list[tuple[str, pd.DataFrame | None]],
                            real_name: str) -> None:
    """Refuse a table that lacks columns of the real one that are evaluated (``inferred``'s, from
    the real table; not ids), naming it against the real table:
    conform, under the schema inferred from it, said the columns "are in the schema but not in
    the data", a schema the user never gave (a user review)."""
    for name, frame in others:
        if frame is None:
            continue
        missing = [c.name for c in inferred if not c.is_generated and c.name not in frame.columns]
        if missing:
            unknown = [c for c in frame.columns if c not in real.columns]
            raise DataError(
                f"{name}: columns {preview(missing)} of the {real_name} are not in it (it has {preview(list(frame.columns))})"
                f"{renamed_hint(missing, unknown)}{index_hint(missing + unknown)}; give both tables the same columns "
                f"(rename or add them), or pass a schema of the columns to compare")


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    schema: Schema | str | os.PathLike | dict | None = None,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    seed: int = 0,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    metrics: Iterable[str | Metric] | None = None,
    binning: str | Binning = Binning.REAL_RANGE,
    guarantee: dict | None = None,
    sources: Sequence[str] | None = None,
) -> EvaluationReport:
    """Judge a synthetic table against the real table it imitates.

    Args:
        real: The real table the generator was trained on.
        synthetic: The synthetic table (from synthvae or any other generator).
        schema: Column kinds: a :class:`Schema`, a path to a schema JSON file or its dict;
            inferred from ``real`` when ``None``. Id and personal columns are skipped (a note
            says which).
        holdout: Real rows the generator did not see. With it the report gives the ceiling (the
            same metrics between ``real`` and ``holdout``), tests utility on it and compares
            distances to closest records; without it utility is tested on a 20% split of
            ``real`` (optimistic, since the generator saw those rows).
        target: Column for the utility metrics (TSTR and TRTR); utility is skipped without one.
        seed: Seeds every random choice (subsamples, splits, models): same inputs and seed,
            same report.
        max_rows: Each table is subsampled to at most this many rows (``None``: never); the
            report says when it was.
        metrics: Which groups to compute, among ``"quality"``, ``"utility"``, ``"detection"``
            and ``"privacy"``; all by default. A section not computed is ``None`` in the report
            (``quality``, ``ceiling``) or holds ``None`` numbers and ``"skipped": "not
            requested"`` (``utility``, ``detection``, ``privacy``, whose other reasons to skip
            say why in the same key).
        guarantee: The generator's differential-privacy record (``Synthesizer.privacy_``, or the
            ``privacy`` entry of a model file), shown in the report as ``guarantee``.
        binning: How continuous columns are binned for contingency similarity:
            ``"real_range"`` (default) or ``"own_range"`` (SDMetrics 0.32 exactly).
        sources: What error messages call the real, synthetic and holdout tables (their file
            names, say); ``"real data"``, ``"synthetic data"`` and ``"holdout data"`` by default.

    Returns:
        The report; see :class:`EvaluationReport` for its layout.

    Raises:
        DataError: A table is not a DataFrame, is empty, lacks a column of the schema, or holds
            values that do not fit a column's kind; or an argument is invalid. The message names
            the column.
    """
    started = time.perf_counter()
    chosen = _resolve_metrics(metrics)
    if target is not None and Metric.UTILITY not in chosen:
        raise DataError(f"target {target!r} is the column utility predicts, and the metrics "
                        f"{preview(sorted(m.value for m in chosen))} leave utility out: add 'utility' or drop the target")
    binning = _resolve_binning(binning)
    if max_rows is not None and (not isinstance(max_rows, (int, np.integer)) or max_rows < 10):
        raise DataError(f"max_rows must be an integer of at least 10 or None, got {max_rows!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}")
    real_name, synthetic_name, holdout_name = table_sources(sources)
    for name, frame in ((real_name, real), (synthetic_name, synthetic), (holdout_name, holdout)):
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise DataError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    real, synthetic = _text_labels(real, real_name), _text_labels(synthetic, synthetic_name)
    if target is not None and not isinstance(target, str):
        target = str(target)  # a column labelled 0 is "0" here, as augment and impute take it
    holdout = _text_labels(holdout, holdout_name) if holdout is not None else None
    others = [synthetic] + ([holdout] if holdout is not None else [])
    given = _resolve_schema(schema)
    full_schema = given if given is not None else infer_schema(real, derived=False, source=real_name, warn=False)
    if given is None:
        _refuse_missing_columns(full_schema, real, [(synthetic_name, synthetic), (holdout_name, holdout)], real_name)
    eval_schema = evaluation_schema(full_schema, real, others)
    if target is not None and target not in eval_schema.names:
        raise DataError(
            f"target column {target!r} is not among the evaluated columns "
            f"{preview(eval_schema.names)} (id columns are skipped)"
        )
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    real_t = prepare(real, eval_schema, real_name, max_rows=max_rows, rng=rngs[0])
    synth_t = prepare(synthetic, eval_schema, synthetic_name, max_rows=max_rows, rng=rngs[1])
    hold_t = (prepare(holdout, eval_schema, holdout_name, max_rows=max_rows, rng=rngs[2])
              if holdout is not None else None)
    infos = column_infos(eval_schema)
    notes = _sampling_notes(real_t, synth_t, hold_t)
    if guarantee is not None:
        # The report's real_range holds each column's exact min and max, and every score is read
        # from the real rows; with the model's epsilon beside it, a team took it as covered too.
        notes.append("the model's differential privacy covers the model and the rows sampled from it, not this report: "
                     "it is computed from the real rows (each column's real range is their exact min and max), so "
                     "share the synthetic rows, and this report only where the real rows may go")
    foreign = foreign_columns(infos, real_t, synth_t)
    if foreign:
        notes.append(f"synthetic columns share no value with the real ones: {'; '.join(foreign)}: their shapes, trends, "
                     f"utility and privacy compare nothing alike; map the synthetic values to the real ones")
    generated = [c.name for c in full_schema if c.is_generated]
    if generated:
        origin = "the schema" if given is not None else "the schema inferred from the real table"
        notes.append(f"columns {preview(generated)} are not evaluated: {origin} makes them id or personal "
                     f"columns, which a generator makes up rather than learns; give a schema that declares "
                     f"them numeric, categorical or datetime to evaluate them")
    notes.extend(_zone_notes(eval_schema, (real_name, real), [(synthetic_name, synthetic), (holdout_name, holdout)]))
    known = set(map(str, real.columns))
    for name, frame in (("synthetic", synthetic), ("holdout", holdout)):
        extra = [] if frame is None else [c for c in map(str, frame.columns) if c not in known]
        if extra:
            notes.append(f"{name} table: columns {preview(extra)} are not in the real table; "
                         f"ignored")

    data: dict = {
        "format_version": REPORT_FORMAT_VERSION,
        "settings": {"seed": int(seed), "max_rows": max_rows, "binning": binning.value,
                     "metrics": [m.value for m in Metric if m in chosen], "target": target},
        "tables": _table_sizes(real_t, synth_t, hold_t),
        "columns": [{"name": i.name, "kind": i.kind.value, "shape": i.shape.value} for i in infos],
        "notes": notes,
        "quality": None,
        "ceiling": None,
        "utility": {"tstr": None, "trtr": None, "skipped": "not requested"},
        "detection": {"auc": None, "skipped": "not requested"},
        "privacy": {"dcr_closer_to_train_share": None, "exact_copy_rate": None, "membership_auc": None,
                    "skipped": "not requested"},
        "guarantee": _guarantee(guarantee),
    }
    ceiling: dict = {}
    train_hashes, train_near, overlap = None, None, None
    resolution = copy_resolution(real_t.frame)  # one for every table the copy checks hash
    if real_t.subsampled and (hold_t is not None or Metric.PRIVACY in chosen):
        # Exact and near copies and the holdout's overlap are judged on every training row, not a subsample.
        train_hashes, train_near = _full_train_hashes(real, eval_schema, resolution, copy_resolution(real_t.frame, NEAR_RESOLUTION))
    if hold_t is not None:
        train_hashes = row_hashes(real_t.frame, resolution) if train_hashes is None else train_hashes
        hold_hashes = row_hashes(hold_t.frame, resolution)
        overlap = holdout_overlap(train_hashes, hold_hashes)
        # The holdout given as the synthetic table (or rows of it among them) scored TSTR 1.0: the
        # classifier was tested on rows it trained on, with only the membership note to hint (a review).
        held = holdout_overlap(hold_hashes, row_hashes(synth_t.frame, resolution))
        if held is not None:
            notes.append(f"the synthetic table holds held-out rows: {held[0]:,} of {synth_t.n_rows:,} ({held[1]:.1%}) equal a "
                         f"row that occurs once in the holdout, where fresh rows would at about {held[2]:.1%}; utility (TSTR) "
                         f"and the ceiling's comparisons test on rows the synthetic side holds: keep the holdout out of "
                         f"the generator's hands (or were the tables given the wrong way round?)")
    if overlap is not None:
        # A holdout cut from the training rows scored a verbatim copy of them 0.5 on both.
        left_out = (", and the closer-to-train share and the membership AUC have no baseline (left out)"
                    if Metric.PRIVACY in chosen else "")
        notes.append(f"the holdout holds training rows: {overlap[0]:,} of {hold_t.n_rows:,} ({overlap[1]:.1%}) equal a "
                     f"row that occurs once in the real table, where fresh rows would at about {overlap[2]:.1%}; "
                     f"the ceiling compares training rows with themselves{left_out}: give real rows the generator "
                     f"never saw as the holdout")
    if Metric.QUALITY in chosen:
        data["quality"] = fidelity.quality(infos, real_t, synth_t, binning)
        if hold_t is not None:
            ceiling_quality = fidelity.quality(infos, real_t, hold_t, binning)
            _attach_ceiling(data["quality"], ceiling_quality)
            if synth_t.n_rows > hold_t.n_rows:
                # Fewer rows score lower (wider gaps by chance alone): the ceiling's holdout of
                # 200 rows scored 0.917 where 800 fresh real rows scored 0.950, below tables
                # with no correlations at all. The synthetic table at the holdout's size is the
                # score to hold against the ceiling.
                rows = np.sort(rngs[8].choice(synth_t.n_rows, hold_t.n_rows, replace=False))
                same = fidelity.quality(infos, real_t, synth_t.take(rows), binning)
                data["quality"]["at_holdout_size"] = {"rows": int(hold_t.n_rows), **{k: same[k] for k in (
                    "score", "column_shapes", "column_pair_trends", "missing_values", "sdmetrics_default")}}
                # Each column's and pair's too: scored on every synthetic row, 19 of churn's 20
                # columns passed their ceilings (a review), as if beating real rows.
                for part in ("columns", "pairs"):
                    for item, small in zip(data["quality"][part], same[part]):
                        item["at_holdout_size"] = small["score"]
                notes.append(f"the ceiling compares {hold_t.n_rows:,} holdout rows, and smaller tables score lower by "
                             f"chance alone: hold the synthetic table's score at that size "
                             f"(quality.at_holdout_size) against it, not its score at {synth_t.n_rows:,} rows")
            ceiling["quality"] = {k: ceiling_quality[k] for k in (
                "score", "column_shapes", "column_pair_trends", "missing_values",
                "sdmetrics_default")}
        notes.extend(_related_pairs_note(data["quality"], ceiling.get("quality")))
        notes.extend(_null_rate_note(data["quality"], real_t.n_rows, synth_t.n_rows))
    if Metric.UTILITY in chosen:
        data["utility"] = _utility_section(infos, target, real_t, synth_t, hold_t, seed, rngs[3],
                                           notes)
    if Metric.DETECTION in chosen:
        data["detection"] = detection(infos, real_t, synth_t, rng=rngs[4], seed=seed)
        if data["detection"].get("below_chance"):
            notes.append(f"detection AUC {data['detection']['auc']:.3f} is below 0.5 in every fold: held-out synthetic "
                         f"rows look like the real rows the classifier learned, as near copies of real rows do; the "
                         f"score of 1 does not mean the rows are new: see the privacy metrics")
        rows = data["detection"]["rows_per_side"]
        if data["detection"]["auc"] is not None and rows < MIN_DETECTION_ROWS:
            # 5 rows a side scored 0.200 ("indistinguishable") with nothing said (a user review).
            auc, spread = data["detection"]["auc"], chance_spread(rows)
            # Three spreads above 0.5: two real halves of 150 penguins rows scored 0.428 (a
            # review), further from 0.5 than the spread alone allows; below 0.5 is no telling apart.
            if auc <= 0.5 + 3 * spread:
                notes.append(f"detection compares only {rows} rows a side: its AUC moves by about {spread:.2f} around 0.5 "
                             f"by chance alone, so {auc:.3f} says little; give at least {MIN_DETECTION_ROWS} rows a side")
            else:
                # 0.937 on 175 rows a side was also "says little" (a user review): it is far
                # beyond chance there, so the rows are told apart.
                notes.append(f"detection compares only {rows} rows a side, where its AUC moves by about {spread:.2f} "
                             f"around 0.5 by chance alone: {auc:.3f} is beyond that, so the rows are told apart even at "
                             f"this size (give at least {MIN_DETECTION_ROWS} rows a side for a finer figure)")
        if hold_t is not None:
            ceiling["detection"] = detection(infos, real_t, hold_t, rng=rngs[5], seed=seed)
    if Metric.PRIVACY in chosen:
        data["privacy"] = privacy(infos, real_t, synth_t, hold_t, rng=rngs[6], seed=seed, train_hashes=train_hashes,
                                  resolution=resolution, train_near_hashes=train_near)
        if not real_t.subsampled:  # a value one row of a subsample holds is not one the table's one row holds
            notes.extend(disclosure_notes(infos, real_t, synth_t, hold_t if overlap is None else None, holdout_name,
                                          private=guarantee is not None))
        if hold_t is None:
            notes.append("no holdout given: no ceiling, no closer-to-train share and no membership-inference AUC")
        elif overlap is not None:
            data["privacy"]["dcr_closer_to_train_share"] = data["privacy"]["membership_auc"] = None
        else:
            notes.extend(_privacy_notes(data["privacy"], real_t.n_rows, hold_t.n_rows, synth_t.n_rows))
            if synth_t.subsampled:
                # A copy of every training row among 270,000 synthetic rows scored a membership
                # AUC of 0.535 on the 50,000 kept (a user review).
                notes.append(f"the synthetic table was subsampled ({synth_t.n_rows:,} of {synth_t.n_rows_given:,} rows): "
                             f"the closer-to-train share and the membership AUC see copies of training rows only among "
                             f"the rows kept ({synth_t.n_rows / synth_t.n_rows_given:.0%}), and understate them; check "
                             f"the whole table with privacy_check (synthvae privacy-check) before sharing it, or raise "
                             f"max_rows")
    if hold_t is not None and data["utility"].get("trtr") is not None:
        ceiling["utility"] = {"tstr": data["utility"]["trtr"]}
    notes[:0] = _far_off_notes(data, ceiling)
    if hold_t is not None and data["privacy"].get("holdout_exact_copy_rate") is not None:
        ceiling["privacy"] = {**({} if overlap is not None else {"dcr_closer_to_train_share": 0.5, "membership_auc": 0.5}),
                              "exact_copy_rate": data["privacy"]["holdout_exact_copy_rate"],
                              "near_copy_rate": data["privacy"]["holdout_near_copy_rate"]}
    if ceiling:
        data["ceiling"] = ceiling
    data["seconds"] = round(time.perf_counter() - started, 3)
    figures = plots.figure_data(infos, real_t, synth_t, data, rng=rngs[7])
    logger.info("evaluated %d columns in %.1f s", len(infos), data["seconds"])
    return EvaluationReport(data, figures)


def _guarantee(record: dict | None) -> dict | None:
    """The headline of a differential-privacy record, checked."""
    if record is None:
        return None
    if not isinstance(record, dict) or not {"epsilon", "delta"} <= set(record):
        raise DataError("guarantee must be a Synthesizer's privacy_ record (with epsilon and delta)")
    keys = ("epsilon", "epsilon_budget", "delta", "accountant", "covers", "adjacency", "replace_one", "steps",
            "sgd_noise_multiplier")
    return {k: record[k] for k in keys if k in record}


def _text_labels(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` with its column labels as text (a schema names columns by text; numpy-built
    frames have 0, 1, ...), refused when a label repeats."""
    labels = [str(c) for c in frame.columns]
    repeated = sorted({c for c in labels if labels.count(c) > 1})
    if repeated:
        raise DataError(f"{name}: columns {preview(repeated)} appear more than once; give every column "
                        f"its own name (pd.concat(axis=1) of overlapping tables repeats them)")
    return frame.set_axis(labels, axis=1)


def _resolve_schema(schema) -> Schema | None:
    """The ``schema`` argument as a Schema: one, a path to a schema JSON file, or its dict."""
    if schema is None or isinstance(schema, Schema):
        return schema
    if isinstance(schema, (str, os.PathLike)):
        return load_schema(schema)
    if isinstance(schema, dict):
        return Schema.from_dict(schema)
    raise DataError(f"schema must be a Schema, a path to a schema JSON file or a dict, got {type(schema).__name__}")


def _resolve_metrics(metrics) -> set[Metric]:
    if metrics is None:
        return set(Metric)
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    chosen = set()
    for m in metrics:
        try:
            chosen.add(Metric(m))
        except ValueError:
            raise DataError(
                f"unknown metric group {m!r}; choose among {preview([x.value for x in Metric])}"
            ) from None
    if not chosen:
        raise DataError(f"no metric group asked for; choose among {preview([x.value for x in Metric])} "
                        f"(or leave metrics out for all of them)")
    return chosen


def _resolve_binning(binning) -> Binning:
    try:
        return Binning(binning)
    except ValueError:
        raise DataError(
            f"unknown binning {binning!r}; choose among {preview([b.value for b in Binning])}"
        ) from None


def _null_rate_note(quality: dict, real_rows: int, synthetic_rows: int) -> list[str]:
    """A note naming the columns whose share of nulls differs from the real one's by more than
    :data:`NULL_RATE_GAP` and by more than chance explains: the shape scores leave nulls out (as
    SDMetrics does), so 29% nulls in a column the real table always fills moved its shape by 0.03
    and the quality score by 0.003, with no word (a review)."""
    off = []
    for column in quality["columns"]:
        real, synthetic = column["null_rate"]["real"], column["null_rate"]["synthetic"]
        if real is None or synthetic is None:
            continue
        pooled = (real * real_rows + synthetic * synthetic_rows) / (real_rows + synthetic_rows)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / real_rows + 1 / synthetic_rows))
        if abs(synthetic - real) > max(NULL_RATE_GAP, 3 * spread):
            off.append((abs(synthetic - real), f"{column['column']} ({real:.1%} real, {synthetic:.1%} synthetic)"))
    if not off:
        return []
    named = [text for _, text in sorted(off, reverse=True)]
    # Phrases, not values: a list's repr quoted each ("['verification_income_joint (84.2% real, ...)', ...]").
    listed = "; ".join(named[:5]) + (f"; and {len(named) - 5} more" if len(named) > 5 else "")
    return [f"null rates differ: {listed}; column shapes leave nulls out, so only the missing values score "
            f"({quality['missing_values']:.3f}) shows it"]


def _zone_notes(schema: Schema, named_real: tuple[str, pd.DataFrame], others: list) -> list[str]:
    """A note for each datetime column that has a time zone in one table and none in another:
    they are compared as clock times of the schema's zone (UTC without one), which scored a
    naive real column against its UTC synthetic one 1.0 without a word (a review)."""
    notes = []
    real_name, real = named_real
    labels = {str(label): label for label in real.columns}
    others = [(name, frame, {str(label): label for label in frame.columns}) for name, frame in others if frame is not None]
    for column in schema:
        if column.kind is not ColumnKind.DATETIME or column.name not in labels:
            continue
        zone = dtype_zone(real[labels[column.name]].dtype)
        for name, frame, their_labels in others:
            theirs = their_labels.get(column.name)
            other = dtype_zone(frame[theirs].dtype) if theirs is not None else None
            if theirs is not None and (zone is None) != (other is None):
                zoned, plain = (name, real_name) if zone is None else (real_name, name)
                notes.append(f"column {column.name!r}: {zoned}'s datetimes have a time zone ({zone or other}), {plain}'s "
                             f"none: compared as clock times of {column.timezone or 'UTC'}, values without a zone taken "
                             f"as such; give both tables the same zone if they mean other instants")
    return notes


def _far_off_notes(data: dict, ceiling: dict) -> list[str]:
    """The headline scores far from their ceilings (see :func:`synthvae.evaluation.report.far_off`),
    said first: a table that failed scored a detection AUC of 1.000 and a TSTR of 0.538 against
    0.914 with no word of it (an HTML review)."""
    notes = []
    auc, held = data["detection"].get("auc"), (ceiling.get("detection") or {}).get("auc")
    if detection_far_off(data["detection"], held):
        against = f"the holdout's {held:.3f}" if held is not None else "0.5, where no classifier can tell them apart"
        notes.append(f"detection AUC {auc:.3f} against {against}: a classifier tells the synthetic rows from real ones; "
                     f"the worst columns and pairs show by what")
    u = data["utility"]
    if u.get("trtr") is not None and far_off(u.get("tstr"), u["trtr"], False, 1.0):
        notes.append(f"a model trained on the synthetic rows scores {u['tstr']:.3f} ({u['metric']}) on the real held-out "
                     f"rows, against {u['trtr']:.3f} trained on the real rows: the synthetic rows lose what predicts "
                     f"{u['target']!r}")
    return notes


def _related_pairs_note(quality: dict, ceiling: dict | None) -> list[str]:
    """A note when the pairs related in the real data (SDMetrics' default trends) score well below
    the holdout's: most pairs of a table are unrelated, so the average hid lost relationships
    (churn's columns each permuted on its own scored 0.960 at the holdout's size, beside a
    ceiling of 0.964; its related pairs 0.678 against 0.976: a review). Only against a holdout:
    related pairs of many categories score low between real tables too (two halves of loans:
    0.722, all pairs 0.957)."""
    related = (quality.get("at_holdout_size") or quality)["sdmetrics_default"]
    score, counted = related["column_pair_trends"], related["pairs_counted"]
    if score is None or not counted or ceiling is None:
        return []
    baseline = ceiling["sdmetrics_default"]["column_pair_trends"]
    if baseline is None or score >= baseline - RELATED_PAIRS_LOSS:
        return []
    return [f"the {counted:,} column pairs related in the real data (|r| > {SDMETRICS_CORRELATION_THRESHOLD} or Cramer's V > "
            f"{SDMETRICS_ASSOCIATION_THRESHOLD}, SDMetrics' default trends) score {score:.3f} against the holdout's {baseline:.3f}: "
            f"the synthetic rows lose relationships between columns, which the trend average over all "
            f"{len(quality['pairs']):,} pairs ({quality['column_pair_trends']:.3f}) hides; see the worst pairs"]


def _attach_ceiling(section: dict, ceiling: dict) -> None:
    for column, limit in zip(section["columns"], ceiling["columns"]):
        column["ceiling"] = limit["score"]
    for pair, limit in zip(section["pairs"], ceiling["pairs"]):
        pair["ceiling"] = limit["score"]


def _utility_section(infos, target, real_t, synth_t, hold_t, seed, rng, notes) -> dict:
    if target is None:
        return {"tstr": None, "trtr": None, "skipped": "no target column given"}
    info = next((i for i in infos if i.name == target), None)
    if hold_t is not None:
        train, test, where = real_t, hold_t, "the holdout"
    else:
        order = rng.permutation(real_t.n_rows)
        n_test = max(1, int(round(real_t.n_rows * _UTILITY_TEST_SHARE)))
        test, train = real_t.take(np.sort(order[:n_test])), real_t.take(np.sort(order[n_test:]))
        notes.append("no holdout given: utility is tested on a 20% split of the real data")
        where = "the 20% test split of the real rows"
    if info is not None and (hold_t is None or distinct_values(info, real_t) > 1):
        # A rare class that chance left out of one side (the test rows, or the split's training
        # part) aborted every metric; a target of one value in all the real rows is refused
        # with a holdout, skipped without one (as it was).
        for part, name in ((test, where), (train, "the 80% training split of the real rows")):
            if part is not real_t and distinct_values(info, part) == 1:
                fix = "give a holdout" if hold_t is None else "give a holdout that holds more than one"
                return {"tstr": None, "trtr": None, "target": target,
                        "skipped": f"{name} holds one value of {target!r}, so no score is defined; {fix}"}
    result = utility(infos, target, train, synth_t, test, seed=seed)
    result["test_set"] = "holdout" if hold_t is not None else "20% of the real data (the generator saw these rows: optimistic)"
    for name, rows in (("tstr", "synthetic"), ("trtr", "real training")):
        if result[name] is None:  # was dropped from the summary and the HTML without a word
            result["skipped"] = (f"no {name.upper()} score: the {rows} rows hold no value of {target!r}, or no "
                                 f"other column with a value, to train on")
            break
    return result


def _privacy_notes(privacy: dict, train_rows: int, holdout_rows: int, synthetic_rows: int) -> list[str]:
    """What the privacy section's numbers from a holdout cannot say: a closer-to-train share from
    few rows, a membership AUC withheld, or one past its limit; and copies of training rows, exact
    or near, beyond the holdout's rate by more than chance explains (privacy_check's test)."""
    notes = []
    for key, what in (("exact_copy_rate", "copy a training row"),
                      ("near_copy_rate", f"equal a training row but for numbers within {NEAR_RESOLUTION:g} of their spread")):
        count, held = round(privacy[key] * synthetic_rows), round(privacy[f"holdout_{key}"] * holdout_rows)
        if holdout_p_value(count, synthetic_rows, held, holdout_rows) < COPY_P_VALUE:
            # A copy of 24 training rows with one amount moved by a cent each (a privacy review)
            # showed an exact copy rate of 0 here, and nothing else said so.
            notes.append(f"{count:,} of {synthetic_rows:,} synthetic rows {what} ({privacy[key]:.2%}), where holdout rows do "
                         f"at {privacy[f'holdout_{key}']:.2%}: more than chance explains (privacy_check fails them); "
                         f"such rows publish the people they copy")
            break  # the near copies hold the exact ones
    auc = privacy["membership_auc"]
    if min(train_rows, holdout_rows, synthetic_rows) < MIN_ATTACK_ROWS:
        # 69 held-out rows: the share of fresh real rows ranged 0.39-0.67 over 20 splits. Few
        # synthetic rows leave the attack as little to measure by (one row scored 0.502 without
        # a word: a user review).
        both = synthetic_rows < MIN_ATTACK_ROWS and auc is not None
        notes.append(f"{'closer-to-train share and membership-inference AUC' if both else 'closer-to-train share'} from "
                     f"{train_rows:,} training, {holdout_rows:,} holdout and {synthetic_rows:,} synthetic rows: below "
                     f"{MIN_ATTACK_ROWS} a side chance alone moves {'them' if both else 'it'} by a tenth or more, so read "
                     f"{'them' if both else 'it'} as a rough sign (privacy_check refuses to judge {'them' if both else 'it'})")
    if auc is None:
        notes.append(f"no membership-inference AUC: it needs {MIN_ATTACK_ROWS} training and {MIN_ATTACK_ROWS} holdout "
                     f"rows at least ({privacy['membership_attack_rows']:,} a side here), or chance alone moves it")
    elif not 1 - MEMBERSHIP_LIMIT <= auc <= MEMBERSHIP_LIMIT:
        notes.append(f"membership-inference AUC {auc:.3f}: " + (
            "training rows lie nearer the synthetic rows than fresh rows do, so an attacker holding the synthetic "
            f"table can tell who was in the training data (privacy_check fails above {MEMBERSHIP_LIMIT})" if auc > 0.5 else
            "the synthetic rows lie nearer the held-out rows than the training rows: were the real and holdout "
            "tables given the wrong way round, or the generator fitted on the holdout?"))
    return notes


def _full_train_hashes(real: pd.DataFrame, schema: Schema, resolution: dict[str, float],
                       near: dict[str, float]) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The whole real table's :func:`row_hashes` at ``resolution`` and :func:`near_hashes` at
    ``near`` (those of its subsample)."""
    full = conform(as_written(real), schema, "real data", allow_extra=True, check_bounds=False)
    return row_hashes(full, resolution), near_hashes(full, near)


def _table_sizes(real_t, synth_t, hold_t) -> dict:
    out = {}
    for name, table in (("real", real_t), ("synthetic", synth_t), ("holdout", hold_t)):
        if table is not None:
            out[name] = {"rows": table.n_rows_given, "rows_used": table.n_rows,
                         "subsampled": table.subsampled}
    return out


def _sampling_notes(*tables) -> list[str]:
    notes = []
    for name, table in zip(("real", "synthetic", "holdout"), tables):
        if table is not None and table.subsampled:
            notes.append(f"{name} table subsampled from {table.n_rows_given:,} to "
                         f"{table.n_rows:,} rows (max_rows)")
    return notes
