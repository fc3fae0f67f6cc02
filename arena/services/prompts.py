"""Validate voter input text: not empty, within the configured limit, no control characters."""

from __future__ import annotations

import unicodedata

from arena.errors import ValidationError

_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def validate_prompt(prompt: str | None, max_chars: int) -> str:
    """The prompt, stripped; ValidationError with a clear message otherwise (nothing is written)."""
    if not isinstance(prompt, str):
        raise ValidationError("the prompt must be text")
    text = prompt.strip()
    if not text:
        raise ValidationError("the prompt is empty: type a question or instruction first")
    if len(text) > max_chars:
        raise ValidationError(f"the prompt has {len(text):,} characters; the limit is {max_chars:,}. Shorten it.")
    bad = sorted({c for c in text if c not in _ALLOWED_CONTROLS and unicodedata.category(c) in ("Cc", "Cs")})
    if bad:
        codes = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
        raise ValidationError(f"the prompt contains control characters ({codes}); remove them and retry")
    return text
