"""app.project.load: manifests plus every referenced dataset, diagnostics merged and sorted."""

from __future__ import annotations

from pathlib import Path

from reconciler.app.project import load
from reconciler.diagnostics import sort_key

from .conftest import EXAMPLES, FIXTURES, MakeProject

MINIMAL = (FIXTURES / "valid" / "minimal.yaml").read_text()


def test_examples_have_dataset_facts() -> None:
    result = load(str(EXAMPLES))
    assert not any(d.is_error for d in result.diagnostics)
    assert result.desired is not None
    infos = result.desired.datasets
    assert sorted(infos) == [
        "data/billing/train.jsonl", "data/support/train.jsonl",
        "data/support/valid.jsonl", "data/triage/train.jsonl",
    ]
    assert all(info.examples >= 20 for info in infos.values())
    assert infos["data/triage/train.jsonl"].format == "prompt_completion"
    assert infos["data/support/train.jsonl"].format == "chat"
    assert all(len(info.sha256) == 64 for info in infos.values())


def test_without_datasets_leaves_them_empty() -> None:
    result = load(str(EXAMPLES), with_datasets=False)
    assert result.desired is not None and dict(result.desired.datasets) == {}


def test_dataset_problems_are_merged_with_manifest_problems(make_project: MakeProject) -> None:
    bad = MINIMAL.replace("name: minimal", "name: other") + "  seed: x\n"
    root = make_project({"models/a.yaml": MINIMAL, "models/b.yaml": bad})
    with (root / "data" / "train.jsonl").open("a") as fh:
        fh.write("{not json\n")
    result = load(str(root))
    errors = [d for d in result.diagnostics if d.is_error]
    files = {d.subject.file for d in errors if d.subject}
    assert files == {"data/train.jsonl", "models/b.yaml"}
    bad_line = [d for d in errors if d.subject and d.subject.file == "data/train.jsonl"]
    assert bad_line and bad_line[0].subject is not None and bad_line[0].subject.line == 13
    assert list(result.diagnostics) == sorted(result.diagnostics, key=sort_key)
    assert load(str(root)).diagnostics == result.diagnostics  # deterministic


def test_missing_dataset_is_reported_once(make_project: MakeProject) -> None:
    text = MINIMAL.replace("../data/train.jsonl", "../data/gone.jsonl")
    result = load(str(make_project({"models/a.yaml": text})))
    assert [d.summary for d in result.diagnostics if d.is_error] == [
        "dataset file not found: '../data/gone.jsonl'"
    ]


def test_the_loader_marks_which_dataset_paths_passed_its_checks(
    make_project: MakeProject,
) -> None:
    text = MINIMAL + "  validation_file: ../data/gone.jsonl\n"
    desired = load(str(make_project({"models/a.yaml": text})), with_datasets=False).desired
    assert desired is not None
    spec = desired.manifests[0].spec
    assert spec.training_file.usable
    assert spec.validation_file is not None and not spec.validation_file.usable


def test_cache_is_written_under_the_project(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": MINIMAL})
    load(str(root))
    assert (root / ".ftctl" / "cache").is_dir()


def test_overlap_between_training_and_validation_is_checked(
    make_project: MakeProject, tmp_path: Path
) -> None:
    text = MINIMAL + "  validation_file: ../data/valid.jsonl\n"
    root = make_project({"models/a.yaml": text})
    (root / "data" / "valid.jsonl").write_text((root / "data" / "train.jsonl").read_text())
    result = load(str(root))
    assert any(d.subject and d.subject.file == "data/valid.jsonl" for d in result.diagnostics)


def test_refused_tag_in_model_is_reported_not_crashed(make_project: MakeProject) -> None:
    text = MINIMAL.replace("gpt-4o-mini-2024-07-18", "!!python/object/apply:os.system [x]")
    child = MINIMAL.replace("name: minimal", "name: child").replace(
        "gpt-4o-mini-2024-07-18", "{ref: minimal}")
    result = load(str(make_project({"models/a.yaml": text, "models/b.yaml": child})))
    assert [d.summary for d in result.diagnostics if d.is_error] == [
        "YAML tag '!!python/object/apply:os.system' is not allowed"]


def test_small_validation_file_is_not_held_to_the_training_minimum(
    make_project: MakeProject,
) -> None:
    text = MINIMAL + "  validation_file: ../data/valid.jsonl\n"
    root = make_project({"models/a.yaml": text})
    lines = (root / "data" / "train.jsonl").read_text().splitlines(keepends=True)
    # A distinct, 3-example validation set: far under the 10 a training file needs.
    valid = [line.replace('"content": "', '"content": "held out: ', 1) for line in lines[:3]]
    (root / "data" / "valid.jsonl").write_text("".join(valid))
    result = load(str(root))
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    assert result.desired is not None
    assert result.desired.datasets["data/valid.jsonl"].examples == 3


def test_a_small_file_listed_as_training_by_another_manifest_is_held_to_the_minimum(
    make_project: MakeProject,
) -> None:
    # a validates on valid.jsonl (3 examples: fine); b trains on it (3 examples: too few).
    text = MINIMAL + "  validation_file: ../data/valid.jsonl\n"
    other = MINIMAL.replace("name: minimal", "name: other").replace(
        "../data/train.jsonl", "../data/valid.jsonl")
    root = make_project({"models/a.yaml": text, "models/b.yaml": other})
    lines = (root / "data" / "train.jsonl").read_text().splitlines(keepends=True)
    valid = [line.replace('"content": "', '"content": "held out: ', 1) for line in lines[:3]]
    (root / "data" / "valid.jsonl").write_text("".join(valid))
    result = load(str(root))
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.subject.file if d.subject else None for d in errors] == ["data/valid.jsonl"]
    assert "3" in errors[0].summary


def test_each_base_model_gets_its_own_token_count(make_project: MakeProject) -> None:
    import json

    from reconciler.planner import plan
    from reconciler.snapshot import Snapshot

    other = MINIMAL.replace("name: minimal", "name: older").replace(
        "gpt-4o-mini-2024-07-18", "gpt-3.5-turbo-0125")
    root = make_project({"models/a.yaml": MINIMAL, "models/b.yaml": other})
    # Japanese text: o200k_base needs far fewer tokens for it than cl100k_base.
    rows = [json.dumps({"messages": [
        {"role": "user", "content": f"注文番号{i}の配送状況を教えてください。"},
        {"role": "assistant", "content": f"注文{i}は明日お届け予定です。追跡番号はT{i}です。"}]},
        ensure_ascii=False) for i in range(12)]
    (root / "data" / "train.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = load(str(root))
    assert result.desired is not None
    info = result.desired.datasets["data/train.jsonl"]
    o200k = info.tokens_for("gpt-4o-mini-2024-07-18")
    cl100k = info.tokens_for("gpt-3.5-turbo-0125")
    assert o200k is not None and cl100k is not None and o200k < cl100k
    made = plan(result.desired, Snapshot(workspace=result.desired.settings.workspace))
    estimates = {s.name: s.estimate for s in made.changes if s.estimate is not None}
    epochs = estimates["minimal"].epochs
    assert estimates["minimal"].training_tokens == (epochs or 0) * o200k
    assert estimates["older"].training_tokens == (estimates["older"].epochs or 0) * cl100k
