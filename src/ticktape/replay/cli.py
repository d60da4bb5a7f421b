"""The ``replay`` command: replay recordings through strategies, write results, print a summary.

Bad input (no recordings, a corrupt or foreign file, an unknown strategy, a bad option value)
ends with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ticktape.replay import api
from ticktape.replay.errors import BadOptionError, ReplayError
from ticktape.replay.pacing import parse_speed
from ticktape.replay.reader import find_recordings
from ticktape.replay.results import default_out_dir, format_digests, format_summary, write_results

PROG = "replay"
ALL_STRATEGIES = ("arb", "latency")

DESCRIPTION = """\
Replay recorded market data deterministically: read the recordings (finished Parquet files and
live .arrow segments), merge every exchange and connection into one order
(recv_ns, exchange, conn_id, seq), decode each message with the exchange's decoder and feed the
events to strategies. The same data always gives the same results and the same digest, however
the recorder rotated its files.
"""

EPILOG = """\
examples:
  replay data/2025-07-22                       one day, arb + latency, as fast as possible
  replay data --from 2025-07-20 --to 2025-07-22 --strategy arb
  replay 'data/2025-07-*' --jobs 2             days in parallel, results folded in day order
  replay data/2025-07-22/*-binance-*.parquet --strategy latency --quiet
  replay data/2025-07-22 --speed 10            10x real time (recv_ns gaps / 10)
  replay data/2025-07-22 --digest --quiet      prove two replays saw the same data
  replay data/2025-07-22 --fees binance=0.075%,mexc=0bps --min-edge-bps 2

PATH is a day folder (data/2025-07-22), a root holding day folders (data), a glob or single
files. Results go to <out>/<strategy>/<table>.parquet; the default <out> is the results folder
next to the day folders (data/results). Exit codes: 0 ok, 2 bad input.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="day folder, root, glob or file")
    parser.add_argument("--from", dest="from_day", metavar="DAY", help="first UTC day YYYY-MM-DD")
    parser.add_argument("--to", dest="to_day", metavar="DAY", help="last UTC day YYYY-MM-DD")
    parser.add_argument(
        "--strategy",
        action="append",
        metavar="NAME",
        help=f"strategy to run: {', '.join(ALL_STRATEGIES)} (repeatable or comma list; "
        "default: all)",
    )
    parser.add_argument(
        "--speed", default="max", help="max (default) or a factor of real time, e.g. 10"
    )
    parser.add_argument("--out", metavar="DIR", help="results folder (default: <root>/results)")
    parser.add_argument("--no-write", action="store_true", help="do not write result files")
    parser.add_argument("--digest", action="store_true", help="print SHA-256 digests")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="replay each day on its own, N days at a time in worker processes",
    )
    parser.add_argument(
        "--fees",
        action="append",
        metavar="EX=FEE",
        help="arb taker fees, e.g. binance=0.075%%,mexc=0bps (units %% or bps; repeatable)",
    )
    parser.add_argument(
        "--min-edge-bps", type=float, metavar="X", help="arb: smallest net edge reported (bps)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ReplayError as exc:
        _fail(str(exc))
    except OSError as exc:  # unwritable --out, disk full, ...
        where = f"{exc.filename}: " if exc.filename else ""
        detail = str(exc.strerror or exc).strip().splitlines()[0]
        _fail(f"{where}{detail}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    strategies = parse_strategies(args.strategy)
    config = strategy_config(strategies, args.fees, args.min_edge_bps)
    speed = parse_speed(args.speed)
    if args.jobs is not None and speed is not None:
        raise BadOptionError("--speed and --jobs do not mix: pace one continuous replay")
    files = find_recordings(args.paths, args.from_day, args.to_day)
    started = time.perf_counter()
    with _progress_bar(enabled=not args.quiet and sys.stderr.isatty()) as progress:
        if args.jobs is not None:
            result = api.run_days(
                files, strategies, config, jobs=args.jobs, progress=progress, digest=args.digest
            )
        else:
            tape = api.Tape(files)
            result = tape.run(
                strategies, config=config, speed=speed, progress=progress, digest=args.digest
            )
    elapsed = time.perf_counter() - started
    written = []
    if not args.no_write:
        written = write_results(result, args.out or default_out_dir(files))
    if not args.quiet:
        print(format_summary(result, files=len(files), elapsed_s=elapsed, written=written))
    if args.digest:
        print(format_digests(result))
    return 0


def parse_strategies(values: Sequence[str] | None) -> list[str]:
    """``["arb,latency", "arb"]`` -> ``["arb", "latency"]``; default: every strategy."""
    if not values:
        return list(ALL_STRATEGIES)
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    if not names:
        raise BadOptionError("--strategy needs a name: " + ", ".join(ALL_STRATEGIES))
    return names


def parse_fees(values: Sequence[str]) -> dict[str, float]:
    """``["binance=0.075%,mexc=0bps"]`` -> ``{"binance": 0.00075, "mexc": 0.0}`` (fractions)."""
    fees: dict[str, float] = {}
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(","))):
            exchange, sep, amount = item.partition("=")
            text = amount.strip().lower()
            try:
                if not sep or not exchange.strip():
                    raise ValueError(item)
                if text.endswith("%"):
                    fee = float(text[:-1]) / 100
                elif text.endswith("bps"):
                    fee = float(text[:-3]) / 10_000
                else:
                    raise ValueError(item)
            except ValueError:
                raise BadOptionError(
                    f"bad --fees {item!r}: expected EXCHANGE=FEE with a unit, "
                    "e.g. binance=0.1% or binance=10bps"
                ) from None
            fees[exchange.strip().lower()] = fee
    return fees


def strategy_config(
    strategies: Sequence[str], fees: Sequence[str] | None, min_edge_bps: float | None
) -> dict[str, dict[str, Any]]:
    """Options for each strategy from the command line (arb: taker fees, minimum edge)."""
    arb: dict[str, Any] = {}
    if fees:
        arb["taker_fees"] = parse_fees(fees)
    if min_edge_bps is not None:
        arb["min_edge_bps"] = min_edge_bps
    return {"arb": arb} if arb and "arb" in strategies else {}


class _progress_bar:
    """A rich progress bar on stderr (or nothing), giving a ``progress(done, total)`` callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None

    def __enter__(self) -> Callable[[int, int], None] | None:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task("replay", total=None)

        def update(done: int, total: int) -> None:
            self._progress.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    raise SystemExit(main())
