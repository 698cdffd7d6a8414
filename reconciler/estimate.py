"""Billing estimates: default epochs, price lookup, cost of a training run, of an evaluation,
and of hosting a deployment for a month.

L1 pure logic: values in, values out; no I/O. The constants are those of OpenAI's cookbook
and its documented defaults: three epochs by default, clamped so that epochs x examples lands
between 100 and 25,000, and never outside [1, 25]. Validation tokens are not billed.
"""

from __future__ import annotations

import re

from reconciler.model_names import base_of
from reconciler.plan import DeployModel, Estimate, RemoveDeployment
from reconciler.spec import DatasetInfo, Price

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

# A dated snapshot of an alias: gpt-4o-mini-2024-07-18 (date) or gpt-3.5-turbo-0125 (MMDD).
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}(-\d{2}-\d{2})?$")


def default_epochs(n_examples: int) -> int:
    """The platform's `n_epochs: auto` rule. An empty dataset gets the maximum, not a crash."""
    if n_examples <= 0:
        return MAX_DEFAULT_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def resolve_epochs(n_epochs: object, n_examples: int) -> int:
    """An explicit positive integer wins; "auto", None or anything else means the default rule."""
    if isinstance(n_epochs, int) and not isinstance(n_epochs, bool) and n_epochs > 0:
        return n_epochs
    return default_epochs(n_examples)


def price_for(model: str, prices: tuple[Price, ...]) -> Price | None:
    """The price entry for a model: the longest entry that is the model itself or a prefix of it.

    A prefix counts only at a name boundary that leaves a dated snapshot suffix
    (`gpt-4o-mini` prices `gpt-4o-mini-2024-07-18`), or when the entry ends in "-" or "*"
    (an explicit family wildcard). So `gpt-4o` never prices `gpt-4o-mini-...` by accident.
    Fine-tuned models (`ft:...`) are priced as their base model.
    """
    name = base_of(model)
    best: Price | None = None
    for price in prices:
        if _matches(price.model, name) and (best is None or len(price.model) > len(best.model)):
            best = price
    return best


def _matches(entry: str, model: str) -> bool:
    if entry == model:
        return True
    if entry.endswith("*"):
        return model.startswith(entry[:-1])
    if entry.endswith("-"):
        return model.startswith(entry)
    if not model.startswith(entry):
        return False
    return _SNAPSHOT_SUFFIX.fullmatch(model[len(entry):]) is not None


def estimate(
    info: DatasetInfo, *, n_epochs: object, model: str, prices: tuple[Price, ...]
) -> Estimate:
    """Charged tokens (epochs x billable tokens of one epoch) and their cost, when known.

    training_tokens is None when the dataset's tokens are unknown (no tokenizer for the model);
    cost_usd is None when that is unknown or the price table has no entry for the model.
    """
    epochs = resolve_epochs(n_epochs, info.examples)
    tokens = info.tokens_for(model)
    if tokens is None:
        return Estimate(training_tokens=None, epochs=epochs, cost_usd=None)
    charged = epochs * tokens
    price = price_for(model, prices)
    cost = None if price is None else round(charged * price.training_per_1m / 1_000_000, 6)
    return Estimate(training_tokens=charged, epochs=epochs, cost_usd=cost)


HOURS_PER_MONTH = 730  # 365 x 24 / 12: the month cloud price sheets bill hourly rates by


def monthly_hosting(model: str, prices: tuple[Price, ...], *, deployments: int = 1) -> float | None:
    """USD per month of keeping `deployments` deployments of `model` (a base or fine-tuned id)
    running, at the price table's `hosting_per_hour`; None when the table has no such rate.
    Hosting is billed whether or not the deployment is used, so a month is every hour of it."""
    price = price_for(model, prices)
    if price is None or price.hosting_per_hour is None:
        return None
    return round(deployments * price.hosting_per_hour * HOURS_PER_MONTH, 2)


# Deployment types that bill no hourly hosting fee (Azure's Developer tier) and those billed
# in another unit than the price table's hourly rate (provisioned throughput units).
FREE_HOSTING_SKUS = frozenset({"developertier", "developer"})
UNPRICED_HOSTING_SKUS = frozenset({"provisionedmanaged"})


def hosting_rate(model: str, sku: str | None, prices: tuple[Price, ...]) -> float | None:
    """USD per month one deployment of `model` with `sku` costs; None when not priced.
    ARM's sku casing varies, so sku is compared case-insensitively."""
    kind = (sku or "").lower()
    if kind in FREE_HOSTING_SKUS:
        return 0.0
    if kind in UNPRICED_HOSTING_SKUS:
        return None
    return monthly_hosting(model, prices)


def hosting_estimate(
    payload: object, prices: tuple[Price, ...], *,
    replaced: tuple[str, str] | None = None, base_model: str | None = None,
) -> Estimate | None:
    """How a deployment step changes the monthly hosting bill, as an Estimate with only
    monthly_hosting_usd set (None inside when not priced); None for other steps.

    payload: a DeployModel (a new deployment, or a change of one) or a RemoveDeployment.
    replaced: (model, sku) of the deployment as it is now (the one a DeployModel changes or a
    RemoveDeployment removes), when it exists. base_model: what the deployed model is trained
    from, for a version that has no id until apply trains it. A move to a new version of the
    same base model on the same sku costs nothing more; a change of sku costs the difference.
    """
    after: float | None = 0.0
    if isinstance(payload, DeployModel):
        model = payload.model_id if isinstance(payload.model_id, str) else base_model
        after = hosting_rate(model or payload.current_model or "", payload.sku, prices)
    elif not isinstance(payload, RemoveDeployment):
        return None
    before: float | None = 0.0
    if replaced is not None:
        before = hosting_rate(replaced[0], replaced[1], prices)
    change = None if after is None or before is None else round(after - before, 2)
    return Estimate(training_tokens=None, epochs=None, cost_usd=None,
                    monthly_hosting_usd=change)


def eval_cost(prompt_tokens: int, answer_tokens: int, *, model: str,
              prices: tuple[Price, ...], versions: int = 2) -> float | None:
    """Inference cost in USD of asking `versions` models an eval set once (input and output
    tokens at the price table's input/output rates); None when the model has no such price."""
    price = price_for(model, prices)
    if price is None or price.input_per_1m is None or price.output_per_1m is None:
        return None
    one = prompt_tokens * price.input_per_1m + answer_tokens * price.output_per_1m
    return round(versions * one / 1_000_000, 6)
