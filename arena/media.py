"""Content-addressed media storage (sha256 names) behind a small interface; a local folder by default."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from arena.errors import NotFoundError, StorageError


class MediaStore(Protocol):
    """Where image and audio bytes live; names are their sha256."""

    def put(self, data: bytes) -> str:
        """Store bytes, return their sha256 (idempotent)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`."""
        ...


@dataclass(frozen=True)
class LocalMediaStore:
    """Files under `root/ab/abcdef...`, written to a temporary file and renamed into place."""

    root: Path

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFoundError(f"{sha256!r} is not a media id (expected 64 hex characters)")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
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
