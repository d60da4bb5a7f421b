"""ticktape: a faithful tape of crypto market data, replayed deterministically, queried with SQL."""

__version__ = "0.1.0"
