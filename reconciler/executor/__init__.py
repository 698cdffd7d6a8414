"""Carry out a Plan's steps against the remote: the only place that mutates remote state.

Safety rules, in one place (run.py schedules, actions.py does the remote work):
- Order: steps run in dependency order, independent ones concurrently within a bound.
- Idempotent creates: before creating a job, and after any create whose answer was lost, the
  `ftctl-op` operation id is looked up, so one apply never creates a job twice.
- Concurrent applies (the rule ftctl chose over a lock, because it also holds across
  machines and CI runners): after a create, every live job carrying the same operation id is
  listed; the earliest survives and later ones are cancelled, so racing applies converge on
  one job per model version. Uploads are content-addressed and the oldest file under a name
  is the one used.
- Uploads: a file already present under its content-addressed name is not sent again, and a
  dataset whose bytes changed since the plan is never uploaded under the planned name.
- Failures: a failure stops its own chain (what depends on it) and no other. A DeleteModel runs
  only when its dependencies are done, the new version trained and its checks passed, and
  nothing else for that model failed.
- Deployments (Azure): a DeployModel that needs a version trained in this apply runs only once
  that version's checks passed (create-before-destroy), and never writes over a deployment
  that serves something other than what the plan was made from.
"""

from __future__ import annotations

from reconciler.executor.actions import Remote
from reconciler.executor.run import ExecOptions, Execution, Verify, execute

__all__ = ["ExecOptions", "Execution", "Remote", "Verify", "execute"]
