"""What ``record`` should do: a TOML file plus command-line flags, validated into a RecordConfig.

Precedence: built-in defaults < the TOML file (``--config``) < flags. Every problem a user can make
(unknown exchange, bad symbol, unwritable ``--out``, bad TOML, bad duration/size, unknown key)
raises :class:`ConfigError` with a one-line message; ``record`` prints it and exits with code 2.

TOML layout (every key optional)::

    out = "data"
    exchanges = ["binance", "bybit"]        # or tables, see below
    symbols = ["BTCUSDT", "ETH-USDT"]
    duration = "1h"                         # seconds or 30s / 15m / 1h; absent = until stopped
    rotate = "1h"
    rotate_size = "512MB"
    flush_interval = 1.0
    trades = true
    quiet = false
    simulate = false

    [exchanges.kucoin]                      # tables: the exchanges to record, with settings
    method = "rest"                         # "ws" | "rest"
    symbols = ["BTC-USDT"]
    ws_url = "wss://..."
    rest_url = "https://..."
    poll_interval = 2.0
    enabled = true

When ``exchanges`` is a table, the recorded set is its tables without ``enabled = false``;
``--exchanges`` overrides the set (tables then only supply settings).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from ticktape import symbols as symbol_names
from ticktape.exchanges.base import ExchangeModule

ALL_EXCHANGES: Final = ("binance", "bybit", "kucoin", "mexc")
DEFAULT_SYMBOLS: Final = ("BTC-USDT", "ETH-USDT")
DEFAULT_ROTATE_S: Final = 3600.0
DEFAULT_ROTATE_BYTES: Final = 512 * 1000 * 1000
DEFAULT_FLUSH_S: Final = 1.0
METHODS: Final = ("ws", "rest")

_TOP_KEYS: Final = frozenset(
    {"out", "exchanges", "symbols", "duration", "rotate", "rotate_size", "flush_interval",
     "trades", "quiet", "strategies", "simulate"}
)  # fmt: skip
_EXCHANGE_KEYS: Final = frozenset(
    {"method", "symbols", "ws_url", "rest_url", "poll_interval", "enabled"}
)
_DURATION_RE: Final = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_SIZE_RE: Final = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE_UNITS: Final = {"k": 1, "m": 2, "g": 3, "t": 4}


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """One exchange as it will be recorded; URLs and symbols resolved (canonical symbols)."""

    name: str
    method: str
    symbols: tuple[str, ...]
    ws_url: str
    rest_url: str
    poll_interval_s: float


@dataclass(frozen=True, slots=True)
class RecordConfig:
    """Everything ``record`` needs. ``duration_s`` None = run until stopped."""

    out: str
    exchanges: tuple[ExchangeConfig, ...]
    duration_s: float | None = None
    rotate_interval_s: float = DEFAULT_ROTATE_S
    rotate_bytes: int = DEFAULT_ROTATE_BYTES
    flush_interval_s: float = DEFAULT_FLUSH_S
    trades: bool = True
    simulate: bool = False
    quiet: bool = False
    strategies: tuple[str, ...] = ()  # live mode: strategies run on the rows as recorded
    status_interval_s: float = 10.0  # plain status line period when stdout is not a TTY

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every canonical symbol recorded on any exchange, sorted."""
        return tuple(sorted({s for ex in self.exchanges for s in ex.symbols}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in every file's metadata."""
        return asdict(self)


def parse_duration(text: str | float | int, what: str) -> float:
    """``"90"``, ``90``, ``"30s"``, ``"15m"``, ``"1.5h"`` -> seconds (> 0)."""
    if isinstance(text, bool):
        raise ConfigError(f"{what}: bad duration {text!r} (expected seconds or e.g. 30s, 15m, 1h)")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION_RE.match(text)
        if not match:
            raise ConfigError(
                f"{what}: bad duration {text!r} (expected seconds or e.g. 30s, 15m, 1h)"
            )
        seconds = float(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ConfigError(f"{what}: duration must be a positive number of seconds, got {text!r}")
    return seconds


def parse_size(text: str | int, what: str) -> int:
    """``"512MB"`` (10**6), ``"1GiB"`` (2**30), ``"1000"`` (bytes) -> bytes (> 0)."""
    if isinstance(text, bool):
        raise ConfigError(f"{what}: bad size {text!r} (expected e.g. 512MB, 1GiB or bytes)")
    if isinstance(text, int):
        size = text
    else:
        match = _SIZE_RE.match(text)
        if not match:
            raise ConfigError(f"{what}: bad size {text!r} (expected e.g. 512MB, 1GiB or bytes)")
        unit = (match.group(2) or "b").lower()
        power = _SIZE_UNITS.get(unit[0], 0)
        base = 1024 if "i" in unit else 1000
        size = int(float(match.group(1)) * base**power)
    if size <= 0:
        raise ConfigError(f"{what}: size must be positive, got {text!r}")
    return size


_RECORD_EPILOG = """\
examples:
  record --simulate --out data/ --duration 30     offline: the built-in simulator on 127.0.0.1
  record --out data/                              all four exchanges, default symbols, until Ctrl-C
  record --exchanges binance,bybit --symbols BTCUSDT,ETHUSDT --rotate 15m
  record --config record.toml --duration 1h       TOML file; flags override it
  record --simulate --strategy arb,latency        live mode: signals printed as they happen
  record --ws-url bybit=wss://stream.bybit.com/v5/public/spot --rest-url binance=https://data-api.binance.vision

TOML (--config):
  out = "data"
  symbols = ["BTCUSDT", "ETHUSDT"]
  rotate = "1h"
  [exchanges.kucoin]         # every exchange is recorded; a table only configures it
  method = "rest"            # ws (default) or rest polling
  poll_interval = "1s"
  rest_url = "https://api.kucoin.com"   # KuCoin's WebSocket URL comes from its token response
  [exchanges.mexc]
  enabled = false            # leave one out (or narrow with --exchanges)

Ctrl-C or SIGTERM stops cleanly: connections close, buffers flush, segments become Parquet, exit 0.
After a crash (kill -9) the next start finishes any segment left behind. Exit codes: 0 ok,
1 recording failed (e.g. disk), 2 bad configuration.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``record`` flags. Defaults are None so that only given flags override the TOML."""
    p = argparse.ArgumentParser(
        prog="record",
        description=(
            "Record every raw market-data message from Binance, Bybit, KuCoin and MEXC"
            " (WebSocket, or REST polling per exchange), byte for byte, with its receive time,"
            " connection id and sequence number. Rows go to an Arrow IPC segment flushed every"
            " second, rotated into zstd Parquet (by time, size and at UTC midnight), one folder"
            " per UTC day."
        ),
        epilog=_RECORD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="FILE", help="TOML file (flags override it)")
    p.add_argument("--out", metavar="DIR", help="output root (default: data)")
    p.add_argument("--exchanges", metavar="LIST", help="comma list (default: all four)")
    p.add_argument("--symbols", metavar="LIST", help="comma list, e.g. BTCUSDT,ETH-USDT")
    p.add_argument("--duration", metavar="T", help="stop after T (seconds or 30s/15m/1h)")
    p.add_argument("--rotate", metavar="T", help="rotate segments every T (default 1h)")
    p.add_argument("--rotate-size", metavar="SIZE", help="rotate at SIZE (default 512MB)")
    p.add_argument("--flush-interval", metavar="T", help="flush to disk every T (default 1s)")
    p.add_argument("--trades", action=argparse.BooleanOptionalAction, default=None,
                   help="also record trades (default: yes)")  # fmt: skip
    p.add_argument("--simulate", action="store_true", default=None,
                   help="record from the built-in simulator on 127.0.0.1")  # fmt: skip
    p.add_argument("--quiet", action="store_true", default=None, help="no status view")
    p.add_argument("--strategy", action="append", default=None, metavar="NAME",
                   help="live mode: run a strategy (arb, latency) on the data as it is recorded;"
                   " prints its signals and writes <out>/results/<strategy>/ at the end, as"
                   " replay would (repeatable or comma list)")  # fmt: skip
    p.add_argument("--ws-url", action="append", default=[], metavar="NAME=URL",
                   help="WebSocket URL override for one exchange (repeatable)")  # fmt: skip
    p.add_argument("--rest-url", action="append", default=[], metavar="NAME=URL",
                   help="REST base URL override for one exchange (repeatable)")  # fmt: skip
    return p


def load_config(
    argv: Sequence[str] | None = None,
    lookup: Callable[[str], ExchangeModule] | None = None,
    *,
    check_out: bool = True,
) -> RecordConfig:
    """Parse flags (and the TOML file they name) into a validated :class:`RecordConfig`.

    ``lookup`` maps an exchange name to its module (default: the exchange registry); tests pass
    fakes. Raises :class:`ConfigError`; argparse's own usage errors exit 2 as usual.
    """
    args = build_parser().parse_args(argv)
    return resolve(args, lookup, check_out=check_out)


def resolve(
    args: argparse.Namespace,
    lookup: Callable[[str], ExchangeModule] | None = None,
    *,
    check_out: bool = True,
) -> RecordConfig:
    """Merge an argparse namespace with its TOML file and validate the result."""
    lookup = lookup or _registry_lookup
    doc = _read_toml(Path(args.config)) if args.config else {}
    where = args.config or "config"

    tables: dict[str, dict[str, Any]] = {}
    names: list[str] | None = None
    raw_exchanges = doc.get("exchanges")
    if isinstance(raw_exchanges, list):
        names = [_str(n, f"{where}: exchanges") for n in raw_exchanges]
    elif isinstance(raw_exchanges, dict):
        for name, table in raw_exchanges.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{where}: [exchanges.{name}] must be a table")
            _check_keys(table, _EXCHANGE_KEYS, f"{where}: [exchanges.{name}]")
            tables[name] = table
        # tables configure exchanges; they do not select them: every exchange is recorded
        # unless --exchanges narrows the set or its table says enabled = false
        names = [n for n in ALL_EXCHANGES if tables.get(n, {}).get("enabled", True)]
    elif raw_exchanges is not None:
        raise ConfigError(
            f"{where}: exchanges must be a list of names or [exchanges.<name>] tables"
        )
    if args.exchanges is not None:
        names = [n.strip().lower() for n in args.exchanges.split(",") if n.strip()]
    names = names if names is not None else list(ALL_EXCHANGES)
    if not names:
        raise ConfigError("no exchanges to record (give --exchanges binance,bybit,...)")
    for name in (*names, *tables):
        if name not in ALL_EXCHANGES:
            raise ConfigError(f"unknown exchange {name!r} (known: {', '.join(ALL_EXCHANGES)})")
    names = list(dict.fromkeys(names))

    if args.symbols is not None:
        global_symbols = _canonical_list(args.symbols.split(","), "--symbols")
    elif "symbols" in doc:
        global_symbols = _canonical_list(_str_list(doc["symbols"], f"{where}: symbols"), where)
    else:
        global_symbols = DEFAULT_SYMBOLS

    ws_overrides = _url_overrides(args.ws_url, "--ws-url", ("ws://", "wss://"))
    rest_overrides = _url_overrides(args.rest_url, "--rest-url", ("http://", "https://"))

    exchanges = []
    for name in names:
        module = lookup(name)
        table = tables.get(name, {})
        ctx = f"{where}: [exchanges.{name}]"
        method = table.get("method", module.DEFAULT_METHOD)
        if method not in METHODS:
            raise ConfigError(f'{ctx}: method must be "ws" or "rest", got {method!r}')
        if "symbols" in table and args.symbols is None:
            syms = _canonical_list(_str_list(table["symbols"], f"{ctx} symbols"), ctx)
        else:
            syms = global_symbols
        for sym in syms:
            try:
                module.native_symbol(sym)
            except ValueError as exc:
                raise ConfigError(f"{name}: symbol {sym}: {exc}") from None
        ws_url = ws_overrides.get(name) or _url(
            table.get("ws_url", module.DEFAULT_WS_URL), ("ws://", "wss://"), f"{ctx} ws_url"
        )
        rest_url = rest_overrides.get(name) or _url(
            table.get("rest_url", module.DEFAULT_REST_URL), ("http://", "https://"),
            f"{ctx} rest_url",
        )  # fmt: skip
        poll = table.get("poll_interval", module.DEFAULT_POLL_INTERVAL_S)
        poll_s = parse_duration(poll, f"{ctx} poll_interval")
        exchanges.append(ExchangeConfig(name, method, tuple(syms), ws_url, rest_url, poll_s))
    for flag, overrides in (("--ws-url", ws_overrides), ("--rest-url", rest_overrides)):
        for name in overrides:
            if name not in names:
                raise ConfigError(f"{flag} {name}=...: {name} is not being recorded")

    def pick(flag_value: Any, key: str, default: Any) -> Any:
        return flag_value if flag_value is not None else doc.get(key, default)

    duration = pick(args.duration, "duration", None)
    cfg = RecordConfig(
        out=_str(pick(args.out, "out", "data"), f"{where}: out"),
        exchanges=tuple(exchanges),
        duration_s=None if duration is None else parse_duration(duration, "duration"),
        rotate_interval_s=parse_duration(pick(args.rotate, "rotate", DEFAULT_ROTATE_S), "rotate"),
        rotate_bytes=parse_size(
            pick(args.rotate_size, "rotate_size", DEFAULT_ROTATE_BYTES), "rotate-size"
        ),
        flush_interval_s=parse_duration(
            pick(args.flush_interval, "flush_interval", DEFAULT_FLUSH_S), "flush-interval"
        ),
        trades=_bool(pick(args.trades, "trades", True), "trades"),
        simulate=_bool(pick(args.simulate, "simulate", False), "simulate"),
        quiet=_bool(pick(args.quiet, "quiet", False), "quiet"),
        strategies=_strategy_names(args.strategy, doc.get("strategies"), where),
    )
    if check_out:
        check_writable(cfg.out)
    return cfg


def _strategy_names(flags: list[str] | None, toml: Any, where: str) -> tuple[str, ...]:
    from ticktape.strategies import STRATEGIES

    if flags is not None:
        names = [n.strip() for flag in flags for n in flag.split(",") if n.strip()]
    elif toml is not None:
        names = _str_list(toml, f"{where}: strategies")
    else:
        return ()
    for name in names:
        if name not in STRATEGIES:
            raise ConfigError(f"unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
    return tuple(dict.fromkeys(names))


def with_urls(cfg: RecordConfig, urls: dict[str, tuple[str, str]]) -> RecordConfig:
    """Return ``cfg`` with ``{name: (ws_url, rest_url)}`` replacing those exchanges' URLs."""
    exchanges = tuple(
        replace(ex, ws_url=urls[ex.name][0], rest_url=urls[ex.name][1]) if ex.name in urls else ex
        for ex in cfg.exchanges
    )
    return replace(cfg, exchanges=exchanges)


def check_writable(out: str) -> None:
    """Create ``out`` if needed and prove a file can be written there (local paths only)."""
    if "://" in out:
        return  # object storage: checked when the writer opens it
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ticktape-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"--out {out}: cannot write there ({reason})") from None


def _registry_lookup(name: str) -> ExchangeModule:
    from ticktape.exchanges import registry

    module: ExchangeModule = registry.get(name)
    return module


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if "at end of document" in message:  # say which line that is
            lines = path.read_bytes().count(b"\n") + 1
            message = message.replace("at end of document", f"at end of document, line {lines}")
        raise ConfigError(f"{path}: invalid TOML: {message}") from None
    _check_keys(doc, _TOP_KEYS, str(path))
    return doc


def _check_keys(table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})"
            )


def _canonical_list(items: Sequence[str], where: str) -> tuple[str, ...]:
    out = []
    for item in items:
        if not item.strip():
            continue
        try:
            out.append(symbol_names.canonical(item))
        except symbol_names.SymbolError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if not out:
        raise ConfigError(f"{where}: no symbols given")
    return tuple(dict.fromkeys(out))


def _url_overrides(items: Sequence[str], flag: str, schemes: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        name = name.strip().lower()
        if not sep or not url:
            raise ConfigError(f"{flag} {item!r}: expected NAME=URL, e.g. binance={schemes[-1]}...")
        if name not in ALL_EXCHANGES:
            raise ConfigError(f"{flag} {item!r}: unknown exchange {name!r}")
        if not url.startswith(schemes):
            raise ConfigError(f"{flag} {item!r}: URL must start with {' or '.join(schemes)}")
        out[name] = url
    return out


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _url(value: Any, schemes: tuple[str, ...], where: str) -> str:
    url = _str(value, where)
    if not url.startswith(schemes):
        raise ConfigError(f"{where}: URL must start with {' or '.join(schemes)}, got {url!r}")
    return url


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value
