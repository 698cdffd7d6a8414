"""Every dataset issue code, with its default severity, the reason for it and its source.

The one home of severities: checks name a code, and `Levels` (built from this table, the
project's `datasets.rules` overrides and `--strict`) decides whether it is an error, a warning,
a note, or off. The rule for defaults: an error is what the provider refuses (the upload, or
the job's file validation) or what cannot be read at all; whatever only lowers quality is a
warning; where the provider's behaviour is not documented, the code is a warning and says so.
docs/datasets.md is generated from this table (scripts/gen_dataset_docs.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reconciler.diagnostics import Diagnostics, Severity, error
from reconciler.spec import RuleOverride

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
OFF = "off"
LEVELS = ("error", "warning", "info", OFF)  # what `datasets.rules` accepts per code

# Sources, named once.
GUIDE = "OpenAI fine-tuning guide (platform.openai.com/docs/guides/fine-tuning)"
SCHEMA = "OpenAI API spec, fine-tuning input schemas (openai/openai-openapi)"
FILES = "OpenAI API reference, Files: fine-tune purpose accepts .jsonl only"
COOKBOOK = "OpenAI cookbook, examples/Chat_finetuning_data_prep.ipynb"
DRONE = ("OpenAI cookbook, examples/data/drone_training.jsonl (trained on in "
         "Fine_tuning_for_function_calling.ipynb)")
LEGACY = "openai 0.28 `tools fine_tunes.prepare_data` (validators.py)"
JSON_RFC = "RFC 8259 (JSON), RFC 3629 (UTF-8)"
UNKNOWN = "none found: the provider does not document it"
NOT_DOCUMENTED = "the provider's handling is not documented"


@dataclass(frozen=True, slots=True)
class Rule:
    default: Severity
    why: str
    source: str


def _r(default: Severity, why: str, source: str) -> Rule:
    return Rule(default, why, source)


# Codes of `data check`, `validate`, `plan` and `apply` (overridable in ftctl.yaml).
CHECKS: Mapping[str, Rule] = MappingProxyType({
    # -- reading the file
    "file_not_found": _r(ERROR, "there is nothing to upload", FILES),
    "not_jsonl": _r(ERROR, "fine-tuning accepts JSONL only; convert the file first", FILES),
    "empty_file": _r(ERROR, "an empty file has no examples; the upload is refused", GUIDE),
    "whole_file_json": _r(ERROR, "one JSON document is not JSONL: no line is an example",
                          FILES),
    "invalid_json": _r(ERROR, "the line cannot be read as JSON", JSON_RFC),
    "invalid_utf8": _r(ERROR, "training files must be UTF-8; the line cannot be decoded",
                       JSON_RFC),
    "nan_or_infinity": _r(ERROR, "NaN and Infinity are not JSON; strict readers refuse the line",
                          JSON_RFC),
    "lone_surrogate": _r(ERROR, "a lone surrogate cannot be encoded as UTF-8 text", JSON_RFC),
    "multiple_values": _r(ERROR, "several JSON values on one line are not one example",
                          JSON_RFC),
    "not_object": _r(ERROR, "every example is a JSON object; other values cannot be examples",
                     SCHEMA),
    "blank_line": _r(WARNING, "a blank line holds no example and common readers skip it; "
                     f"{NOT_DOCUMENTED}", UNKNOWN),
    "bom": _r(WARNING, "a UTF-8 byte order mark is read past by common JSON readers; "
              f"{NOT_DOCUMENTED}", UNKNOWN),
    "duplicate_key": _r(WARNING, "JSON readers keep one of the two values, so the other is "
                        f"lost; {NOT_DOCUMENTED}", UNKNOWN),
    # -- format of the file
    "unknown_format": _r(ERROR, "not a chat, preference or prompt/completion example: no "
                         "training format accepts it", SCHEMA),
    "mixed_formats": _r(ERROR, "one job trains on one format; the other examples are refused",
                        GUIDE),
    "format_mismatch": _r(ERROR, "the method or base model needs another format", GUIDE),
    "too_few_examples": _r(ERROR, "the provider requires at least 10 examples", GUIDE),
    "few_examples": _r(INFO, "50 to 100 well-crafted examples are recommended", GUIDE),
    # -- chat messages
    "missing_messages": _r(ERROR, "`messages` is required and must be a non-empty list",
                           SCHEMA),
    "message_not_object": _r(ERROR, "each message is an object", SCHEMA),
    "message_missing_key": _r(ERROR, "a message needs `role`, and `content` unless it "
                              "makes tool calls", SCHEMA),
    "unrecognized_role": _r(ERROR, "the role is none of the schema's", SCHEMA),
    "message_unrecognized_key": _r(WARNING, f"an unknown message key is not trained on; "
                                   f"{NOT_DOCUMENTED} (the cookbook's checks count it)", COOKBOOK),
    "weight_not_on_assistant": _r(WARNING, "`weight` means something only on assistant "
                                  f"messages; {NOT_DOCUMENTED}", SCHEMA),
    "invalid_weight": _r(ERROR, "`weight` is an integer 0 or 1", SCHEMA),
    "invalid_content": _r(ERROR, "content is a string or a list of parts", SCHEMA),
    "missing_content": _r(WARNING, f"an empty message teaches nothing; {NOT_DOCUMENTED}",
                          COOKBOOK),
    "invalid_content_part": _r(ERROR, "a content part is text, refusal or image_url",
                               SCHEMA),
    "image_not_in_user": _r(ERROR, "images may not be output of assistant messages", GUIDE),
    "too_many_images": _r(ERROR, "at most 10 images per example", GUIDE),
    "missing_assistant_message": _r(ERROR, "an example without an assistant message has "
                                    "nothing to train on; the file validation refuses it",
                                    GUIDE),
    "no_trainable_tokens": _r(WARNING, "every assistant message has weight 0", GUIDE),
    "missing_user_message": _r(WARNING, "examples usually hold the user turn", COOKBOOK),
    "missing_system_message": _r(INFO, "a system message helps; counted once per file",
                                 COOKBOOK),
    "system_not_first": _r(WARNING, "a system message mid-conversation is unusual", GUIDE),
    "trailing_non_assistant": _r(WARNING, "the last turn is not trained on", GUIDE),
    "unknown_top_level_key": _r(WARNING, f"an unknown key is not trained on; {NOT_DOCUMENTED}",
                                SCHEMA),
    # -- tools
    "invalid_tools": _r(ERROR, "`tools` is a list of functions with a string `name`", SCHEMA),
    "invalid_tool_call": _r(ERROR, "a tool call is {id, type: function, function: {name, "
                            "arguments}}", SCHEMA),
    "invalid_tool_arguments": _r(WARNING, "arguments that are not a string holding a JSON "
                                 "object (for instance a JSON-encoded string, or an object) "
                                 "teach the model odd calls; the provider trains on the "
                                 "cookbook's own file with such arguments", DRONE),
    "undeclared_function": _r(WARNING, "a call to a function the example does not declare "
                              f"(or with no `tools` at all) teaches a call that cannot be made; "
                              f"{NOT_DOCUMENTED}", UNKNOWN),
    "missing_tool_call_id": _r(ERROR, "a tool message requires `tool_call_id`", SCHEMA),
    "unknown_tool_call_id": _r(WARNING, "a tool message answers a call no assistant made; "
                               f"{NOT_DOCUMENTED}", UNKNOWN),
    # -- reinforcement
    "rft_last_turn": _r(ERROR, "a reinforcement prompt ends on the user (or developer) turn",
                        GUIDE),
    # -- preference (DPO)
    "dpo_missing_input": _r(ERROR, "`input` with `messages` is required", GUIDE),
    "dpo_invalid_output": _r(ERROR, "each output is a list with an assistant message", GUIDE),
    "dpo_completion_field": _r(ERROR, "the outputs are named preferred_output / "
                               "non_preferred_output; without them there is nothing to compare",
                               GUIDE),
    "dpo_image": _r(ERROR, "preference fine-tuning is text only", GUIDE),
    "dpo_input_ends_with_assistant": _r(WARNING, "the outputs are meant to be the final "
                                        f"assistant turn; {NOT_DOCUMENTED}", GUIDE),
    "dpo_identical_outputs": _r(WARNING, "identical outputs teach no preference", GUIDE),
    # -- prompt/completion (babbage-002, davinci-002)
    "missing_prompt": _r(ERROR, "`prompt` is required", SCHEMA),
    "missing_completion": _r(ERROR, "`completion` is required", SCHEMA),
    "invalid_prompt": _r(ERROR, "`prompt` is a string", SCHEMA),
    "invalid_completion": _r(ERROR, "`completion` is a string", SCHEMA),
    "empty_completion": _r(WARNING, f"an empty completion teaches nothing; {NOT_DOCUMENTED}",
                           LEGACY),
    "all_prompts_identical": _r(WARNING, "the legacy tool called it an error; it lowers "
                                f"quality, and {NOT_DOCUMENTED}", LEGACY),
    "all_completions_identical": _r(WARNING, "the legacy tool called it an error; it lowers "
                                    f"quality, and {NOT_DOCUMENTED}", LEGACY),
    "no_prompt_separator": _r(WARNING, "a common separator tells the model where the prompt "
                              "ends", LEGACY),
    "no_stop_sequence": _r(WARNING, "a common stop sequence tells the model where to stop",
                           LEGACY),
    "completion_leading_space": _r(WARNING, "completions start better with a space", LEGACY),
    "long_example": _r(WARNING, "very long examples are truncated", LEGACY),
    # -- whole-file facts
    "duplicate_example": _r(WARNING, "repeated examples weigh more than intended", COOKBOOK),
    "train_valid_overlap": _r(WARNING, "validation examples seen in training flatter the "
                              "validation loss", GUIDE),
    "example_too_long": _r(WARNING, "longer examples are truncated from the end, not refused",
                           GUIDE),
    "unknown_token_limit": _r(INFO, "the per-example limit of this model is not known", GUIDE),
})

# Codes of `data convert` (not overridable: they describe the conversion, not the dataset).
CONVERT: Mapping[str, Rule] = MappingProxyType({
    "unsupported_format": _r(ERROR, "the source type cannot be converted", FILES),
    "invalid_utf8": _r(ERROR, "the source is not UTF-8", JSON_RFC),
    "empty_file": _r(ERROR, "no rows to convert", FILES),
    "bad_row": _r(ERROR, "a row the CSV reader cannot split", FILES),
    "missing_column": _r(ERROR, "the prompt or completion column is missing", LEGACY),
    "invalid_json": _r(ERROR, "a JSON(L) row cannot be read", JSON_RFC),
    "not_object": _r(ERROR, "a JSON row is not an object", SCHEMA),
    "missing_value": _r(ERROR, "a row has no prompt or completion", SCHEMA),
    "non_string_value": _r(ERROR, "values are kept as written, never coerced", SCHEMA),
    "empty_completion": _r(ERROR, "a row with an empty completion is not written", LEGACY),
    "not_convertible": _r(ERROR, "the row has no shape the target format can hold", SCHEMA),
    "blank_row": _r(WARNING, "blank text lines are skipped", LEGACY),
    "header_case": _r(WARNING, "headers are read case-insensitively", LEGACY),
    "extra_columns": _r(WARNING, "columns other than prompt and completion are dropped",
                        LEGACY),
    "extra_sheets": _r(WARNING, "only the first sheet is read", LEGACY),
})


class Levels:
    """The severity of every code for one run: defaults, then overrides, then --strict.

    `of(code)` is None when the code is off. An unknown code is a bug in ftctl (KeyError).
    """

    __slots__ = ("_of", "key")

    def __init__(self, table: Mapping[str, Rule] = CHECKS,
                 overrides: Mapping[str, str] | None = None, *, strict: bool = False) -> None:
        overrides = overrides or {}
        of: dict[str, Severity | None] = {}
        for code, rule in table.items():
            level = overrides.get(code)
            severity = rule.default if level is None else None if level == OFF else Severity(level)
            if strict and severity is WARNING:
                severity = ERROR
            of[code] = severity
        self._of = of
        # Identifies these levels in caches: results checked under other levels are not reused.
        self.key = ",".join(f"{c}={o}" for c, o in sorted(overrides.items())) + (
            ":strict" if strict else "")

    def of(self, code: str) -> Severity | None:
        return self._of[code]


DEFAULT_LEVELS = Levels()
CONVERT_LEVELS = Levels(CONVERT)


def project_levels(overrides: Iterable[RuleOverride], *, strict: bool = False) -> Levels:
    """The levels of a project's `datasets.rules` (unknown codes are left out: see check)."""
    known = {o.code: o.level for o in overrides if o.code in CHECKS}
    if not known and not strict:
        return DEFAULT_LEVELS
    return Levels(CHECKS, known, strict=strict)


def check_overrides(overrides: Iterable[RuleOverride]) -> Diagnostics:
    """An error, with a did-you-mean, for every `datasets.rules` code that does not exist."""
    found = []
    for o in overrides:
        if o.code in CHECKS:
            continue
        close = difflib.get_close_matches(o.code, list(CHECKS), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        found.append(error(
            f"unknown dataset rule '{o.code}'{hint}",
            "The codes are those `ftctl data check` prints; docs/datasets.md lists them all.",
            subject=o.source, address=f"datasets.rules.{o.code}",
        ))
    return tuple(found)
