"""Statistics on simulated data: 95 % bootstrap and sandwich intervals cover the truth 93-97 % of the time."""

from __future__ import annotations

import numpy as np

from rating import rate
from rating.simulate import simulate_counts

TRUE = np.array([820.0, 880.0, 930.0, 960.0, 1000.0, 1010.0, 1050.0, 1090.0, 1130.0, 1180.0])


def test_interval_coverage_over_250_simulated_data_sets() -> None:
    rng = np.random.default_rng(20240814)
    truth = TRUE - TRUE.mean() + 1000.0
    boot_hits, sand_hits, total = 0, 0, 0
    errors = []
    for k in range(250):
        pc = simulate_counts(TRUE, 2500, rng, tie_fraction=0.35, bothbad_share=0.4)
        r = rate(pc, bootstrap_rounds=1000, seed=k, min_votes=0)
        boot_hits += int(np.sum((r.ci_low <= truth) & (truth <= r.ci_high)))
        sand_hits += int(np.sum((r.sandwich_low <= truth) & (truth <= r.sandwich_high)))
        total += len(truth)
        errors.append(r.rating - truth)
    boot_cov, sand_cov = boot_hits / total, sand_hits / total
    assert 0.93 <= boot_cov <= 0.97, f"bootstrap coverage {boot_cov:.4f}"
    assert 0.93 <= sand_cov <= 0.97, f"sandwich coverage {sand_cov:.4f}"
    # the fit recovers the truth: no bias beyond Monte Carlo error
    bias = np.mean(errors, axis=0)
    sd = np.std(errors, axis=0)
    assert np.all(np.abs(bias) < 4 * sd / np.sqrt(len(errors)))
