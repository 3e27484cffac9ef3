"""How closely synthetic data calibrated to a real dataset reproduces it (issue 3).

For ml-100k and ml-latest-small: the real set against its synthetic twin of the same size
(``generate_like(shape_of(real), len(real))``); then ml-100k-calibrated sets of 1 M and 10 M
events with their generation time and peak traced memory. Writes a markdown table.

    PARETOREC_DATA_DIR=../shared/data python experiments/synthetic_fidelity.py \
        [--sizes 1000000 10000000] [--seed 0] [--out results/synthetic/fidelity.md]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np

from paretorec.config import SplitConfig
from paretorec.data import Dataset, load_dataset, make_split
from paretorec.data.popularity import gini_of_counts as gini
from paretorec.data.synthetic import generate_like, latent_shape, shape_of
from paretorec.metrics import parse_metric
from paretorec.study import Candidate, Pipeline

ROOT = Path(__file__).resolve().parents[1]
REAL = ("ml-100k", "ml-latest-small")
ACCURACY_MAX_EVENTS = 200_000  # model accuracy rows only where item-kNN fits in seconds


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    n = max(len(a), len(b))
    return 0.5 * float(np.abs(np.pad(a, (0, n - len(a))) - np.pad(b, (0, n - len(b)))).sum())


def _rating_dist(ds: Dataset, values: np.ndarray) -> np.ndarray:
    r = ds.interactions.rating
    return np.array([np.mean(r == v) for v in values]) if r is not None else np.zeros(0)


def _interaction_genre_share(ds: Dataset) -> np.ndarray:
    """Share of genre mass over events (each event spreads 1 over its item's genres)."""
    g = ds.item_features.matrix.tocsr().astype(bool).astype(np.float64)
    k = np.maximum(np.asarray(g.sum(axis=1)).ravel(), 1.0)
    per_item = (g.multiply(1.0 / k[:, None])).tocsr()
    mass = np.asarray(per_item.T @ ds.interactions.item_counts().astype(np.float64)).ravel()
    return mass / mass.sum()


def _accuracy(ds: Dataset) -> dict[str, float]:
    """NDCG@10 of most-popular and item-kNN on a seeded holdout (co-occurrence structure)."""
    split = make_split(ds.interactions, SplitConfig())
    pipeline = Pipeline(ds, split, k=10, max_pool=10)
    ndcg = parse_metric("ndcg@10")
    out = {}
    for name, values in (
        ("popularity", {"model": "popularity", "rerank.pool": 10}),
        ("itemknn", {"model": "itemknn", "itemknn.k": 40, "rerank.pool": 10}),
    ):
        out[name] = pipeline.evaluate("test", Candidate.from_values(values), [ndcg])["ndcg@10"]
    return out


def stats(ds: Dataset, real: Dataset) -> dict[str, float | str]:
    """The table's statistics of ``ds``; distances are to ``real`` (the calibration)."""
    inter = ds.interactions
    items, users = inter.item_counts(), inter.user_counts()
    shape = shape_of(ds)
    head = np.sort(items)[::-1][: max(1, len(items) // 10)].sum() / len(inter)
    p10, p50, p90 = np.quantile(users, [0.1, 0.5, 0.9])
    real_shape = shape_of(real)
    values = np.asarray(real_shape.rating_values or [])
    row: dict[str, float | str] = {
        "users": ds.n_users,
        "items": ds.n_items,
        "interactions": len(inter),
        "density": len(inter) / (ds.n_users * ds.n_items),
        "Gini of item popularity": gini(items),
        "top-10% items' share": head,
        "popularity exponent (fitted)": shape.popularity_exponent,
        "most popular item's users": int(items.max()),
        "items with 1 event": float(np.mean(items == 1)),
        "user activity p10": p10,
        "user activity median": p50,
        "user activity p90": p90,
        "user activity max": int(users.max()),
        "rating mean": float(inter.rating.mean()) if inter.rating is not None else float("nan"),
        "rating TV distance": _tv(_rating_dist(ds, values), _rating_dist(real, values)),
        "item genre-share TV distance": _tv(
            np.asarray(shape.genre_share), np.asarray(real_shape.genre_share)
        ),
        "genres-per-item TV distance": _tv(
            np.asarray(shape.genres_per_item), np.asarray(real_shape.genres_per_item)
        ),
        "event genre-share TV distance": _tv(
            _interaction_genre_share(ds), _interaction_genre_share(real)
        ),
        "taste concentration (measured)": shape.taste_concentration,
        "rating variance: user share": shape.rating_user_share,
        "rating variance: item share": shape.rating_item_share,
        "corr(item mean rating, log popularity)": shape.rating_popularity_corr,
    }
    if len(inter) <= ACCURACY_MAX_EVENTS:
        acc = _accuracy(ds)
        row["NDCG@10 most-popular (holdout)"] = acc["popularity"]
        row["NDCG@10 item-kNN k=40 (holdout)"] = acc["itemknn"]
    return row


def generate_timed(real: Dataset, n: int, seed: int) -> tuple[Dataset, dict[str, float]]:
    """The calibrated set, with calibration time, generation time and peak traced memory."""
    shape = shape_of(real)
    start = time.perf_counter()
    latent_shape(shape)  # the one-off (cached) simulation calibration at the real size
    calibration = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    ds = generate_like(shape, n, seed)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return ds, {"calibration s": calibration, "generation s": seconds, "peak GiB": peak / 2**30}


def _fmt(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if np.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) < 0.01 and value != 0:
        return f"{value:.4f}"
    return f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "results" / "synthetic" / "fidelity.md"))
    args = parser.parse_args()

    columns: dict[str, dict[str, float | str]] = {}
    reals = {name: load_dataset(name, args.data_dir) for name in REAL}
    for name, real in reals.items():
        print(f"{name}: real and synthetic twin", flush=True)
        columns[f"{name} real"] = stats(real, real)
        twin, cost = generate_timed(real, len(real.interactions), args.seed)
        columns[f"{name} synthetic"] = {**stats(twin, real), **cost}
    for n in args.sizes:
        print(f"ml-100k-calibrated, {n:,} events", flush=True)
        ds, cost = generate_timed(reals["ml-100k"], n, args.seed)
        columns[f"ml-100k x {n / 1e6:g}M synthetic"] = {**stats(ds, reals["ml-100k"]), **cost}

    rows = list(dict.fromkeys(key for col in columns.values() for key in col))
    lines = [
        "# Synthetic data fidelity",
        "",
        "Real MovieLens sets against `generate_like(shape_of(real), n, seed="
        f"{args.seed})`: same size first, then ml-100k-calibrated sets of "
        + ", ".join(f"{n:,}" for n in args.sizes)
        + " events. TV = total-variation distance to the real set the data is calibrated to "
        "(0 = identical distributions). `calibration s` is the one-off simulation calibration at "
        "the real size (`latent_shape`, cached per shape); `peak GiB` is the traced numpy peak "
        "of one generation. Regenerate with "
        "`PARETOREC_DATA_DIR=../shared/data python experiments/synthetic_fidelity.py`.",
        "",
        "| statistic | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for key in rows:
        cells = [_fmt(col[key]) if key in col else "" for col in columns.values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", NOTES.strip(), ""]
    text = "\n".join(lines)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {out}")


NOTES = """
## Where the synthetic data differs

The numbers below are from the default run (seed 0; everything but the timings is
deterministic).

**Matched closely (calibrated).** At the real size, item popularity (Gini, top-10 % share,
fitted exponent: all within 0.005), the rating marginal (exact by construction: ratings are a
latent score mapped through the real rating CDF by rank), the genre share of items (TV < 0.005)
and of events (TV 0.02-0.025), genres per item (TV 0.015), the spread of user genre tastes
(measured concentration 13.5 vs 13.4 and 7.5 vs 7.1) and the rating structure (user / item
variance shares and the quality-popularity correlation within 0.01-0.04).

**Differences, largest first.**

1. *No co-occurrence structure beyond genre taste.* Item-kNN gains little over most-popular on
   the synthetic twins: NDCG@10 0.259 vs 0.237 (x1.09) on the ML-100k twin, where the real data
   gives 0.377 vs 0.222 (x1.70); ml-latest-small x1.13 vs x1.81. The generator's only
   user-item signal is popularity plus a taste over 19-20 genres; real users also follow
   sequels, eras, directors and quality. Use these sets for cost and scaling and for the shape
   of beyond-accuracy metrics, not for accuracy levels or the shape of an accuracy trade-off
   front. (An extension: latent sub-genre topics, calibrated to the item-kNN lift.)
2. *User activity.* The truncated log-normal, rescaled to the real mean activity, is a little
   light in the upper body: median 61 vs 65 and p90 236 vs 244 (ML-100k), p90 361 vs 400
   (ml-latest-small, -10 %); p10 25 vs 23-24 (MovieLens piles users up right at its 20-rating
   cut-off, the fit does not).
3. *The very top item.* The popularity calibration boosts the head to undo de-duplication and
   taste saturation; the single most popular item overshoots (666 users vs 583 on ML-100k)
   while the Gini and head share match.
4. *Larger sizes.* The calibration is done at the real size and held: at 1 M and 10 M the
   Gini is 0.629 and 0.639 (real 0.629; slightly over-corrected, bigger catalogues saturate
   less). The activity cap grows with the catalogue (43.8 % of items: a 4 214-event user at
   10 M), so the tail is heavier and the body lower (median 59). The same latent tastes
   *measure* more focused (concentration 9.7 and 8.9 vs 13.4) because heavy users no longer
   exhaust their genres. Items with a single event all but vanish (0.1 %, 0 %): popularity is
   defined on relative rank and the catalogue grows as n^0.4, so every item's count grows;
   real larger releases (ml-10m, ml-20m) keep a long tail of rarely rated films.
5. *Time.* Per-user active spans are log-normal and placed uniformly in the real time range;
   there is no growth of the user base over time, no item release dates and no popularity
   drift, so a temporal split of synthetic data has no concept drift.
6. *Ratings.* Genre taste contributes a fixed 5 % of the latent rating variance (it cannot be
   measured separately); ratings have no temporal or order effects.
"""


if __name__ == "__main__":
    main()
