"""Evaluate a candidate version (and the serving one) on an eval set: ask, grade, compare.

Each example is asked of a model once, by a bounded pool of worker threads; grading, the cache
and progress stay on the calling thread. Failed requests are retried by the client's one retry
layer, not here: an error that comes back through it ends the evaluation with a refusal, since
a verdict on part of the eval set would not be one. What was scored before the error is kept in
the cache, so a re-run pays only for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ApiError
from reconciler.evaluation.cache import ScoreCache
from reconciler.evaluation.evalset import EvalSet, Example
from reconciler.evaluation.graders import score
from reconciler.evaluation.verdict import Outcome, decide
from reconciler.spec import Evaluation

Ask = Callable[[str, list[dict[str, Any]]], str]
"""(model id, chat messages) -> the model's answer."""
Progress = Callable[[str, int, int], None]
"""(manifest name, examples scored, examples to score) after each one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalRequest:
    """Everything an evaluation needs besides the candidate: the manifest's evaluation, its
    eval set, the serving model (None when nothing serves) and how to run."""

    evaluation: Evaluation
    evalset: EvalSet
    serving: str | None
    cache: ScoreCache
    concurrency: int = 4
    progress: Progress | None = None


def evaluate(ask: Ask, name: str, candidate: str, request: EvalRequest) -> Outcome:
    """Score the candidate and the serving version, then apply the promotion rule."""
    graders = request.evaluation.graders
    models = [candidate] if request.serving in (None, candidate) else [candidate, request.serving]
    counter = _Counter(name, len(request.evalset) * len(models), request.progress)
    means: list[dict[str, float]] = []
    try:
        for model in models:
            means.append(_score_model(ask, model, request, counter))
    except ApiError as exc:
        return Outcome(name=name, candidate=candidate, serving=request.serving,
                       examples=len(request.evalset), metrics=(), error=str(exc))
    finally:
        request.cache.save()
    serving = means[1] if len(means) > 1 else None
    return decide(name, (candidate, models[1] if len(models) > 1 else None),
                  len(request.evalset), [g.name for g in graders], (means[0], serving),
                  request.evaluation.promote)


class _Counter:
    def __init__(self, name: str, total: int, progress: Progress | None) -> None:
        self.name, self.total, self.done, self.progress = name, total, 0, progress

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.name, self.done, self.total)


def _score_model(ask: Ask, model: str, request: EvalRequest, counter: _Counter
                 ) -> dict[str, float]:
    """Mean score per grader name of `model` on the eval set (cached scores reused)."""
    graders, cache = request.evaluation.graders, request.cache
    totals = {g.name: 0.0 for g in graders}
    todo: list[Example] = []
    for example in request.evalset.examples:
        cached = [cache.get(model, example.key, g) for g in graders]
        if any(s is None for s in cached):
            todo.append(example)
            continue
        for g, s in zip(graders, cached, strict=True):
            totals[g.name] += s or 0.0
        counter.tick()
    for example, answer in _answers(ask, model, todo, request.concurrency):
        for g in graders:
            value = score(g, answer, example.expected)
            cache.put(model, example.key, g, value)
            totals[g.name] += value
        counter.tick()
    count = max(1, len(request.evalset))
    return {name: total / count for name, total in totals.items()}


def _answers(ask: Ask, model: str, examples: Sequence[Example], concurrency: int
             ) -> Iterator[tuple[Example, str]]:
    """(example, answer) as answers arrive, at most `concurrency` requests at a time."""
    if not examples:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="ftctl-eval")
    pending: dict[Future[str], Example] = {}
    queue = iter(examples)
    try:
        for example in queue:
            pending[pool.submit(ask, model, example.messages())] = example
            if len(pending) >= concurrency:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                example = pending.pop(future)
                yield example, future.result()
                following = next(queue, None)
                if following is not None:
                    pending[pool.submit(ask, model, following.messages())] = following
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

