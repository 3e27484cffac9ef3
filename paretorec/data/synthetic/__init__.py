"""Synthetic interactions shaped like a real dataset, at any size, without a bigger download.

Two entry points share one sampler:

- ``generate_like(shape_of(real), n_interactions, seed)``: calibrated to a real dataset and sized
  by a target interaction count (100 k to 10 M and beyond on a laptop);
- ``generate(n_users, n_items, ...)``: the small uncalibrated MovieLens-like set the unit tests
  use, with a fixed default shape.

**Shape** (what ``shape_of`` measures; see ``Shape`` for the fields):

- Item popularity is a *piecewise power law* on the rank-frequency curve: the log of the mean
  count in bins of log relative rank ``q = (rank - 1/2) / n_items``, interpolated linearly in
  log-log. A single Zipf exponent cannot describe MovieLens (its head is flat and its tail drops
  off): a least-squares Zipf fit to ML-100k's curve implies Gini 0.94 and a top-10 % share of 93 %
  where the data has 0.63 and 43 %. The single exponent is still reported
  (``popularity_exponent``, an interaction-weighted least-squares slope) as a summary.
- User activity: a log-normal truncated below at the observed minimum (maximum likelihood),
  capped at the largest observed share of the catalogue one user has rated.
- Genres: each genre's share of the item-genre assignments and of the events (genres differ
  in popularity per item), the distribution of the number of genres per item, and a Dirichlet
  concentration of user tastes fitted by moments to how much users' genre profiles vary beyond
  what their finite histories explain.
- Ratings: the values and their probabilities, the shares of rating variance due to the user and
  to the item (corrected for the noise of finite means), and the correlation of an item's mean
  rating with its log popularity. None for implicit data.
- Timestamps: the overall span and a log-normal of per-user active spans.

**Sizes** (``scaled_size``): users grow in proportion to the target at the real mean activity
(each user keeps the real activity distribution), items sub-linearly,
``n_items = n_items_real * (n / n_real) ** 0.4``. The exponent is the one MovieLens' own releases
follow: 100 k -> 1 M -> 10 M -> 20 M ratings come with 1 682 -> 3 706 -> 10 677 -> 26 744 rated
movies, a log-log slope of 0.34 to 0.52 (0.40 from 100 k to 10 M). Popularity is defined on the
relative rank, so the Lorenz curve (Gini, head share) is kept as the catalogue grows; real larger
releases have longer tails than that.

**Sampler** (no dense users x items matrix, so 10 M events fit in a few GiB):

1. Every item gets one event from a user drawn in proportion to activity, so the catalogue is the
   rated catalogue as in MovieLens; the rest of each item's expected count is drawn below.
2. Each user draws a genre from a Dirichlet taste whose mean is the population's genre mix, then
   an item of that genre from the genre's popularity CDF (``np.searchsorted``). An item's weight
   is split evenly over its genres, so the population mixture reproduces item popularity exactly.
3. Draws are oversampled; duplicate user-item pairs are removed with one sort and each user is
   trimmed to their count; the few users left short draw again (adaptively oversampled, with a
   uniform fallback that guarantees termination).
4. Ratings map a latent score (user bias + item quality + taste + noise) through the real rating
   CDF by rank, so the rating marginal matches the real one exactly; timestamps increase within
   each user.

Everything is drawn from one ``np.random.Generator`` seeded by an int (an int, not a Generator,
because the dataset checksum must identify the data).
"""

from paretorec.data.synthetic.generate import (
    GENERATOR,
    generate,
    generate_like,
    latent_shape,
    load_synthetic,
)
from paretorec.data.synthetic.sampler import ITEM_EXPONENT, scaled_size
from paretorec.data.synthetic.shape import Shape, shape_of

__all__ = [
    "GENERATOR",
    "ITEM_EXPONENT",
    "Shape",
    "generate",
    "generate_like",
    "latent_shape",
    "load_synthetic",
    "scaled_size",
    "shape_of",
]
