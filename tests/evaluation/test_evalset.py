"""Reading the eval set: chat prompts with an expected answer, problems with file and line."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.evaluation.evalset import read

GOOD = json.dumps({"messages": [{"role": "user", "content": "Hi?"}], "expected": "Hello."})


def write(tmp_path: Path, *lines: str) -> str:
    (tmp_path / "evals").mkdir(exist_ok=True)
    (tmp_path / "evals" / "e.jsonl").write_text("\n".join(lines) + "\n")
    return "evals/e.jsonl"


def test_good_lines_become_examples_with_stable_keys(tmp_path: Path) -> None:
    other = json.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Bye?"}],
                        "expected": "Bye.", "topic": "extra fields are allowed"})
    evalset, diags = read(str(tmp_path), write(tmp_path, GOOD, "", other))
    assert diags == ()
    assert [(e.line, e.expected) for e in evalset.examples] == [(1, "Hello."), (3, "Bye.")]
    assert evalset.examples[1].messages()[0] == {"role": "system", "content": "Be brief."}
    again, _ = read(str(tmp_path), write(tmp_path, other))
    assert again.examples[0].key == evalset.examples[1].key  # the line number is not identity


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = [
        GOOD,
        '{"messages": [{"role": "user", "content": "Hi?"}]',  # broken JSON
        json.dumps({"messages": [{"role": "user", "content": "Hi?"}]}),  # no expected
        json.dumps({"messages": [{"role": "user", "content": "Hi?"}], "expected": 3}),
        json.dumps({"messages": [{"role": "user", "content": "Hi?"},
                                 {"role": "assistant", "content": "Yo"}], "expected": "x"}),
        json.dumps(["not", "an", "object"]),
    ]
    evalset, diags = read(str(tmp_path), write(tmp_path, *lines))
    assert len(evalset) == 1
    found = {(d.subject.line if d.subject else None, d.code) for d in diags}
    assert found == {(2, "invalid_json"), (3, "eval_expected"), (4, "eval_expected"),
                     (5, "rft_last_turn"), (6, "not_object")}
    assert all(d.subject and d.subject.file == "evals/e.jsonl" for d in diags)
    summaries = {d.subject.line: d.summary for d in diags if d.subject}
    assert summaries[3] == '"expected" is missing or not a string'
    assert summaries[4] == '"expected" must be a string, not int'


def test_an_empty_eval_set_is_an_error(tmp_path: Path) -> None:
    evalset, diags = read(str(tmp_path), write(tmp_path, ""))
    assert len(evalset) == 0
    assert [d.summary for d in diags] == ["the eval set has no examples"]


def test_cost_inputs_are_counted_from_the_text(tmp_path: Path) -> None:
    evalset, _ = read(str(tmp_path), write(tmp_path, GOOD, GOOD))
    assert evalset.prompt_tokens == len("Hi?") * 2 // 4
    assert evalset.answer_tokens == len("Hello.") * 2 // 4
