"""Rating engine: Bradley-Terry ratings, uncertainty and ranks from integer-indexed pair counts.

Pure numerics (numpy/scipy): no model names, no database, no I/O.  Start with `rate`, which turns
`PairCounts` into a `RatingReport`; `rating.style.fit_style` adds style control and
`rating.elo.online_elo` the order-dependent Elo diagnostic.
"""

from rating.data import PairCounts
from rating.report import RatingReport, rate

__all__ = ["PairCounts", "RatingReport", "rate"]
