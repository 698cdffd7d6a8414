"""Deployments as part of each model's state and plan, end to end on the Azure dialect through
the real CLI: created after the first version passed its checks (run through a temporary
deployment), moved by a retrain only once the new version passed (create-before-destroy), kept
on the old version when it fails, restored after an out-of-band delete, removed when the
manifest stops naming it, and never taken over when someone else's deployment has its name."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import BASE, KEY, WORKSPACE, Arm, AzureProject, serve

CHECK = (("alpha question 3", "alpha answer"),)


def _applied(project: AzureProject) -> str:
    code, out = project.run("apply", "--auto-approve")
    assert code == 0, out
    return out


def test_first_apply_deploys_after_checks_then_no_changes(project: AzureProject,
                                                          arm: Arm) -> None:
    project.model("alpha", checks=CHECK)
    code, out = project.run("plan")
    assert code == 0 and "» deploy alpha (GlobalStandard, capacity 1)" in out, out
    assert "1 to deploy" in out
    out = _applied(project)
    # The checks could only be answered through a deployment (Azure serves no model id):
    # they ran before the real deployment existed, through the temporary one.
    assert "Checks: 1 passed, 0 failed." in out
    assert out.index("done: create alpha") < out.index("done: deploy alpha")
    model = project.output()["alpha"]["model"]
    deployed = arm.get("alpha")
    assert deployed is not None and deployed["properties"]["provisioningState"] == "Succeeded"
    assert deployed["properties"]["model"]["name"] == model
    assert deployed["sku"] == {"name": "GlobalStandard", "capacity": 1}
    assert arm.names() == ["alpha"]  # the temporary verify deployment is gone
    assert project.output() == {"alpha": {"model": model, "deployment": "alpha"}}
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out
    code, out = project.run("show", "alpha")
    assert f"alpha: {model}  (deployment alpha)" in out, out
    code, out = project.run("try", "alpha", "alpha question 3")
    assert code == 0 and "alpha answer 3" in out, out
    assert "through deployment alpha" in out


def test_a_retrain_moves_the_deployment_after_checks_then_retires(project: AzureProject,
                                                                  arm: Arm) -> None:
    project.model("alpha", checks=CHECK)
    _applied(project)
    v1 = arm.model("alpha")
    project.model("alpha", checks=CHECK, n_epochs=2)
    code, out = project.run("plan")
    assert "~ deployment.model" in out and "(known after apply)" in out, out
    out = _applied(project)
    v2 = project.output()["alpha"]["model"]
    assert v2 != v1 and arm.model("alpha") == v2
    # Create before destroy: checked, moved, and only then the old version deleted.
    assert (out.index("Checks:") > 0 and
            out.index("done: deploy alpha") < out.index(f"done: delete model {v1}"))
    code, out = project.run("show", "alpha")
    assert "v2  ftjob-" in out and "v1  ftjob-" not in out, out
    assert arm.names() == ["alpha"]
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def test_an_evaluation_compares_through_both_deployments(project: AzureProject,
                                                         arm: Arm) -> None:
    evals = project.root / "evals" / "alpha.jsonl"
    evals.parent.mkdir()
    evals.write_text("".join(
        json.dumps({"messages": [{"role": "user", "content": f"alpha question {i}"}],
                    "expected": "alpha answer"}) + "\n" for i in range(4)))
    project.model("alpha", evaluation="../evals/alpha.jsonl")
    _applied(project)
    v1 = arm.model("alpha")
    project.model("alpha", evaluation="../evals/alpha.jsonl", n_epochs=2)
    out = _applied(project)
    # The candidate answered through the temporary deployment, v1 through its own.
    assert f"serving:   {v1}" in out and "PASSED" in out, out
    assert arm.model("alpha") != v1 and arm.names() == ["alpha"]


def test_failing_checks_leave_the_deployment_on_the_old_version(project: AzureProject,
                                                                 arm: Arm) -> None:
    project.model("alpha", checks=CHECK)
    _applied(project)
    v1 = arm.model("alpha")
    # Trained on other answers: the new version cannot say "alpha answer".
    project.model("alpha", checks=CHECK, topic="omega")
    code, out = project.run("apply", "--auto-approve")
    assert code == 1, out
    assert "skipped: deploy alpha" in out
    assert f"deployment alpha stays on {v1}" in out
    assert arm.model("alpha") == v1
    assert arm.names() == ["alpha"]  # no temporary deployment left behind
    assert project.output()["alpha"] == {"model": v1, "deployment": "alpha"}
    # No loop: the failed version is not retrained, and nothing is moved.
    code, out = project.run("plan")
    assert code == 0, out
    assert "create-job" not in out and "to retrain" not in out and "» deploy" not in out
    assert "failed its checks" in out


def test_a_deployment_deleted_out_of_band_is_drift_and_is_restored(project: AzureProject,
                                                                    arm: Arm) -> None:
    project.model("alpha", checks=CHECK)
    _applied(project)
    model = arm.model("alpha")
    arm.delete("alpha")
    code, out = project.run("drift")
    assert code == 2, out
    assert "deployment alpha is gone" in out
    assert project.output()["alpha"] == {"model": model, "deployment": None}
    code, out = project.run("plan")
    assert "alpha will be deployed again because its deployment is gone" in out, out
    assert f'+ deployment.model = "{model}"' in out
    _applied(project)
    assert arm.model("alpha") == model
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out
    code, out = project.run("drift")
    assert code == 0, out


def test_a_deployment_moved_by_hand_is_drift_and_moved_back(project: AzureProject,
                                                            arm: Arm) -> None:
    project.model("alpha")
    _applied(project)
    v1 = arm.model("alpha")
    assert v1 is not None
    project.model("beta")
    _applied(project)
    other = project.output()["beta"]["model"]
    arm.put("alpha", other)  # pointed by hand at another of this workspace's models
    code, out = project.run("drift")
    assert code == 2 and f"deployment alpha serves {other}" in out, out
    code, out = project.run("plan")
    assert "alpha will have its deployment moved" in out, out
    _applied(project)
    assert arm.model("alpha") == v1


def test_someone_elses_deployment_of_the_same_name_is_never_modified(
    project: AzureProject, arm: Arm,
) -> None:
    arm.put("alpha", BASE, sku="Standard")  # not a model of this workspace
    manifest = project.model("alpha", checks=CHECK)
    line = manifest.read_text().splitlines().index("  deployment:") + 1
    code, out = project.run("plan")
    assert code == 1, out
    assert f"models/alpha.yaml:{line}:" in out
    assert "deployment 'alpha' already exists and serves gpt-4o-mini-2024-07-18" in out
    code, out = project.run("apply", "--auto-approve")
    assert code == 1, out
    found = arm.get("alpha")
    assert found is not None and found["properties"]["model"]["name"] == BASE
    assert found["sku"]["name"] == "Standard"
    code, out = project.run("show", "alpha")
    assert "no versions yet" in out  # nothing was trained either: the plan had an error


def test_another_workspaces_deployment_of_the_same_name_is_never_modified(
    project: AzureProject, arm: Arm, tmp_path: Path,
) -> None:
    project.model("alpha")
    _applied(project)
    theirs = arm.model("alpha")
    other = AzureProject(tmp_path / "team-b", project.endpoint, workspace="team-b")
    other.root.mkdir()
    other.settings()
    other.model("alpha", topic="omega")
    code, out = other.run("apply", "--auto-approve")
    assert code == 1 and "not a model of workspace team-b" in out, out
    assert arm.model("alpha") == theirs
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def test_a_saved_plan_never_takes_over_a_deployment_changed_since(project: AzureProject,
                                                                   arm: Arm) -> None:
    project.model("alpha")
    _applied(project)
    arm.delete("alpha")
    code, out = project.run("plan", "--out", str(project.root / "plan.json"))
    assert "alpha will be deployed again" in out, out
    arm.put("alpha", BASE)  # someone else's deployment takes the name meanwhile
    code, out = project.run("apply", str(project.root / "plan.json"), "--auto-approve")
    assert code == 1 and "deployment alpha now serves gpt-4o-mini-2024-07-18" in out, out
    assert arm.model("alpha") == BASE


def test_removing_spec_deployment_removes_the_deployment(project: AzureProject,
                                                         arm: Arm) -> None:
    project.model("alpha")
    _applied(project)
    assert arm.names() == ["alpha"]
    project.model("alpha", deployment=None)
    code, out = project.run("plan")
    assert "« undeploy alpha" in out and "1 to undeploy" in out, out
    _applied(project)
    assert arm.names() == []
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def test_prune_removes_an_orphans_deployment_before_its_model(project: AzureProject,
                                                              arm: Arm) -> None:
    """The whole chain: the deployment goes, then the model with its job, and the orphan's
    dataset upload that nothing needs any more; alpha's own are untouched."""
    project.model("alpha")
    project.model("beta")
    _applied(project)
    assert arm.names() == ["alpha", "beta"]
    before = _resource(project)
    beta_job = next(j for j, name in before["jobs"].items() if name == "beta")
    beta_file = next(f for f, name in before["files"].items() if name == "beta")
    project.prune = True
    project.settings()
    (project.root / "models" / "beta.yaml").unlink()
    code, out = project.run("plan")
    assert "« undeploy beta" in out and f"delete file {beta_file}" in out, out
    out = _applied(project)
    assert out.index("done: undeploy beta") < out.index("done: delete model")
    assert arm.names() == ["alpha"]
    after = _resource(project)
    assert beta_job not in after["jobs"] and beta_file not in after["files"]
    assert set(after["jobs"].values()) == {"alpha"} and set(after["files"].values()) == {"alpha"}
    code, out = project.run("plan", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out


def _resource(project: AzureProject) -> dict[str, dict[str, str]]:
    """Jobs (id -> ftctl-name) and dataset uploads (id -> the model whose data it holds), read
    over the data plane as a person with the SDK would."""
    import httpx

    headers = {"api-key": KEY}
    with httpx.Client(base_url=project.endpoint + "/openai/v1", headers=headers) as http:
        jobs = http.get("/fine_tuning/jobs", params={"limit": 100}).json()["data"]
        files = http.get("/files").json()["data"]
    by_file = {j["training_file"]: j["metadata"]["ftctl-name"] for j in jobs}
    return {"jobs": {j["id"]: j["metadata"]["ftctl-name"] for j in jobs},
            "files": {f["id"]: by_file.get(f["id"], "?") for f in files
                      if re.fullmatch(r"ftctl-[0-9a-f]{64}\.jsonl", f["filename"])}}


def test_the_metadata_fallback_converges_with_deployments(tmp_path: Path) -> None:
    server = serve(tmp_path / "no-metadata.db", keep_metadata=False)
    arm = Arm(server.endpoint)
    try:
        root = tmp_path / "repo"
        root.mkdir()
        project = AzureProject(root, server.endpoint)
        project.settings()
        project.model("alpha", checks=CHECK)
        _applied(project)
        model = project.output()["alpha"]["model"]
        assert arm.model("alpha") == model and arm.names() == ["alpha"]
        code, out = project.run("plan", "--detailed-exitcode")
        assert code == 0 and "No changes" in out, out
        project.model("alpha", checks=CHECK, n_epochs=2)
        _applied(project)
        assert arm.model("alpha") == project.output()["alpha"]["model"] != model
        code, out = project.run("plan", "--detailed-exitcode")
        assert code == 0 and "No changes" in out, out
        code, out = project.run("drift")
        assert code == 0, out
        assert WORKSPACE not in arm.names()
    finally:
        arm.client.close()
        server.stop()

