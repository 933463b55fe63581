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


def project_2d(embedding: np.ndarray) -> tuple[np.ndarray, str]:
    """The embedding itself when it has at most two dimensions, else its first two principal
    components. Returns ``(n, 2)`` coordinates and a name for the axes."""
    if embedding.shape[1] <= 2:
        projected, axis = embedding, "z"
    else:
        centred = embedding - embedding.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        projected, axis = centred @ vt[:2].T, "PC"  # one row has one component only
    coords = np.zeros((embedding.shape[0], 2))
    coords[:, : projected.shape[1]] = projected
    return coords, axis


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
    means = embedding[[c for c in embedding.columns if str(c).startswith(("z", "pc"))]].to_numpy(dtype=np.float64)
    coords, axis = project_2d(means)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    try:
        if color is None:
            ax.scatter(coords[:, 0], coords[:, 1], s=6, alpha=0.6, color="#3465a4")
        elif pd.api.types.is_numeric_dtype(color) and not pd.api.types.is_bool_dtype(color):
            values = pd.to_numeric(color, errors="coerce").to_numpy(dtype=np.float64)
            points = ax.scatter(coords[:, 0], coords[:, 1], c=values, s=6, alpha=0.7, cmap="viridis")
            fig.colorbar(points, ax=ax, label=str(color.name))
        else:
            labels = color.astype("string").fillna("(null)")
            top = labels.value_counts().index[:max_categories]
            labels = labels.where(labels.isin(top), "other")
            for label in [*top, "other"]:
                rows = (labels == label).to_numpy()
                if rows.any():
                    ax.scatter(coords[rows, 0], coords[rows, 1], s=6, alpha=0.7, label=str(label))
            ax.legend(title=str(color.name), markerscale=3, fontsize="small")
        ax.set_xlabel(f"{axis}1")
        ax.set_ylabel(f"{axis}2")
        ax.set_title(title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
