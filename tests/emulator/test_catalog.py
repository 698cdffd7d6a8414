"""The emulator's model list, like OpenAI's, holds a model that cannot be fine-tuned: listed by
GET /models, refused by job creation (so ftctl's plan-time check is against the list alone)."""

from __future__ import annotations

from pathlib import Path

import httpx

LISTED_ONLY = "gpt-4o-2024-05-13"


def test_a_listed_model_that_cannot_be_fine_tuned_is_refused(
    emulator_http: httpx.Client, chat_dataset: Path
) -> None:
    listed = {m["id"] for m in emulator_http.get("/models").json()["data"]}
    assert LISTED_ONLY in listed and "gpt-4o-mini-2024-07-18" in listed
    with chat_dataset.open("rb") as fh:
        fid = emulator_http.post("/files", files={"file": ("t.jsonl", fh)},
                                 data={"purpose": "fine-tune"}).json()["id"]
    refused = emulator_http.post("/fine_tuning/jobs",
                                 json={"model": LISTED_ONLY, "training_file": fid})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "model"
    assert "not available for fine-tuning" in refused.json()["error"]["message"]
    assert emulator_http.delete(f"/models/{LISTED_ONLY}").status_code == 403
