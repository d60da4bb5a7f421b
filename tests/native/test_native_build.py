"""The compiled extension is built, up to date with its sources, and its number parser is exact.

CI must exercise the compiled decoder, not silently fall back to the Python one: a missing or
stale build fails here with the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ticktape import _native

SOURCES = Path(_native.__file__).parent
MODULES = ("fastdecode", "arbquiet", "eventpack")


def test_the_extensions_are_built() -> None:
    for name in MODULES:
        assert getattr(_native, name) is not None, (
            f"ticktape._native.{name} is not built: run `pip install -e .` (needs a C compiler)"
        )


def test_the_build_is_newer_than_its_sources() -> None:
    assert _native.fastdecode is not None
    if "site-packages" in str(_native.fastdecode.__file__):
        return  # a wheel install: no sources next to it
    built = {name: Path(getattr(_native, name).__file__).stat().st_mtime for name in MODULES}
    # each .pyx is its own module; the .pxi files are included by fastdecode.pyx
    sources = {p: p.stem if p.stem in MODULES else "fastdecode" for p in SOURCES.iterdir()}
    stale = [
        p.name for p, module in sources.items()
        if p.suffix in (".pyx", ".pxi") and p.stat().st_mtime > built[module]
    ]  # fmt: skip
    assert not stale, f"{stale} changed after the build: run `pip install -e .` again"


def parse(text: str) -> float | None:
    assert _native.fastdecode is not None
    return _native.fastdecode.parse_decimal_text(text.encode())  # type: ignore[no-any-return]


def test_strict_decimals_are_read_exactly_like_float() -> None:
    for text in ("0", "7", "0.1", "25.35190000", "84270.01", "0.00000001", "9007199254740992",
                 "12.000", "0.3000000000000004", "123456789012345.6"):  # fmt: skip
        assert parse(text) == float(text), text


def test_anything_else_is_refused() -> None:
    refused = ("", "01", "00.5", ".5", "5.", "1e5", "-1", "+1", "1.2.3", " 1", "1 ", "nan",
               "inf", "1_000", "9007199254740993", "12345678901234567", "0x10",
               "1." + "1" * 23)  # fmt: skip
    for text in refused:
        assert parse(text) is None, text


@settings(max_examples=400, derandomize=True)
@given(
    st.integers(min_value=0, max_value=10**17),
    st.integers(min_value=0, max_value=25),
    st.integers(min_value=0, max_value=4),
)
def test_any_accepted_decimal_equals_python_float(digits: int, scale: int, zeros: int) -> None:
    text = str(digits)
    if scale:
        text = text.rjust(scale + 1, "0")
        text = f"{text[:-scale]}.{text[-scale:]}" + "0" * zeros
    value = parse(text)
    if value is not None:
        assert value == float(text), text
    else:
        kept = text.rstrip("0").rstrip(".") if "." in text else text  # fraction zeros only
        significant = kept.replace(".", "").lstrip("0") or "0"
        fraction = len(kept.partition(".")[2])
        assert len(significant) > 16 or int(significant) > 2**53 or fraction > 22, text
