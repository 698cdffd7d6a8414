"""The metrics of one evaluation and the promotion rule that turns them into a verdict.

Pure, stdlib only: scores in, an Outcome out. A metric is the mean score of one grader over the
eval set, in [0, 1]. The candidate is promoted when every `min` is reached and no grader trails
the serving version by more than its `max_regression` (skipped when nothing serves yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.spec import Promotion

# Scores are means of [0, 1] values; a difference this small is rounding, not a regression.
EPSILON = 1e-9
DIGITS = 4  # metric values are shown and compared at this precision


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One grader's mean score for both versions; serving None when nothing serves yet."""

    grader: str
    candidate: float
    serving: float | None = None

    @property
    def delta(self) -> float | None:
        if self.serving is None:
            return None
        return round(self.candidate - self.serving, DIGITS)

    def to_json(self) -> dict[str, object]:
        return {"grader": self.grader, "serving": self.serving, "candidate": self.candidate,
                "delta": self.delta}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The verdict of one evaluation: the metrics of both versions and, when refused, why.

    name: the manifest name; candidate/serving: model ids (serving None when nothing serves);
    error: set when the evaluation could not be completed (a model could not be queried), in
    which case the candidate is refused.
    """

    name: str
    candidate: str
    serving: str | None
    examples: int
    metrics: tuple[Metric, ...]
    refusals: tuple[str, ...] = ()
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.refusals and not self.error

    @property
    def reason(self) -> str:
        """One sentence: why the candidate is refused (empty when it passed)."""
        if self.error:
            return f"the evaluation could not be completed: {self.error}"
        return "; ".join(self.refusals)

    def to_json(self) -> dict[str, object]:
        """The public JSON of `ftctl eval --format json`."""
        return {"model": self.name, "examples": self.examples,
                "metrics": [m.to_json() for m in self.metrics], "passed": self.passed}


def decide(
    name: str,
    models: tuple[str, str | None],
    examples: int,
    graders: Sequence[str],
    scores: tuple[Mapping[str, float], Mapping[str, float] | None],
    promotion: Promotion,
) -> Outcome:
    """The Outcome for (candidate, serving) model ids and their mean scores per grader."""
    candidate, serving = scores
    metrics = tuple(
        Metric(grader=g, candidate=round(candidate[g], DIGITS),
               serving=None if serving is None else round(serving[g], DIGITS))
        for g in graders
    )
    return Outcome(name=name, candidate=models[0], serving=models[1], examples=examples,
                   metrics=metrics, refusals=refusals(metrics, promotion))


def refusals(metrics: Sequence[Metric], promotion: Promotion) -> tuple[str, ...]:
    """Every reason the rule refuses these metrics, in grader order (empty: promoted)."""
    by_name = {m.grader: m for m in metrics}
    out: list[str] = []
    for grader, floor in promotion.minimum:
        metric = by_name.get(grader)
        if metric is not None and metric.candidate < floor - EPSILON:
            out.append(f"{grader} {metric.candidate:.{DIGITS}g} is below the minimum {floor:g}")
    for grader, allowed in promotion.max_regression:
        metric = by_name.get(grader)
        if metric is None or metric.serving is None or metric.delta is None:
            continue
        if -metric.delta > allowed + EPSILON:
            out.append(f"{grader} fell {-metric.delta:.{DIGITS}g} below the serving version "
                       f"({metric.serving:.{DIGITS}g} -> {metric.candidate:.{DIGITS}g}), more "
                       f"than max_regression {allowed:g}")
    return tuple(out)


def below_minimum(metrics: Sequence[Metric], promotion: Promotion) -> tuple[str, ...]:
    """The `min` floors a version's recorded metrics do not reach (for drift: a manifest that
    now asks for more than the serving version was measured at)."""
    return refusals(metrics, Promotion(minimum=promotion.minimum))
