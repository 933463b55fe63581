"""Opacus' names, imported without its side effect on logging.

Importing opacus configures the root logger (``logging.basicConfig``: a stderr handler at
WARNING with its own timestamped format), so after a private fit a user's own
``logging.basicConfig(level=INFO, ...)`` did nothing: their info lines were lost and their
warnings came out in Opacus' format. The root logger's handlers and level are put back as they
were before the import.
"""

from __future__ import annotations

import logging

_handlers, _level = list(logging.root.handlers), logging.root.level
try:
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
    from opacus.optimizers import DPOptimizer
    from opacus.validators import ModuleValidator
finally:
    logging.root.handlers[:] = _handlers
    logging.root.setLevel(_level)

__all__ = ["DPOptimizer", "ModuleValidator", "compute_rdp", "get_privacy_spent"]
