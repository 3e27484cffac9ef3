"""The in-memory form of a dataset: integer-coded interactions plus the id vocabularies."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from paretorec.data.cleaning import CleaningReport


@dataclass(frozen=True, eq=False)
class Interactions:
    """User-item events as parallel arrays over dense codes ``0..n_users-1`` / ``0..n_items-1``.

    Subsets (splits) keep the parent's ``n_users`` and ``n_items`` so codes stay comparable.

    Attributes:
        user: ``(n,)`` int32 user codes.
        item: ``(n,)`` int32 item codes.
        rating: ``(n,)`` float32 explicit ratings, or None for implicit data.
        timestamp: ``(n,)`` int64 seconds, or None.
        n_users: Size of the user code space.
        n_items: Size of the item code space.
        source: The file the events were read from ("" if none), for messages about them.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray | None
    timestamp: np.ndarray | None
    n_users: int
    n_items: int
    source: str = ""

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def take(self, index: np.ndarray) -> Interactions:
        """The events selected by a boolean mask or an index array, same code space."""
        return Interactions(
            user=self.user[index],
            item=self.item[index],
            rating=None if self.rating is None else self.rating[index],
            timestamp=None if self.timestamp is None else self.timestamp[index],
            n_users=self.n_users,
            n_items=self.n_items,
            source=self.source,
        )

    def concat(self, other: Interactions) -> Interactions:
        """Events of ``self`` followed by those of ``other`` (same code space)."""
        if (self.n_users, self.n_items) != (other.n_users, other.n_items):
            raise ValueError("cannot concatenate interactions over different code spaces")

        def cat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
            return None if a is None or b is None else np.concatenate([a, b])

        return Interactions(
            user=np.concatenate([self.user, other.user]),
            item=np.concatenate([self.item, other.item]),
            rating=cat(self.rating, other.rating),
            timestamp=cat(self.timestamp, other.timestamp),
            n_users=self.n_users,
            n_items=self.n_items,
            source=self.source,
        )

    def matrix(self, values: str = "binary") -> sp.csr_matrix:
        """The ``(n_users, n_items)`` CSR matrix of ones (``binary``) or of ratings (``rating``)."""
        if values == "binary" or self.rating is None:
            data = np.ones(len(self), dtype=np.float64)
        else:
            data = self.rating.astype(np.float64)
        m = sp.csr_matrix((data, (self.user, self.item)), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        m.sort_indices()
        return m

    def user_counts(self) -> np.ndarray:
        """``(n_users,)`` number of events per user."""
        return np.bincount(self.user, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """``(n_items,)`` number of events per item."""
        return np.bincount(self.item, minlength=self.n_items)


@dataclass(frozen=True, eq=False)
class ItemFeatures:
    """Item side information as a ``(n_items, n_features)`` CSR matrix with feature names."""

    matrix: sp.csr_matrix
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: interactions, the original ids behind the codes, and item features.

    Attributes:
        name: Registry name, e.g. ``ml-100k``.
        interactions: All events.
        user_ids: ``(n_users,)`` original user ids; ``user_ids[code]`` is the id.
        item_ids: ``(n_items,)`` original item ids.
        item_features: Genres (or other features) per item code, or None.
        rating_scale: ``(lowest, highest)`` possible rating, or None for implicit data.
        checksum: ``sha256:...`` over the source files (or the generator's parameters).
        items: Per-item table (index = item code), e.g. titles; may be empty.
        users: Per-user table (index = user code); may be empty.
        item_tags: Tags or words per item (content features), or None.
        cleaning: What cleaning dropped, rule by rule (None for generated data).
    """

    name: str
    interactions: Interactions
    user_ids: np.ndarray
    item_ids: np.ndarray
    item_features: ItemFeatures | None
    rating_scale: tuple[float, float] | None
    checksum: str
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    users: pd.DataFrame = field(default_factory=pd.DataFrame)
    item_tags: ItemFeatures | None = None
    cleaning: CleaningReport | None = None

    @property
    def n_users(self) -> int:
        return self.interactions.n_users

    @property
    def n_items(self) -> int:
        return self.interactions.n_items

    def to_frame(self, interactions: Interactions | None = None) -> pd.DataFrame:
        """Events as a DataFrame with the dataset's own ids (``user,item[,rating][,timestamp]``)."""
        inter = self.interactions if interactions is None else interactions
        cols: dict[str, np.ndarray] = {
            "user": self.user_ids[inter.user],
            "item": self.item_ids[inter.item],
        }
        if inter.rating is not None:
            cols["rating"] = inter.rating
        if inter.timestamp is not None:
            cols["timestamp"] = inter.timestamp
        return pd.DataFrame(cols)


def encode(
    users: np.ndarray,
    items: np.ndarray,
    rating: np.ndarray | None,
    timestamp: np.ndarray | None,
    source: str = "",
) -> tuple[Interactions, np.ndarray, np.ndarray]:
    """Map raw ids to dense codes (sorted id order) and build Interactions.

    Ids are used as given (``cleaning.normalise_ids`` made them exact): the vocabularies hold
    the very values, so every id shown or written later is the original one.

    Args:
        users: ``(n,)`` raw user ids.
        items: ``(n,)`` raw item ids.
        rating: ``(n,)`` ratings or None.
        timestamp: ``(n,)`` timestamps or None.
        source: The file the events came from.

    Returns:
        The interactions, the user id vocabulary and the item id vocabulary.
    """
    user_ids, user_codes = np.unique(users, return_inverse=True)
    item_ids, item_codes = np.unique(items, return_inverse=True)
    inter = Interactions(
        user=user_codes.astype(np.int32),
        item=item_codes.astype(np.int32),
        rating=None if rating is None else np.asarray(rating, dtype=np.float32),
        timestamp=None if timestamp is None else np.asarray(timestamp, dtype=np.int64),
        n_users=len(user_ids),
        n_items=len(item_ids),
        source=source,
    )
    return inter, user_ids, item_ids
