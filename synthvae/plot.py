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


def plot_embedding(
    embedding: pd.DataFrame,
    path: str | os.PathLike,
    color: pd.Series | None = None,
    title: str = "latent embedding",
    max_categories: int = 12,
) -> None:
    """Write a scatter plot PNG of an embedding (the ``z*`` or ``pc*`` columns of :meth:`Synthesizer.encode`).

    Args:
        embedding: Rows by latent dimensions.
        path: The PNG to write (atomically).
        color: A column aligned with ``embedding``: categories get one colour each (the most
            frequent ``max_categories``, the rest "other"), numbers a colour scale.
        title: Title of the picture.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ParameterError("plotting needs matplotlib: pip install 'synthvae[plot]'") from None
    means = embedding[[c for c in embedding.columns if str(c).startswith(("z", "pc"))]]
    coords, names = project_2d(means)
    if coords.shape[1] == 1:
        # One dimension: a strip, each row at a small random height (the height means nothing).
        jitter = np.random.default_rng(0).uniform(-1.0, 1.0, len(coords))
        coords, names = np.column_stack([coords[:, 0], jitter]), [names[0], "(random spread)"]
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    try:
        numeric = color is not None and pd.api.types.is_numeric_dtype(color) and not pd.api.types.is_bool_dtype(color)
        values = pd.to_numeric(color, errors="coerce").to_numpy(dtype=np.float64) if numeric else None
        if numeric and np.isfinite(values).any():
            known = np.isfinite(values)
            if not known.all():
                # Nulls have no place on the scale: grey, named in the legend (a colour map
                # draws them transparent, and the axes would leave them out).
                ax.scatter(coords[~known, 0], coords[~known, 1], s=6, alpha=0.6, color="#999999", label="(null)")
                ax.legend(title=str(color.name), markerscale=3, fontsize="small")
            points = ax.scatter(coords[known, 0], coords[known, 1], c=values[known], s=6, alpha=0.7, cmap="viridis")
            fig.colorbar(points, ax=ax, label=str(color.name))
        elif color is not None:
            labels = color.astype("string").fillna("(null)")
            top = labels.value_counts().index[:max_categories]
            labels = labels.where(labels.isin(top), "other")
            for label in [*top, "other"]:
                rows = (labels == label).to_numpy()
                if rows.any():
                    ax.scatter(coords[rows, 0], coords[rows, 1], s=6, alpha=0.7, label=str(label))
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
