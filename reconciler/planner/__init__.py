"""The planner: (desired manifests, remote snapshot, options) -> Plan, and drift reports.

`state` reads the snapshot once into what each model is (versions, verdicts, the serving
version); `decide` turns the difference with the manifests into steps; `compare`, `normalize`
and `field_diff` say how a job differs from its manifest; `identity` and `verdicts` are the
names ftctl stamps on the provider. Pure: no disk, network or clock.
"""

from reconciler.planner.decide import PlanOptions, drift, plan

__all__ = ["PlanOptions", "drift", "plan"]
