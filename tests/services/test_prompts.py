"""Prompt validation: empty, too long, control characters -> clear errors."""

from __future__ import annotations

import pytest

from arena.errors import ValidationError
from arena.services.prompts import validate_prompt


@pytest.mark.parametrize(
    ("prompt", "message"),
    [("", "empty"), ("   \n ", "empty"), ("x" * 11, "limit is 10"), ("hi\x00there", "U\\+0000"),
     ("bell\x07", "control characters"), (None, "must be text")],
)
def test_rejected(prompt: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_prompt(prompt, 10)  # type: ignore[arg-type]


def test_accepted_keeps_newlines_and_tabs() -> None:
    assert validate_prompt("  a\n\tb ", 10) == "a\n\tb"
