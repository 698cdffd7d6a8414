"""A job list that races a job delete (the dated API's DELETE, which ftctl's prune sends while
other steps list jobs) leaves the deleted job out instead of answering 404.

The interleaving is made exact by deleting the job through the real store (as the DELETE
handler does) at the moment the list handler reads that job's row; everything else is the
emulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.azure_support import Azure


@pytest.fixture
def azure(make_emulator: Any, fake_clock: Any) -> Iterator[Azure]:
    env = Azure(make_emulator, fake_clock)
    yield env
    env.close()


def test_a_job_deleted_while_the_list_is_answered_is_left_out(
    azure: Azure, chat_dataset: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    file_id = azure.upload(chat_dataset)
    kept, gone = azure.create_job(file_id), azure.create_job(file_id)
    azure.clock.advance(10_000)  # both finished: a finished job may be deleted
    store = azure.app.store
    read_row = store.get_job

    raced: list[str] = []

    def deleted_meanwhile(job_id: str) -> Any:
        if job_id == gone["id"] and not raced:
            raced.append(job_id)
            store.delete_job(job_id, int(azure.clock.now()))  # what the DELETE handler does
        return read_row(job_id)

    monkeypatch.setattr(store, "get_job", deleted_meanwhile)
    listed = azure.v1.get("/fine_tuning/jobs")
    assert listed.status_code == 200, listed.text
    assert raced == [gone["id"]]  # the delete happened during the list
    assert [j["id"] for j in listed.json()["data"]] == [kept["id"]]
