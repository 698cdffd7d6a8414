"""Renderers: values in, strings out. No I/O; only the CLI prints what they return."""
