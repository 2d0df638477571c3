"""Charts of the layout report: link lengths, unit utilisation, the thermal heat map.

Owns the report's charts, drawn with matplotlib on its Agg renderer and
rendered to PNG or SVG bytes in memory (:func:`to_png`, :func:`to_svg`).
matplotlib because it is the well-kept standard for exactly these plots
(stacked histograms, strip plots, images with a colour bar) and renders
headless without a display; Qt has no charting in its GUI module.

Figures are made with :class:`matplotlib.figure.Figure`, never ``pyplot``:
no global figure registry, no GUI backend picked at import, so a report can
be made off the GUI thread. Functions take plain numpy arrays, not solver
results; :mod:`report.report` does the gathering. Never imports Qt.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

WIDTH_IN = 7.0
"""Charts are drawn 7 inches wide: the text column of an A4 page at 15 mm margins."""
HEAT_CMAP = "YlOrRd"
"""Pale where air is at the supply temperature, dark red where it is hot: reads on paper."""
MEDIUM_COLOURS = ("#3d7cc9", "#e8590c", "#2b8a3e", "#8a5cc2", "#c2255c", "#d99a1e", "#23a393")
ROLE_COLOUR = "#3d7cc9"
OVER_COLOUR = "#d32f2f"
LIMIT_COLOUR = "#d32f2f"

_THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    fig.set_facecolor("white")
    return fig


def to_png(fig: Figure, dpi: int = 200) -> bytes:
    """The figure as PNG bytes at ``dpi``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def to_svg(fig: Figure) -> bytes:
    """The figure as SVG bytes (no date stamp, so equal figures give equal bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def nice_bin_m(longest_m: float, bins: int = 50) -> float:
    """A bin width of 1, 2 or 5 × 10^k metres giving at most about ``bins`` bins."""
    target = max(longest_m, 1.0) / bins
    power = 10 ** np.floor(np.log10(target))
    for step in (1, 2, 5, 10):
        if step * power >= target:
            return float(step * power)
    return float(10 * power)


def length_histogram(
    length_m: np.ndarray,
    links: np.ndarray,
    medium: np.ndarray,
    media: Sequence[tuple[str, float]],
) -> Figure:
    """Links by routed length, stacked by medium, with each medium's reach dashed.

    Parameters
    ----------
    length_m, links, medium
        Per bundle of links: the length of each link, how many links, and the
        index of the medium in ``media`` (-1: no medium reaches).
    media
        ``(label, reach_m)`` of each medium.
    """
    fig = _figure(3.2)
    ax = fig.add_subplot()
    longest = float(length_m.max()) if len(length_m) else 1.0
    width = nice_bin_m(longest)
    edges = np.arange(0.0, longest + width, width)
    if len(edges) < 2:
        edges = np.array([0.0, width])
    data, weights, labels, colours = [], [], [], []
    used = [k for k in range(len(media)) if np.any(medium == k)]
    for n, k in enumerate(used):
        mine = medium == k
        data.append(length_m[mine])
        weights.append(links[mine])
        labels.append(media[k][0])
        colours.append(MEDIUM_COLOURS[n % len(MEDIUM_COLOURS)])
    if np.any(medium < 0):
        mine = medium < 0
        data.append(length_m[mine])
        weights.append(links[mine])
        labels.append("no medium reaches")
        colours.append(OVER_COLOUR)
    if data:
        ax.hist(data, bins=edges.tolist(), weights=weights, stacked=True, label=labels,
                color=colours, edgecolor="white", linewidth=0.3)  # fmt: skip
    top = ax.get_ylim()[1]
    for n, k in enumerate(used):
        _, reach = media[k]
        if reach <= edges[-1] * 1.05:
            colour = MEDIUM_COLOURS[n % len(MEDIUM_COLOURS)]
            ax.axvline(reach, color=colour, linestyle="--", linewidth=1)
            ax.text(reach, top * 0.97, f" reach {reach:g} m", color=colour, fontsize=7,
                    va="top", rotation=90, ha="right")  # fmt: skip
    ax.set_xlabel(f"Link length, routed with slack and service loops (m; bins of {width:g} m)")
    ax.set_ylabel("Links")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    reaches = [media[k][1] for k in used if media[k][1] <= edges[-1] * 1.05]
    ax.set_xlim(0, max([edges[-1], *reaches]) * 1.02)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if labels:
        ax.legend(fontsize=8, framealpha=0.9, loc="best")
    return fig


def utilisation_strip(
    roles: np.ndarray, utilisation: np.ndarray, limit: float, limit_label: str
) -> Figure:
    """Every unit's utilisation as a dot, one row per role, with the limit as a red line.

    Units over ``limit`` are drawn red. Dots are spread vertically with a fixed
    seed, so the same design gives the same picture.
    """
    names = sorted({str(r) for r in roles}, key=lambda r: -float(utilisation[roles == r].max()))
    fig = _figure(max(1.6, 0.42 * len(names) + 1.0))
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)
    for row, name in enumerate(names):
        u = utilisation[roles == name]
        y = row + rng.uniform(-0.25, 0.25, len(u))
        over = u > limit + 1e-9
        ax.scatter(u[~over], y[~over], s=9, color=ROLE_COLOUR, alpha=0.6, linewidths=0)
        ax.scatter(u[over], y[over], s=12, color=OVER_COLOUR, alpha=0.8, linewidths=0)
    ax.axvline(limit, color=LIMIT_COLOUR, linestyle="--", linewidth=1, label=limit_label)
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    ax.set_yticks(range(len(names)), [f"{n} ({int((roles == n).sum()):,})" for n in names])
    ax.set_ylim(len(names) - 0.5, -0.5)
    right = max(1.05, float(utilisation.max()) * 1.05 if len(utilisation) else 1.05)
    ax.set_xlim(0, right)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Utilisation, worst case (load / rating)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig


def heat_rgba(
    grid: np.ndarray, vmin: float, vmax: float, alpha: int = 255, fade: bool = False
) -> np.ndarray:
    """The heat map's colours as (ny, nx, 4) bytes; cells off the floor are transparent.

    ``fade`` makes cool cells more transparent than hot ones (up to ``alpha``),
    so that an overlay leaves the plan readable where nothing runs hot.
    """
    from matplotlib import colormaps

    norm = np.asarray(Normalize(vmin=vmin, vmax=vmax, clip=True)(np.nan_to_num(grid, nan=vmin)))
    rgba = colormaps[HEAT_CMAP](norm, bytes=True)
    opacity = alpha * norm if fade else np.full(grid.shape, float(alpha))
    rgba[..., 3] = np.where(np.isfinite(grid), opacity, 0).astype(np.uint8)
    return np.ascontiguousarray(rgba)


def heat_map(
    grid: np.ndarray,
    extent: tuple[float, float, float, float],
    outline: Sequence[np.ndarray],
    limits: tuple[float, float, float],
    hot: np.ndarray,
) -> Figure:
    """The estimated inlet temperature field with a colour bar, the hall outline and hot racks.

    Parameters
    ----------
    grid
        (ny, nx) °C, row 0 at ``extent``'s y0 (y grows downwards, as on the plan).
    extent
        (x0, y0, x1, y1) of the grid in metres.
    outline
        Rings of the floor outline, each an (n, 2) array.
    limits
        (supply, recommended, allowable) °C: the colour scale runs from the
        supply temperature to the allowable limit (or the hottest cell), and a
        contour marks the recommended limit.
    hot
        (k, 2) positions of racks whose estimated inlet is above the recommended limit.
    """
    supply, recommended, allowable = limits
    x0, y0, x1, y1 = extent
    aspect = (y1 - y0) / max(x1 - x0, 1e-9)
    fig = _figure(min(8.5, max(2.8, WIDTH_IN * 0.85 * aspect + 0.9)))
    ax = fig.add_subplot()
    finite = grid[np.isfinite(grid)]
    vmax = max(allowable, float(finite.max()) if len(finite) else allowable)
    shown = np.ma.masked_invalid(grid)
    image = ax.imshow(shown, extent=(x0, x1, y1, y0), origin="upper", cmap=HEAT_CMAP,
                      vmin=supply, vmax=vmax, interpolation="nearest")  # fmt: skip
    if len(finite) and finite.max() > recommended and finite.min() < recommended:
        ny, nx = grid.shape
        xs = np.linspace(x0, x1, nx, endpoint=False) + (x1 - x0) / nx / 2
        ys = np.linspace(y0, y1, ny, endpoint=False) + (y1 - y0) / ny / 2
        ax.contour(xs, ys, np.nan_to_num(grid, nan=supply), levels=[recommended],
                   colors="#1d3557", linewidths=0.9)  # fmt: skip
    for ring in outline:
        ax.plot(ring[:, 0], ring[:, 1], color="#1d1f23", linewidth=0.8)
    if len(hot):
        ax.scatter(hot[:, 0], hot[:, 1], marker="x", s=14, color="black", linewidths=0.9,
                   label=f"rack inlet above {recommended:g} °C")  # fmt: skip
        ax.legend(fontsize=7, loc="lower right", framealpha=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
    bar.set_label("Estimated rack inlet air (°C)")
    # Black marks on the bar: the recommended and allowable inlet limits.
    for value in (recommended, allowable):
        if supply < value <= vmax:
            bar.ax.axhline(value, color="black", linewidth=1.2)
    return fig


__all__ = [
    "heat_map",
    "heat_rgba",
    "length_histogram",
    "nice_bin_m",
    "to_png",
    "to_svg",
    "utilisation_strip",
]
