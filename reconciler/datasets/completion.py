"""Prompt/completion examples (babbage-002, davinci-002) and the legacy tool's advice.

Per line: string `prompt` and `completion`, a non-empty completion, case-insensitive header
hints. Over the whole file (streamed, constant memory): all prompts or all completions
identical (errors, as in the legacy tool), and as warnings the legacy suggestions on a common
prompt separator, a common completion ending (stop sequence) and a leading space. No I/O.
"""

from __future__ import annotations

from typing import Any

from reconciler.datasets.issues import IssueSink

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
        self._lines: list[int] = []
        self.no_space = 0
        self.first_no_space = 0

    def check(self, obj: dict[str, Any], line: int, sink: IssueSink) -> int:
        prompt, completion = obj.get("prompt"), obj.get("completion")
        if type(prompt) is str and type(completion) is str and completion and len(obj) == 2:
            # The usual row costs three appends; the file-level facts are computed per batch
            # with C-level string and list operations (see flush).
            self._prompts.append(prompt)
            self._completions.append(completion)
            self._lines.append(line)
            if len(self._lines) >= _BATCH:
                self.flush(sink)
            return 2
        if not PC_KEYS.issuperset(obj) or len(obj) < 2:
            _keys(obj, line, sink)
        ok = True
        for key, value in (("prompt", prompt), ("completion", completion)):
            if value is not None and type(value) is not str:
                sink.add(f"invalid_{key}", line,
                    f"`{key}` must be a string, not {type(value).__name__}",
                    "Legacy tools stringified such values silently; write the text you mean.",
                )
                ok = False
        if completion == "":
            sink.add("empty_completion", line, "`completion` is empty")
        if ok and type(prompt) is str and type(completion) is str:
            self._prompts.append(prompt)
            self._completions.append(completion)
            self._lines.append(line)
        return -1  # not counted here: the caller counts keys generically

    def flush(self, sink: IssueSink) -> None:
        """Fold the buffered rows into the running facts (call once more at the end)."""
        prompts, completions, lines = self._prompts, self._completions, self._lines
        if not lines:
            return
        self.n += len(lines)
        if self.first is None:
            self.first = (prompts[0], completions[0])
            self.prompt_suffix, self.completion_suffix = prompts[0], completions[0]
        first = self.first
        self.same_prompt = self.same_prompt and prompts.count(first[0]) == len(prompts)
        self.same_completion = self.same_completion and (
            completions.count(first[1]) == len(completions))
        self.prompt_suffix = _batch_suffix(self.prompt_suffix or "", prompts)
        self.completion_suffix = _batch_suffix(self.completion_suffix or "", completions)
        self._leading_space(completions, lines)
        self._long(prompts, completions, lines, sink)
        # NUL never occurs in a candidate, so no match spans two rows of the joined text.
        joined_p, joined_c = "\0".join(prompts), "\0".join(completions)
        self.used_separators.update(_found(SEPARATORS, joined_p, self.used_separators))
        self.used_endings.update(_found(ENDINGS, joined_c, self.used_endings))
        self.prompt_has_newline = self.prompt_has_newline or "\n" in joined_p
        prompts.clear()
        completions.clear()
        lines.clear()

    def _leading_space(self, completions: list[str], lines: list[int]) -> None:
        heads = [c[:1] for c in completions]
        spaced = sum(heads.count(ch) for ch in (" ", "\t", "\n", "\r", ""))
        if spaced == len(completions):
            return  # the usual case: no row needs a closer look
        for completion, line in zip(completions, lines, strict=True):
            if completion and not completion[0].isspace():
                self.no_space += 1
                self.first_no_space = self.first_no_space or line

    def _long(self, prompts: list[str], completions: list[str], lines: list[int],
              sink: IssueSink) -> None:
        if max(map(len, prompts)) + max(map(len, completions)) <= LONG_CHARS:
            return
        for prompt, completion, line in zip(prompts, completions, lines, strict=True):
            if len(prompt) + len(completion) > LONG_CHARS:
                sink.add("long_example", line,
                         f"example is {len(prompt) + len(completion)} characters long",
                         "Such examples likely exceed the model's context and are truncated.")

    def merge(self, other: CompletionChecker, offset: int) -> None:
        """Fold in the facts of a later part of the file (its lines shifted by offset).
        Both must have been flushed (Scan.run does so at the end of its range)."""
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
        self.flush(sink)
        if self.n < 2 or self.first is None:
            return
        if self.same_prompt and self.first[0]:
            sink.add("all_prompts_identical", 0, f"all prompts are identical: {self.first[0]!r}",
                     "Leave prompts empty for open-ended generation, or make them differ.")
        if self.same_completion:
            sink.add("all_completions_identical", 0,
                     f"all completions are identical: {self.first[1]!r}",
                     "The model would only learn to repeat it.")
        self._advice(sink)

    def _advice(self, sink: IssueSink) -> None:
        if self.first is not None and self.first[0] and not self.prompt_suffix:
            sep = _first_unused(SEPARATORS, self.used_separators, SEPARATOR_FALLBACK,
                                skip=" ->" if self.prompt_has_newline else None)
            sink.add("no_prompt_separator", 0, "prompts do not end with a common separator",
                     f"Append a separator such as {sep!r} to every prompt (and to prompts at "
                     "inference) so the model knows where the completion starts.")
        if not self.completion_suffix:
            end = _first_unused(ENDINGS, self.used_endings, ENDING_FALLBACK)
            sink.add("no_stop_sequence", 0,
                     "completions do not end with a common stop sequence",
                     f"End every completion with a marker such as {end!r} and pass it as `stop`.")
        if self.no_space:
            sink.add("completion_leading_space", self.first_no_space,
                     f"{self.no_space} completion(s) do not start with whitespace",
                     "Start completions with a space; it tokenizes better.")


def _keys(obj: dict[str, Any], line: int, sink: IssueSink) -> None:
    lowered = {k.lower(): k for k in obj}
    for key in ("prompt", "completion"):
        if key in obj:
            continue
        if key in lowered:
            sink.add(f"missing_{key}", line, f"key {lowered[key]!r} should be lowercase {key!r}"
            )
        else:
            sink.add(f"missing_{key}", line, f"`{key}` is missing")
    for key in obj:
        if key not in PC_KEYS and key.lower() not in PC_KEYS:
            sink.add("unknown_top_level_key", line, f"unknown top-level key {key!r}")


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


def _batch_suffix(suffix: str, texts: list[str]) -> str:
    for text in texts:
        if not suffix:
            return ""
        if not text.endswith(suffix):
            suffix = _common_suffix(suffix, text)
    return suffix


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
