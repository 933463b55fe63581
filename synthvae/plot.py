"""A picture of the latent embedding: rows as points in two dimensions, coloured by a column.

matplotlib is an optional dependency (``pip install synthvae[plot]``); nothing else imports it.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd

from synthvae.errors import ParameterError
from synthvae.io import atomic_write_bytes
from synthvae.validation import ranked_counts


def project_2d(embedding: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The embedding's own axes when it has at most two dimensions, else its first two principal
    components. Returns ``(n, 1 or 2)`` coordinates and the axes' names (the columns' own, or
    ``PC1`` / ``PC2`` of the projection)."""
    values = embedding.to_numpy(dtype=np.float64)
    if values.shape[1] <= 2:
        return values, [str(c) for c in embedding.columns]
    centred = values - values.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ vt[:2].T  # one row has one component only
    names = [f"PC{i + 1} of {', '.join(map(str, embedding.columns[:3]))}{', ...' if values.shape[1] > 3 else ''}"
             for i in range(projected.shape[1])]
    return projected, names


# Categories' colours: matplotlib's tab20 without its two greys (grey is "other" and nulls on a
# scale), its strong shades first and their light pairs after (a few categories are never a
# shade and its lighter self); more categories than these take evenly spaced hues. The default
# 10-colour cycle gave 13 legend entries (12 categories and "other") three repeated colours.
_GREYS = (14, 15)
_OTHER = "#b0b0b0"
_NULL = "#999999"


def _category_colours(count: int) -> list:
    """``count`` distinct colours for categories (none of them grey)."""
    import matplotlib

    shades = matplotlib.colormaps["tab20"].colors
    table = [shades[i] for i in [*range(0, 20, 2), *range(1, 20, 2)] if i not in _GREYS]
    if count <= len(table):
        return table[:count]
    return [matplotlib.colormaps["hsv"](i / count) for i in range(count)]


def _scale_values(color: pd.Series) -> tuple[np.ndarray, bool] | None:
    """A column drawn on a colour scale: its values as floats (datetimes as days since
    1970-01-01, matplotlib's date numbers; durations as seconds) and whether they are dates;
    ``None`` for a column of categories (text, booleans)."""
    if pd.api.types.is_timedelta64_dtype(color):
        # Durations drew 12 of their values as categories and every other row as "other".
        return pd.to_timedelta(color).dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan), False
    if pd.api.types.is_datetime64_any_dtype(color):
        stamps = pd.to_datetime(color)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        days = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        return days.to_numpy(dtype=np.float64, na_value=np.nan), True
    if pd.api.types.is_numeric_dtype(color) and not pd.api.types.is_bool_dtype(color):
        return pd.to_numeric(color, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan), False
    return None


def plot_embedding(
    embedding: pd.DataFrame,
    path: str | os.PathLike,
    color: pd.Series | None = None,
    title: str = "latent embedding",
    max_categories: int = 12,
) -> dict[str, str]:
    """Write a scatter plot PNG of an embedding (the ``z*`` or ``pc*`` columns of :meth:`Synthesizer.encode`).

    Args:
        embedding: Rows by latent dimensions.
        path: The PNG to write (atomically).
        color: A column aligned with ``embedding``: categories get one colour each (the most
            frequent ``max_categories``, the rest "other" in grey), numbers and datetimes a
            colour scale (nulls grey).
        title: Title of the picture.

    Returns:
        Each legend entry's colour (``#rrggbb``), by category; empty for a colour scale or no
        colour.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
        from matplotlib.colors import to_hex
    except ImportError:
        raise ParameterError("plotting needs matplotlib: pip install 'synthvae[plot]'") from None
    means = embedding[[c for c in embedding.columns if str(c).startswith(("z", "pc"))]]
    coords, names = project_2d(means)
    if coords.shape[1] == 1:
        # One dimension: a strip, each row at a small random height (the height means nothing).
        jitter = np.random.default_rng(0).uniform(-1.0, 1.0, len(coords))
        coords, names = np.column_stack([coords[:, 0], jitter]), [names[0], "(random spread)"]
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    legend: dict[str, str] = {}
    try:
        scale = _scale_values(color) if color is not None else None
        if scale is not None and np.isfinite(scale[0]).any():
            values, dates = scale
            known = np.isfinite(values)
            if not known.all():
                # Nulls have no place on the scale: grey, named in the legend (a colour map
                # draws them transparent, and the axes would leave them out).
                ax.scatter(coords[~known, 0], coords[~known, 1], s=6, alpha=0.6, color=_NULL, label="(null)")
                ax.legend(title=str(color.name), markerscale=3, fontsize="small")
            points = ax.scatter(coords[known, 0], coords[known, 1], c=values[known], s=6, alpha=0.7, cmap="viridis")
            bar = fig.colorbar(points, ax=ax, label=str(color.name))
            if dates:  # dates on the scale, not days since 1970
                locator = mdates.AutoDateLocator()
                bar.ax.yaxis.set_major_locator(locator)
                bar.ax.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        elif color is not None:
            labels = color.astype("string").fillna("(null)")
            top = list(ranked_counts(labels).index[:max_categories])
            labels = labels.where(labels.isin(top), "other")
            colours = dict(zip(top, _category_colours(len(top))))
            if (labels == "other").any():
                colours["other"] = _OTHER
            for label, colour in colours.items():
                rows = (labels == label).to_numpy()
                ax.scatter(coords[rows, 0], coords[rows, 1], s=6, alpha=0.7, color=colour, label=str(label))
                legend[str(label)] = to_hex(colour)
            ax.legend(title=str(color.name), markerscale=3, fontsize="small")
        else:
            ax.scatter(coords[:, 0], coords[:, 1], s=6, alpha=0.6, color="#3465a4")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return legend
