"""Real project directories and a minimal plan executor for the planner's end-to-end tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reconciler.client import RemoteApi
from reconciler.plan import CancelJob, CreateJob, DeleteModel, FromStep, Plan, UploadFile


def chat_lines(n: int, topic: str = "orders") -> str:
    rows = [{"messages": [{"role": "system", "content": "You help."},
                          {"role": "user", "content": f"{topic} question {i}?"},
                          {"role": "assistant", "content": f"{topic} answer {i}."}]}
            for i in range(n)]
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def write_project(root: Path, *, n_epochs: object = "auto", prune: bool = False,
                  models: tuple[str, ...] = ("bot",), speed: float | None = None,
                  prevent_destroy: bool = False) -> None:
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: e2e\nprovider:\n  type: local\n"
        + (f"  speed: {speed}\n" if speed else "")
        + f"prune: {'true' if prune else 'false'}\n"
        "prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n")
    for old in (root / "models").glob("*.yaml"):
        if old.stem not in models:
            old.unlink()
    for name in models:
        data = root / "data" / f"{name}.jsonl"
        if not data.exists():
            data.write_text(chat_lines(12, name))
        (root / "models" / f"{name}.yaml").write_text(
            "apiVersion: ftctl/v1\nkind: FineTunedModel\n"
            f"metadata:\n  name: {name}\n"
            "spec:\n  model: gpt-4o-mini-2024-07-18\n"
            f"  training_file: ../data/{name}.jsonl\n"
            "  method:\n    type: supervised\n"
            f"    hyperparameters: {{n_epochs: {n_epochs}, batch_size: auto}}\n"
            + ("  lifecycle: {prevent_destroy: true}\n" if prevent_destroy else ""))


def carry_out(plan: Plan, api: RemoteApi, root: Path) -> None:
    """A minimal executor for these tests: each step's API call, in plan order."""
    results: dict[str, dict[str, str]] = {}

    def value(v: object) -> object:
        return results[v.key][v.field] if isinstance(v, FromStep) else v

    for step in plan.changes:
        p = step.payload
        if isinstance(p, UploadFile):
            f = api.upload_file(os.path.join(root, p.repo_path), filename=p.filename)
            results[step.key] = {"id": f.id}
        elif isinstance(p, CreateJob):
            body = {"model": value(p.model), "training_file": value(p.training_file),
                    "method": json.loads(p.method_json), "metadata": dict(p.metadata)}
            if p.seed is not None:
                body["seed"] = p.seed
            if p.suffix:
                body["suffix"] = p.suffix
            job = api.create_job(body)
            results[step.key] = {"id": job.id}
        elif isinstance(p, CancelJob):
            api.cancel_job(p.job_id)
        elif isinstance(p, DeleteModel):
            api.delete_model(p.model_id)


def wait_until_settled(api: RemoteApi, *, attempts: int = 400) -> None:
    """Poll until no job is in flight (the loopback emulator runs on the real clock)."""
    import time

    for _ in range(attempts):
        if all(j.status.is_terminal for j in api.list_jobs()):
            return
        time.sleep(0.05)
    raise AssertionError("jobs did not finish on the emulator")
