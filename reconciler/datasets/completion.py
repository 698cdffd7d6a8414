"""Prompt/completion examples (babbage-002, davinci-002) and the legacy tool's advice.

Per line: string `prompt` and `completion`, a non-empty completion, case-insensitive header
hints. Over the whole file (streamed, constant memory): all prompts or all completions
identical (errors, as in the legacy tool), and as warnings the legacy suggestions on a common
prompt separator, a common completion ending (stop sequence) and a leading space
(dataset-rules §2.2). No I/O.
"""

from __future__ import annotations

from typing import Any

from reconciler.datasets.issues import ERROR, WARNING, IssueSink

PC_KEYS = frozenset(("prompt", "completion"))
SEPARATORS = (" ->", "\n\n###\n\n", "\n\n===\n\n", "\n\n---\n\n", "\n\n===>\n\n", "\n\n--->\n\n")
SEPARATOR_FALLBACK = "\n\n### =>\n\n"
ENDINGS = ("\n", ".", " END", "***", "+++", "&&&", "$$$", "@@@", "%%%")
ENDING_FALLBACK = " [END]"
LONG_CHARS = 10_000
_BATCH = 4096


class CompletionChecker:
    """Checks each line and keeps the few running facts the file-level advice needs."""

    def __init__(self) -> None:
        self.n = 0
        self.first: tuple[str, str] | None = None
        self.same_prompt = self.same_completion = True
        self.prompt_suffix: str | None = None
        self.completion_suffix: str | None = None
        self.prompt_has_newline = False
        self.used_separators: set[str] = set()
        self.used_endings: set[str] = set()
        self._prompts: list[str] = []
        self._completions: list[str] = []
        self.no_space = 0
        self.first_no_space = 0

    def check(self, obj: dict[str, Any], line: int, sink: IssueSink) -> int:
        prompt, completion = obj.get("prompt"), obj.get("completion")
        if type(prompt) is str and type(completion) is str and completion and len(obj) == 2:
            self._observe(prompt, completion, line, sink)
            return 2
        if not PC_KEYS.issuperset(obj) or len(obj) < 2:
            _keys(obj, line, sink)
        ok = True
        for key, value in (("prompt", prompt), ("completion", completion)):
            if value is not None and type(value) is not str:
                sink.add(
                    ERROR, f"invalid_{key}", line,
                    f"`{key}` must be a string, not {type(value).__name__}",
                    "Legacy tools stringified such values silently; write the text you mean.",
                )
                ok = False
        if completion == "":
            sink.add(ERROR, "empty_completion", line, "`completion` is empty")
        if ok and type(prompt) is str and type(completion) is str:
            self._observe(prompt, completion, line, sink)
        return -1  # not counted here: the caller counts keys generically

    def _observe(self, prompt: str, completion: str, line: int, sink: IssueSink) -> None:
        self.n += 1
        first = self.first
        if first is None:
            self.first = (prompt, completion)
            self.prompt_suffix, self.completion_suffix = prompt, completion
        else:
            if self.same_prompt and prompt != first[0]:
                self.same_prompt = False
            if self.same_completion and completion != first[1]:
                self.same_completion = False
            # Free once the common suffix is gone (the usual case after a few rows).
            suffix = self.prompt_suffix
            if suffix and not prompt.endswith(suffix):
                self.prompt_suffix = _common_suffix(suffix, prompt)
            suffix = self.completion_suffix
            if suffix and not completion.endswith(suffix):
                self.completion_suffix = _common_suffix(suffix, completion)
        # Candidate separators and endings are searched per batch in one joined text (C speed)
        # instead of per row; NUL never occurs in a candidate, so nothing matches across rows.
        prompts = self._prompts
        prompts.append(prompt)
        self._completions.append(completion)
        if len(prompts) >= _BATCH:
            self._flush()
        if completion and not completion[0].isspace():
            self.no_space += 1
            self.first_no_space = self.first_no_space or line
        if len(prompt) + len(completion) > LONG_CHARS:
            sink.add(
                WARNING, "long_example", line,
                f"example is {len(prompt) + len(completion)} characters long",
                "Such examples likely exceed the model's context and are truncated.",
            )

    def _flush(self) -> None:
        prompts, completions = "\0".join(self._prompts), "\0".join(self._completions)
        self._prompts.clear()
        self._completions.clear()
        self.used_separators.update(_found(SEPARATORS, prompts, self.used_separators))
        self.used_endings.update(_found(ENDINGS, completions, self.used_endings))
        self.prompt_has_newline = self.prompt_has_newline or "\n" in prompts

    def merge(self, other: CompletionChecker, offset: int) -> None:
        """Fold in the facts of a later part of the file (its lines shifted by offset)."""
        self._flush()
        other._flush()
        if other.first is None:
            return
        if self.first is None:
            self.first = other.first
            self.prompt_suffix = other.prompt_suffix
            self.completion_suffix = other.completion_suffix
        else:
            self.same_prompt = self.same_prompt and other.same_prompt and (
                other.first[0] == self.first[0])
            self.same_completion = self.same_completion and other.same_completion and (
                other.first[1] == self.first[1])
            self.prompt_suffix = _common_suffix(self.prompt_suffix or "", other.prompt_suffix or "")
            self.completion_suffix = _common_suffix(
                self.completion_suffix or "", other.completion_suffix or "")
        self.n += other.n
        self.prompt_has_newline = self.prompt_has_newline or other.prompt_has_newline
        self.used_separators |= other.used_separators
        self.used_endings |= other.used_endings
        self.no_space += other.no_space
        if other.first_no_space and not self.first_no_space:
            self.first_no_space = other.first_no_space + offset

    def finish(self, sink: IssueSink) -> None:
        """File-level errors and advice, reported at line 0 (the whole file)."""
        self._flush()
        if self.n < 2 or self.first is None:
            return
        if self.same_prompt and self.first[0]:
            sink.add(
                ERROR, "all_prompts_identical", 0, f"all prompts are identical: {self.first[0]!r}",
                "Leave prompts empty for open-ended generation, or make them differ.",
            )
        if self.same_completion:
            sink.add(
                ERROR, "all_completions_identical", 0,
                f"all completions are identical: {self.first[1]!r}",
                "The model would only learn to repeat it.",
            )
        self._advice(sink)

    def _advice(self, sink: IssueSink) -> None:
        if self.first is not None and self.first[0] and not self.prompt_suffix:
            sep = _first_unused(SEPARATORS, self.used_separators, SEPARATOR_FALLBACK,
                                skip=" ->" if self.prompt_has_newline else None)
            sink.add(
                WARNING, "no_prompt_separator", 0, "prompts do not end with a common separator",
                f"Append a separator such as {sep!r} to every prompt (and to prompts at "
                "inference) so the model knows where the completion starts.",
            )
        if not self.completion_suffix:
            end = _first_unused(ENDINGS, self.used_endings, ENDING_FALLBACK)
            sink.add(
                WARNING, "no_stop_sequence", 0,
                "completions do not end with a common stop sequence",
                f"End every completion with a marker such as {end!r} and pass it as `stop`.",
            )
        if self.no_space:
            sink.add(
                WARNING, "completion_leading_space", self.first_no_space,
                f"{self.no_space} completion(s) do not start with whitespace",
                "Start completions with a space; it tokenizes better.",
            )


def _keys(obj: dict[str, Any], line: int, sink: IssueSink) -> None:
    lowered = {k.lower(): k for k in obj}
    for key in ("prompt", "completion"):
        if key in obj:
            continue
        if key in lowered:
            sink.add(
                ERROR, f"missing_{key}", line, f"key {lowered[key]!r} should be lowercase {key!r}"
            )
        else:
            sink.add(ERROR, f"missing_{key}", line, f"`{key}` is missing")
    for key in obj:
        if key not in PC_KEYS and key.lower() not in PC_KEYS:
            sink.add(WARNING, "unknown_top_level_key", line, f"unknown top-level key {key!r}")


def _found(candidates: tuple[str, ...], text: str, known: set[str]) -> list[str]:
    """The candidates that occur in text. Each is first tested by its rarest character (a fast
    single-character scan), so absent candidates, the usual case, cost little."""
    out = []
    for c in candidates:
        if c not in known and _anchor(c) in text and c in text:
            out.append(c)
    return out


def _anchor(candidate: str) -> str:
    rare = [ch for ch in candidate if ch not in " \n.ENDT"]
    return rare[0] if rare else candidate[-1]


def _common_suffix(suffix: str, text: str) -> str:
    if not suffix or text.endswith(suffix):
        return suffix
    n = 0
    limit = min(len(suffix), len(text))
    while n < limit and suffix[-1 - n] == text[-1 - n]:
        n += 1
    return suffix[len(suffix) - n:] if n else ""


def _first_unused(
    candidates: tuple[str, ...], used: set[str], fallback: str, skip: str | None = None
) -> str:
    return next((c for c in candidates if c not in used and c != skip), fallback)
