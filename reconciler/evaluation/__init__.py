"""Evaluation: score a newly trained version against the serving one on an eval set.

Modules, lowest first: `verdict` (metrics and the promotion rule; pure), `graders` (one answer
-> a score in [0, 1]; pure), `evalset` (read and validate the JSONL eval set), `cache` (scores
by model, example and grader under .ftctl/cache), `runner` (ask a model every example with
bounded concurrency, grade, compare). This package file imports nothing, so each module sits in
its own layer of the import contract.
"""
