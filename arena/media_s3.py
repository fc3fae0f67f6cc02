"""The media store on an S3-compatible object store (AWS S3, MinIO, Ceph, R2, moto), shared by app replicas.

Objects are named `<prefix><ab>/<sha256>`, the layout of the local store, so `aws s3 sync data/media
s3://bucket/<prefix>` moves an existing folder over unchanged. A put first asks whether the object exists
(content addressing makes every write idempotent) and sets the content type. Credentials come only from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment; they are read when
the client is made, never kept on this object, never pickled into release workers and never logged.
Every botocore failure is translated into NotFoundError or StorageError with a typed `reason`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from arena.config import MediaSettings
from arena.errors import ArenaError, ConfigError, NotFoundError, StorageError
from arena.media import CHUNK_BYTES, MediaBlob, check_sha256, sniff_mime

log = logging.getLogger(__name__)

CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
IMMUTABLE = "public, max-age=31536000, immutable"
_MISSING_KEY = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "403",
        "Forbidden",
        "ExpiredToken",
        "InvalidToken",
        "InvalidSecurity",
    }
)
_UNREACHABLE = (BotoConnectionError, HTTPClientError)  # refused, timed out, TLS failed, connection dropped
_GENERIC_TYPES = frozenset({"", "binary/octet-stream", "application/octet-stream"})


class S3MediaStore:
    """Media objects in one bucket; the boto3 client is made on first use (and again in each worker process)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str = "",
        region: str = "",
        prefix: str = "",
        timeout_s: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region or "us-east-1"
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, media: MediaSettings, environ: Mapping[str, str]) -> S3MediaStore:
        """The store `[media]` describes; ConfigError at boot when the credentials are not in the environment."""
        missing = [name for name in CREDENTIAL_VARS if not environ.get(name)]
        if missing:
            raise ConfigError(
                f'[media] backend = "s3" needs {" and ".join(missing)} in the environment '
                "(credentials are never read from the config file)"
            )
        return cls(
            media.bucket,
            endpoint_url=media.endpoint_url,
            region=media.region,
            prefix=media.prefix,
            timeout_s=media.timeout_s,
            max_attempts=media.max_attempts,
        )

    def __repr__(self) -> str:
        return f"S3MediaStore(bucket={self.bucket!r}, endpoint={self._where!r}, prefix={self.prefix!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Release workers get the settings only: a client (and its credentials) is never pickled.
        return {k: v for k, v in self.__dict__.items() if k not in ("_client", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._client = None
        self._lock = threading.Lock()

    @property
    def _where(self) -> str:
        return self.endpoint_url or f"AWS S3 ({self.region})"

    def key(self, sha256: str) -> str:
        """The object key of `sha256`."""
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    # --- the MediaStore interface ----------------------------------------------------------------------------

    def put(self, data: bytes, mime: str | None = None) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if self.exists(sha):
            return sha
        try:
            self._s3().put_object(
                Bucket=self.bucket,
                Key=self.key(sha),
                Body=data,
                ContentType=mime or sniff_mime(data),
                CacheControl=IMMUTABLE,
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._translate(exc, "store") from exc
        return sha

    def get(self, sha256: str) -> bytes:
        blob = self.open(sha256)
        return b"".join(blob.chunks)

    def exists(self, sha256: str) -> bool:
        try:
            self._head(sha256)
        except NotFoundError:
            return False
        return True

    def size(self, sha256: str) -> int:
        return int(self._head(sha256)["ContentLength"])

    def open(self, sha256: str) -> MediaBlob:
        try:
            answer = self._s3().get_object(Bucket=self.bucket, Key=self.key(sha256))
        except (BotoCoreError, ClientError) as exc:
            raise self._translate(exc, "read", sha256) from exc
        chunks = self._chunks(answer["Body"])
        mime = str(answer.get("ContentType") or "")
        if mime in _GENERIC_TYPES:
            # Objects copied in by hand (aws s3 sync) carry no type: sniff the first chunk and put it back.
            first = next(chunks, b"")
            mime = sniff_mime(first)
            chunks = _prepend(first, chunks)
        return MediaBlob(sha256, int(answer["ContentLength"]), mime, chunks)

    # --- operations for deployment --------------------------------------------------------------------------

    def check(self) -> None:
        """StorageError (with a reason) unless the bucket exists and these credentials may use it."""
        try:
            self._s3().head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._translate(exc, "reach the bucket", bucket_call=True) from exc

    def ensure_bucket(self) -> bool:
        """Create the bucket when it is missing (first deploys, tests); True when it was created."""
        try:
            self._s3().head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) not in (*_MISSING_KEY, "NoSuchBucket"):
                raise self._translate(exc, "reach the bucket", bucket_call=True) from exc
        except BotoCoreError as exc:
            raise self._translate(exc, "reach the bucket", bucket_call=True) from exc
        options: dict[str, Any] = {}
        if self.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._s3().create_bucket(Bucket=self.bucket, **options)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return False
            raise self._translate(exc, "create the bucket") from exc
        except BotoCoreError as exc:
            raise self._translate(exc, "create the bucket") from exc
        log.info("created media bucket %r at %s", self.bucket, self._where)
        return True

    # --- internals ------------------------------------------------------------------------------------------

    def _s3(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> Any:
        key, secret = (os.environ.get(name, "") for name in CREDENTIAL_VARS)
        if not key or not secret:
            raise StorageError(
                "media storage has no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                detail={"reason": "no_credentials"},
            )
        config = Config(
            connect_timeout=self.timeout_s,
            read_timeout=self.timeout_s,
            retries={"total_max_attempts": self.max_attempts, "mode": "standard"},
            # Custom endpoints (MinIO, moto, Ceph) are addressed by path; AWS picks virtual hosts itself.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            # Only checksum when S3 requires it: several S3-compatible stores reject the newer default CRC headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session of its own with explicit keys: nothing is read from ~/.aws or an instance metadata service.
        session = boto3.session.Session(
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
            region_name=self.region,
        )
        return session.client("s3", endpoint_url=self.endpoint_url or None, config=config)

    def _head(self, sha256: str) -> dict[str, Any]:
        try:
            return dict(self._s3().head_object(Bucket=self.bucket, Key=self.key(sha256)))
        except (BotoCoreError, ClientError) as exc:
            raise self._translate(exc, "read", sha256) from exc

    def _chunks(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        except (BotoCoreError, ClientError) as exc:
            raise self._translate(exc, "read") from exc
        finally:
            body.close()

    def _translate(
        self, exc: Exception, action: str, sha256: str | None = None, bucket_call: bool = False
    ) -> ArenaError:
        """The arena error for a botocore failure; the log line names endpoint and bucket, never credentials."""
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if sha256 is not None and code in _MISSING_KEY:
                return NotFoundError(f"media {sha256} not found")
            if code == "NoSuchBucket" or (bucket_call and code in _MISSING_KEY):
                reason, message = (
                    "bucket_missing",
                    (
                        f"media storage is not set up: bucket {self.bucket!r} does not exist at {self._where}; "
                        "create it (python -m arena.media_bucket) or fix [media] bucket"
                    ),
                )
            elif code in _DENIED:
                reason, message = (
                    "access_denied",
                    (
                        f"media storage refused access to bucket {self.bucket!r}; check AWS_ACCESS_KEY_ID, "
                        "AWS_SECRET_ACCESS_KEY and the bucket policy"
                    ),
                )
            else:
                reason, message = "store_error", f"media storage failed ({code or 'error'}); try again in a minute"
        elif isinstance(exc, _UNREACHABLE):
            reason, message = (
                "unreachable",
                (
                    f"media storage is unreachable ({self._where}); try again in a minute, and if it persists check "
                    "that the object store runs and [media] endpoint_url"
                ),
            )
        else:
            reason, message = "store_error", f"media storage failed ({type(exc).__name__}); try again in a minute"
        log.warning("media store %s: could not %s (%s: %s)", self._where, action, reason, type(exc).__name__)
        return StorageError(message, detail={"reason": reason})


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
