"""List answers kept per emulator (`answers`): the spliced page is byte for byte what encoding
the envelope makes, kept answers never outlive a delete, never hide a change, and the page
queries read only an index."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.emulator import answers, jsoncodec
from reconciler.emulator.store import Store
from tests.emulator.test_jobs import create, upload


def job_like(n: int) -> dict[str, Any]:
    return {"id": f"ftjob-{n}", "object": "fine_tuning.job", "error": None, "seed": 2**40 + n,
            "hyperparameters": {"n_epochs": 3, "learning_rate_multiplier": 1e-05},
            "metadata": {"name": 'q"uo\\te é ✓\n', "n": str(n)}, "trained_tokens": None}


@pytest.mark.parametrize(("count", "limit"), [(0, 20), (3, 3), (4, 3), (101, 100)])
def test_a_spliced_page_is_byte_for_byte_the_encoded_envelope(count, limit):
    objects = [job_like(n) for n in range(count)]
    spliced = answers.encoded_envelope([answers.encode(o) for o in objects], limit)
    assert spliced == jsoncodec.dumps(answers.envelope(objects, limit))
    assert json.loads(spliced) == {"object": "list", "data": objects[:limit],
                                   "has_more": count > limit}


def test_a_spliced_page_literally():
    items = [answers.encode({"id": "ftjob-a", "status": "succeeded", "metadata": {"k": "é"}}),
             answers.encode({"id": "ftjob-b", "error": None})]
    assert answers.encoded_envelope(items, 1) == (
        b'{"object":"list","data":[{"id":"ftjob-a","status":"succeeded",'
        b'"metadata":{"k":"\xc3\xa9"}}],"has_more":true}')
    assert answers.encoded_envelope([], 20) == b'{"object":"list","data":[],"has_more":false}'


def test_the_envelope_names_first_and_last_ids_and_what_an_empty_page_says():
    objects = [job_like(n) for n in range(3)]
    assert answers.envelope(objects, 2, ids="") == {
        "object": "list", "data": objects[:2], "has_more": True,
        "first_id": "ftjob-0", "last_id": "ftjob-1"}
    assert answers.envelope([], 10, ids="") == {
        "object": "list", "data": [], "has_more": False, "first_id": "", "last_id": ""}


def test_kept_answers_are_built_once_in_the_order_asked_and_rows_left_out_stay_out():
    kept: answers.Kept[str] = answers.Kept()
    asked: list[list[int]] = []

    def build(seqs: list[int]) -> list[tuple[int, str, bool]]:
        asked.append(seqs)  # 2 is gone; odd rows have settled, even ones may still change
        return [(seq, f"v{seq}.{len(asked)}", seq % 2 == 1) for seq in seqs if seq != 2]

    assert kept.page([5, 4, 3, 2, 1], build) == ["v5.1", "v4.1", "v3.1", "v1.1"]
    assert kept.page([5, 4, 3, 2, 1], build) == ["v5.1", "v4.2", "v3.1", "v1.1"]
    assert asked == [[5, 4, 3, 2, 1], [4, 2]] and len(kept) == 3
    assert kept.page([3, 1], build) == ["v3.1", "v1.1"] and len(asked) == 2


def test_kept_answers_stay_bounded(monkeypatch):
    monkeypatch.setattr(answers, "CAP", 4)
    kept: answers.Kept[int] = answers.Kept()
    for seq in range(10):
        kept.page([seq], lambda seqs: [(s, s, True) for s in seqs])
    assert 1 <= len(kept) <= 4


def test_a_listing_answers_the_same_bytes_when_its_jobs_are_kept(emulator_http, fake_clock,
                                                                 chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    for i in range(3):
        create(emulator_http, fid, metadata={"ws": "a"}, suffix=f"s{i}")
    fake_clock.advance(10_000)
    params = {"metadata[ws]": "a", "limit": 2}
    first = emulator_http.get("/fine_tuning/jobs", params=params).content  # records the ends
    second = emulator_http.get("/fine_tuning/jobs", params=params).content  # keeps them
    third = emulator_http.get("/fine_tuning/jobs", params=params).content  # from what is kept
    assert first == second == third
    body = json.loads(third)
    assert [j["status"] for j in body["data"]] == ["succeeded"] * 2 and body["has_more"]


def test_a_kept_file_is_gone_once_deleted_and_a_result_file_shows_once_its_job_succeeded(
        emulator_http, fake_clock, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    job = create(emulator_http, fid)

    def listed(**params: Any) -> list[str]:
        return [f["id"] for f in emulator_http.get("/files", params=params).json()["data"]]

    assert listed() == listed() == [fid]  # the result file exists once the job succeeded
    fake_clock.advance(10_000)
    result = emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()["result_files"][0]
    assert listed() == listed() == [result, fid]
    assert listed(purpose="fine-tune") == [fid]
    assert emulator_http.delete(f"/files/{fid}").status_code == 200
    assert listed() == [result] and listed(purpose="fine-tune") == []
    empty = emulator_http.get("/files", params={"purpose": "fine-tune"}).json()
    assert (empty["first_id"], empty["last_id"], empty["has_more"]) == ("", "", False)


def test_page_queries_read_only_an_index(tmp_path):
    store = Store(str(tmp_path / "e.db"))
    with store._lease() as conn:
        sent: list[str] = []
        conn.set_trace_callback(sent.append)  # the statements with their values bound
    store.list_job_seqs(metadata={"k": "v"}, metadata_null=False, after="ftjob-x", limit=101)
    store.list_file_seqs(purpose="fine-tune", after="file-x", order="desc", limit=10001)
    with store._lease() as conn:
        conn.set_trace_callback(None)
        jobs, files = ([row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
                       for sql in sent)
    store.close()
    assert jobs[0].startswith("SEARCH m USING COVERING INDEX job_metadata_kv"), jobs
    assert files[0].startswith("SEARCH files USING COVERING INDEX files_listed"), files
    reads = [step for step in jobs + files if step.startswith(("SEARCH", "SCAN"))]
    assert all("COVERING INDEX" in step for step in reads), reads  # no table row is read
    assert not any("TEMP B-TREE" in step for step in jobs + files)  # the index is in order
