"""Style features of a markdown answer; markdown inside code blocks does not count."""

from __future__ import annotations

import numpy as np
import pytest

from arena.style_features import FEATURE_NAMES, feature_matrix, strip_code_blocks, style_features

ANSWER = """# Plan
Some **bold** text, __also bold__, and ** not bold ** or a*b*c.

## Steps
- first
* second
+ third
1. one
2) two
10. ten

```python
# a comment, not a header
- not a list item
**not bold**
```
Done!
"""


def test_counts_outside_code_blocks() -> None:
    f = style_features(ANSWER)
    assert list(f) == list(FEATURE_NAMES)
    assert f["headers"] == 2
    assert f["list_items"] == 6
    assert f["bold"] == 2
    assert f["tokens"] > 50


def test_tokens_estimate_counts_words_and_punctuation() -> None:
    assert style_features("Hello, world!")["tokens"] == 4
    assert style_features("")["tokens"] == 0


def test_unclosed_fence_runs_to_end_and_tilde_fences() -> None:
    assert style_features("text\n```\n# inside\n- inside\n")["headers"] == 0
    assert style_features("~~~\n# hidden\n~~~\n# shown\n")["headers"] == 1
    assert "inside" not in strip_code_blocks("a\n```\ninside\n```\nb\n")


def test_not_headers_or_lists() -> None:
    f = style_features("#hashtag\n    # indented code\n-dash\n1.5 is a number\n")
    assert f["headers"] == 0 and f["list_items"] == 0


def test_feature_matrix() -> None:
    m = feature_matrix([style_features("- a\n- b"), {"tokens": 3, "headers": 1, "list_items": 0, "bold": 2}])
    assert m.shape == (2, 4)
    assert np.array_equal(m[1], [3, 1, 0, 2])
    with pytest.raises(KeyError):
        feature_matrix([{"tokens": 1}])
