"""What the evaluation saves to disk (literal golden), the cost estimate, and the progress
shown in CI logs and on a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from reconciler.console import PlainReporter, TerminalReporter
from reconciler.estimate import eval_cost
from reconciler.evaluation.cache import ScoreCache
from reconciler.spec import Grader, GraderType, Price

EXACT = Grader(name="exact", type=GraderType.EXACT_MATCH)
CLOSE = Grader(name="n", type=GraderType.NUMERIC, tolerance=0.5)
EXAMPLE = "e" * 64


def test_the_score_file_is_exactly_this(tmp_path: Path) -> None:
    cache = ScoreCache(str(tmp_path))
    cache.put("ft:m:1", EXAMPLE, EXACT, 1.0)
    cache.put("ft:m:1", EXAMPLE, CLOSE, 0.0)
    cache.save()
    assert (tmp_path / "eval-scores.json").read_text() == (
        '{"scores": {'
        '"3652838bd6e126335b7f39a45bb0129aaf961774bce2907ebee467469d3a41a9": 0.0, '
        '"f254dfe55558cf0c63fa4db605524b6660cd81f55272228768bed47c61b29bb3": 1.0}, '
        '"version": "1"}'
    )
    again = ScoreCache(str(tmp_path))
    assert again.get("ft:m:1", EXAMPLE, EXACT) == 1.0
    # The grader's name is not its identity; its type and options are.
    assert again.get("ft:m:1", EXAMPLE, Grader(name="renamed", type=GraderType.EXACT_MATCH)) \
        == 1.0
    assert again.get("ft:m:1", EXAMPLE, Grader(name="n", type=GraderType.NUMERIC)) is None
    assert again.get("ft:m:2", EXAMPLE, EXACT) is None


def test_a_damaged_or_foreign_file_is_measured_again(tmp_path: Path) -> None:
    (tmp_path / "eval-scores.json").write_text("{not json")
    assert ScoreCache(str(tmp_path)).get("ft:m:1", EXAMPLE, EXACT) is None
    key = "f254dfe55558cf0c63fa4db605524b6660cd81f55272228768bed47c61b29bb3"  # EXACT, above
    (tmp_path / "eval-scores.json").write_text(json.dumps({"version": "0", "scores": {key: 1}}))
    assert ScoreCache(str(tmp_path)).get("ft:m:1", EXAMPLE, EXACT) is None


def test_no_cache_dir_remembers_nothing(tmp_path: Path) -> None:
    cache = ScoreCache(None)
    cache.put("ft:m:1", EXAMPLE, EXACT, 1.0)
    cache.save()
    assert list(tmp_path.iterdir()) == []


def test_eval_cost() -> None:
    prices = (Price(model="gpt-4o-mini", training_per_1m=3.0, input_per_1m=0.3,
                    output_per_1m=1.2),
              Price(model="davinci-002", training_per_1m=6.0))
    # 2 versions x (1M input tokens x $0.30 + 0.5M output tokens x $1.20)
    assert eval_cost(1_000_000, 500_000, model="ft:gpt-4o-mini-2024-07-18:o:s:1",
                     prices=prices) == 1.8
    assert eval_cost(1_000_000, 500_000, model="gpt-4o-mini-2024-07-18", prices=prices,
                     versions=1) == 0.9
    assert eval_cost(10, 10, model="davinci-002", prices=prices) is None  # no inference price
    assert eval_cost(10, 10, model="unknown", prices=prices) is None


def test_progress_in_ci_logs_and_on_a_terminal() -> None:
    out = io.StringIO()
    plain = PlainReporter(out)
    for done in range(1, 9):
        plain.eval_progress("support", done, 8)
    assert out.getvalue().splitlines() == [
        "evaluate support: 2/8 answers scored (25%)",
        "evaluate support: 4/8 answers scored (50%)",
        "evaluate support: 6/8 answers scored (75%)",
        "evaluate support: 8/8 answers scored (100%)",
    ]
    screen = io.StringIO()
    with TerminalReporter(Console(file=screen, force_terminal=True, width=100)) as live:
        for done in range(1, 5):
            live.eval_progress("support", done, 4)
    assert "evaluate support" in screen.getvalue()
    assert "4/4 answers" in screen.getvalue()


def test_two_caches_saving_one_after_the_other_keep_both(tmp_path: Path) -> None:
    first, second = ScoreCache(str(tmp_path)), ScoreCache(str(tmp_path))
    first.put("ft:a:1", EXAMPLE, EXACT, 1.0)
    second.put("ft:b:1", EXAMPLE, EXACT, 0.0)
    first.save()
    second.save()
    merged = ScoreCache(str(tmp_path))
    assert merged.get("ft:a:1", EXAMPLE, EXACT) == 1.0
    assert merged.get("ft:b:1", EXAMPLE, EXACT) == 0.0
