"""The loader: valid projects load into spec types; cross-file rules; dataset path safety."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reconciler.diagnostics import Severity
from reconciler.loader import load_project
from reconciler.refs import root_base_model
from reconciler.spec import MethodType, ParentRef, ProviderType, UpdatePolicy

from .conftest import EXAMPLES, FIXTURES, SETTINGS, MakeProject

VALID = sorted((FIXTURES / "valid").glob("*.yaml"))

MANIFEST = """\
apiVersion: ftctl/v1
kind: FineTunedModel
metadata:
  name: {name}
spec:
  model: {model}
  training_file: {train}
"""


def _manifest(name: str, model: str = "gpt-4o-mini-2024-07-18",
              train: str = "../data/train.jsonl") -> str:
    return MANIFEST.format(name=name, model=model, train=train)


def test_examples_load_clean() -> None:
    result = load_project(str(EXAMPLES))
    assert [d for d in result.diagnostics if d.is_error] == []
    assert result.desired is not None
    names = [m.name for m in result.desired.manifests]
    assert names == ["billing-assistant", "support-bot", "ticket-triage"]
    assert result.desired.settings.provider.type is ProviderType.LOCAL
    child = result.desired.manifest("billing-assistant")
    assert child is not None and child.spec.model == ParentRef(name="support-bot")
    index = {m.name: m for m in result.desired.manifests}
    assert root_base_model(index, "billing-assistant") == "gpt-4o-mini-2024-07-18"
    assert set(result.sources) >= {"ftctl.yaml", "models/support-bot.yaml"}


@pytest.mark.parametrize("fixture", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_loads_without_diagnostics(fixture: Path, make_project: MakeProject) -> None:
    root = make_project({f"models/{fixture.name}": fixture.read_text()})
    result = load_project(str(root))
    assert result.diagnostics == ()
    assert result.desired is not None and result.desired.manifests


def test_full_manifest_maps_onto_spec_types(make_project: MakeProject) -> None:
    root = make_project({"models/full.yaml": (FIXTURES / "valid" / "full.yaml").read_text()})
    desired = load_project(str(root)).desired
    assert desired is not None
    m = desired.manifests[0]
    assert m.labels == (("team", "support"), ("tier", "gold"))
    assert m.spec.suffix == "full-model"
    assert m.spec.training_file.repo_path == "data/train.jsonl"
    assert m.spec.training_file.path == "../data/train.jsonl"
    assert m.spec.validation_file is not None
    assert m.spec.validation_file.repo_path == "data/valid.jsonl"
    assert m.spec.method.hyperparameters == (
        ("batch_size", "auto"), ("learning_rate_multiplier", 0.3), ("n_epochs", 3))
    assert m.spec.update is UpdatePolicy.CONTINUE
    assert m.spec.lifecycle.keep_versions == 3 and m.spec.lifecycle.prevent_destroy
    assert m.spec.lifecycle.ignore_changes == ("seed", "integrations")
    assert [c.expect_equals for c in m.spec.checks] == [None, None, "4", None]
    assert m.spec.checks[0].max_tokens == 64 and m.spec.checks[0].temperature == 0
    assert m.spec.integrations_json is not None
    assert '"project":"ft-runs"' in m.spec.integrations_json
    assert m.spec.adopt == "ftjob-abc123" and m.spec.seed == 2147483647


def test_methods_and_merge_keys(make_project: MakeProject) -> None:
    root = make_project({"models/m.yaml": (FIXTURES / "valid" / "methods.yaml").read_text()})
    desired = load_project(str(root)).desired
    assert desired is not None
    by = {m.name: m for m in desired.manifests}
    assert by["prefs"].spec.method.type is MethodType.DPO
    assert by["prefs-child"].spec.method.type is MethodType.DPO
    merged = by["prefs-child"].spec.checks[1]  # `<<: *greeting` with prompt overridden
    assert (merged.prompt, merged.expect_contains, merged.max_tokens) == ("Good morning", "hi", 5)
    assert by["prefs-child"].spec.model == ParentRef(name="prefs")
    assert by["reasoning"].spec.method.grader_json is not None
    assert '"type":"multi"' in by["reasoning"].spec.method.grader_json
    assert root_base_model(by, "grandchild") == "gpt-4o-mini-2024-07-18"
    assert by["grandchild"].spec.training_file.repo_path == "data/valid.jsonl"


def test_settings_map_onto_spec_types(make_project: MakeProject) -> None:
    settings = """\
kind: Project
workspace: team.ml-1
provider:
  type: openai
  base_url: https://api.example.com/v1
  organization: org-1
  project: proj-1
  allow_insecure_http: true
  speed: 50
manifests: [ft/*.yaml]
prune: true
concurrency: 8
prices:
  - {model: gpt-4o-mini, training_per_1m: 3}
"""
    root = make_project({"ft/a.yaml": _manifest("a")}, settings=settings)
    result = load_project(str(root))
    assert [d.summary for d in result.diagnostics] == [
        "provider.speed has no effect with provider type openai"]
    s = result.desired.settings if result.desired else None
    assert s is not None
    assert (s.workspace, s.prune, s.concurrency) == ("team.ml-1", True, 8)
    assert s.manifests == ("ft/*.yaml",)
    assert s.provider.type is ProviderType.OPENAI
    assert s.provider.base_url == "https://api.example.com/v1"
    assert (s.provider.organization, s.provider.project) == ("org-1", "proj-1")
    assert s.provider.allow_insecure_http and s.provider.speed == 50.0
    assert s.prices[0].model == "gpt-4o-mini" and s.prices[0].training_per_1m == 3.0
    assert s.root == str(root)


def test_settings_defaults(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a")},
                        settings="kind: Project\nworkspace: w\n")
    desired = load_project(str(root)).desired
    assert desired is not None
    s = desired.settings
    assert s.provider.type is ProviderType.LOCAL and s.provider.speed == 200.0
    assert "models/**/*.yaml" in s.manifests and not s.prune and s.concurrency == 4
    assert [m.name for m in desired.manifests] == ["a"]


def test_settings_errors_are_positioned(make_project: MakeProject) -> None:
    root = make_project(settings="kind: Project\nworkspace: w\nprovider:\n  type: bedrock\n"
                        "concurency: 3\n")
    result = load_project(str(root))
    assert result.desired is None
    got = [(str(d.subject), d.summary) for d in result.diagnostics]
    assert ("ftctl.yaml:4:9",
            'type: expected one of "local", "openai", "azure", got "bedrock"') in got
    assert ("ftctl.yaml:5:1", "unknown key 'concurency' (did you mean 'concurrency'?)") in got


def test_missing_settings_file(tmp_path: Path) -> None:
    result = load_project(str(tmp_path))
    assert result.desired is None
    assert len(result.diagnostics) == 1
    assert result.diagnostics[0].summary.startswith("settings file not found")


def test_config_option_names_another_settings_file(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a")})
    (root / "ftctl.yaml").rename(root / "other.yaml")
    result = load_project(str(root), "other.yaml")
    assert result.diagnostics == () and result.desired is not None


def test_duplicate_names_across_files(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("same"), "models/b.yaml": _manifest("same")})
    result = load_project(str(root))
    [diag] = result.diagnostics
    assert str(diag.subject) == "models/b.yaml:4:9"
    assert diag.summary == "duplicate model name 'same' (first defined at models/a.yaml:4:9)"
    assert result.desired is not None and len(result.desired.manifests) == 1


def test_ref_to_invalid_manifest_is_not_reported_missing(make_project: MakeProject) -> None:
    broken = _manifest("parent") + "  seed: nope\n"
    root = make_project({"models/a.yaml": broken,
                         "models/b.yaml": _manifest("child", model="{ref: parent}")})
    summaries = [d.summary for d in load_project(str(root)).diagnostics]
    assert summaries == ['seed: expected an integer, got "nope"']


def test_root_base_model_handles_missing_and_cycles(make_project: MakeProject) -> None:
    root = make_project({
        "models/a.yaml": _manifest("a", model="{ref: b}"),
        "models/b.yaml": _manifest("b", model="{ref: a}"),
        "models/c.yaml": _manifest("c", model="{ref: ghost}"),
    })
    desired = load_project(str(root)).desired
    assert desired is not None
    index = {m.name: m for m in desired.manifests}
    assert root_base_model(index, "a") is None
    assert root_base_model(index, "c") is None
    assert root_base_model(index, "nobody") is None


def test_symlink_pointing_outside_is_refused(make_project: MakeProject, tmp_path: Path) -> None:
    outside = tmp_path / "secret.jsonl"
    outside.write_text('{"messages": []}\n')
    root = make_project({"models/a.yaml": _manifest("a", train="../data/link.jsonl")})
    os.symlink(outside, root / "data" / "link.jsonl")
    [diag] = load_project(str(root)).diagnostics
    assert "symlink that resolves outside the project" in diag.summary
    assert str(diag.subject) == "models/a.yaml:7:18"


def test_symlinked_directory_pointing_outside_is_refused(
    make_project: MakeProject, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "t.jsonl").write_text('{"messages": []}\n')
    root = make_project({"models/a.yaml": _manifest("a", train="../shared/t.jsonl")})
    os.symlink(tmp_path / "elsewhere", root / "shared")
    [diag] = load_project(str(root)).diagnostics
    assert "resolves outside the project" in diag.summary


def test_symlink_inside_project_is_fine(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a", train="../data/alias.jsonl")})
    os.symlink(root / "data" / "train.jsonl", root / "data" / "alias.jsonl")
    assert load_project(str(root)).diagnostics == ()


def test_project_reached_through_a_symlink_is_fine(
    make_project: MakeProject, tmp_path: Path
) -> None:
    root = make_project({"models/a.yaml": _manifest("a", train="../data/alias.jsonl")})
    os.symlink(root / "data" / "train.jsonl", root / "data" / "alias.jsonl")
    os.symlink(root, tmp_path / "checkout")
    result = load_project(str(tmp_path / "checkout"))
    assert result.diagnostics == () and result.desired is not None


def test_dotdot_that_stays_inside_is_fine(make_project: MakeProject) -> None:
    train = "../../data/../data/train.jsonl"
    root = make_project({"models/team/a.yaml": _manifest("a", train=train)})
    desired = load_project(str(root)).desired
    assert desired is not None
    assert desired.manifests[0].spec.training_file.repo_path == "data/train.jsonl"


def test_all_problems_reported_at_once_across_files(make_project: MakeProject) -> None:
    root = make_project({
        "models/a.yaml": _manifest("a") + "  suffix: " + "x" * 65 + "\n",
        "models/b.yaml": _manifest("b", train="../data/missing.jsonl") + "  sed: 1\n",
        "models/c.yaml": "apiVersion: [\n",
    })
    files = sorted({d.subject.file for d in load_project(str(root)).diagnostics if d.subject})
    assert files == ["models/a.yaml", "models/b.yaml", "models/c.yaml"]
    assert len(load_project(str(root)).diagnostics) == 4


def test_diagnostics_are_deterministic_and_sorted(make_project: MakeProject) -> None:
    files = {f"models/{p.name}": p.read_text() for p in (FIXTURES / "invalid").glob("*.yaml")}
    root = make_project(files)
    first = load_project(str(root)).diagnostics
    again = load_project(str(root)).diagnostics
    assert first == again
    keys = [(d.subject.file, d.subject.line, d.subject.column) for d in first if d.subject]
    assert keys == sorted(keys)
    assert len(first) > 40


def test_no_manifests_is_an_error_at_the_manifests_key(make_project: MakeProject) -> None:
    result = load_project(str(make_project()))
    [diag] = result.diagnostics
    assert diag.severity is Severity.ERROR and diag.summary == "no manifests found"
    assert diag.subject is not None and diag.subject.file == "ftctl.yaml"
    line = SETTINGS.splitlines()[diag.subject.line - 1]
    assert line.startswith("manifests:")


def test_no_manifests_is_a_warning_where_manifests_are_not_required(
    make_project: MakeProject,
) -> None:
    [diag] = load_project(str(make_project()), require_manifests=False).diagnostics
    assert diag.severity is Severity.WARNING and diag.summary == "no manifests found"


def test_matched_files_without_documents_are_no_manifests(make_project: MakeProject) -> None:
    result = load_project(str(make_project({"models/empty.yaml": "# nothing yet\n"})))
    [diag] = result.diagnostics
    assert diag.is_error and diag.summary.startswith("no manifests found")


@pytest.mark.parametrize("entry", ["models/", "models", "./models/"])
def test_a_directory_means_every_yaml_file_below_it(
    make_project: MakeProject, entry: str
) -> None:
    settings = SETTINGS.replace("[models/**/*.yaml]", f"[{entry}]")
    assert settings != SETTINGS
    root = make_project({
        "models/b.yaml": _manifest("b"),
        "models/a.yml": _manifest("a"),
        "models/team/z/c.yaml": _manifest("c", train="../../../data/train.jsonl"),
        "models/README.md": "not a manifest\n",
        "models/.draft.yaml": "not: read\n",
        "models/.old/d.yaml": "not: read\n",
    }, settings=settings)
    result = load_project(str(root))
    assert result.diagnostics == ()
    assert result.desired is not None
    assert [m.name for m in result.desired.manifests] == ["a", "b", "c"]
    assert list(result.sources) == [
        "ftctl.yaml", "models/a.yml", "models/b.yaml", "models/team/z/c.yaml"]


def test_manifest_pattern_may_not_leave_the_project(make_project: MakeProject) -> None:
    settings = SETTINGS.replace("[models/**/*.yaml]", "[../**/*.yaml]")
    result = load_project(str(make_project(settings=settings)))
    assert any("must stay inside the project" in d.summary for d in result.diagnostics)


def test_large_and_non_utf8_files_are_refused(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a")})
    (root / "models" / "big.yaml").write_text("# " + "x" * (1 << 20) + "\n")
    (root / "models" / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    summaries = sorted(d.summary for d in load_project(str(root)).diagnostics)
    assert summaries[0].startswith("file is larger than")
    assert summaries[1].startswith("file is not valid UTF-8")


def test_examples_copy_is_self_contained(tmp_path: Path) -> None:
    # The examples must not depend on anything outside their directory.
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    assert [d for d in load_project(str(tmp_path / "examples")).diagnostics if d.is_error] == []


def test_schema_diagnostics_carry_the_model_address(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a") + "  seed: x\n"})
    [diag] = load_project(str(root)).diagnostics
    assert diag.address == "a.spec.seed"


def test_non_finite_numbers_are_refused(make_project: MakeProject) -> None:
    text = _manifest("a") + "  method:\n    hyperparameters: {learning_rate_multiplier: .inf}\n"
    [diag] = load_project(str(make_project({"models/a.yaml": text}))).diagnostics
    assert diag.summary == "'.inf' is not a finite number"
    assert str(diag.subject) == "models/a.yaml:9:49"


def test_broad_pattern_does_not_read_settings_as_a_manifest(make_project: MakeProject) -> None:
    settings = SETTINGS.replace("[models/**/*.yaml]", "['**/*.yaml']")
    root = make_project({"models/a.yaml": _manifest("a")}, settings=settings)
    result = load_project(str(root))
    assert result.diagnostics == ()
    assert result.desired is not None and [m.name for m in result.desired.manifests] == ["a"]


def test_manifests_reached_through_symlinks_outside_are_not_read(
    make_project: MakeProject, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("token: OUTSIDE-SECRET\n")
    root = make_project({"models/a.yaml": _manifest("a")})
    os.symlink(outside, root / "models" / "evil")
    os.symlink(outside / "secret.yaml", root / "models" / "link.yaml")
    result = load_project(str(root))
    got = [(str(d.subject), d.summary) for d in result.diagnostics]
    assert got == [
        ("ftctl.yaml:5:13", "manifest models/evil/secret.yaml resolves outside the project "
                            "through a symlink"),
        ("ftctl.yaml:5:13", "manifest models/link.yaml resolves outside the project "
                            "through a symlink"),
    ]
    assert set(result.sources) == {"ftctl.yaml", "models/a.yaml"}


def test_invalid_utf8_is_located_at_the_bad_byte(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": _manifest("a")})
    (root / "models" / "latin.yaml").write_bytes(b"a: 1\nname: caf\xe9\n")
    [diag] = load_project(str(root)).diagnostics
    assert (str(diag.subject), diag.summary) == (
        "models/latin.yaml:2:10", "file is not valid UTF-8 (byte 14)")


def test_settings_with_invalid_utf8_is_located(make_project: MakeProject) -> None:
    root = make_project()
    (root / "ftctl.yaml").write_bytes(b"kind: Project\nworkspace: \xff\n")
    [diag] = load_project(str(root)).diagnostics
    assert str(diag.subject) == "ftctl.yaml:2:12"


def test_refused_tag_in_model_does_not_become_a_manifest(make_project: MakeProject) -> None:
    text = _manifest("a", model="!!python/object/apply:os.system [echo]")
    result = load_project(str(make_project({"models/a.yaml": text})))
    assert [d.summary for d in result.diagnostics] == [
        "YAML tag '!!python/object/apply:os.system' is not allowed"]
    assert result.desired is not None and result.desired.manifests == ()


def test_provider_settings_without_effect_are_warned(make_project: MakeProject) -> None:
    settings = "kind: Project\nworkspace: w\nprovider:\n  type: local\n  base_url: http://x/v1\n"
    root = make_project({"models/a.yaml": _manifest("a")}, settings=settings)
    result = load_project(str(root))
    [diag] = result.diagnostics
    assert diag.severity is Severity.WARNING
    assert (str(diag.subject), diag.summary) == (
        "ftctl.yaml:5:3", "provider.base_url has no effect with provider type local")
    assert result.desired is not None
    openai = settings.replace("type: local", "type: openai").replace(
        "base_url: http://x/v1", "speed: 10")
    root = make_project({"models/a.yaml": _manifest("a")}, settings=openai)
    assert [d.summary for d in load_project(str(root)).diagnostics] == [
        "provider.speed has no effect with provider type openai"]


def test_broken_settings_and_broken_manifests_are_reported_together(
    make_project: MakeProject,
) -> None:
    settings = "kind: Project\nworkspace: w\nconcurrency: 0\nmanifests: [ml/*.yaml]\n"
    root = make_project({"ml/a.yaml": _manifest("a") + "  seed: x\n"}, settings=settings)
    result = load_project(str(root))
    assert result.desired is None
    assert [(str(d.subject), d.summary) for d in result.diagnostics] == [
        ("ftctl.yaml:3:14", "concurrency: must be at least 1, got 0"),
        ("ml/a.yaml:8:9", 'seed: expected an integer, got "x"'),
    ]


BASE_URL_SETTINGS = "kind: Project\nworkspace: w\nprovider:\n  type: openai\n  base_url: {url}\n"


@pytest.mark.parametrize(("url", "message"), [
    ("http://api.example.com/v1",
     "base URL 'http://api.example.com/v1' uses plain http to a host that is not loopback; "
     "the API key would travel unencrypted. Use https, or set provider.allow_insecure_http: "
     "true in ftctl.yaml if you really mean it."),
    ("api.example.com/v1",
     "base URL 'api.example.com/v1' has no scheme; write it with https://, such as "
     "https://api.example.com/v1"),
    ("ftp://api.example.com/v1",
     "base URL 'ftp://api.example.com/v1' is not an http(s) URL; write it such as "
     "https://api.openai.com/v1"),
])
def test_a_base_url_plan_would_refuse_is_an_error_at_its_line(
    make_project: MakeProject, url: str, message: str
) -> None:
    from reconciler.client.http import check_base_url
    from reconciler.errors import ConfigError

    root = make_project({"models/a.yaml": _manifest("a")},
                        settings=BASE_URL_SETTINGS.format(url=url))
    [diag] = load_project(str(root)).diagnostics
    assert (str(diag.subject), diag.severity, diag.summary) == (
        "ftctl.yaml:5:13", Severity.ERROR, message)
    with pytest.raises(ConfigError) as refused:  # the client's rule is the same one
        check_base_url(url, allow_insecure_http=False)
    assert str(refused.value) == message


@pytest.mark.parametrize("url", ["https://api.example.com/v1", "http://127.0.0.1:8080/v1",
                                 "http://localhost/v1"])
def test_usable_base_urls_pass(make_project: MakeProject, url: str) -> None:
    root = make_project({"models/a.yaml": _manifest("a")},
                        settings=BASE_URL_SETTINGS.format(url=url))
    assert load_project(str(root)).diagnostics == ()


def test_allow_insecure_http_allows_plain_http(make_project: MakeProject) -> None:
    settings = BASE_URL_SETTINGS.format(url="http://gpu-box/v1") + "  allow_insecure_http: true\n"
    root = make_project({"models/a.yaml": _manifest("a")}, settings=settings)
    assert load_project(str(root)).diagnostics == ()
