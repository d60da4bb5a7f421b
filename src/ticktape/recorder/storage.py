"""File access for recordings: every read, write, list, delete and publish goes through here.

Why one module: recordings live on a local disk today and in object storage (``s3://``) later.
All access uses :mod:`pyarrow.fs`, and the one step whose meaning differs between the two, making a
finished file visible under its final name (:func:`publish`), is defined once here. On a local
disk a file is written under a temporary name, synced, renamed, and the directory synced, so a
reader (or a crash) never sees a half-written ``.parquet``. On S3 an object only appears when its
upload completes, so publishing will become a plain put.

Paths are pyarrow.fs paths: ``/``-separated, absolute for the local filesystem.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import PurePath

import pyarrow as pa
import pyarrow.fs as pafs

from ticktape.schema import FILE_NAME_RE

TEMP_SUFFIX = ".tmp"
"""Appended to a final name while the file is being written (``x.parquet`` → ``x.parquet.tmp``).

Readers that list ``*.parquet`` never see these; :mod:`ticktape.recorder.recovery` removes
stale ones.
"""

WRITE_BUFFER_BYTES = 1 << 20
"""Userspace buffer of output streams; every :meth:`pa.NativeFile.flush` hands it to the OS."""


class StorageError(OSError):
    """A recording file could not be read, written, published or removed."""


def resolve(
    root: str | os.PathLike[str], filesystem: pafs.FileSystem | None = None
) -> tuple[pafs.FileSystem, str]:
    """Return ``(filesystem, path)`` for a recording root.

    ``root`` may be a local path (made absolute) or, when ``filesystem`` is None, a URI that
    :meth:`pyarrow.fs.FileSystem.from_uri` understands (``file://``, ``s3://``, ...).
    """
    if filesystem is not None:
        path = os.fspath(root)
        if isinstance(filesystem, pafs.LocalFileSystem):
            path = os.path.abspath(path)
        return filesystem, path.rstrip("/") or "/"
    text = os.fspath(root)
    if "://" in text:
        fs, path = pafs.FileSystem.from_uri(text)
        return fs, path.rstrip("/") or "/"
    return pafs.LocalFileSystem(), os.path.abspath(text)


def join(*parts: str) -> str:
    """Join path parts with ``/`` (pyarrow.fs paths, not OS paths)."""
    return "/".join(p.rstrip("/") if i == 0 else p.strip("/") for i, p in enumerate(parts))


def basename(path: str) -> str:
    return PurePath(path).name


def temp_path(final_path: str) -> str:
    """The temporary name a file is written under before :func:`publish`."""
    return final_path + TEMP_SUFFIX


def is_temp_recording(path: str) -> bool:
    """True for a temporary file this module made for a recording (``<name>.parquet.tmp``)."""
    name = basename(path)
    return name.endswith(TEMP_SUFFIX) and FILE_NAME_RE.match(name[: -len(TEMP_SUFFIX)]) is not None


def make_dir(fs: pafs.FileSystem, path: str) -> None:
    fs.create_dir(path, recursive=True)


def exists(fs: pafs.FileSystem, path: str) -> bool:
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def any_exists(fs: pafs.FileSystem, paths: list[str]) -> bool:
    return any(info.type != pafs.FileType.NotFound for info in fs.get_file_info(paths))


def file_size(fs: pafs.FileSystem, path: str) -> int:
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        raise StorageError(f"{path}: no such file")
    return int(info.size)


def list_files(fs: pafs.FileSystem, root: str) -> list[str]:
    """Every file under ``root`` (recursive), sorted by path; empty if ``root`` does not exist."""
    selector = pafs.FileSelector(root, allow_not_found=True, recursive=True)
    return sorted(i.path for i in fs.get_file_info(selector) if i.type == pafs.FileType.File)


def delete_file(fs: pafs.FileSystem, path: str) -> None:
    fs.delete_file(path)


def open_output(fs: pafs.FileSystem, path: str) -> pa.NativeFile:
    """A new (truncated) buffered output stream; call ``flush()`` to hand data to the OS."""
    return fs.open_output_stream(path, compression=None, buffer_size=WRITE_BUFFER_BYTES)


def open_input(fs: pafs.FileSystem, path: str) -> pa.NativeFile:
    """A random-access input file (zero-copy reads where the filesystem allows)."""
    return fs.open_input_file(path)


@contextlib.contextmanager
def staged_output(fs: pafs.FileSystem, final_path: str) -> Iterator[pa.NativeFile]:
    """Write a file that appears under ``final_path`` only once complete.

    Yields an output stream on :func:`temp_path`; on normal exit the stream is closed and the
    file published; on error the temporary file is removed and the error propagates (nothing is
    left at ``final_path``).
    """
    tmp = temp_path(final_path)
    try:
        with open_output(fs, tmp) as out:
            yield out
    except BaseException:
        _discard(fs, tmp)
        raise
    try:
        publish(fs, tmp, final_path)
    except BaseException:
        _discard(fs, tmp)
        raise


def publish(fs: pafs.FileSystem, tmp_path: str, final_path: str) -> None:
    """The atomic-publish step: make the complete file ``tmp_path`` visible as ``final_path``.

    Local disk: fsync the file, rename it over ``final_path`` (atomic on POSIX), fsync the
    directory, so that after this returns the data survives a power cut and deleting the
    source segment is safe. Object storage (later): the upload itself is the publish.
    """
    local = isinstance(fs, pafs.LocalFileSystem)
    if local:
        _fsync_path(tmp_path)
    try:
        fs.move(tmp_path, final_path)
    except OSError as exc:
        raise StorageError(f"could not publish {final_path} (from {tmp_path}): {exc}") from exc
    if local:
        _fsync_path(os.path.dirname(final_path), directory=True)


def _discard(fs: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(OSError):
        fs.delete_file(path)


def _fsync_path(path: str, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
