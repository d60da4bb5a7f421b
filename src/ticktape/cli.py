"""``ticktape``: the umbrella command. ``ticktape record|replay|analyze ...`` runs that command;
without one it lists them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "record": ("ticktape.recorder.cli", "capture raw market data from the exchanges"),
    "replay": ("ticktape.replay.cli", "replay recordings through the strategies"),
    "analyze": ("ticktape.analysis.cli", "SQL and reports over recordings (DuckDB)"),
}


def usage() -> str:
    lines = ["usage: ticktape <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'ticktape <command> --help' (or just '<command> --help') for its options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"ticktape: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(COMMANDS[name][0])
    except ImportError as exc:
        print(f"ticktape: {name} is not available in this installation ({exc})", file=sys.stderr)
        return 1
    result = module.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
