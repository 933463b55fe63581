"""The exceptions synthvae raises.

Every error derives from :class:`SynthVAEError` and from the builtin that fits it, so callers
can catch either ``synthvae.SynthVAEError`` or, say, ``ValueError``.
"""

from __future__ import annotations

import datetime
import re

import numpy as np


class SynthVAEError(Exception):
    """Base class of every error raised by synthvae on purpose."""


class SchemaError(SynthVAEError, ValueError):
    """A schema document is invalid, or contradicts itself."""


class DataError(SynthVAEError, ValueError):
    """A table does not match its schema, or cannot be used as given."""


class ConstraintError(DataError):
    """A table breaks a rule of its schema's ``constraints``, or sampling cannot produce rows
    that obey them (the message names the rule and shows example rows)."""


class ModelFileError(SynthVAEError, ValueError):
    """A model file is truncated, corrupt, foreign, or of an unsupported format version."""


class NotFittedError(SynthVAEError, RuntimeError, ValueError, AttributeError):
    """A method that needs a fitted object was called before ``fit``. A ValueError and an
    AttributeError too, as scikit-learn's ``NotFittedError`` is: code written for estimators
    (``except (ValueError, AttributeError)``, ``hasattr``) catches it."""


class ParameterError(SynthVAEError, ValueError):
    """An argument has a value the function cannot use."""


class TrainingError(SynthVAEError, RuntimeError):
    """Training failed, e.g. the loss diverged to NaN."""


def one_line(exc: BaseException | str) -> str:
    """An exception's text on one line (the CLI prints errors as one line): its line breaks, and
    the spaces around them, become one space, or "; " after a line that ends without a
    punctuation mark (a list's items ran into the advice after them: "... island='Dream' fix
    those rows", a user review); spaces inside a line (a quoted value's) stay."""
    return re.sub(r"(?<=[^\s:;,.])\s*[\r\n]+\s*(?=\S)", "; ", re.sub(r"(?<=[:;,.])\s*[\r\n]+\s*", " ", str(exc).strip()))


def preview(values, limit: int = 5) -> str:
    """Render up to ``limit`` example values for an error message.

    Args:
        values: Any iterable of values.
        limit: How many to show before eliding the rest.

    Returns:
        A short string such as ``['a', 'b', ... (12 more)]``.
    """
    values = list(values)
    text = ", ".join(shown(v) for v in values[:limit])
    more = f", ... ({len(values) - limit} more)" if len(values) > limit else ""
    return f"[{text}{more}]"


def shown(value) -> str:
    """A value as a message shows it: numpy scalars as the Python values they hold (5.0, not
    numpy 2's np.float64(5.0)), dates and times (numpy's, pandas', Python's) as their text."""
    if isinstance(value, (np.datetime64, np.timedelta64, datetime.date, datetime.timedelta)):
        return repr(str(value))  # '2019-05-05 00:00:00', not Timestamp('2019-05-05 00:00:00')
    return repr(value.item() if isinstance(value, np.generic) else value)


def is_integer(value) -> bool:
    """Whether a parameter is a whole number (Python or numpy), not a bool: ``True`` is no count."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """Whether a parameter is a finite real number (Python or numpy), not a bool nor text."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True  # every whole number is finite (np.isfinite refused Python ints beyond 64 bits)
    return isinstance(value, (float, np.floating)) and bool(np.isfinite(value))
