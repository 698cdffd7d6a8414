"""Use cases: validate, plan, drift, apply, ... Each wires loader -> observe -> planner ->
executor and returns results plus diagnostics. Never prints (the CLI renders)."""
