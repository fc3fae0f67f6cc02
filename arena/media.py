"""Content-addressed media storage (sha256 names) behind one small interface; a local folder by default.

Two implementations: `LocalMediaStore` (files under the data folder, one machine) and `S3MediaStore` in
arena/media_s3.py (any S3-compatible object store, shared by several app processes). `build_media_store`
picks one from the `[media]` settings. Every store raises only arena.errors types: NotFoundError for a
missing object, StorageError when the store cannot be used (disk full, endpoint unreachable, bucket missing).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from arena.config import Settings
from arena.errors import NotFoundError, StorageError

CHUNK_BYTES = 64 * 1024
_HEX = frozenset("0123456789abcdef")


def check_sha256(sha256: str) -> str:
    """`sha256` when it is a media id (64 lowercase hex characters), else NotFoundError (ids come from URLs)."""
    if len(sha256) != 64 or any(c not in _HEX for c in sha256):
        raise NotFoundError(f"{sha256!r} is not a media id (expected 64 hex characters)")
    return sha256


@dataclass(frozen=True)
class MediaBlob:
    """An opened media object ready to serve: its size and type are known before the first byte is sent."""

    sha256: str
    size: int
    mime: str
    chunks: Iterator[bytes]


class MediaStore(Protocol):
    """Where image and audio bytes live; names are their sha256, so a put of the same bytes is a no-op."""

    def put(self, data: bytes, mime: str | None = None) -> str:
        """Store bytes (typed `mime`, sniffed when None), return their sha256 (idempotent)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`; NotFoundError when there are none."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether `sha256` is stored."""
        ...

    def size(self, sha256: str) -> int:
        """The stored size in bytes; NotFoundError when missing."""
        ...

    def open(self, sha256: str) -> MediaBlob:
        """Open `sha256` for streaming; NotFoundError/StorageError are raised here, before any byte is read."""
        ...


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


@dataclass(frozen=True)
class LocalMediaStore:
    """Files under `root/ab/abcdef...`, written to a temporary file and renamed into place."""

    root: Path

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, mime: str | None = None) -> str:
        # Files carry no type; it is sniffed again from the bytes when they are served.
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            return sha
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise StorageError(f"could not store media ({exc.strerror}); free disk space and retry") from exc
        return sha

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"media {sha256} not found") from exc

    def exists(self, sha256: str) -> bool:
        try:
            return self._path(sha256).is_file()
        except NotFoundError:
            return False

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"media {sha256} not found") from exc

    def open(self, sha256: str) -> MediaBlob:
        path = self._path(sha256)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"media {sha256} not found") from exc
        head = handle.read(16)
        handle.seek(0)
        return MediaBlob(sha256, os.fstat(handle.fileno()).st_size, sniff_mime(head), _read_chunks(handle))


def build_media_store(settings: Settings) -> MediaStore:
    """The store `[media] backend` names: the data folder's `media/` (local) or an S3 bucket (s3)."""
    if settings.media.backend == "s3":
        from arena.media_s3 import S3MediaStore  # boto3 is imported only by deployments that use it

        return S3MediaStore.from_settings(settings.media, os.environ)
    return LocalMediaStore(settings.data_dir / "media")


_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
)


def sniff_mime(data: bytes) -> str:
    """The content type of stored media from its magic bytes (files are stored without extensions)."""
    for magic, offset, mime in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return mime
    return "application/octet-stream"
