"""Entry point: load Settings, create the app, serve UI (/) and JSON API (/api) with uvicorn."""

from __future__ import annotations

import sys

from arena.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve"]))
