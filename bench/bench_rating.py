"""Rating-engine benchmark on the Chatbot Arena counts, against arena-rank and evalica (run by hand).

    .venv/bin/pip install arena-rank evalica          # baselines only, not project dependencies
    .venv/bin/python bench/bench_rating.py --out /tmp/bench_rating.json

Each part runs in its own subprocess (clean peak-memory numbers, no shared thread pools):

* ``ours``: `rating.rate` with 1000 bootstrap rounds + sandwich + ranks on 129 models / 1.67M battles,
  2 worker threads, compute only (data loaded first), median of --repeats runs, peak RSS.
* ``arena-rank``: LMArena's BradleyTerry with its multiprocessing bootstrap (forkserver start method:
  the default fork deadlocks under JAX) for --arena-rank-rounds rounds, extrapolated per round; its
  rounds refitted on our resampled counts to show per-round agreement.
* ``evalica``: evalica.bradley_terry fitting each resampled count table in a loop.
* ``style``: style control + sandwich on --style-battles simulated battles (real Chatbot Arena ratings
  and pair frequencies, 4 style features) against arena-rank's ContextualBradleyTerry.

Results (JSON) go to --out; a summary is logged.  Numbers are on the rating scale (Elo points).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "fixtures" / "chatbot_arena_20240814_counts" / "chatbotarena_20240814.json"
K = 400.0 / np.log(10.0)
log = logging.getLogger("bench_rating")


def _load() -> tuple[list[str], Any]:
    from rating.data import PairCounts

    data = json.loads(DATA.read_text())
    return data["models"], PairCounts(len(data["models"]), np.array(data["X"]), np.array(data["Y"], dtype=float))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def part_ours(args: argparse.Namespace) -> dict[str, Any]:
    """Point fit + 1000-round bootstrap + sandwich + ranks, median of repeats."""
    from rating import rate

    _, pc = _load()
    rate(pc, bootstrap_rounds=100, seed=99, threads=args.threads)  # warm caches and thread pools
    times, cpu = [], []
    for i in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        report = rate(pc, bootstrap_rounds=1000, seed=i, threads=args.threads)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    from rating.bootstrap import bootstrap, build_sampler
    from rating.bt import fit_point, make_problem

    prob = make_problem(pc, "half")
    fit = fit_point(prob)
    boot_times = []
    for i in range(args.repeats):  # the resampling + batched solve alone (tables included)
        t0 = time.perf_counter()
        bootstrap(prob, fit, 1000, seed=i, threads=args.threads, sampler=build_sampler(prob))
        boot_times.append(time.perf_counter() - t0)
    return {
        "bootstrap_only_median_s": statistics.median(boot_times),
        "times_s": times,
        "median_s": statistics.median(times),
        "cpu_s": cpu,
        "peak_rss_mb": _peak_mb(),
        "rating": report.rating.tolist(),
        "ci_low": report.ci_low.tolist(),
        "ci_high": report.ci_high.tolist(),
        "sandwich_low": report.sandwich_low.tolist(),
        "sandwich_high": report.sandwich_high.tolist(),
        "bootstrap_used": report.bootstrap_used,
        "grad_norm": report.grad_norm,
        "bootstrap_max_grad_norm": report.bootstrap_max_grad_norm,
    }


def _our_rounds(pc: Any, rounds: int, seed: int) -> tuple[Any, Any, np.ndarray]:
    """Our bootstrap rounds (ratings, centred on 1000) and the counts they were fitted on."""
    from rating.bootstrap import bootstrap, resampled_cells
    from rating.bt import fit_point, make_problem

    prob = make_problem(pc, "half")
    boot = bootstrap(prob, fit_point(prob), rounds, seed)
    return prob, resampled_cells(prob, rounds, seed), 1000.0 + K * boot.theta


def _row_counts(full: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Counts of `cells` in the row order of the data set built from `full` (first wins, second wins, ties)."""
    return np.concatenate([cells[full[:, col] > 0, col] for col in range(3)])


def _arena_rank_dataset(pairs: np.ndarray, cells: np.ndarray, models: list[str]) -> Any:
    import jax.numpy as jnp
    from arena_rank.utils.data_utils import PairDataset

    keep = [cells[:, col] > 0 for col in range(3)]
    c = jnp.asarray(_row_counts(cells, cells))
    return PairDataset(
        competitors=models,
        pairs=jnp.asarray(np.concatenate([pairs[k] for k in keep]), dtype=jnp.int32),
        outcomes=jnp.asarray(
            np.concatenate([np.full(int(k.sum()), v) for k, v in zip(keep, (1.0, 0.0, 0.5), strict=True)])
        ),
        counts=c,
        weights=jnp.ones_like(c),
        opt_weights=c,
    )


def part_arena_rank(args: argparse.Namespace) -> dict[str, Any]:
    """arena-rank's bootstrap (multiprocessing, forkserver), sandwich, and per-round agreement."""
    import multiprocessing as mp

    mp.set_start_method("forkserver", force=True)
    from arena_rank.models import bradley_terry as art

    models, pc = _load()
    prob, cells, ours = _our_rounds(pc, args.agree_rounds, seed=7)
    ds = _arena_rank_dataset(prob.pairs, prob.cells, models)
    t0 = time.perf_counter()
    art.BradleyTerry(len(models)).fit(ds)
    fit_s = time.perf_counter() - t0
    # Its defaults stop L-BFGS on a relative loss change of 1e-9; converge it fully for agreement.
    fitted = art.BradleyTerry(len(models), ftol=1e-15, gtol=1e-12, max_iter=100_000).fit(ds)
    point = np.asarray(fitted.params["ratings"]) * K + 1000.0
    t0 = time.perf_counter()
    sandwich = fitted.compute_ratings_and_cis(ds, ci_method="sandwich")
    sandwich_s = time.perf_counter() - t0
    boot_model = art.BradleyTerry(len(models)).fit(ds)
    t0 = time.perf_counter()
    boot = boot_model.compute_ratings_and_cis(ds, ci_method="bootstrap", num_bootstrap=args.arena_rank_rounds, n_jobs=2)
    boot_s = time.perf_counter() - t0
    round_diff = []
    for j in range(args.agree_rounds):
        counts_j = np.asarray(_row_counts(prob.cells, cells[..., j]))
        one = art.fit_single_bootstrap_sample(counts_j, fitted, ds)
        theirs = np.asarray(one["ratings"]) * K + 1000.0
        round_diff.append(float(np.max(np.abs((theirs - theirs.mean() + 1000.0) - ours[:, j]))))
    return {
        "fit_s": fit_s,
        "sandwich_s": sandwich_s,
        "bootstrap_rounds": args.arena_rank_rounds,
        "bootstrap_s": boot_s,
        "per_round_s": boot_s / args.arena_rank_rounds,
        "rating": point.tolist(),
        "ci_low": np.asarray(boot["rating_lower"]).tolist(),
        "ci_high": np.asarray(boot["rating_upper"]).tolist(),
        "sandwich_low": np.asarray(sandwich["rating_lower"]).tolist(),
        "sandwich_high": np.asarray(sandwich["rating_upper"]).tolist(),
        "same_counts_max_diff": max(round_diff),
        "peak_rss_mb": _peak_mb(),
    }


def part_evalica(args: argparse.Namespace) -> dict[str, Any]:
    """evalica.bradley_terry on each resampled count table, in a loop."""
    import evalica
    import pandas as pd

    _, pc = _load()
    prob, cells, ours = _our_rounds(pc, args.evalica_rounds, seed=11)
    xs = np.concatenate([prob.pairs[:, 0]] * 3)
    ys = np.concatenate([prob.pairs[:, 1]] * 3)
    winners = [evalica.Winner.X] * len(prob.pairs) + [evalica.Winner.Y] * len(prob.pairs)
    winners += [evalica.Winner.Draw] * len(prob.pairs)
    index = pd.Index(range(pc.n_models))
    out: dict[str, Any] = {"rounds": args.evalica_rounds}
    for label, tol, limit in (("default", 1e-6, 100), ("tight", 1e-10, 100_000)):
        diffs, t0 = [], time.perf_counter()
        for j in range(args.evalica_rounds):
            weights = cells[..., j].T.reshape(-1)  # cell-major: all first wins, all second wins, all ties
            res = evalica.bradley_terry(xs, ys, winners, index=index, weights=weights, tolerance=tol, limit=limit)
            scores = res.scores.reindex(index).to_numpy()
            r = K * (np.log(scores) - np.log(scores).mean()) + 1000.0
            diffs.append(float(np.max(np.abs(r - ours[:, j]))))
        out[label] = {"per_round_s": (time.perf_counter() - t0) / args.evalica_rounds, "max_diff": max(diffs)}
    # What a bootstrap loop around evalica also pays each round: resampling the counts (NumPy's multinomial).
    rng, probs = np.random.default_rng(0), prob.cells.T.reshape(-1) / prob.cells.sum()
    n, t0 = round(float(prob.cells.sum())), time.perf_counter()
    for _ in range(args.evalica_rounds):
        rng.multinomial(n, probs)
    out["resample_per_round_s"] = (time.perf_counter() - t0) / args.evalica_rounds
    return out


def _style_data(n_battles: int) -> tuple[Any, ...]:
    """Simulated battles: real ratings and pair frequencies of the Chatbot Arena counts, 4 style features."""
    from rating.bt import fit_point, make_problem
    from rating.simulate import simulate_style_battles

    models, pc = _load()
    prob = make_problem(pc, "half")
    ratings = 1000.0 + K * fit_point(prob).theta
    weights = np.zeros((pc.n_models, pc.n_models))
    weights[prob.pairs[:, 0], prob.pairs[:, 1]] = prob.cells.sum(axis=1)
    rng = np.random.default_rng(2024)
    beta = np.array([0.25, 0.05, 0.08, 0.03])
    a, b, o, z = simulate_style_battles(ratings, beta, n_battles, rng, tie_fraction=0.35, pair_weights=weights)
    return models, a, b, o, z


def part_style(args: argparse.Namespace) -> dict[str, Any]:
    """Style control + sandwich, ours vs arena-rank's ContextualBradleyTerry."""
    from rating.style import fit_style

    models, a, b, o, z = _style_data(args.style_battles)
    n = len(models)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        # arena-rank's reg=1.0 on the mean loss is ridge = N on our summed loss: use it for agreement.
        ours = fit_style(a, b, o, n, z, ridge=float(len(a)))
        times.append(time.perf_counter() - t0)
    own_ridge = fit_style(a, b, o, n, z)
    result: dict[str, Any] = {
        "battles": len(a),
        "ours_s": statistics.median(times),
        "ours_times_s": times,
        "ours_coef_default_ridge": own_ridge.coef.tolist(),
        "ours_coef_arena_rank_ridge": ours.coef.tolist(),
    }
    if args.skip_baselines:
        return result
    import jax.numpy as jnp
    from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
    from arena_rank.utils.data_utils import ContextualPairDataset

    zs = (z - z.mean(axis=0)) / z.std(axis=0)
    y = np.array([1.0, 0.0, 0.5, 0.5])[o]
    ds = ContextualPairDataset(
        competitors=models,
        pairs=jnp.asarray(np.stack([a, b], axis=1), dtype=jnp.int32),
        outcomes=jnp.asarray(y),
        features=jnp.asarray(zs),
        weights=jnp.ones(len(y)),
    )
    runs = []
    for _ in range(2):
        model = ContextualBradleyTerry(n, z.shape[1])
        t0 = time.perf_counter()
        model.compute_ratings_and_cis(ds, ci_method="sandwich")
        runs.append(time.perf_counter() - t0)
    # Defaults stop L-BFGS early (relative loss change 1e-9); converge it fully for agreement.
    tight = ContextualBradleyTerry(n, z.shape[1], ftol=1e-15, gtol=1e-12, max_iter=100_000)
    res = tight.compute_ratings_and_cis(ds, ci_method="sandwich")
    theirs = np.asarray(res["ratings"])
    theirs = theirs - theirs.mean() + 1000.0
    width = np.asarray(res["rating_upper"]) - np.asarray(res["rating_lower"])
    ours_width = ours.ci_high - ours.ci_low
    result.update(
        {
            "arena_rank_s": runs,
            "rating_max_diff": float(np.max(np.abs(theirs - ours.rating))),
            "ci_width_max_diff": float(np.max(np.abs(width - ours_width))),
            "ci_width_median_ratio": float(np.median(width / ours_width)),
            "coef_max_diff": float(np.max(np.abs(np.asarray(res["coeffs"]) - ours.coef))),
        }
    )
    return result


PARTS = {"ours": part_ours, "arena-rank": part_arena_rank, "evalica": part_evalica, "style": part_style}


def _machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    import scipy

    return {
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
    }


def _run_part(name: str, argv: list[str]) -> dict[str, Any]:
    load_before = os.getloadavg()
    proc = subprocess.run(
        [sys.executable, __file__, "--part", name, *argv], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load_before"], out["load_after"] = load_before, os.getloadavg()
    return out


def _max_diff(a: Any, b: Any) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def _summary(res: dict[str, Any]) -> list[str]:
    ours, ar, ev, st = (res.get(k, {}) for k in ("ours", "arena-rank", "evalica", "style"))
    lines = []
    if "median_s" in ours:
        per_round = ours["median_s"] / 1000.0
        lines.append(
            f"ours: {ours['median_s']:.3f} s median (fit + 1000 rounds + sandwich + ranks), bootstrap alone "
            f"{ours['bootstrap_only_median_s']:.3f} s; peak RSS {ours['peak_rss_mb']:.0f} MB"
        )
        if "per_round_s" in ar:
            sand = max(
                _max_diff(ar["sandwich_low"], ours["sandwich_low"]),
                _max_diff(ar["sandwich_high"], ours["sandwich_high"]),
            )
            boot = max(_max_diff(ar["ci_low"], ours["ci_low"]), _max_diff(ar["ci_high"], ours["ci_high"]))
            lines.append(
                f"arena-rank: {ar['per_round_s']:.3f} s/round ({ar['per_round_s'] / per_round:.0f}x ours); "
                f"max diff rating {_max_diff(ar['rating'], ours['rating']):.2e}, sandwich CI {sand:.3f}, "
                f"bootstrap CI {boot:.2f} ({ar['bootstrap_rounds']} vs 1000 rounds), "
                f"same-counts rounds {ar['same_counts_max_diff']:.2e}"
            )
        for label in ("default", "tight"):
            if label in ev:
                e = ev[label]
                ratio = e["per_round_s"] / per_round
                line = f"evalica ({label}): fit {e['per_round_s']:.4f} s/round ({ratio:.1f}x ours)"
                if "resample_per_round_s" in ev:
                    loop = e["per_round_s"] + ev["resample_per_round_s"]
                    line += f", with NumPy resampling {loop:.4f} s/round ({loop / per_round:.1f}x ours)"
                lines.append(line + f"; diff {e['max_diff']:.2e}")
    if "ours_s" in st:
        line = f"style control + sandwich, {st['battles']} battles: ours {st['ours_s']:.3f} s"
        if "arena_rank_s" in st:
            cold, warm = st["arena_rank_s"]
            line += (
                f"; arena-rank {cold:.2f} s cold / {warm:.2f} s warm ({warm / st['ours_s']:.0f}x); "
                f"max diff rating {st['rating_max_diff']:.2e}, CI width {st['ci_width_max_diff']:.2f} "
                f"(median ratio {st['ci_width_median_ratio']:.3f}), "
                f"beta {st['coef_max_diff']:.2e}"
            )
        lines.append(line)
    return lines


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=sorted(PARTS), help="run one part in this process and print its JSON")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--arena-rank-rounds", type=int, default=20)
    p.add_argument("--evalica-rounds", type=int, default=20)
    p.add_argument("--agree-rounds", type=int, default=5)
    p.add_argument("--style-battles", type=int, default=1_000_000)
    p.add_argument("--skip-baselines", action="store_true", help="only our own numbers")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    if args.part:
        sys.stdout.write(json.dumps(PARTS[args.part](args)) + "\n")
        return 0
    argv = [
        f"--repeats={args.repeats}",
        f"--threads={args.threads}",
        f"--arena-rank-rounds={args.arena_rank_rounds}",
        f"--evalica-rounds={args.evalica_rounds}",
        f"--agree-rounds={args.agree_rounds}",
        f"--style-battles={args.style_battles}",
        *(["--skip-baselines"] if args.skip_baselines else []),
    ]
    names = ["ours", "style"] if args.skip_baselines else list(PARTS)
    results: dict[str, Any] = {"machine": _machine()}
    for name in names:
        log.info("running %s ...", name)
        results[name] = _run_part(name, argv)
    for line in _summary(results):
        log.info("%s", line)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
