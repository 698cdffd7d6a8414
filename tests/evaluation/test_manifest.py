"""spec.evaluation in manifests: what the schema and the loader refuse, each at FILE:LINE:COL,
all at once, through the real `ftctl validate`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from reconciler.app.project import load
from reconciler.cli import main
from reconciler.diagnostics import has_errors
from reconciler.observe import observe
from reconciler.plan import Plan, PlanOptions
from reconciler.planner import plan
from reconciler.render import render
from reconciler.spec import Evaluation, Grader, GraderType, Promotion

from .conftest import EvalProject, Remote

HEAD = """apiVersion: ftctl/v1
kind: FineTunedModel
metadata:
  name: support
spec:
  model: gpt-4o-mini-2024-07-18
  training_file: ../data/train.jsonl
"""


def validate(project: EvalProject, evaluation: str) -> tuple[int, str]:
    project.training(right=10)
    (project.root / "models" / "support.yaml").write_text(HEAD + evaluation)
    result = CliRunner().invoke(main, ["-C", str(project.root), "validate"],
                                env={"NO_COLOR": "1", "CI": "1"})
    return result.exit_code, result.output + result.stderr


def test_the_contract_example_loads(eval_project: EvalProject) -> None:
    eval_project.training(right=10)
    eval_project.manifest(extra_graders=['{name: id, type: regex, pattern: "^Order"}'])
    loaded = load(str(eval_project.root))
    assert loaded.desired is not None and not has_errors(loaded.diagnostics)
    manifest = loaded.desired.manifest("support")
    assert manifest is not None and manifest.spec.gated
    evaluation = manifest.spec.evaluation
    assert isinstance(evaluation, Evaluation)
    assert evaluation.dataset.repo_path == "evals/support.jsonl"
    assert evaluation.graders == (
        Grader(name="exact", type=GraderType.EXACT_MATCH),
        Grader(name="mentions", type=GraderType.CONTAINS),
        Grader(name="id", type=GraderType.REGEX, pattern="^Order"),
    )
    assert evaluation.promote == Promotion(minimum=(("exact", 0.5),),
                                           max_regression=(("exact", 0.05),))


def test_every_mistake_is_reported_at_its_place(eval_project: EvalProject) -> None:
    code, out = validate(eval_project, """  evaluation:
    dataset: ../evals/support.jsonl
    graders:
      - {name: exact, type: exact_match}
      - {name: exact, type: contains}
      - {name: pat, type: regex, pattern: "(unclosed"}
      - {name: js, type: json_schema, schema: {type: nonsense}}
      - {name: num, type: exact_match, tolerance: 0.1}
    promote:
      min: {exact: 0.5, accuracy: 0.9}
      max_regression: {mentions: 0.05}
""")
    assert code == 1, out
    assert "Traceback" not in out
    for expected in (
        "models/support.yaml:12:16: error: grader name 'exact' is used twice",
        "models/support.yaml:13:43: error: pattern: invalid regular expression",
        "models/support.yaml:14:47: error: schema: not a valid JSON Schema",
        "models/support.yaml:15:40: error: tolerance is only used by graders of type numeric",
        "models/support.yaml:17:25: error: promote.min names grader 'accuracy', which is not "
        "defined",
        "models/support.yaml:18:24: error: promote.max_regression names grader 'mentions'",
    ):
        assert expected in out, out


def test_schema_mistakes(eval_project: EvalProject) -> None:
    code, out = validate(eval_project, """  evaluation:
    dataset: ../evals/support.jsonl
    graders:
      - {name: exact, type: fuzzy}
    promote:
      min: {exact: 1.5}
""")
    assert code == 1
    assert "models/support.yaml:11:29: error:" in out and "fuzzy" in out, out
    assert "models/support.yaml:13:20: error: exact: must be at most 1" in out, out


def test_the_eval_set_path_follows_the_dataset_rules(eval_project: EvalProject) -> None:
    code, out = validate(eval_project, """  evaluation:
    dataset: ../../outside.jsonl
    graders: [{name: exact, type: exact_match}]
""")
    assert code == 1
    assert "models/support.yaml:9:14: error: dataset path '../../outside.jsonl' escapes the " \
        "project directory" in out, out


def test_eval_set_problems_are_reported_by_validate(eval_project: EvalProject) -> None:
    eval_project.evalset([json.dumps({"messages": [{"role": "user", "content": "Hi"}]})])
    code, out = validate(eval_project, """  evaluation:
    dataset: ../evals/support.jsonl
    graders: [{name: exact, type: exact_match}]
""")
    assert code == 1
    assert 'evals/support.jsonl:1: error: "expected" is missing or not a string' in out, out


def test_changing_only_the_evaluation_verifies_without_retraining(
        eval_project: EvalProject, remote: Remote) -> None:
    eval_project.training(right=6)
    assert remote.apply(eval_project).ok

    def changes() -> list[tuple[str, str]]:
        made = planned()
        return [(s.action.value, s.reason.value) for s in made.changes]

    def planned() -> Plan:
        loaded = load(str(eval_project.root))
        assert loaded.desired is not None
        return plan(loaded.desired, observe(remote.api, loaded.desired), PlanOptions())

    assert changes() == []
    # The rule, the graders or the eval set's content: a new gate, verified on the serving
    # version (no training), exactly as a change of checks is.
    eval_project.manifest(minimum=0.1, max_regression=0.5)
    assert changes() == [("verify", "checks_changed")]
    assert "# support will have version 1 checked again because its evaluation changed" in \
        render(planned(), "text")
    eval_project.manifest()
    assert changes() == []
    evalset = eval_project.root / "evals" / "support.jsonl"
    extra = {"messages": [{"role": "user", "content": "Where is order 99?"}], "expected": "?"}
    evalset.write_text(evalset.read_text() + json.dumps(extra) + "\n")
    assert changes() == [("verify", "checks_changed")]
    # Applying it records a verdict for the new gate: the plan is clean again.
    assert remote.apply(eval_project).ok
    assert changes() == []
