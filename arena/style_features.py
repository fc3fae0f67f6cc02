"""Text -> style features (tokens, markdown headers, list items, bold spans) for style control.

Computed once when an output is saved and stored with it, so a leaderboard refit never re-parses
text.  Markdown elements are counted after removing fenced code blocks (a ``#`` comment or ``**``
inside code is not style).  ``tokens`` is a cheap estimate on the whole answer, code included:
the number of word runs plus punctuation marks, which follows a BPE tokenizer's count for
English prose to within roughly 25 % (enough: the feature enters as a ratio between the two
answers of a battle, then is z-scored).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

FEATURE_NAMES: tuple[str, ...] = ("tokens", "headers", "list_items", "bold")

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]*?\S\*\*|__(?=\S)[^_\n]*?\S__|\*\*\S\*\*|__\S__")


def strip_code_blocks(text: str) -> str:
    """Remove fenced code blocks (```` ``` ```` or ``~~~``; an unclosed fence runs to the end)."""
    return _FENCE.sub("", text)


def style_features(text: str) -> dict[str, int]:
    """Count the style features of one answer.

    Parameters
    ----------
    text : str
        The model's answer (markdown).

    Returns
    -------
    dict
        ``{"tokens", "headers", "list_items", "bold"}`` as non-negative integers (in the order of
        `FEATURE_NAMES`).
    """
    prose = strip_code_blocks(text)
    return {
        "tokens": len(_TOKEN.findall(text)),
        "headers": len(_HEADER.findall(prose)),
        "list_items": len(_LIST_ITEM.findall(prose)),
        "bold": len(_BOLD.findall(prose)),
    }


def feature_matrix(rows: Sequence[Mapping[str, float]]) -> NDArray[np.float64]:
    """Stack stored feature dicts into an (N, 4) array in `FEATURE_NAMES` order.

    Raises
    ------
    KeyError
        If a dict lacks one of the features.
    """
    return np.array([[float(r[name]) for name in FEATURE_NAMES] for r in rows], dtype=float).reshape(
        len(rows), len(FEATURE_NAMES)
    )
