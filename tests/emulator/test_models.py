"""Models, inference and checkpoint permissions over HTTP (in-process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

BASE = "gpt-4o-mini-2024-07-18"


def trained_model(http: httpx.Client, clock: Any, data: Path, model: str = BASE,
                  **extra: Any) -> str:
    with data.open("rb") as fh:
        fid = http.post("/files", files={"file": ("t.jsonl", fh)},
                        data={"purpose": "fine-tune"}).json()["id"]
    job = http.post("/fine_tuning/jobs",
                    json={"model": model, "training_file": fid, **extra}).json()
    clock.advance(10_000)
    return str(http.get(f"/fine_tuning/jobs/{job['id']}").json()["fine_tuned_model"])


def test_models_list_retrieve_delete_with_colons(emulator_http, fake_clock, chat_dataset):
    listed = {m["id"]: m for m in emulator_http.get("/models").json()["data"]}
    assert {"gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14", "babbage-002"} <= set(listed)
    assert listed["gpt-3.5-turbo-0125"]["shutdown_date"] == "2026-09-28"
    ft = trained_model(emulator_http, fake_clock, chat_dataset)  # no suffix: "::" in the id
    assert "::" in ft
    assert ft in {m["id"] for m in emulator_http.get("/models").json()["data"]}
    got = emulator_http.get(f"/models/{ft}").json()
    assert got["id"] == ft and got["owned_by"] == "org-emulator"
    assert emulator_http.delete(f"/models/{ft}").json() == {
        "id": ft, "object": "model", "deleted": True}
    assert emulator_http.get(f"/models/{ft}").json()["error"]["code"] == "model_not_found"
    assert ft not in {m["id"] for m in emulator_http.get("/models").json()["data"]}
    assert emulator_http.delete(f"/models/{ft}").status_code == 404
    assert emulator_http.delete(f"/models/{BASE}").status_code == 403


def test_chat_answers_with_most_similar_example(emulator_http, fake_clock, chat_dataset):
    ft = trained_model(emulator_http, fake_clock, chat_dataset, suffix="bot")
    ask = {"model": ft, "messages": [{"role": "user", "content": "where is order number 7?"}]}
    first = emulator_http.post("/chat/completions", json=ask).json()
    second = emulator_http.post("/chat/completions", json=ask).json()
    reply = first["choices"][0]["message"]["content"]
    assert reply == "Order 7 ships today; tracking follows."
    assert second["choices"][0]["message"]["content"] == reply
    base = emulator_http.post("/chat/completions", json={**ask, "model": BASE}).json()
    assert "emulator" in base["choices"][0]["message"]["content"]
    emulator_http.delete(f"/models/{ft}")
    gone = emulator_http.post("/chat/completions", json=ask)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"


def test_completions_for_babbage_fine_tunes(emulator_http, fake_clock, tmp_path):
    data = tmp_path / "pc.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"colour of item {i} ->",
                                        "completion": f" shade {i}"}) + "\n" for i in range(12)))
    ft = trained_model(emulator_http, fake_clock, data, model="babbage-002")
    assert ft.startswith("ft:babbage-002:")
    out = emulator_http.post("/completions", json={"model": ft, "prompt": "colour of item 3 ->"})
    assert out.json()["choices"][0]["text"] == " shade 3"


def test_checkpoint_permissions(emulator_http, fake_clock, chat_dataset):
    ft = trained_model(emulator_http, fake_clock, chat_dataset, suffix="p")
    job_id = emulator_http.get("/fine_tuning/jobs").json()["data"][0]["id"]
    ckpt = emulator_http.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"][0]
    name = ckpt["fine_tuned_model_checkpoint"]
    assert name.startswith(ft + ":ckpt-step-")
    made = emulator_http.post(f"/fine_tuning/checkpoints/{name}/permissions",
                              json={"project_ids": ["proj_a", "proj_b"]}).json()
    assert [p["project_id"] for p in made["data"]] == ["proj_a", "proj_b"]
    listed = emulator_http.get(f"/fine_tuning/checkpoints/{name}/permissions",
                               params={"project_id": "proj_b"}).json()["data"]
    assert [p["id"] for p in listed] == [made["data"][1]["id"]]
    pid = made["data"][0]["id"]
    deleted = emulator_http.delete(f"/fine_tuning/checkpoints/{name}/permissions/{pid}").json()
    assert deleted == {"id": pid, "object": "checkpoint.permission", "deleted": True}
    unknown = emulator_http.post(f"/fine_tuning/checkpoints/{ft}:ckpt-step-999999/permissions",
                                 json={"project_ids": ["proj_a"]})
    assert unknown.status_code == 404


def test_auth_errors(emulator_http):
    missing = emulator_http.get("/models", headers={"Authorization": ""})
    assert missing.status_code == 401 and missing.json()["error"]["code"] is None
    wrong = emulator_http.get("/models", headers={"Authorization": "Bearer sk-wrong-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key" not in wrong.text and "sk-test" not in wrong.text
    unknown_route = emulator_http.get("/nope")
    assert unknown_route.status_code == 404 and "error" in unknown_route.json()
