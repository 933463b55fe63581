"""The ``synthvae`` command line: a thin layer over the public API, and the only place that prints.

Library errors become one line on stderr and exit status 1; usage errors exit 2 (click's rule).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
import pyarrow.parquet as pq

from synthvae import __version__
from synthvae.checkpoint import FILE_NAME as CHECKPOINT_FILE
from synthvae.conditions import unknown_column
from synthvae.constraints.spec import Inequality, Lookup, NullWhen, Range
from synthvae.device import resolve_device
from synthvae.distributed import Parallel
from synthvae.streaming import RESERVOIR_ROWS
from synthvae.errors import SynthVAEError, one_line
from synthvae.inference import infer_schema
from synthvae.io import PARQUET_SUFFIXES, datetime_formats, read_table, stored_index, text_columns, write_table
from synthvae.schema import ColumnKind
from synthvae.synthesizer import AUGMENT_GUIDANCE, Synthesizer, check_augment_arguments
from synthvae.training import Progress


def _library_errors(func):
    """Turn synthvae's errors into a one-line ClickException (exit status 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SynthVAEError as exc:
            # One line, as documented: torch's size-mismatch text ran to 13.
            raise click.ClickException(one_line(exc)) from None
        except OSError as exc:  # a path the system refuses (a name too long, a symlink loop): no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or one_line(exc)}") from None
        except RuntimeError as exc:
            if not str(exc).startswith("Symlink loop"):  # pathlib's resolve() of a link to itself
                raise
            raise click.ClickException(f"{exc}: give a path that is not a symbolic link loop") from None

    return wrapper


class _FloatRange(click.FloatRange):
    """click's FloatRange, refusing NaN, which passes every range check (privacy-check took
    ``--max-membership-auc nan`` and reported a broken limit, exit 3)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def _seed_option(func):
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Random seed (0 or more): same seed, same result (on CPU; a fit with --epsilon draws its "
                             "noise afresh each time).")(func)


def _device_option(func):
    return click.option(
        "--device",
        default="cpu",
        show_default=True,
        help="Where to run the model: cpu, cuda, cuda:N or auto (CUDA if available).",
    )(func)


def _check_output_folder(path: str) -> None:
    """Refuse an output path whose folder is missing, or in which no file can be created (the
    file is written beside it first, then renamed), before any work is done: a read-only
    folder failed after the whole fit."""
    if path == "-":
        raise click.ClickException("'-' is no file: synthvae writes files, not standard output (infer-schema and "
                                   "schema from-sdv print their JSON there when -o is left out); give a file name")
    folder = Path(path).parent
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "does not exist"
        raise click.ClickException(f"cannot write {path!r}: folder {str(folder)!r} {state}")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".synthvae-check-")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path!r}: cannot create a file in folder {str(folder)!r} "
                                   f"({exc.strerror or exc}); choose another folder or change its permissions") from None
    os.close(handle)
    os.unlink(probe)


def _given_options(*names: str) -> list[str]:
    """The options among ``names`` (the command's parameter names) given on the command line, as
    their flags (``schema_path`` as ``--schema``), not left at their defaults."""
    context = click.get_current_context()
    flags = {param.name: param.opts[0] for param in context.command.params}
    return [flags[name] for name in names if context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]


def _check_not_input(output: str, *inputs: str | None, option: str = "-o") -> None:
    """Refuse an output path that is one of the command's input files: it would be overwritten."""
    target = Path(output)
    for given in inputs:
        if given is None:
            continue
        source = Path(given)
        same = source.exists() and target.exists() and os.path.samefile(source, target)
        if same or source.resolve() == target.resolve():
            raise click.ClickException(f"{option} {output!r} is the input file {given!r}: it would be overwritten; write to another file")


def _check_report_outputs(outputs: dict[str, str | None], *inputs: str | None) -> None:
    """Refuse report files (``--json``, ``--html``) that are an input, the other report, or in a
    missing folder, before any work is done."""
    given = [(option, path) for option, path in outputs.items() if path]
    for i, (option, path) in enumerate(given):
        _check_not_input(path, *inputs, option=option)
        _check_not_table_name(path, f"{option[2:].upper()} report", f".{option[2:]}", option=option)
        for other_option, other in given[i + 1:]:
            if Path(other).resolve() == Path(path).resolve():
                raise click.ClickException(f"{option} and {other_option} are the same file {path!r}: give each its own")
        _check_output_folder(path)


def _check_holdout_not_real(holdout: str | None, real: str) -> None:
    """Refuse a --holdout that is the REAL file: the held-out rows would be the training rows."""
    if holdout and Path(holdout).resolve() == Path(real).resolve():
        raise click.ClickException(f"--holdout {holdout!r} is REAL itself: give real rows the generator never saw "
                                   f"(split them off before fitting)")


def _check_not_table_name(output: str, what: str, suffix: str, option: str = "-o") -> None:
    """Refuse a model or schema file named like a table (``.csv``, ``.parquet``)."""
    from synthvae.io import CSV_SUFFIXES, PARQUET_SUFFIXES

    if output.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
        raise click.ClickException(f"{option} {output!r}: a {what} named like a table would be taken for one; name it *{suffix}")
    # A schema written over a model ("infer-schema -o model.synthvae") replaced it silently.
    kind = ("model file" if what != "model file" and output.lower().endswith(".synthvae") else
            "schema" if suffix != ".json" and output.lower().endswith(".json") else None)
    if kind is not None:
        raise click.ClickException(f"{option} {output!r}: a {what} named like a {kind} would be taken for one; name it *{suffix}")


class _ProgressBar:
    """A training callback that draws a click progress bar with the losses; where stderr is not
    a terminal (a log, CI), a line now and then instead (click drew the bare word "training"
    there and nothing more)."""

    # Where stderr is no terminal: a line at the first epoch, at each tenth of the epochs or
    # after this many seconds, and at the last.
    LINE_SECONDS = 30.0

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.last = ""
        self.terminal = sys.stderr.isatty()
        self.started = self.said = time.monotonic()

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        if not self.terminal:
            self._line(progress)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=progress.epochs,
                label="training",
                item_show_func=lambda _: self.last,
                file=sys.stderr,
            )
            self.bar.__enter__()
            if progress.epoch > 1:  # a resumed fit: the epochs before the checkpoint are done
                self.bar.update(progress.epoch - 1)
        val = f" val {progress.val_loss:.3f}" if progress.val_loss is not None else ""
        self.last = f"loss {progress.train_loss:.3f}{val}"
        self.bar.update(1)
        if progress.stopped_early or progress.epoch == progress.epochs:
            self.close()

    def _line(self, progress: Progress) -> None:
        now = time.monotonic()
        last = progress.stopped_early or progress.epoch == progress.epochs
        tenth = max(1, progress.epochs // 10)
        if not (last or progress.epoch == 1 or progress.epoch % tenth == 0 or now - self.said >= self.LINE_SECONDS):
            return
        self.said = now
        val = f", validation loss {progress.val_loss:.3f}" if progress.val_loss is not None else ""
        end = (f" (stopped early; keeps epoch {progress.best_epoch})" if progress.stopped_early else "") if last else ""
        click.echo(f"training: epoch {progress.epoch}/{progress.epochs}, loss {progress.train_loss:.3f}{val}, "
                   f"{now - self.started:.1f} s{end}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthvae")
@click.option("-v", "--verbose", count=True,
              help="Also print what synthvae does, on stderr (-v: steps such as a streamed fit's scan or where "
              "conditioned values came from; -vv: details for debugging). Warnings print without it.")
@click.pass_context
def cli(context: click.Context, verbose: int) -> None:
    """synthvae: synthetic tabular data from a tabular variational autoencoder.

    Typical use: infer-schema (review it), fit, sample. `synthvae demo` runs all of it on a
    bundled table.
    """
    # One process of a torchrun fit logs: the others' lines were the same, twice.
    if verbose and os.environ.get("RANK", "0") == "0":
        context.call_on_close(_log_to_stderr(verbose))


def _log_to_stderr(verbose: int) -> Callable[[], None]:
    """synthvae's log records of INFO (``verbose`` 1) or DEBUG (2+) and above to stderr (without
    it Python prints warnings alone), until the returned function puts the logger back as it was
    (an application running the CLI in its own process keeps its logging)."""
    import logging

    logger = logging.getLogger("synthvae")
    level = logger.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return restore


@cli.command("infer-schema")
@click.argument("data", type=click.Path(file_okay=True, dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Schema JSON to write (default: print it).")
@click.option("--name", help="Name stored in the schema.")
@click.option("--no-derived", is_flag=True,
              help="Do not look for rules: numeric columns that are exact linear functions of others or calendar "
                   "parts of a datetime (derived rules), columns null on every row of some category (null_when rules), numeric "
                   "columns that one or two categorical columns fix (lookup rules); --inequalities still looks for orders.")
@click.option("--inequalities", is_flag=True,
              help="Also look for orders: pairs of numeric columns, with a value on every row, one of which is never "
                   "above the other (balance <= loan_amount). Every sampled row then keeps them, but the model learns one "
                   "side through the other, which scored slightly lower on the benchmark tables (README).")
@_library_errors
def infer_schema_command(data: str, output: str | None, name: str | None, no_derived: bool, inequalities: bool) -> None:
    """Infer a schema from DATA (CSV or Parquet) for you to review and edit."""
    if output:
        _check_not_table_name(output, "schema", ".json")
        _check_not_input(output, data)
        _check_output_folder(output)
    schema = infer_schema(read_table(data), name=name or Path(data).name.split(".")[0], derived=not no_derived,
                          inequalities=inequalities, source=repr(data))
    if output:
        schema.save(output)
        click.echo(f"wrote schema of {len(schema)} columns to {output}", err=True)
    else:
        click.echo(schema.to_json(), nl=False)
    _say_what_was_inferred(schema, "(--no-derived: none)")


def _say_what_was_inferred(schema, derived_hint: str) -> None:
    """Name the inferred rules and columns a person should review: derived columns, structural
    nulls, looked-up columns, orders, personal and id columns (regenerated, never learned);
    ``fit`` without ``--schema`` inferred them silently."""
    kinds = [
        ([r for r in schema.constraints if not isinstance(r, (NullWhen, Lookup, Inequality, Range))], "derived column",
         "found, exact on every row (computed from the others, never learned)", derived_hint),
        ([r for r in schema.constraints if isinstance(r, NullWhen)], "structural null",
         "found (sampled rows keep them, impute leaves them null)", derived_hint),
        ([r for r in schema.constraints if isinstance(r, Lookup)], "looked-up column",
         "found (learned, each sampled value one its keys held)", derived_hint),
        ([r for r in schema.constraints if isinstance(r, (Inequality, Range))], "order",
         "found, kept on every row (one side learned through the other)", "(without --inequalities: none)"),
    ]
    for rules, noun, what, hint in kinds:
        if rules:
            click.echo(f"{len(rules)} {noun}{'s' if len(rules) > 1 else ''} {what}: "
                       + "; ".join(rule.describe() for rule in rules) + f"; review them {hint}", err=True)
    personal = [f"{c.name} ({c.personal.value})" for c in schema if c.personal is not None]
    if personal:
        click.echo(
            f"personal data suspected in {len(personal)} columns: {', '.join(personal)}; they are marked kind "
            "personal (regenerated as fake values, never learned or copied): review them",
            err=True,
        )
    ids = [c.name for c in schema if c.kind is ColumnKind.ID]
    if ids:
        click.echo(f"id columns (regenerated unique, never learned): {', '.join(ids)}; review them", err=True)


@cli.group("schema")
def schema_group() -> None:
    """Schemas: convert SDV metadata, check a table against a schema's rules."""


@schema_group.command("from-sdv")
@click.argument("metadata", type=click.Path(dir_okay=False))
@click.option("--data", required=True, type=click.Path(file_okay=True, dir_okay=True),
              help="The table (CSV or Parquet): SDV metadata has no categories or bounds, they are read from it.")
@click.option("--table", help="For a multi-table metadata file: which table.")
@click.option("--constraints", "constraints_path", type=click.Path(dir_okay=False),
              help="A JSON list of SDV constraints (constraint_class, constraint_parameters) to convert too.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Schema JSON to write (default: print it).")
@_library_errors
def schema_from_sdv_command(metadata, data, table, constraints_path, output) -> None:
    """Convert an SDV single-table METADATA JSON (and its constraints) into a synthvae schema.
    What has no equivalent is listed on stderr."""
    from synthvae.constraints.sdv import schema_from_sdv

    if output:
        _check_not_input(output, metadata, data, constraints_path)
        _check_not_table_name(output, "schema", ".json")
        _check_output_folder(output)
    schema, notes = schema_from_sdv(metadata, read_table(data), table=table, constraints=constraints_path)
    if output:
        schema.save(output)
        click.echo(f"wrote schema of {len(schema)} columns and {len(schema.constraints)} constraints to {output}", err=True)
    else:
        click.echo(schema.to_json(), nl=False)
    for note in notes:
        click.echo(f"not converted: {note}", err=True)


@schema_group.command("check")
@click.argument("schema_path", metavar="SCHEMA", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(file_okay=True, dir_okay=True))
@_library_errors
def schema_check_command(schema_path, data) -> None:
    """Check DATA against SCHEMA: columns, types, bounds, nulls and every constraint. Exit 1
    with every problem, one per line: each column that does not fit (with example values) and
    each broken rule (with example rows); rules are checked on the columns that fit."""
    from synthvae.constraints.plan import FIX_BROKEN_RULES, broken_rules
    from synthvae.schema import load_schema
    from synthvae.validation import check_columns

    schema = load_schema(schema_path)
    table, problems = check_columns(read_table(data, text_columns(schema)), schema, repr(data))
    rules = broken_rules(schema, table, repr(data))
    problems += [f"{data!r} breaks the constraint {line}" for line in rules]
    if problems:
        lines = "\n".join(f"  - {one_line(problem)}" for problem in problems)
        fix = f"\n{FIX_BROKEN_RULES}" if rules else ""
        raise click.ClickException(f"{data}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n{lines}{fix}")
    click.echo(f"{data}: {len(table)} rows fit the schema and its {len(schema.constraints)} constraints", err=True)


_balance_option = click.option(
    "--categorical-balance", type=_FloatRange(min=0), default=None,
    help="Weight each categorical column's loss by max(1, B / its entropy in nats), so rare flags "
    "stay tied to the rest of the row; 5 trains better classifiers of categorical targets at some "
    "cost to numeric columns (default 0, the plain ELBO; refused with --epsilon).")
_head_option = click.option(
    "--categorical-head", type=click.IntRange(min=0), default=None,
    help="Width of a hidden layer of the categorical columns' logits of their own (0: linear "
    "logits; default: the decoder's last hidden width, at most 128; 0 with --epsilon).")
_datetime_option = click.option(
    "--datetime-encoding", type=click.Choice(["auto", "calendar", "timestamp"]), default="auto", show_default=True,
    help="How datetime columns are learned: as their calendar parts (year, day of the year, time of day, "
    "day of the week: seasons and hours relate to the other columns) or as one timestamp (for a datetime a "
    "number follows monotonically); auto: the parts, unless the rows span less than two days or a number "
    "follows the datetime monotonically.")
_ordered_option = click.option(
    "--autoregressive", type=click.IntRange(min=0), default=None,
    help="Units of the categorical head that also read the categories drawn before their column, "
    "so categorical columns are drawn one after another (0: each given the latent alone; default: "
    "one per 100 rows, at most 32; none without a head).")


@cli.command("fit")
@click.argument("data", type=click.Path())
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Schema JSON (default: inferred).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Model file to write.")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs (default: picked from the table size).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per training step (expected, with --epsilon).")
@click.option("--epsilon", type=_FloatRange(min=0, min_open=True),
              help="Train with differential privacy (DP-SGD) at this epsilon; needs --schema (its bounds are taken as public: give ones not read off the data).")
@click.option("--noise-multiplier", type=_FloatRange(min=0, min_open=True),
              help="Train with differential privacy at this fixed DP-SGD noise (over --max-grad-norm; the histograms get "
              "ten times it) instead of an --epsilon budget: the epsilon it spends is computed, printed and stored (more "
              "--epochs, more epsilon). Needs --schema, as --epsilon does.")
@click.option("--delta", type=_FloatRange(min=0, max=1, min_open=True, max_open=True),
              help="Delta of the guarantee (default: min(1e-5, 0.1 / rows)).")
@click.option("--max-grad-norm", type=_FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Per-row gradient clipping bound of DP-SGD.")
@click.option("--adjacency", type=click.Choice(["add_remove", "replace"]), default="add_remove", show_default=True,
              help="Neighbouring tables of the --epsilon budget: one row added or removed (the row count, which the "
              "model file records, is not covered), or one row replaced (the count public; more noise).")
@click.option("--statistics-share", type=_FloatRange(min=0, max=1, min_open=True, max_open=True),
              help="With --epsilon: the share of it planned for the column histograms the encoding is fitted from, "
              "the rest for DP-SGD (default 0.25).")
@click.option("--refuse-leaks/--allow-leaks", default=None,
              help="With --epsilon: where the schema looks read from the table (bounds at the data's "
              "extremes, categories few rows hold, ids counted from the real ones), refuse to fit, exit 1 (the "
              "default), or take those facts as public and warn of each.")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False),
              help="Save the training state in this folder as it goes, to --resume after a kill.")
@click.option("--resume", is_flag=True,
              help="Continue from --checkpoint-dir's checkpoint (same data and options): the model "
              "ends the same as an uninterrupted fit's.")
@click.option("--checkpoint-every", type=_FloatRange(min=0), default=30.0, show_default=True,
              help="Least seconds between checkpoints (0: after every epoch).")
@click.option("--streaming/--in-memory", default=None,
              help="Read DATA in streamed batches (memory grows with the batch, not the table) or whole. "
              "Default: stream folders of Parquet parts and files over 512 MB.")
@click.option("--reservoir-rows", type=click.IntRange(min=1),
              help=f"Rows of the sample a streamed fit infers the schema and fits the codecs on (default {RESERVOIR_ROWS:,}; "
              f"streamed fits only).")
@click.option("--min-category-rows", type=click.IntRange(min=1), default=1, show_default=True,
              help="Never generate a category that fewer training rows hold (a job title or town a few "
              "people share can identify them); the model still learns their rows. With --epsilon it is judged on the "
              "noisy counts: a category fewer rows hold may still be generated (list only public categories in the schema).")
@click.option("--min-tail-rows", type=click.IntRange(min=1), default=1, show_default=True,
              help="Top- and bottom-code numeric and datetime columns: each is cut between its K-th and K+1-th most "
              "extreme training values, and no sampled value lies beyond a cut (an income one person holds can identify "
              "them); the model still learns their rows, at the cut.")
@_balance_option
@_datetime_option
@_head_option
@_ordered_option
@click.option("--target", help="A categorical column to embed by (encode): its cross-entropy is weighted in training so "
              "the latent keeps it. Unconditional rows then train slightly worse classifiers of a two-class target, and "
              "augment's guidance has nothing to sharpen: leave it out for those.")
@click.option("--conditional/--no-conditional", default=True, show_default=True,
              help="Train the conditional prior that sample --condition, augment and impute need, before the model file "
              "is written (on wide tables as long as the fit itself). --no-conditional writes the file at once; "
              "its model then samples unconditional rows and encodes, and refuses the rest.")
@_seed_option
@_device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_library_errors
def fit_command(data, schema_path, output, epochs, batch_size, epsilon, noise_multiplier, delta, max_grad_norm, adjacency, statistics_share, refuse_leaks,
                checkpoint_dir, resume, checkpoint_every, streaming, reservoir_rows, min_category_rows, min_tail_rows,
                categorical_balance, datetime_encoding, categorical_head, autoregressive, target, conditional, seed, device, quiet) -> None:
    """Fit a model on DATA (CSV, Parquet, or a folder of Parquet files) and write it to a model file.

    Under torchrun (torchrun --nproc-per-node K -m synthvae fit ...) the fit is data-parallel:
    each process trains on its share of every batch, and rank 0 writes the model.

    With --epsilon (or --noise-multiplier) the fit is differentially private: --epochs and
    --batch-size then set DP-SGD's passes (default 30) and expected batch, and the epsilon spent
    is printed and stored.

    A long fit can save its state with --checkpoint-dir DIR; after a crash or kill, the same
    command with --resume continues where the last checkpoint left off.
    """
    if resume and checkpoint_dir is None:
        raise click.UsageError("--resume needs --checkpoint-dir (the folder to resume from)")
    if checkpoint_dir is None and _given_options("checkpoint_every"):
        raise click.UsageError("--checkpoint-every sets how often checkpoints are written: it needs --checkpoint-dir")
    if epsilon is not None and noise_multiplier is not None:
        raise click.UsageError("--epsilon sets a budget the noise is calibrated to, --noise-multiplier a fixed noise whose "
                               "epsilon is computed: give one of them")
    private = epsilon is not None or noise_multiplier is not None
    if not private and (delta is not None or statistics_share is not None or refuse_leaks is not None
                        or _given_options("max_grad_norm", "adjacency")):
        raise click.UsageError("--delta, --max-grad-norm, --adjacency, --statistics-share and --refuse-leaks/--allow-leaks set a private "
                               "fit: they need --epsilon (or --noise-multiplier)")
    if noise_multiplier is not None and statistics_share is not None:
        raise click.UsageError("--statistics-share splits an --epsilon budget between the histograms and DP-SGD; with "
                               "--noise-multiplier there is no budget (the histograms get ten times its noise): drop one of them")
    if private:
        # Said in the command's words (the library's named checkpoint_dir and privacy).
        clashes = {"--checkpoint-dir": (checkpoint_dir is not None, "a private fit cannot be checkpointed yet (its "
                                        "privacy accounting and Poisson batches would have to resume too)"),
                   "--categorical-balance": (bool(categorical_balance), "it weighs columns by their real category "
                                             "shares, which a private fit must not use"),
                   "--target": (target is not None, "it weighs its column by the real class shares, which a private fit "
                                "must not use")}
        named = "--epsilon" if epsilon is not None else "--noise-multiplier"
        for flag, (given, why) in clashes.items():
            if given:
                raise click.UsageError(f"{flag} with {named}: {why}; drop one of them")
    _check_not_table_name(output, "model file", ".synthvae")
    _check_not_input(output, data, schema_path)
    _check_output_folder(output)
    if checkpoint_dir is not None and Path(checkpoint_dir).resolve() == Path(output).resolve():
        # Found only when the model was written, after the whole fit: "it is a folder".
        raise click.UsageError(f"--checkpoint-dir {checkpoint_dir!r} is the model file -o {output!r}: give the checkpoints a folder of their own")
    resolve_device(device)
    privacy = None
    if private:
        privacy = {"epsilon": epsilon, "noise_multiplier": noise_multiplier, "delta": delta, "max_grad_norm": max_grad_norm, "batch_size": batch_size,
                   "adjacency": adjacency}
        if refuse_leaks is not None:
            privacy["refuse_leaks"] = refuse_leaks
        if statistics_share is not None:
            privacy["statistics_share"] = statistics_share
        if epochs is not None:
            privacy["epochs"] = epochs
        epochs = batch_size = None
    parallel = Parallel.from_environment()
    main = parallel is None or parallel.is_main
    if resume and main and not (Path(checkpoint_dir) / CHECKPOINT_FILE).exists():
        # Said up front: a mistyped folder trained from scratch with nothing to show it.
        click.echo(f"no checkpoint in {checkpoint_dir!r} to resume from: training from the start", err=True)
    bar = _ProgressBar(enabled=not quiet and main)
    try:
        syn = Synthesizer(schema=schema_path, epochs=epochs, batch_size=batch_size, privacy=privacy,
                          categorical_balance=categorical_balance, categorical_head=categorical_head,
                          autoregressive=autoregressive, target=target, datetime_encoding=datetime_encoding,
                          min_category_rows=min_category_rows, min_tail_rows=min_tail_rows, conditional=conditional, seed=seed,
                          device=device)
        syn.fit(data, callback=bar, checkpoint_dir=checkpoint_dir, resume=resume, checkpoint_every=checkpoint_every,
                streaming=streaming, reservoir_rows=reservoir_rows)
    except RuntimeError as exc:
        if parallel is None or isinstance(exc, SynthVAEError):
            raise
        # Another process stopped (its own error is on its output): torch's communication
        # error was a raw traceback here when no torchrun agent stopped this process first.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"process {parallel.rank} of {parallel.world}: the parallel fit stopped ({first}); "
                                   f"another process probably failed: see its output") from None
    finally:
        bar.close()
    saving = 0.0
    if main:
        if not quiet and conditional:
            # The conditional prior trains here, before the file is written: on wide tables
            # (loans) that takes as long as the fit, and a silent wait looks like a hang.
            click.echo("training the conditional prior (conditions, augment and impute use it) and writing the model ...", err=True)
        started = time.perf_counter()
        syn.save(output)
        saving = time.perf_counter() - started
    if parallel is not None:
        parallel.barrier()  # no process ends before the model is written
        parallel.stop()
    if not main:
        return
    if schema_path is None:
        _say_what_was_inferred(syn.schema_, "(infer-schema writes the schema to edit; fit --schema uses it)")
    info = syn.fit_info_
    processes = f", {parallel.world} processes" if parallel is not None else ""
    click.echo(
        f"fitted {info.rows} rows x {info.columns} columns in {info.seconds:.1f} s "
        f"({info.epochs_run} epochs, best {info.best_epoch}{processes}); wrote {output} "
        f"in {saving:.1f} s" + (" (the conditional prior's training included)" if conditional else " (no conditional prior: --no-conditional)"),
        err=True,
    )
    if syn.privacy_ is not None:
        record = syn.privacy_
        if record.get("adjacency") == "replace":
            neighbours = "one row replaced (the row count public)"
        else:
            other = record["replace_one"]
            neighbours = (f"one row added or removed (not covering the row count, which the model file records); one row "
                          f"replaced, the count public: epsilon {other['epsilon']:.3f} at delta {other['delta']:.2g} "
                          + ("(--adjacency replace calibrates to that)" if record.get("epsilon_budget") is not None
                             else "(--adjacency replace reports that)"))
        click.echo(
            f"differential privacy: epsilon {record['epsilon']:.3f} spent ("
            + (f"budget {record['epsilon_budget']:g}" if record.get("epsilon_budget") is not None
               else f"no budget: DP-SGD's noise fixed at {record['sgd_noise_multiplier']:g}") + ") "
            f"at delta {record['delta']:.2g}, neighbours {neighbours}",
            err=True,
        )
        if record["warnings"]:
            click.echo(
                f"{len(record['warnings'])} warnings about the schema (above; read from the rows, so not saved in the model file): "
                "what they name is not covered by the guarantee",
                err=True,
            )


def _column_list(text: str, names: list[str]) -> list[str]:
    """Column names from a comma-separated option, quoted as CSV where a name holds a comma
    (``'"bill length, mm",sex'``); a name is taken as given where the model has it, else with
    its spaces stripped, else as the model's one name that is it but for surrounding spaces
    (``' Age (years) '``, which the shell's quoting keeps or loses)."""
    import csv

    try:
        fields = next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error as exc:
        raise click.UsageError(f"--columns {text!r}: {exc}; quote a name that holds a comma as \"name, with comma\"") from None
    padded = {name.strip(): name for name in names if name != name.strip()}
    chosen = []
    for field in fields:
        name = field if field in names else field.strip()
        if name and name not in names:
            name = padded.get(name, name)
        if name:
            chosen.append(name)
    # A piece of a name that holds a comma: the name, unquoted.
    pieces = {piece.strip(): name for name in names if "," in name for piece in name.split(",")}
    cut = [name for name in chosen if name not in names and name in pieces]
    if cut:
        raise click.UsageError(f"--columns {text!r}: {unknown_column(cut[0], names)}; quote a name that holds a comma, "
                               f"as in --columns '\"{pieces[cut[0]]}\"'")
    return chosen


def _check_table_output(output: str) -> None:
    """Refuse a bad suffix or a missing folder before any work is done."""
    from synthvae.io import table_format

    table_format(output)
    _check_output_folder(output)


@cli.command("sample")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-n", "--rows", required=True, type=click.IntRange(min=0), help="Number of rows.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Output .parquet or .csv file; with --rows-per-file or --shard a folder of parts.")
@click.option(
    "-c",
    "--condition",
    "conditions",
    multiple=True,
    help="COL=VALUE, COL>=VALUE (also >, <, <=; != for categorical and boolean columns); repeatable: values of one column combine "
    "by union, bounds and != by intersection (-c 'a!=x' -c 'a!=y': neither). Every row satisfies all of them, with values "
    "(a != x holds no nulls).",
)
@click.option("--guidance", type=_FloatRange(min=1, max=100), default=1.0, show_default=True,
              help="With a COL=VALUE condition: above 1, rows more typical of its value (classifier "
              "guidance; 1: the model's own distribution given it).")
@click.option("--batch-size", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Rows drawn and written at a time (memory); the rows for a seed depend on it.")
@click.option("--rows-per-file", type=click.IntRange(min=1),
              help="Write a folder OUTPUT of files part-00000.parquet, ... of this many rows (a Parquet dataset; CSV parts for an OUTPUT named like a CSV file: .csv, .csv.gz, .tsv).")
@click.option("--shard", metavar="I/K",
              help="Write only shard I of K (0-based) as OUTPUT/part-IIIII-of-KKKKK.parquet (5 digits each): K runs with the same "
              "options make one reproducible dataset, exactly the rows of one run.")
@_seed_option
@_device_option
@_library_errors
def sample_command(model, rows, output, conditions, guidance, batch_size, rows_per_file, shard, seed, device) -> None:
    """Sample synthetic rows from MODEL and write them to a Parquet or CSV file (or folder),
    batch by batch: memory stays flat at any row count.

    Under torchrun (torchrun --nproc-per-node K -m synthvae sample ...) each process writes its
    shard, as with --shard RANK/K: OUTPUT is then the folder of the K parts.
    """
    if rows_per_file is not None and shard:
        raise click.UsageError("give --rows-per-file or --shard, not both (each shard writes one file)")
    shard_pair = _parse_shard(shard) if shard else None
    parallel = Parallel.from_environment()
    if parallel is not None and (shard or rows_per_file is not None):
        # Every process would draw and write the same rows, into one folder at once.
        given = "--shard" if shard else "--rows-per-file"
        raise click.UsageError(f"under torchrun each of the {parallel.world} processes writes its own shard of the rows "
                               f"(one file each): {given} would make every process write the same rows; drop it, "
                               f"or run without torchrun")
    if parallel is not None:
        shard_pair, shard = (parallel.rank, parallel.world), f"{parallel.rank}/{parallel.world}"
        if device != "cpu":
            device = str(parallel.device(resolve_device(device)))
    if rows_per_file is None and shard_pair is None:
        _check_table_output(output)
        _check_not_input(output, model)
    else:
        _check_output_folder(output)
    syn = Synthesizer.load(model, device=device)
    started = time.perf_counter()
    written = syn.sample_to(
        output, rows, seed=seed, conditions=list(conditions) or None, batch_size=batch_size,
        rows_per_file=rows_per_file, shard=shard_pair, guidance=guidance,
    )
    seconds = time.perf_counter() - started
    what = f"shard {shard} of {rows} rows" if shard_pair else f"{rows} rows"
    click.echo(f"wrote {what} to {written} in {seconds:.2f} s", err=True)


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise click.BadParameter(f"expected I/K such as 0/4, got {text!r}", param_hint="--shard") from None
    if not 0 <= index < count:
        raise click.BadParameter(f"need 0 <= I < K, got {text!r}", param_hint="--shard")
    return index, count


@cli.command("augment")
@click.argument("data", type=click.Path(file_okay=True, dir_okay=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .parquet or .csv: real + synthetic rows.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="Model file (default: fit one on DATA).")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Schema JSON when fitting (default: inferred).")
@click.option("--target", help="Class column: --balance equalises its classes; --rows/--ratio keep its proportions.")
@click.option("--balance", is_flag=True, help="Add synthetic rows of each class until every class is as large as the largest.")
@click.option("--rows", "n_rows", type=click.IntRange(min=0), help="Add this many synthetic rows.")
@click.option("--ratio", type=_FloatRange(min=0), help="Add RATIO times as many synthetic rows as real ones.")
@click.option("--guidance", type=_FloatRange(min=1, max=100),
              help=f"With --target: how typical of its class each synthetic row is (classifier guidance; default "
              f"{AUGMENT_GUIDANCE:g}: rows that teach a classifier, narrower than the class; 1: the model's own rows of the "
              f"class, distributed as the class is; see Synthesizer.augment).")
@click.option("--marker-column", default="synthetic", show_default=True, help="Boolean column saying which rows are synthetic.")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs when fitting.")
@_balance_option
@_datetime_option
@_head_option
@_ordered_option
@_seed_option
@_device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_library_errors
def augment_command(data, output, model_path, schema_path, target, balance, n_rows, ratio, guidance, marker_column, epochs,
                    categorical_balance, datetime_encoding, categorical_head, autoregressive, seed, device, quiet) -> None:
    """Write DATA plus synthetic rows (from --model, or a model fitted on DATA) to OUTPUT.

    With --target, each class's rows are drawn with --guidance. A model fitted here is a plain
    one: fitted with --target (fit --target) it keeps the class in its latent, and guidance
    then has nothing to sharpen."""
    _check_table_output(output)
    _check_not_input(output, data, model_path)
    if sum([balance, n_rows is not None, ratio is not None]) != 1:
        raise click.UsageError("give exactly one of --balance, --rows N or --ratio R")
    if model_path:
        # Options of a fit did nothing beside a model file (a schema that did not exist passed).
        fitting = _given_options("schema_path", "epochs", "categorical_balance", "datetime_encoding", "categorical_head",
                                 "autoregressive")
        if fitting:
            raise click.UsageError(f"{', '.join(fitting)} {'sets' if len(fitting) == 1 else 'set'} how a model is fitted, and --model gives one already fitted; drop "
                                   f"{'it' if len(fitting) == 1 else 'them'}, or leave out --model to fit a model on DATA")
        syn = Synthesizer.load(model_path, device=device)
        table = read_table(data, text_columns(syn.schema_))
    else:
        from synthvae.schema import load_schema

        # Read as fit reads it: the schema's text categories ("1.10") stay text.
        schema = load_schema(schema_path) if schema_path else None
        table = read_table(data, text_columns(schema))
        # Before the fit: a misspelt --target was refused only after a whole one.
        check_augment_arguments(table.columns, target, balance, n_rows, ratio, guidance, marker_column)
        if target is not None:
            schema = _schema_of_classes(schema, table, str(target), repr(data))
        bar = _ProgressBar(enabled=not quiet)
        try:
            syn = Synthesizer(schema=schema, epochs=epochs, categorical_balance=categorical_balance,
                              categorical_head=categorical_head, autoregressive=autoregressive,
                              datetime_encoding=datetime_encoding, seed=seed, device=device).fit(table, callback=bar)
        finally:
            bar.close()
    frame = syn.augment(table, target=target, balance=balance, rows=n_rows, ratio=ratio, marker=marker_column, seed=seed,
                         guidance=guidance, source=repr(data))
    write_table(frame, output, datetime_formats(syn.schema_))
    added = int(frame[marker_column].sum())
    click.echo(f"wrote {len(frame)} rows ({len(frame) - added} real, {added} synthetic) to {output}", err=True)


def _schema_of_classes(schema, table, target: str, source: str):
    """The schema augment fits with, its ``target`` classes: inferred here, once, where none is
    given (the fit takes it rather than inferring it again), a 0/1 label inference makes numeric
    as categories (:func:`synthvae.inference.target_classes`); and a target that is no class
    column refused before the fit (it was refused after a whole one, saying only to leave it
    out: a user review)."""
    from synthvae.inference import target_classes
    from synthvae.synthesizer import numeric_target

    if schema is None:
        schema = target_classes(infer_schema(table, source=source), table, target, source)
    if target in schema.names and schema[target].kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        values = table[target] if target in table.columns else table.iloc[:0, 0]  # (always there: checked before)
        raise click.UsageError(numeric_target(target, schema[target], values))
    return schema


def _integers_whole(frame, schema):
    """``frame`` with the schema's integer columns that a file read as floats (a CSV column with
    empty cells) as whole numbers, so they are written as ``181``, not ``181.0``, as ``sample``
    and ``augment`` write them."""
    import numpy as np

    out = frame.copy()
    for column in schema:
        if column.name in out.columns and column.is_integer and out[column.name].dtype.kind == "f":
            values = out[column.name].to_numpy(dtype=np.float64, na_value=np.nan)
            if np.all(np.isnan(values) | (values == np.round(values))) and np.nanmax(np.abs(values), initial=0) < 2**53:
                out[column.name] = out[column.name].astype("Int64")
    return out


@cli.command("impute")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(file_okay=True, dir_okay=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .parquet or .csv.")
@click.option("--method", type=click.Choice(["mean", "expectation", "draw"]), default="mean", show_default=True,
              help="mean: best single guess (mean / most frequent of draws, numbers on the column's grid, times of day on the clock's circle); expectation: "
                   "the same with numbers off the grid (1.56 calls: the expected value); draw: random draws.")
@click.option("--multiple", type=click.IntRange(min=1), help="Multiple imputation: M completed copies stacked, with an 'imputation' column 1..M (draws: implies --method draw, refused with --method mean).")
@click.option("--columns", help="Comma-separated columns to fill (default: all); quote a name that holds a comma "
                                 "('\"bill length, mm\",sex').")
@click.option("--calibrate/--no-calibrate", default=True, show_default=True,
              help="With --method mean or expectation: mix numeric means with the model's best linear prediction from the observed cells, weighed on its own rows (a fixed cost of a few seconds; --no-calibrate for a few rows at a time).")
@_seed_option
@_device_option
@_library_errors
def impute_command(model, data, output, method, multiple, columns, calibrate, seed, device) -> None:
    """Fill the missing cells of DATA with values drawn from MODEL given each row's other cells."""
    # --method draw is what --multiple does: only another method or a calibration conflicts.
    given = [flag for flag in _given_options("method", "calibrate") if not (flag == "--method" and method == "draw")]
    if multiple and given:
        shown = [f"--method {method}" if flag == "--method" else ("--calibrate" if calibrate else "--no-calibrate") for flag in given]
        raise click.UsageError(f"--multiple {multiple} writes {multiple} tables of independent draws (method draw): "
                               f"{' and '.join(shown)} {'does' if len(shown) == 1 else 'do'} not apply; drop "
                               f"{'it' if len(shown) == 1 else 'them'}")
    if not multiple and method == "draw" and "--calibrate" in given:
        flag = "--calibrate" if calibrate else "--no-calibrate"
        raise click.UsageError(f"{flag} applies to --method mean or expectation (it mixes the means of draws): drop it with "
                               f"--method draw")
    _check_table_output(output)
    _check_not_input(output, data, model)
    syn = Synthesizer.load(model, device=device)
    table = read_table(data, text_columns(syn.schema_))
    chosen = _column_list(columns, syn.schema_.names) if columns is not None else None
    if chosen == []:  # '' (an empty shell variable) filled every column, ',' none
        raise click.UsageError(f"--columns {columns!r} names no column: name the columns to fill, or leave --columns out to fill all")
    if multiple:
        import pandas as pd

        if "imputation" in table.columns:
            raise click.ClickException(f"{data!r} has a column 'imputation', which --multiple writes the draw's number "
                                       "into; rename that column")
        tables = syn.impute(table, columns=chosen, method="draw", draws=multiple, seed=seed, source=repr(data))
        tables = tables if isinstance(tables, list) else [tables]
        frame = pd.concat([t.assign(imputation=i + 1) for i, t in enumerate(tables)], ignore_index=True)
    else:
        frame = syn.impute(table, columns=chosen, method=method, calibrate=calibrate, seed=seed, source=repr(data))
    filled = int(table.isna().sum().sum() - frame.iloc[: len(table)].isna().sum().sum())
    # A Parquet file's float column is the user's dtype, kept in Parquet; a CSV's is how its
    # empty cells read, and CSV text writes whole numbers without ".0" whatever the input was.
    parquet = str(data).lower().endswith(PARQUET_SUFFIXES) and str(output).lower().endswith(PARQUET_SUFFIXES)
    written = frame if parquet else _integers_whole(frame, syn.schema_)
    write_table(written, output, datetime_formats(syn.schema_))
    each = f" in each of {multiple} imputations ({len(frame):,} rows)" if multiple else ""
    click.echo(f"filled {filled} cells of {len(table)} rows{each}; wrote {output}", err=True)


def _as_the_schema_reads(table, name: str, schema, source: str):
    """A column of a table read from a file as the model's schema reads it: a CSV's dates as
    datetimes (coloured on a scale, not as one category per date), numbers as numbers; as
    read where the schema lacks the column or its values do not fit it."""
    from synthvae.errors import DataError
    from synthvae.validation import typed

    if name not in schema.names:
        return table[name]
    try:
        return typed(table[name], schema[name], source)
    except DataError:
        return table[name]


@cli.command("encode")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(file_okay=True, dir_okay=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Embedding .parquet or .csv (columns z0, z1, ...).")
@click.option("--variance", is_flag=True, help="Also write the posterior variances (var_z0, ...).")
@click.option("--components", default=None, metavar="active|K",
              help="Project onto the active principal axes of the latent ('active') or the first K (columns pc0, pc1, ...); "
                   "default: the whole latent (z0, z1, ...).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw a 2-D picture (PNG) of the embedding: its first two principal axes over these rows (two tables get two sets of axes; --components 2 gives axes fixed by the model).")
@click.option("--color-by", help="Column of DATA that colours the picture: categories one colour each (the 12 most frequent, the rest grey), numbers and dates a colour scale.")
@_device_option
@_library_errors
def encode_command(model, data, output, variance, components, plot_path, color_by, device) -> None:
    """Write each row's latent embedding (its posterior mean under MODEL)."""
    _check_table_output(output)
    _check_not_input(output, data, model)
    if color_by is not None and not plot_path:
        raise click.UsageError("--color-by colours the picture: it needs --plot PNG")
    if plot_path:
        if not plot_path.lower().endswith(".png"):
            raise click.ClickException(f"--plot {plot_path!r}: the picture is a PNG; name it *.png")
        _check_output_folder(plot_path)
        _check_not_input(plot_path, data, model, output)
        try:
            import matplotlib  # noqa: F401 - checked before the work, drawn after it
        except ImportError:
            raise click.ClickException("--plot needs matplotlib: pip install 'synthvae[plot]'") from None
    syn = Synthesizer.load(model, device=device)
    table = read_table(data, text_columns(syn.schema_))
    # A Parquet file's stored index (read_table makes it columns) indexes the embedding, as
    # Synthesizer.encode keeps a frame's: written back as the embedding's first columns, the rows
    # can be joined to their source (they came out numbered 0, 1, ... without it).
    parquet = os.path.isfile(data) and data.lower().endswith(PARQUET_SUFFIXES)  # a folder of parts: no one index
    levels = [label for label, _ in stored_index(pq.read_schema(data))] if parquet else []
    if levels:
        table = table.set_index(levels)
    if color_by is not None and color_by not in table.columns:
        raise click.ClickException(f"--color-by {color_by!r} is not a column of {data!r}")
    if plot_path and not len(table):
        raise click.ClickException(f"--plot: {data!r} has no rows to draw")
    if components is not None and components != "active":
        if not components.isdigit() or int(components) == 0:  # 0 was the library's error (exit 1), -1 a usage error
            raise click.BadParameter(f"{components!r}: give 'active' or a whole number from 1", param_hint="--components")
        components = int(components)
    embedding = syn.encode(table, variance=variance, components=components, source=repr(data))
    write_table(embedding, output)
    dims = sum(not c.startswith("var_") for c in embedding.columns)
    spread = f" and its {embedding.shape[1] - dims} variances" if embedding.shape[1] > dims else ""
    message = f"wrote a {embedding.shape[0]} x {dims} embedding{spread} ({embedding.shape[1]} columns) to {output}"
    if plot_path:
        from synthvae.plot import plot_embedding

        color = _as_the_schema_reads(table, color_by, syn.schema_, repr(data)) if color_by else None
        plot_embedding(embedding, plot_path, color=color, title=f"latent embedding of {data}")
        message += f" and a picture to {plot_path}"
    click.echo(message, err=True)


@cli.command("evaluate")
@click.argument("real", type=click.Path(file_okay=True, dir_okay=True))
@click.argument("synthetic", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Schema JSON (default: inferred from REAL).")
@click.option("--holdout", type=click.Path(file_okay=True, dir_okay=True), help="Real rows the generator did not see: gives the ceiling.")
@click.option("--target", help="Column to predict for utility (TSTR vs TRTR).")
@click.option("--metrics", default="quality,utility,detection,privacy", show_default=True, help="Comma-separated metric groups.")
@click.option("--max-rows", type=click.IntRange(min=10), default=50_000, show_default=True, help="Subsample each table to this many rows.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the full report as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML report.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="The model file that made SYNTHETIC, fitted with differential privacy (--epsilon): its guarantee goes into the report.")
@_seed_option
@_library_errors
def evaluate_command(real, synthetic, schema_path, holdout, target, metrics, max_rows, json_path, html_path, model_path, seed) -> None:
    """Compare a SYNTHETIC table with the REAL one: fidelity, utility, detection, privacy."""
    from synthvae.evaluation import evaluate
    from synthvae.schema import load_schema

    _check_report_outputs({"--json": json_path, "--html": html_path}, real, synthetic, holdout, schema_path, model_path)
    _check_holdout_not_real(holdout, real)
    schema = load_schema(schema_path) if schema_path else None
    # Read as fit reads them: a category "1.10" read from CSV as the number 1.1 was one with "1.1".
    text = text_columns(schema)
    guarantee = _guarantee_of(model_path) if model_path else None  # refused before the work
    report = evaluate(
        read_table(real, text),
        read_table(synthetic, text),
        schema=schema,
        holdout=read_table(holdout, text) if holdout else None,
        target=target,
        seed=seed,
        max_rows=max_rows,
        metrics=[m.strip() for m in metrics.split(",") if m.strip()],
        guarantee=guarantee,
        sources=(f"real data {real!r}", f"synthetic data {synthetic!r}", f"holdout data {holdout!r}"),
    )
    # The summary first: a report that cannot be written is still shown.
    click.echo(report.summary())
    if json_path:
        report.to_json(json_path)
    if html_path:
        report.to_html(html_path)


def _guarantee_of(model_path: str) -> dict:
    """The differential-privacy record of the model file ``--model`` names (refused without one:
    the option exists to put it in the report)."""
    record = Synthesizer.load(model_path).privacy_
    if record is None:
        raise click.ClickException(f"--model {model_path!r} was fitted without differential privacy: it has no guarantee "
                                   "to report; drop --model")
    return record


@cli.command("privacy-check")
@click.argument("real", type=click.Path(file_okay=True, dir_okay=True))
@click.argument("synthetic", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--holdout", required=True, type=click.Path(file_okay=True, dir_okay=True),
              help="Real rows the generator never saw, split at random from the same table as REAL (a split "
                   "by time or by group makes fresh rows look like leaks): the baseline of every attack; at least 200 rows.")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Schema JSON (default: inferred from REAL).")
@click.option("--sensitive", multiple=True, help="Column an attacker must not infer (repeatable): attribute inference.")
@click.option("--max-membership-auc", type=_FloatRange(0, 1), default=0.6, show_default=True,
              help="Highest membership-inference ROC AUC (above 0.5, 1 minus it is the lowest).")
@click.option("--max-closer-to-train", type=_FloatRange(0, 1), default=0.6, show_default=True,
              help="Highest share of synthetic rows nearer training than holdout rows (above 0.5, 1 minus it is the lowest).")
@click.option("--max-attribute-advantage", type=_FloatRange(-1, 1), default=0.05, show_default=True,
              help="Highest attribute-inference accuracy on training rows minus on holdout rows.")
@click.option("--copy-p-value", type=_FloatRange(0, 1), default=0.01, show_default=True,
              help="Exact copies fail when chance at the holdout's copy rate explains them with a lower probability.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the result as JSON.")
@_seed_option
@_library_errors
def privacy_check_command(real, synthetic, holdout, schema_path, sensitive, max_membership_auc, max_closer_to_train,
                          max_attribute_advantage, copy_p_value, json_path, seed) -> None:
    """Check SYNTHETIC against the REAL rows it came from before sharing it.

    Runs exact copies, personal values shared with training rows, distance to closest record, a
    membership-inference attack and, for each --sensitive column, an attribute-inference attack,
    all against the --holdout baseline.
    Exit status: 0 when every check passes, 3 when one fails (so it can gate a pipeline), 1 on
    an error.
    """
    from synthvae.evaluation import PrivacyLimits, privacy_check
    from synthvae.schema import load_schema

    _check_report_outputs({"--json": json_path}, real, synthetic, holdout, schema_path)
    _check_holdout_not_real(holdout, real)
    schema = load_schema(schema_path) if schema_path else None
    text = text_columns(schema)  # as fit reads them (see evaluate)
    result = privacy_check(
        read_table(real, text),
        read_table(synthetic, text),
        read_table(holdout, text),
        schema=schema,
        sensitive=list(sensitive),
        limits=PrivacyLimits(copy_p_value, max_membership_auc, max_closer_to_train, max_attribute_advantage),
        seed=seed,
        sources=(f"real data {real!r}", f"synthetic data {synthetic!r}", f"holdout data {holdout!r}"),
    )
    click.echo(result.summary())
    if json_path:
        result.to_json(json_path)
    if not result.passed:
        sys.exit(3)


@cli.command("demo")
@click.option("-o", "--output", default="synthvae-demo", show_default=True, type=click.Path(file_okay=False), help="Folder to write into.")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs (default: picked from the table size).")
@_seed_option
@_device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_library_errors
def demo_command(output, epochs, seed, device, quiet) -> None:
    """Fit on a bundled real table (Palmer penguins) and write a synthetic copy.

    Writes OUTPUT/schema.json, OUTPUT/model.synthvae, OUTPUT/synthetic.parquet,
    OUTPUT/summary.json and OUTPUT/report.html (open it in a browser), and prints a summary.
    """
    from synthvae.demo import run_demo

    folder = Path(output)
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create folder {output!r}: {exc.strerror}") from None
    bar = _ProgressBar(enabled=not quiet)
    try:
        summary = run_demo(folder, epochs=epochs, seed=seed, device=device, callback=bar)
    except BaseException:
        if made:  # a stopped demo left a folder holding schema.json alone; one it did not make is left as it was
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        bar.close()
    click.echo(summary.text)


def main() -> None:
    """Console-script entry point. SIGTERM (a scheduler's stop, ``timeout``, torchrun stopping
    the other processes) ends the command as Ctrl-C does, through its clean-ups: a streamed
    fit's working folder (a CSV's Parquet copy) was left behind in the temporary folder.
    Ctrl-C exits with 130 and SIGTERM with 143 (128 + the signal's number, as a shell reports a
    process it stopped), so that a script can tell a stop from an error (1); click's own exit
    status for Ctrl-C is 1."""
    import signal

    def stop(number, frame):
        click.echo("Error: stopped by SIGTERM", err=True)
        raise SystemExit(128 + number)

    interrupted = []

    def interrupt(number, frame):
        interrupted.append(number)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # Only where Python's own handler is in place: a command started with SIGINT ignored (a
    # background job of a script) stays so.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    try:
        cli(prog_name="synthvae")
    except SystemExit as exc:
        if interrupted and exc.code == 1:  # click's "Aborted!" after the KeyboardInterrupt
            raise SystemExit(128 + signal.SIGINT) from None
        raise


