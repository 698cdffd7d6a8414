"""Essences and field diffs: the loose-matching rules and deepdiff paths in user vocabulary."""

from __future__ import annotations

from builders import BASE, a_desired, a_job_for, a_manifest, files_for

from reconciler.plan import UNKNOWN, FieldChange
from reconciler.planner.field_diff import field_changes
from reconciler.planner.identity import sha_from_file_name, spec_hash
from reconciler.planner.normalize import (
    comparable,
    forces_new,
    hash_essence,
    is_ignored,
    job_essence,
    model_alias,
    models_match,
    spec_essence,
)
from reconciler.spec import UpdatePolicy


def _pair(manifest_kwargs: dict[str, object], job_kwargs: dict[str, object]) -> tuple[
        dict[str, object], dict[str, object]]:
    desired = a_desired(a_manifest("bot", **manifest_kwargs))  # type: ignore[arg-type]
    job = a_job_for(desired, "bot", id="ftjob-1", **job_kwargs)  # type: ignore[arg-type]
    shas = {f.id: sha_from_file_name(f.filename) or "" for f in files_for(desired)}
    manifest = desired.manifest("bot")
    assert manifest is not None
    pair = comparable(job_essence(job, shas), spec_essence(manifest, desired.datasets),
                      update=manifest.spec.update)
    return pair.before, pair.after


def test_auto_matches_any_resolved_value() -> None:
    before, after = _pair({"hyperparameters": {"n_epochs": "auto"}},
                                     {"hyperparameters": {"n_epochs": 7, "batch_size": 2}})
    assert field_changes(before, after) == ()


def test_explicit_hyperparameter_differs_from_resolved_value() -> None:
    before, after = _pair({"hyperparameters": {"n_epochs": 4}},
                             {"hyperparameters": {"n_epochs": 3}})
    assert field_changes(before, after, forces_new=forces_new) == (
        FieldChange(path="method.hyperparameters.n_epochs", before=3, after=4, forces_new=True),)


def test_numbers_compare_by_value() -> None:
    before, after = _pair({"hyperparameters": {"learning_rate_multiplier": 2}},
                             {"hyperparameters": {"learning_rate_multiplier": 2.0}})
    assert field_changes(before, after) == ()


def test_server_chosen_seed_is_not_drift_but_a_pinned_one_is() -> None:
    before, after = _pair({}, {"seed": 1234})
    assert field_changes(before, after) == ()
    before, after = _pair({"seed": 5}, {})
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1", seed=1234)
    manifest = a_manifest("bot", seed=5)
    pair = comparable(job_essence(job, {}), spec_essence(manifest, desired.datasets),
                      update=UpdatePolicy.RETRAIN)
    changes = field_changes(pair.before, pair.after)
    assert [(c.path, c.before, c.after) for c in changes] == [("seed", 1234, 5)]


def test_dated_snapshot_matches_its_alias() -> None:
    assert model_alias(BASE) == "gpt-4o-mini"
    assert models_match(BASE, "gpt-4o-mini") and models_match("gpt-4o-mini", BASE)
    assert not models_match("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2025-01-01")
    assert not models_match("gpt-4o", "gpt-4o-mini")
    before, after = _pair({"model": "gpt-4o-mini"}, {"model": BASE})
    assert field_changes(before, after) == ()


def test_alias_and_dated_snapshot_hash_the_same() -> None:
    desired = a_desired(a_manifest("bot"))
    alias = a_manifest("bot", model="gpt-4o-mini")
    dated = a_manifest("bot", model=BASE)
    assert spec_hash(hash_essence(alias, desired.datasets)) == spec_hash(
        hash_essence(dated, desired.datasets))


def test_hash_covers_retrain_fields_only_and_leaves_ignored_ones_out() -> None:
    desired = a_desired(a_manifest("bot"))

    def h(**kw: object) -> str:
        return spec_hash(hash_essence(a_manifest("bot", **kw), desired.datasets))  # type: ignore[arg-type]

    base = h()
    assert h(keep_versions=3) == base and h(prevent_destroy=True) == base
    assert h(update=UpdatePolicy.CONTINUE) == base
    assert h(seed=1) != base and h(suffix="x") != base and h(grader={"type": "x"}) != base
    assert h(hyperparameters={"n_epochs": 2}) != base
    ignored = ("method.hyperparameters.n_epochs",)
    assert h(hyperparameters={"n_epochs": 2}, ignore_changes=ignored) == h(
        hyperparameters={"n_epochs": 9}, ignore_changes=ignored)


def test_ignore_changes_paths() -> None:
    assert is_ignored("method.hyperparameters.n_epochs", ("method",))
    assert is_ignored("seed", ("spec.seed",))
    assert not is_ignored("seed_x", ("seed",))
    assert forces_new("training_file") and not forces_new("training_file", ("training_file",))
    assert not forces_new("labels")


def test_deleted_remote_file_is_not_evidence_of_change() -> None:
    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1")
    manifest = desired.manifest("bot")
    assert manifest is not None
    pair = comparable(job_essence(job, {}), spec_essence(manifest, desired.datasets),
                      update=UpdatePolicy.RETRAIN)
    assert field_changes(pair.before, pair.after) == ()


def test_field_changes_paths_and_unknown() -> None:
    changes = field_changes({"model": "ft:a", "method": {"hyperparameters": {"n": 1}}},
                            {"model": UNKNOWN, "method": {"hyperparameters": {"n": 1, "b": 2}},
                             "x": None},
                            forces_new=lambda p: p == "model")
    assert changes == (
        FieldChange(path="method.hyperparameters.b", before=None, after=2, forces_new=False),
        FieldChange(path="model", before="ft:a", after=UNKNOWN, forces_new=True),
    )
    assert field_changes({"l": [1, 2]}, {"l": [1, 3]})[0].path == "l[1]"
