"""Benchmarks for ftctl (run as modules, e.g. `python -m benchmarks.datasets`)."""
