"""The `ftctl-spec` values stamped on every job, pinned literally.

These values are a public contract stored on the provider: if a change to the essence or its
canonicalisation moves one, every model would be planned as retrain + delete after an upgrade.
Such a change needs a new scheme (identity.SPEC_SCHEME) and leaves these literals alone; the
scheme-1 literals are what ftctl 0.1.0 stamped (tests/fixtures/identity/legacy-jobs.json).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from builders import a_desired, a_job_for, a_manifest

from reconciler.app.project import load
from reconciler.planner.compare import compare, spec_of
from reconciler.planner.identity import (
    SPEC_SCHEME,
    job_metadata,
    operation_id,
    parse_spec_value,
    spec_side_changes,
)
from reconciler.spec import Desired, MethodType

PROJECT = Path(__file__).parents[1] / "fixtures" / "identity"

# Scheme 2 (current): "2:<digest>-<side chunks>".
CURRENT = {
    "prefs": "2:7a5cc2a26bc43f73a3a3eaebd559886e-7ed3f174234e74234e74234e74234e",
    "prefs-child": "2:f88e61cf793284e9915f037d6253fc0f-7ed3f174234e74234e74234e0afbc7",
    "reasoning": "2:1290833104800ab6b12088afc3cb3c5a-b6fa3a74234e9537ab74234e74234e",
    "reasoning-multi": "2:5bfa53ecad30031beb1903861dc1b061-b6fa3a74234eb9f03174234e74234e",
    "sft-auto": "2:b6dca799cbc55a5c677e8cd2ef79f358-bd1be774234e74234e74234e74234e",
    "sft-full": "2:4c66b08f1e34922fc68a8246c8a61780-bd1be7268c9374234e8a06201e5941",
    "sft-minimal": "2:187be7f42836f967e650c85529dc647c-bd1be774234e74234e74234e74234e",
}
# Scheme 1, as ftctl 0.1.0 stamped them (no scheme prefix).
LEGACY = {
    "prefs": "7a5cc2a26bc43f73a3a3eaebd559886e-7ed3f174234e74234e74234e74234e",
    "prefs-child": "f88e61cf793284e9915f037d6253fc0f-7ed3f174234e74234e74234e0afbc7",
    "reasoning": "1290833104800ab6b12088afc3cb3c5a-b6fa3a74234e9537ab74234e74234e",
    "reasoning-multi": "5bfa53ecad30031beb1903861dc1b061-b6fa3a74234eb9f03174234e74234e",
    "sft-auto": "b6dca799cbc55a5c677e8cd2ef79f358-bd1be774234e74234e74234e74234e",
    "sft-full": "4c66b08f1e34922fc68a8246c8a61780-bd1be7268c9374234e8a06201e5941",
    "sft-minimal": "187be7f42836f967e650c85529dc647c-bd1be774234e74234e74234e74234e",
}
# ftctl-op of version 1 of each, in workspace identity-golden.
OPERATIONS = {
    "prefs": "op-f6d7d6bd814c9531f704462a",
    "prefs-child": "op-dcf90fce74f98804ed58a9c0",
    "reasoning": "op-e66abfdbbe883a0a79f8505c",
    "reasoning-multi": "op-15135869cd8e92f53cc429c0",
    "sft-auto": "op-ea0b9da4e9ed3fa9eb2e0309",
    "sft-full": "op-d124cc090c1702e22605f829",
    "sft-minimal": "op-c037b4f5c032f2f2b6df8a4c",
}


@pytest.fixture(scope="module")
def desired() -> Desired:
    result = load(str(PROJECT))
    assert result.desired is not None, result.diagnostics
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    return result.desired


def test_current_spec_values_are_pinned(desired: Desired) -> None:
    assert SPEC_SCHEME == 2
    assert {m.name: spec_of(m, desired.datasets) for m in desired.manifests} == CURRENT


def test_scheme_1_values_are_those_ftctl_0_1_0_stamped(desired: Desired) -> None:
    assert {m.name: spec_of(m, desired.datasets, scheme=1) for m in desired.manifests} == LEGACY
    legacy = json.loads((PROJECT / "legacy-jobs.json").read_text())["jobs"]
    assert {name: body["metadata"]["ftctl-spec"] for name, body in legacy.items()} == LEGACY


def test_operation_ids_and_metadata_are_pinned(desired: Desired) -> None:
    ops = {m.name: operation_id("identity-golden", m.name, 1, CURRENT[m.name])
           for m in desired.manifests}
    assert ops == OPERATIONS
    assert job_metadata(workspace="identity-golden", name="sft-full", spec=CURRENT["sft-full"],
                        version=3, op="op-95c35b0c4c563dd22e1e9155", commit="abc123") == (
        ("ftctl-workspace", "identity-golden"),
        ("ftctl-name", "sft-full"),
        ("ftctl-spec", "2:4c66b08f1e34922fc68a8246c8a61780-bd1be7268c9374234e8a06201e5941"),
        ("ftctl-version", "3"),
        ("ftctl-op", "op-95c35b0c4c563dd22e1e9155"),
        ("ftctl-commit", "abc123"),
    )


def test_spec_values_parse_with_their_scheme() -> None:
    current, legacy = parse_spec_value(CURRENT["sft-full"]), parse_spec_value(LEGACY["sft-full"])
    assert current is not None and current.scheme == 2
    assert legacy is not None and legacy.scheme == 1
    assert (current.digest, current.side) == (legacy.digest, legacy.side)
    for foreign in (None, "", "abc", "2:xyz-123456", "x:" + LEGACY["prefs"], LEGACY["prefs"][:-1]):
        assert parse_spec_value(foreign) is None
    fields = ("a", "b", "c", "d", "e")
    # Values of two schemes are never compared chunk by chunk: nothing can be told.
    assert spec_side_changes(LEGACY["sft-full"], CURRENT["sft-full"], fields) == ()
    # sft-full adds a validation file, integrations and a suffix; neither has a grader.
    assert spec_side_changes(LEGACY["sft-minimal"], LEGACY["sft-full"], fields) == ("b", "d", "e")


# --- comparing a job stamped by another scheme ------------------------------------------------

GRADER = {"type": "string_check", "name": "g", "input": "{{sample.output_text}}",
          "reference": "{{item.answer}}", "operation": "eq"}


def _rft(**changes: object) -> Desired:
    kw: dict[str, object] = {"model": "o4-mini-2025-04-16", "method": MethodType.REINFORCEMENT,
                             "grader": GRADER, "hyperparameters": {"n_epochs": 2}}
    kw.update(changes)
    return a_desired(a_manifest("bot", **kw))  # type: ignore[arg-type]


def _stamped_by(desired: Desired, scheme: int | str) -> str:
    manifest = desired.manifest("bot")
    assert manifest is not None
    if isinstance(scheme, str):
        return scheme
    return spec_of(manifest, desired.datasets, scheme=scheme)


def _compare(job_from: Desired, stamp: str, now: Desired) -> tuple[tuple[str, ...], bool]:
    job = a_job_for(job_from, "bot", id="ftjob-1", spec=stamp, model="o4-mini-2025-04-16")
    manifest = now.manifest("bot")
    assert manifest is not None
    file_sha = {f"file-{d.sha256[:8]}": d.sha256 for d in now.datasets.values()}
    cmp = compare(manifest, job, spec=spec_of(manifest, now.datasets), datasets=now.datasets,
                  file_sha=file_sha)
    return tuple(c.path for c in cmp.changes), cmp.forced


def test_an_older_scheme_alone_is_no_change() -> None:
    before = _rft()
    assert _compare(before, _stamped_by(before, 1), before) == ((), False)


def test_a_genuine_change_under_an_older_scheme_is_a_field_diff() -> None:
    before = _rft()
    stamp = _stamped_by(before, 1)
    assert _compare(before, stamp, _rft(hyperparameters={"n_epochs": 4})) == (
        ("method.hyperparameters.n_epochs",), True)
    # The grader is not shown back by the job: the old scheme's side chunk still tells.
    other = dict(GRADER, operation="ne")
    assert _compare(before, stamp, _rft(grader=other)) == (("method.grader",), True)


def test_an_unknown_scheme_compares_by_fields() -> None:
    before = _rft()
    newer = "9:" + LEGACY["prefs"]  # a newer ftctl's value: this one cannot compute it
    assert _compare(before, newer, before) == ((), False)
    assert _compare(before, newer, _rft(hyperparameters={"n_epochs": 4})) == (
        ("method.hyperparameters.n_epochs",), True)


def test_the_current_scheme_still_tells_side_fields_apart() -> None:
    before = _rft()
    other = dict(GRADER, operation="ne")
    assert _compare(before, _stamped_by(before, SPEC_SCHEME), _rft(grader=other)) == (
        ("method.grader",), True)
    same = dataclasses.replace(before)
    assert _compare(before, _stamped_by(before, SPEC_SCHEME), same) == ((), False)
