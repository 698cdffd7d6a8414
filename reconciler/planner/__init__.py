"""The planner: (desired manifests, remote snapshot, options) -> Plan, and drift reports."""

from reconciler.planner.decide import PlanOptions, drift, plan

__all__ = ["PlanOptions", "drift", "plan"]
