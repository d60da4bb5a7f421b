"""Run the simulator standalone: ``python -m ticktape.simulator --seed 7 --duration 60``.

Prints each exchange's WebSocket and REST URL, serves for ``--duration`` seconds (Ctrl-C stops
earlier, closing every connection cleanly), then optionally writes the send log.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ticktape.simulator.config import EXCHANGES, SimConfig, SimConfigError
from ticktape.simulator.samples import SamplesError
from ticktape.simulator.simulator import Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ticktape.simulator",
        description="Local stand-in for Binance, Bybit, KuCoin and MEXC spot on 127.0.0.1.",
    )
    parser.add_argument("--seed", type=int, default=7, help="market seed (default 7)")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds to serve (default 60)"
    )
    parser.add_argument(
        "--symbols", default="BTC-USDT,ETH-USDT", help="comma-separated (default BTC-USDT,ETH-USDT)"
    )
    parser.add_argument(
        "--exchanges", default=",".join(EXCHANGES), help="comma-separated (default: all four)"
    )
    parser.add_argument("--rate", type=float, default=None, help="quotes/s per stream")
    parser.add_argument(
        "--dislocations-per-min", type=float, default=1.0, help="random arbitrage windows"
    )
    parser.add_argument("--samples", action="store_true", help="serve the real captured frames")
    parser.add_argument("--dump", type=Path, default=None, help="write the send log here")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> Simulator:
    config = SimConfig(
        seed=args.seed,
        symbols=tuple(s for s in args.symbols.split(",") if s),
        exchanges=tuple(e for e in args.exchanges.split(",") if e),
        rate_hz=args.rate,
        random_dislocations_per_min=args.dislocations_per_min,
        samples=args.samples,
        log_sent=args.dump is not None,  # an unbounded in-memory log only when it is wanted
    )
    sim = Simulator(config)
    async with sim:
        for name, endpoint in sim.endpoints.items():
            ws = endpoint.ws_url if name != "kucoin" else "(POST /api/v1/bullet-public)"
            print(f"{name:8} ws {ws:45} rest {endpoint.rest_url}", flush=True)
        print(f"serving for {args.duration:g} s (Ctrl-C to stop)", flush=True)
        await asyncio.sleep(args.duration)
    return sim


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.duration <= 0:
        print("--duration must be > 0", file=sys.stderr)
        return 2
    try:
        sim = asyncio.run(serve(args))
    except (SimConfigError, SamplesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 130
    print(f"sent {len(sim.sent_log)} frames/bodies", flush=True)
    if args.dump is not None:
        print(f"send log written to {sim.dump_sent_log(args.dump)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
