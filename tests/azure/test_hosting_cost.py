"""Hosting cost end to end on the Azure dialect through the real CLI: a plan that creates a
deployment shows its monthly hosting apart from training in text, Markdown and JSON,
`--max-monthly-cost` refuses it before anything is written, a retrain that only moves the
deployment changes nothing, and dropping the deployment shows the saving."""

from __future__ import annotations

import json

from .conftest import Arm, AzureProject

PRICES = ("prices:\n  - model: gpt-4o-mini\n    training_per_1m: 3.0\n"
          "    hosting_per_hour: 1.7\n")
MONTHLY = "+$1,241/month"  # 1.70 USD x 730 hours


def _priced(project: AzureProject) -> None:
    with (project.root / "ftctl.yaml").open("a") as fh:
        fh.write(PRICES)


def test_plan_prices_hosting_apart_from_training_and_the_guardrail_refuses(
    project: AzureProject, arm: Arm,
) -> None:
    _priced(project)
    project.model("alpha")
    code, text = project.run("plan")
    assert code == 0 and MONTHLY in text and "Estimated training cost" in text, text
    code, markdown = project.run("plan", "--format", "markdown")
    assert code == 0 and MONTHLY in markdown, markdown
    code, raw = project.run("plan", "--format", "json")
    doc = json.loads(raw)
    assert doc["estimate"]["monthly_hosting_usd"] == 1241.0
    assert [c["monthly_hosting_usd"] for c in doc["changes"]] == [1241.0]
    code, out = project.run("plan", "--max-monthly-cost", "1000")
    assert code == 1 and "--max-monthly-cost" in out, out
    code, out = project.run("apply", "--auto-approve", "--max-monthly-cost", "1000")
    assert code == 1 and arm.names() == [], out  # refused before any write
    assert "done: upload" not in out
    code, out = project.run("apply", "--auto-approve", "--max-monthly-cost", "1500")
    assert code == 0 and arm.names() == ["alpha"], out

    project.model("alpha", n_epochs=2)  # a retrain: the deployment moves, the bill stays
    code, raw = project.run("plan", "--format", "json", "--max-monthly-cost", "0")
    assert code == 0, raw
    assert json.loads(raw)["estimate"]["monthly_hosting_usd"] == 0
    code, out = project.run("apply", "--auto-approve")
    assert code == 0, out

    project.model("alpha", n_epochs=2, deployment=None)  # no deployment any more: a saving
    code, text = project.run("plan")
    assert code == 0 and "-$1,241/month" in text, text
