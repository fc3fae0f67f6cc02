"""`python -m arena.media_bucket`: create the configured S3 media bucket if it is missing (first deploys).

Reads the same settings as the app (ARENA_CONFIG, `[media]`) and credentials from the environment; exits 0
when the bucket exists afterwards, 1 with the reason otherwise. A no-op for the local backend.
"""

from __future__ import annotations

import logging
import os
import sys

from arena.config import load_settings
from arena.errors import ArenaError


def main() -> int:
    """Create the bucket named by `[media] bucket` unless it exists."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("arena.media_bucket")
    try:
        settings = load_settings()
        if settings.media.backend != "s3":
            log.info("[media] backend is %r: there is no bucket to create", settings.media.backend)
            return 0
        from arena.media_s3 import S3MediaStore

        store = S3MediaStore.from_settings(settings.media, os.environ)
        created = store.ensure_bucket()
    except ArenaError as exc:
        log.error("%s", exc.message)
        return 1
    log.info("media bucket %r %s", store.bucket, "created" if created else "already exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
