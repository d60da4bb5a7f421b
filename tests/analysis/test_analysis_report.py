"""The HTML report: one self-contained file, every plot present and drawn, renders in Chromium."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ticktape.analysis import connect
from ticktape.analysis.cli import main
from ticktape.analysis.report import build_report

CHROMIUM = Path("/usr/bin/chromium")
PLOT = re.compile(r'<figure class="plot" id="([^"]+)" data-points="(\d+)">(.*?)</figure>', re.S)
EXPECTED_PLOTS = {
    "plot-latency-cdf",
    "plot-mid-spread-BTC-USDT",
    "plot-mid-spread-ETH-USDT",
    "plot-episodes",
    "plot-message-rate",
    "plot-gaps",
}


def _plots(html: str) -> dict[str, tuple[int, str]]:
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in PLOT.finditer(html)}


def test_report_has_every_plot_drawn(root_with_results: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main([str(root_with_results), "--report", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    plots = _plots(html)
    assert set(plots) == EXPECTED_PLOTS
    for plot_id, (points, body) in plots.items():
        assert points > 0, plot_id
        assert body.lstrip().startswith("<svg"), plot_id
        assert len(re.findall(r"<path\b", body)) >= 5, plot_id  # axes plus data
    assert plots["plot-episodes"][0] == 6
    assert plots["plot-gaps"][0] == 4  # one reconnect per exchange
    for table_word in ("decode_errors", "p99_ms", "best_profit", "reconnect_gap_s"):
        assert f"<th>{table_word}</th>" in html


def test_report_is_self_contained_and_deterministic(root_with_results: Path) -> None:
    con = connect(root_with_results)
    first = build_report(con)
    assert first == build_report(con)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", first)
    assert "<script" not in first and "@import" not in first
    assert not re.search(r"url\((?!#)", first)  # only references inside the page


def test_report_without_replay_results_says_so(day_root: Path) -> None:
    plots = _plots(build_report(connect(day_root)))
    assert plots["plot-episodes"][0] == 0
    assert "no arbitrage episodes" in plots["plot-episodes"][1]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_report_renders_in_headless_chromium(root_with_results: Path, tmp_path: Path) -> None:
    from PIL import Image

    report = tmp_path / "report.html"
    shot = tmp_path / "report.png"
    assert main([str(root_with_results), "--report", str(report)]) == 0
    subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars",
            "--window-size=1200,2400", f"--screenshot={shot}", report.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=True,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2400)
    small = image.resize((120, 240))
    pixels = list(small.getdata())
    non_white = sum(1 for p in pixels if min(p) < 235)
    assert non_white > 0.05 * len(pixels), "screenshot is (nearly) blank"
    assert len(set(image.getdata())) > 50  # text, lines in several colors, not a flat page
