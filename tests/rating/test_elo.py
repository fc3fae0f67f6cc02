"""Online Elo: the K=4 diagnostic, known answers from evalica's golden file and from AC-01."""

from __future__ import annotations

import numpy as np
import pytest

from rating.elo import online_elo


def test_ac01_order_dependence_signature() -> None:
    seq1 = [0] * 10 + [1] * 10
    first = online_elo([0] * 20, [1] * 20, seq1, 2)
    assert np.round(first, 2).tolist() == [997.93, 1002.07]
    second = online_elo([0] * 20, [1] * 20, seq1[::-1], 2)
    assert np.round(second, 2).tolist() == [1002.07, 997.93]


def test_llmfao_matches_evalica_golden(llmfao_rows, llmfao_golden) -> None:
    names = sorted({m for a, b, _ in llmfao_rows for m in (a, b)})
    ix = {m: i for i, m in enumerate(names)}
    code = {"a": 0, "b": 1, "tie": 2}
    r = online_elo(
        [ix[a] for a, _, _ in llmfao_rows], [ix[b] for _, b, _ in llmfao_rows], [code[o] for *_, o in llmfao_rows], 59
    )
    golden = llmfao_golden["elo"]
    assert max(abs(r[ix[m]] - v) for m, v in golden.items()) < 1e-9


def test_bothbad_tie_or_dropped() -> None:
    as_tie = online_elo([0], [1], [3], 2)
    assert as_tie.tolist() == [1000.0, 1000.0]
    a_up = online_elo([0, 0], [1, 1], [0, 3], 2)
    dropped = online_elo([0, 0], [1, 1], [0, 3], 2, drop_bothbad=True)
    assert dropped[0] == pytest.approx(1002.0) and a_up[0] < dropped[0]
    with pytest.raises(ValueError):
        online_elo([0], [1], [7], 2)
