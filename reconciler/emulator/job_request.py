"""Checking a create-job request and turning it into the stored job document.

Request mistakes answer 400 with `param` naming the field. Dataset problems do not: the job is
created and fails in validating_files (the analysis is done now and kept in the document).
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from reconciler.emulator import catalog, validation
from reconciler.emulator.context import Context, new_id
from reconciler.emulator.errors import invalid

_Rule = tuple[type, float | None, float | None]  # (type, lower bound, upper bound)
_HP_COMMON: dict[str, _Rule] = {
    "batch_size": (int, 1, 256), "learning_rate_multiplier": (float, 0.0, None),
    "n_epochs": (int, 1, 50),
}
_HP_EXTRA: dict[str, dict[str, _Rule]] = {
    "supervised": {},
    "dpo": {"beta": (float, 0.0, 2.0)},
    "reinforcement": {"compute_multiplier": (float, 0.00001, 10.0), "eval_interval":
                      (int, 1, None), "eval_samples": (int, 1, None),
                      "reasoning_effort": (str, None, None)},
}


def build_job_doc(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    model = _model(ctx, body.get("model"))
    training = _required_file(ctx, body.get("training_file"))
    validation_file = _file(ctx, body.get("validation_file"), "validation_file", required=False)
    method = _method(body)
    _check_suffix(body.get("suffix"))
    seed = _seed(body.get("seed"))
    metadata = _metadata(body.get("metadata"))
    integrations = _integrations(body.get("integrations"))
    base = catalog.root_base(model)
    kind = validation.kind_for(method["type"], base)
    analysis = _analyse(ctx, training, kind)
    error = _error_of(analysis, "training_file")
    if error is None and validation_file is not None:
        error = _error_of(_analyse(ctx, validation_file, kind), "validation_file")
    hp = _resolve(method, analysis["n_examples"])
    suffix = body.get("suffix") or ""
    epochs = int(hp["n_epochs"])
    return {
        "model": model, "base_model": base, "training_file": training["id"],
        "validation_file": validation_file["id"] if validation_file else None,
        "method": method, "hyperparameters": {k: hp[k] for k in _HP_COMMON},
        "suffix": suffix, "seed": seed, "metadata": metadata, "integrations": integrations,
        "fine_tuned_model": ctx.fine_tuned_model_name(base, suffix),
        "result_file": new_id("file-", 22),
        "n_examples": analysis["n_examples"], "n_epochs": epochs,
        "total_steps": math.ceil(analysis["n_examples"] / int(hp["batch_size"])) * epochs,
        "trained_tokens": analysis["tokens"] * epochs, "error": error,
    }


def _model(ctx: Context, model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise invalid("Missing required parameter: 'model'.", "model")
    if catalog.is_fine_tunable(model) or catalog.live_job(ctx, model) is not None:
        return model
    raise invalid(f"Model {model} is not available for fine-tuning or does not exist.",
                  "model", "model_not_available")


def _required_file(ctx: Context, file_id: Any) -> dict[str, Any]:
    row = _file(ctx, file_id, "training_file", required=True)
    assert row is not None
    return row


def _file(ctx: Context, file_id: Any, param: str, *, required: bool) -> dict[str, Any] | None:
    if file_id is None and not required:
        return None
    if not isinstance(file_id, str) or not file_id:
        raise invalid(f"Missing required parameter: '{param}'.", param)
    row = ctx.store.get_file(file_id)
    if row is None or row["blob"] is None:
        raise invalid(f"Invalid file id '{file_id}': no such file.", param, "invalid_file_id")
    if row["purpose"] != "fine-tune":
        raise invalid(f"File {file_id} has purpose {row['purpose']!r}; expected 'fine-tune'.",
                      param, "invalid_file_purpose")
    return row


def _method(body: dict[str, Any]) -> dict[str, Any]:
    method = body.get("method")
    legacy = body.get("hyperparameters")
    if method is None:
        method = {"type": "supervised", "supervised": {"hyperparameters": legacy or {}}}
    if not isinstance(method, dict) or method.get("type") not in _HP_EXTRA:
        raise invalid("'method.type' must be one of supervised, dpo, reinforcement.",
                      "method.type")
    kind = method["type"]
    section = method.get(kind) or {}
    if not isinstance(section, dict):
        raise invalid(f"'method.{kind}' must be an object.", f"method.{kind}")
    if kind == "reinforcement" and not isinstance(section.get("grader"), dict):
        raise invalid("Missing required parameter: 'method.reinforcement.grader'.",
                      "method.reinforcement.grader")
    if kind == "reinforcement":
        _check_grader(section["grader"], "method.reinforcement.grader")
    hp = section.get("hyperparameters") or {}
    if not isinstance(hp, dict):
        raise invalid("'hyperparameters' must be an object.", f"method.{kind}.hyperparameters")
    allowed = {**_HP_COMMON, **_HP_EXTRA[kind]}
    for key, value in hp.items():
        if key not in allowed:
            raise invalid(f"Unknown hyperparameter {key!r}.", f"method.{kind}.hyperparameters")
        _check_hp(key, value, allowed[key], f"method.{kind}.hyperparameters.{key}")
    return {"type": kind, kind: {**section, "hyperparameters": dict(hp)}}


_GRADER_TYPES = ("string_check", "text_similarity", "python", "score_model", "label_model")


def _check_grader(grader: dict[str, Any], param: str) -> None:
    """A grader's type, and a multi grader's shape: `graders` maps a name (a variable of
    `calculate_output`) to a grader that is not itself multi, as OpenAI's graders guide has it."""
    if grader.get("type") == "multi":
        graders = grader.get("graders")
        if not isinstance(graders, dict) or not graders:
            raise invalid("'graders' must be an object mapping a name to a grader.",
                          f"{param}.graders")
        for name, inner in graders.items():
            if not isinstance(inner, dict) or inner.get("type") not in _GRADER_TYPES:
                raise invalid(f"Grader {name!r} must be one of {', '.join(_GRADER_TYPES)} "
                              "(a multi grader cannot nest another).", f"{param}.graders.{name}")
        if not isinstance(grader.get("calculate_output"), str) or not grader["calculate_output"]:
            raise invalid("Missing required parameter: 'calculate_output'.",
                          f"{param}.calculate_output")
    elif grader.get("type") not in _GRADER_TYPES:
        raise invalid(f"Invalid grader type {grader.get('type')!r}.", f"{param}.type")


def _check_hp(key: str, value: Any, rule: tuple[type, float | None, float | None],
              param: str) -> None:
    typ, low, high = rule
    if value == "auto" or (typ is str and isinstance(value, str)):
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and typ is int:
        ok = isinstance(value, int) or float(value).is_integer()
    if ok and low is not None:
        ok = value > low if typ is float else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        raise invalid(f"Invalid value for {key}: {value!r}.", param)


def _resolve(method: dict[str, Any], n_examples: int) -> dict[str, Any]:
    """Hyperparameters with "auto" replaced by what the service would choose."""
    hp = dict(method[method["type"]]["hyperparameters"])
    n = max(n_examples, 1)
    defaults: dict[str, Any] = {
        "n_epochs": default_epochs(n), "batch_size": max(1, min(256, round(n * 0.002))),
        "learning_rate_multiplier": 1.8,
    }
    if method["type"] == "dpo":
        defaults["beta"] = 0.1
    for key, value in defaults.items():
        if hp.get(key, "auto") == "auto":
            hp[key] = value
    hp["n_epochs"], hp["batch_size"] = int(hp["n_epochs"]), int(hp["batch_size"])
    method[method["type"]]["hyperparameters"] = hp
    return hp


def default_epochs(n: int) -> int:
    """OpenAI's published rule: 3 epochs, more for tiny sets, fewer for huge ones."""
    if n * 3 < 100:
        return min(25, math.ceil(100 / n))
    if n * 3 > 25000:
        return max(1, 25000 // n)
    return 3


def _check_suffix(suffix: Any) -> None:
    if suffix is None:
        return
    if not isinstance(suffix, str) or not 1 <= len(suffix) <= 64:
        raise invalid("'suffix' must be a string of 1 to 64 characters.", "suffix")


def _seed(seed: Any) -> int:
    if seed is None:
        return secrets.randbelow(2147483647)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2147483647:
        raise invalid("'seed' must be an integer between 0 and 2147483647.", "seed")
    return seed


def _metadata(metadata: Any) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > 16:
        raise invalid("'metadata' must be an object of at most 16 pairs.", "metadata")
    for key, value in metadata.items():
        if len(key) > 64:
            raise invalid(f"Metadata key {key[:20]!r}... is longer than 64 characters.",
                          "metadata")
        if not isinstance(value, str) or len(value) > 512:
            raise invalid(f"Metadata value for {key!r} must be a string of at most 512 "
                          "characters.", "metadata")
    return dict(metadata)


def _integrations(integrations: Any) -> list[dict[str, Any]] | None:
    if integrations is None:
        return None
    if not isinstance(integrations, list) or len(integrations) > 5:
        raise invalid("'integrations' must be a list of at most 5 items.", "integrations")
    for item in integrations:
        ok = isinstance(item, dict) and item.get("type") == "wandb"
        if not ok or not isinstance(item.get("wandb"), dict) or not item["wandb"].get("project"):
            raise invalid("Each integration must be {type: wandb, wandb: {project, ...}}.",
                          "integrations")
    return integrations


def _analyse(ctx: Context, row: dict[str, Any], kind: str) -> dict[str, Any]:
    cached = ctx.store.get_analysis(row["id"], kind)
    if cached is None:
        cached = validation.analyse(ctx.store.blob_path(row["blob"]), kind)
        ctx.store.put_analysis(row["id"], kind, cached)
    return cached


def _error_of(analysis: dict[str, Any], param: str) -> dict[str, Any] | None:
    problem = analysis["error"]
    if problem is None:
        return None
    which = "training" if param == "training_file" else "validation"
    return {"code": f"invalid_{which}_file", "param": param,
            "message": f"The job failed due to an invalid {which} file. {problem['message']}"}
