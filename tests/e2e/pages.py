"""Helpers shared by the browser tests."""

from __future__ import annotations

from typing import Any


def wait_for_voter_id(page: Any) -> None:
    """Wait until the page's load event has given this browser its voter id (kept in localStorage)."""
    page.wait_for_function("() => window.localStorage.getItem('arena_voter_id') !== null", timeout=30_000)
