"""The report's figures: matplotlib (Agg, no display) rendered to inline SVG text.

SVG keeps the report one self-contained file with sharp, zoomable plots and no network access.
Output is deterministic for the same data (fixed ``svg.hashsalt``, no date metadata), so the
same recording gives the same report bytes.

Every function takes plain columns (numpy arrays / lists, times as int64 ns since the epoch) and
returns ``(svg, points)``: the SVG text and how many data points it drew. A figure with nothing
to draw says so in its body and returns 0 points.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

COLORS: Final = {"binance": "#f0b90b", "bybit": "#17181e", "kucoin": "#24ae8f", "mexc": "#1a6cf0"}
_FALLBACK: Final = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
GAP_COLORS: Final = {
    "reconnect": "#d62728",
    "seq": "#ff7f0e",
    "exchange": "#9467bd",
    "silence": "#7f7f7f",
}

plt.rcParams.update(
    {
        "svg.hashsalt": "ticktape",
        "svg.fonttype": "none",  # text stays text: smaller files, selectable labels
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "figure.dpi": 100,
    }
)

Series = Mapping[str, tuple[np.ndarray, np.ndarray]]  # label -> (x, y)


def color(name: str, index: int = 0) -> str:
    return COLORS.get(name, _FALLBACK[index % len(_FALLBACK)])


def _times(ns: np.ndarray) -> np.ndarray:
    return np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")


def to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML


def _empty(message: str, size: tuple[float, float] = (9, 1.2)) -> tuple[str, int]:
    fig, ax = plt.subplots(figsize=size)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555")
    return to_svg(fig), 0


def _time_axis(ax: plt.Axes) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def latency_cdf(
    quantiles_ms: Mapping[str, np.ndarray], samples: Mapping[str, int]
) -> tuple[str, int]:
    """CDF of exchange-to-local latency per exchange, drawn from evenly spaced quantiles
    (``quantiles_ms[ex][i]`` = the ``i / (n - 1)`` quantile); x in ms, log scale if wide."""
    series = {k: np.sort(np.asarray(v, dtype=float)) for k, v in quantiles_ms.items() if len(v)}
    if not series:
        return _empty("no exchange timestamps: no latency to plot")
    fig, ax = plt.subplots(figsize=(9, 3.6))
    points = 0
    for i, (exchange, values) in enumerate(sorted(series.items())):
        y = np.linspace(0.0, 1.0, len(values))
        n = samples.get(exchange, len(values))
        ax.plot(values, y, lw=1.1, label=f"{exchange} (n={n:,})", color=color(exchange, i))
        points += n
    low = min(float(v[0]) for v in series.values())
    high = max(float(v[-1]) for v in series.values())
    if low > 0 and high / low > 50:
        ax.set_xscale("log")
    ax.set_xlabel("recv_ns - exch_ns (ms; includes clock offset)")
    ax.set_ylabel("fraction of messages")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="lower right")
    ax.set_title("Exchange-to-local latency, CDF")
    return to_svg(fig), points


def mid_and_spread(symbol: str, mids: Series, spreads_bps: Series) -> tuple[str, int]:
    """Mid price (top) and spread in bps (bottom) over time, one line per exchange."""
    if not mids:
        return _empty(f"no quotes for {symbol}")
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 4.6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    points = 0
    for i, (exchange, (t, mid)) in enumerate(sorted(mids.items())):
        top.plot(_times(t), mid, lw=0.9, label=exchange, color=color(exchange, i))
        points += len(t)
    for i, (exchange, (t, spread)) in enumerate(sorted(spreads_bps.items())):
        bottom.plot(_times(t), spread, lw=0.8, label=exchange, color=color(exchange, i))
    top.set_ylabel("mid")
    top.set_title(f"{symbol}: mid price and spread")
    top.legend(loc="upper left", ncols=4)
    top.ticklabel_format(axis="y", useOffset=False, style="plain")
    bottom.set_ylabel("spread (bps)")
    _time_axis(bottom)
    return to_svg(fig), points


def episodes_timeline(
    pairs: Sequence[str], starts_ns: Sequence[int], ends_ns: Sequence[int], edges: Sequence[float]
) -> tuple[str, int]:
    """Arbitrage episodes as bars on one row per pair (``symbol buy->sell``), colored by edge."""
    if not pairs:
        return _empty("no arbitrage episodes in the replay results")
    labels = sorted(set(pairs))
    row = {label: i for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.35 * len(labels)))
    start = _times(np.asarray(starts_ns))
    end = _times(np.maximum(np.asarray(ends_ns), np.asarray(starts_ns) + 1_000_000))  # >= 1 ms
    edge = np.asarray(edges, dtype=float)
    norm = plt.Normalize(
        vmin=float(edge.min()), vmax=max(float(edge.max()), float(edge.min()) + 1e-9)
    )
    cmap = plt.get_cmap("viridis")
    y = np.array([row[p] for p in pairs])
    ax.barh(
        y,
        mdates.date2num(end) - mdates.date2num(start),
        left=mdates.date2num(start),
        height=0.6,
        color=cmap(norm(edge)),
        edgecolor=cmap(norm(edge)),
        linewidth=1.5,
    )
    ax.scatter(mdates.date2num(start), y, s=6, color="k", zorder=3)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.xaxis_date()
    _time_axis(ax)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="max edge (bps)", pad=0.01)
    ax.set_title(f"Arbitrage episodes ({len(pairs)}), by symbol and buy->sell venue")
    return to_svg(fig), len(pairs)


def message_rates(rates: Series, bucket_s: int) -> tuple[str, int]:
    """Data messages per second over time, one line per exchange."""
    if not rates:
        return _empty("no data messages")
    fig, ax = plt.subplots(figsize=(9, 3.2))
    points = 0
    for i, (exchange, (t, per_s)) in enumerate(sorted(rates.items())):
        ax.plot(_times(t), per_s, lw=0.9, label=exchange, color=color(exchange, i))
        points += len(t)
    ax.set_ylabel("messages / s")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", ncols=4)
    ax.set_title(f"Message rate (mean over {bucket_s} s buckets)")
    _time_axis(ax)
    return to_svg(fig), points


def gaps_timeline(
    exchanges: Sequence[str],
    kinds: Sequence[str],
    starts_ns: Sequence[int],
    ends_ns: Sequence[int],
    span_ns: tuple[int, int],
) -> tuple[str, int]:
    """Gaps per exchange as bars over the recording's time span, colored by kind."""
    if not exchanges:
        return _empty("no gaps: no reconnects, missing rows or silences")
    labels = sorted(set(exchanges))
    row = {label: i for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.4 * len(labels)))
    min_width = max((span_ns[1] - span_ns[0]) // 400, 1_000_000)  # visible even when short
    for kind in sorted(set(kinds)):
        picks = [i for i, k in enumerate(kinds) if k == kind]
        start = np.array([starts_ns[i] for i in picks], dtype=np.int64)
        end = np.maximum(np.array([ends_ns[i] for i in picks], dtype=np.int64), start + min_width)
        left = mdates.date2num(_times(start))
        ax.barh(
            [row[exchanges[i]] for i in picks],
            mdates.date2num(_times(end)) - left,
            left=left,
            height=0.6,
            color=GAP_COLORS.get(kind, "#333"),
            label=f"{kind} ({len(picks)})",
        )
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xlim(mdates.date2num(_times(np.array(span_ns, dtype=np.int64))))
    ax.xaxis_date()
    _time_axis(ax)
    ax.legend(loc="upper right", ncols=4)
    ax.set_title("Gaps: reconnects, missing rows, exchange-reported gaps, silences >= 5 s")
    return to_svg(fig), len(exchanges)
