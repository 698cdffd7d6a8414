"""`try`: send one prompt to a model's current (or a given) version and return the answer.

Chat completions, or completions for the legacy bases (babbage-002, davinci-002) and models
built on them, decided the way checks decide it (checks.uses_completions). On Azure the model
is asked through the deployment that serves it, or through a temporary one as the gate does
(gate_target) for a version no deployment serves. Otherwise only reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler.app.gate_target import asking, known_deployments, verify_deployment_name
from reconciler.app.operate import (
    NotFound,
    Refused,
    Workspace,
    get_job,
    is_job_id,
    is_model_id,
    model_state,
)
from reconciler.checks import ask, uses_completions
from reconciler.planner.state import ModelState, Version
from reconciler.refs import root_base_model
from reconciler.spec import Check


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    text: str
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The model a reference means: name/version when it is one of this workspace's.
    deployment: the deployment it is asked through (Azure)."""

    model: str
    base_model: str | None
    name: str | None = None
    version: int | None = None
    deployment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TryResult:
    target: Target
    endpoint: str  # "chat" | "completions"
    answer: str

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.target.name, "version": self.target.version,
            "model": self.target.model, "base_model": self.target.base_model,
            "endpoint": self.endpoint, "answer": self.answer}
        if self.target.deployment is not None:  # Azure: what was asked
            out["deployment"] = self.target.deployment
        return out


def resolve(ws: Workspace, ref: str, version: int | None = None) -> Target:
    """A manifest/managed name (its serving version, or `version`), a job id, or a model id."""
    target, _ = _resolve(ws, ref, version)
    return target


def _resolve(ws: Workspace, ref: str, version: int | None) -> tuple[Target, ModelState]:
    """The target, and the model state whose deployment asks it (a bare one for raw ids)."""
    if is_model_id(ref) or is_job_id(ref):
        return _by_id(ws, ref, version), ModelState(name="ftctl-try")
    state = model_state(ws, ref)
    chosen = _chosen(state, ref, version)
    index = {m.name: m for m in ws.desired.manifests}
    base = root_base_model(index, ref) if ws.manifest(ref) else None
    assert chosen.model_id is not None
    return Target(model=chosen.model_id, base_model=base or chosen.job.model, name=ref,
                  version=chosen.number), state


def _by_id(ws: Workspace, ref: str, version: int | None) -> Target:
    if version is not None:
        raise Refused("--version selects a version of a model name; "
                      f"{ref} is already one model")
    if is_model_id(ref):
        return Target(model=ref, base_model=None)
    made = get_job(ws, ref)
    if not made.fine_tuned_model:
        raise NotFound(f"job {made.id} is {made.status.value} and has no fine-tuned model")
    return Target(model=made.fine_tuned_model, base_model=made.model)


def _chosen(state: ModelState, ref: str, version: int | None) -> Version:
    chosen: Version | None
    if version is None:
        chosen = state.serving
        if chosen is None or not chosen.model_id:
            raise NotFound(f"{ref} has no serving version (no trained version whose model "
                           "still exists and that passed its checks); `ftctl show` lists its "
                           "versions, `--version N` picks one")
    else:
        chosen = next((v for v in state.trained if v.number == version), None)
        if chosen is None or not chosen.model_id:
            have = ", ".join(str(v.number) for v in reversed(state.trained)) or "none"
            raise NotFound(f"{ref} has no version {version} with a model "
                           f"(versions with a model: {have})")
    return chosen


def try_model(ws: Workspace, ref: str, prompt: Prompt, *, version: int | None = None
              ) -> TryResult:
    target, state = _resolve(ws, ref, version)
    if ws.api.arm is not None:
        through = known_deployments(state).get(target.model, verify_deployment_name(state))
        target = dataclasses.replace(target, deployment=through)
    completions = uses_completions(target.model, target.base_model)
    check = Check(prompt=prompt.text, system=prompt.system, max_tokens=prompt.max_tokens,
                  temperature=prompt.temperature)
    with asking(ws.api, state) as caller:
        answer = ask(caller, target.model, check, completions=completions)
    return TryResult(target=target, endpoint="completions" if completions else "chat",
                     answer=answer)
