"""The adapter to matplotlib: a chart drawn headless (the Agg canvas, no display, no pyplot
state shared between threads) into PNG bytes for an e-mail."""

from __future__ import annotations

import io

#: 560 px wide at 100 dpi: inside the mail's 600 px column with its padding.
WIDTH_IN, HEIGHT_IN, DPI = 5.6, 2.2, 100


def warm_up() -> None:
    """Import matplotlib's Agg canvas (a second or more, the first time): done while the
    digest's collectors wait on the network, it is not added after them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def chart_png(
    title: str, kind: str, labels: list[str], series: dict[str, list[float | None]], unit: str
) -> bytes:
    """A line or bar chart of ``series`` (one value per label; None is a gap) as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    for name, values in series.items():
        points = [float("nan") if v is None else v for v in values]
        if kind == "bar":
            axes.bar(positions, points, color="#2b6cb0", label=name)
        else:
            axes.plot(positions, points, marker="o", linewidth=1.5, label=name)
    step = max(1, len(labels) // 10)
    axes.set_xticks(positions[::step], labels[::step], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(title, fontsize=9, loc="left")
    axes.set_ylabel(unit, fontsize=7)
    axes.grid(axis="y", color="#e2e8f0", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if len(series) > 1 or kind != "bar":
        axes.legend(fontsize=7, frameon=False, loc="upper left")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
