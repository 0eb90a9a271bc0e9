"""Charts of the report: matplotlib (Agg backend, no display needed) → PNG → base64, to embed in
the HTML file. Sized for an A4 page. As in the tables, a value from 1 to 4 is not shown: its bar is
drawn light and hatched up to 5 ("fewer than 5") and labelled "<5"."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.report.model import SMALL, Figure  # noqa: E402

COLOR = "#b5121b"  # the service's red
LIGHT = "#e9b8bc"
SMALL_NOTE = " (barras claras: menos de 5)"
MUTED = "#8a8f98"
WIDTH = 7.2  # inches: fits an A4 page with margins
DPI = 130


def _png(fig) -> str:  # noqa: ANN001
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(ax) -> None:  # noqa: ANN001
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(MUTED)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(colors="#333333", labelsize=8)


def _empty(ax) -> None:  # noqa: ANN001
    ax.text(0.5, 0.5, "Sin datos este mes", ha="center", va="center", color=MUTED, fontsize=10, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _hidden(value: int) -> bool:
    return 0 < value < SMALL


def _heights(values: Sequence[int]) -> tuple[list[int], list[str]]:
    """What is drawn: small values as a light bar up to SMALL."""
    return [SMALL if _hidden(v) else v for v in values], [LIGHT if _hidden(v) else COLOR for v in values]


def _hatch(bars, values: Sequence[int]) -> None:  # noqa: ANN001
    for bar, value in zip(bars, values, strict=True):
        if _hidden(value):
            bar.set_hatch("////")
            bar.set_edgecolor(COLOR)
            bar.set_linewidth(0)


def _label(ax, bars, values: Sequence[int], horizontal: bool) -> None:  # noqa: ANN001
    for bar, value in zip(bars, values, strict=True):
        if value == 0:
            continue
        label = "<5" if _hidden(value) else str(value)
        if horizontal:
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {label}", va="center", fontsize=7, color="#333333")
        elif not _hidden(value):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), label, ha="center", va="bottom", fontsize=6,
                    color="#333333")


def _title(title: str, values: Sequence[int]) -> str:
    return title + SMALL_NOTE if any(_hidden(v) for v in values) else title


def columns(title: str, labels: Sequence[str], values: Sequence[int], alt: str, ylabel: str = "") -> Figure:
    """Vertical bars (e.g. one per day of the month)."""
    fig, ax = plt.subplots(figsize=(WIDTH, 2.4))
    if not any(values):
        _empty(ax)
    else:
        heights, colors = _heights(values)
        bars = ax.bar(range(len(values)), heights, color=colors, width=0.7)
        _hatch(bars, values)
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xlim(-0.6, len(values) - 0.4)
        _label(ax, bars, values, horizontal=False)
    _style(ax)
    return Figure(_title(title, values), _png(fig), alt)


def bars(title: str, labels: Sequence[str], values: Sequence[int], alt: str, xlabel: str = "") -> Figure:
    """Horizontal bars, biggest on top (categories with long names)."""
    height = max(1.4, 0.32 * len(labels) + 0.6)
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    if not any(values):
        _empty(ax)
    else:
        order = list(range(len(values)))[::-1]
        heights, colors = _heights([values[i] for i in order])
        drawn = ax.barh([labels[i] for i in order], heights, color=colors, height=0.6)
        _hatch(drawn, [values[i] for i in order])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        _label(ax, drawn, [values[i] for i in order], horizontal=True)
        ax.margins(x=0.08)
    _style(ax)
    return Figure(_title(title, values), _png(fig), alt)
