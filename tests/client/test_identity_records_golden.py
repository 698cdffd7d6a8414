"""The identity records ftctl stamps on Azure when the service drops job metadata, literally:
their names and their bytes are read back by later runs (and other versions of ftctl), so any
change to them must be deliberate. Also: a record read back is the record written."""

from __future__ import annotations

from reconciler.client.fallback_identity import (
    Record,
    claimed_job,
    record_name,
    token_for,
)

BODY = {
    "model": "gpt-4o-mini-2024-07-18", "training_file": "file-abc", "suffix": "bot",
    "metadata": {"ftctl-workspace": "ws", "ftctl-name": "bot", "ftctl-op": "op-0123",
                 "ftctl-version": "1", "ftctl-spec": "s"},
}

GOLDEN_LINE = (
    b'{"messages": [{"content": "{\\"metadata\\": {\\"ftctl-name\\": \\"bot\\", '
    b'\\"ftctl-op\\": \\"op-0123\\", \\"ftctl-spec\\": \\"s\\", \\"ftctl-version\\": \\"1\\", '
    b'\\"ftctl-workspace\\": \\"ws\\"}, \\"model\\": \\"gpt-4o-mini-2024-07-18\\", '
    b'\\"suffix\\": \\"bot\\", \\"training_file\\": \\"file-abc\\"}", "role": "system"}, '
    b'{"content": "ftctl identity record", "role": "user"}, '
    b'{"content": "ok", "role": "assistant"}]}\n'
)


def test_the_record_bytes_are_exactly_these() -> None:
    assert Record.of_create(BODY).line() == GOLDEN_LINE


def test_the_record_names_are_exactly_these() -> None:
    assert token_for("op-0123") == "0a6eb961f5c81b9d"
    assert record_name("ws", "0a6eb961f5c81b9d") == "ftctl-identity.ws.0a6eb961f5c81b9d.jsonl"
    claim = record_name("ws", "0a6eb961f5c81b9d", "ftjob-XYZ")
    assert claim == "ftctl-identity.ws.0a6eb961f5c81b9d.ftjob-XYZ.jsonl"
    assert claimed_job(claim) == "ftjob-XYZ"
    assert claimed_job("ftctl-identity.ws.0a6eb961f5c81b9d.jsonl") is None
    assert claimed_job("ftctl-" + "a" * 64 + ".jsonl") is None  # a dataset, not a record


def test_a_record_reads_back_as_written() -> None:
    import json

    record = Record.of_create(BODY)
    assert Record.parse(json.loads(GOLDEN_LINE)) == record
    assert record.metadata == tuple(sorted(BODY["metadata"].items()))  # type: ignore[union-attr]
    assert Record.parse({"messages": [{"content": "not a record"}]}) is None
