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
