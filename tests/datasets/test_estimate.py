"""The default-epochs rule at its boundaries, price lookup, and the cost estimate."""

from __future__ import annotations

import pytest

from reconciler.estimate import default_epochs, estimate, price_for, resolve_epochs
from reconciler.spec import DatasetInfo, Price

# dataset-rules §1.5 boundary table
EPOCHS = [(1, 25), (4, 25), (5, 20), (9, 11), (10, 10), (12, 8), (20, 5), (33, 3), (34, 3),
          (8_333, 3), (8_334, 2), (12_500, 2), (12_501, 1), (50_000, 1)]

PRICES = (
    Price(model="gpt-4o-mini", training_per_1m=3.0),
    Price(model="gpt-4o", training_per_1m=25.0),
    Price(model="gpt-3.5-turbo", training_per_1m=8.0),
    Price(model="gpt-4.1-", training_per_1m=25.0),
)


@pytest.mark.parametrize(("n", "epochs"), EPOCHS)
def test_default_epochs_boundaries(n: int, epochs: int) -> None:
    assert default_epochs(n) == epochs


def test_empty_dataset_does_not_divide_by_zero() -> None:
    assert default_epochs(0) == 25


@pytest.mark.parametrize(("given", "expected"), [(4, 4), ("auto", 20), (None, 20), (True, 20),
                                                 (0, 20), (-1, 20), ("3", 20)])
def test_resolve_epochs(given: object, expected: int) -> None:
    assert resolve_epochs(given, 5) == expected


@pytest.mark.parametrize(("model", "entry"), [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("gpt-4o-mini", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
    ("ft:gpt-4o-mini-2024-07-18:acme:bot:abc123", "gpt-4o-mini"),
    ("gpt-4.1-nano-2025-04-14", "gpt-4.1-"),
])
def test_price_for_matches_alias_and_longest_prefix(model: str, entry: str) -> None:
    price = price_for(model, PRICES)
    assert price is not None and price.model == entry


def test_price_for_never_crosses_families() -> None:
    only_4o = (Price(model="gpt-4o", training_per_1m=25.0),)
    assert price_for("gpt-4o-mini-2024-07-18", only_4o) is None
    assert price_for("davinci-002", PRICES) is None


def test_estimate_toy_anchor() -> None:
    # dataset-rules §1.5: 5 examples, 8,242 billable tokens -> 20 epochs, ~164,840 charged.
    info = DatasetInfo(repo_path="toy.jsonl", sha256="", bytes=1, examples=5, tokens=8_242)
    est = estimate(info, n_epochs="auto", model="gpt-4o-mini-2024-07-18", prices=PRICES)
    assert (est.epochs, est.training_tokens) == (20, 164_840)
    assert est.cost_usd == pytest.approx(164_840 * 3.0 / 1e6)


def test_estimate_guide_example_and_unknowns() -> None:
    # The guide: 100,000 tokens x 3 epochs on gpt-4o-mini at $3/1M = $0.90.
    info = DatasetInfo(repo_path="d", sha256="", bytes=1, examples=1000, tokens=100_000)
    est = estimate(info, n_epochs=3, model="gpt-4o-mini-2024-07-18", prices=PRICES)
    assert est.cost_usd == pytest.approx(0.90)
    assert estimate(info, n_epochs=3, model="babbage-002", prices=PRICES).cost_usd is None
    unknown = DatasetInfo(repo_path="d", sha256="", bytes=1, examples=10, tokens=None)
    assert estimate(unknown, n_epochs="auto", model="gpt-4o", prices=PRICES).training_tokens is None


def test_monthly_hosting_is_every_hour_of_a_730_hour_month() -> None:
    from reconciler.estimate import HOURS_PER_MONTH, monthly_hosting

    prices = (*PRICES[1:], Price(model="gpt-4o-mini", training_per_1m=3.0,
                                 hosting_per_hour=1.70))
    assert HOURS_PER_MONTH == 730
    assert monthly_hosting("gpt-4o-mini-2024-07-18", prices) == 1241.0
    assert monthly_hosting("gpt-4o-mini-2024-07-18.ft-0e2f", prices, deployments=2) == 2482.0
    assert monthly_hosting("ft:gpt-4o-mini-2024-07-18:org:bot:abc", prices) == 1241.0
    assert monthly_hosting("gpt-4o-2024-08-06", prices) is None  # priced, but no hosting rate
    assert monthly_hosting("babbage-002", prices) is None  # not priced at all
