"""The OpenAI cookbook's chat data checks (Chat_finetuning_data_prep.ipynb, 16,385-token
version), kept verbatim in logic for the benchmark: `python -m benchmarks.datasets_cookbook FILE
ENCODING`. bpe-openai stands in for tiktoken (which cannot download encodings offline); the
benchmark gives ftctl the same tokenizer. Prints the notebook's report and the elapsed seconds.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from typing import Any

import bpe_openai
import numpy as np


def main(data_path: str, encoding_name: str) -> None:  # noqa: C901 - the notebook, verbatim
    started = time.perf_counter()
    encoding = bpe_openai.get_encoding(encoding_name)
    with open(data_path, encoding="utf-8") as f:
        dataset = [json.loads(line) for line in f]

    format_errors: defaultdict[str, int] = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            format_errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            format_errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                format_errors["message_missing_key"] += 1
            allowed = ("role", "content", "name", "function_call", "weight")
            if any(k not in allowed for k in message):
                format_errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function"):
                format_errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None)
            if (not content and not function_call) or not isinstance(content, str):
                format_errors["missing_content"] += 1
        if not any(message.get("role", None) == "assistant" for message in messages):
            format_errors["example_missing_assistant_message"] += 1
    if format_errors:
        print("Found errors:")
        for k, v in format_errors.items():
            print(f"{k}: {v}")
    else:
        print("No errors found")

    def num_tokens_from_messages(messages: list[dict[str, Any]], tokens_per_message: int = 3,
                                 tokens_per_name: int = 1) -> int:
        num_tokens = 0
        for message in messages:
            num_tokens += tokens_per_message
            for key, value in message.items():
                num_tokens += len(encoding.encode(value))
                if key == "name":
                    num_tokens += tokens_per_name
        num_tokens += 3
        return num_tokens

    def num_assistant_tokens_from_messages(messages: list[dict[str, Any]]) -> int:
        num_tokens = 0
        for message in messages:
            if message["role"] == "assistant":
                num_tokens += len(encoding.encode(message["content"]))
        return num_tokens

    def print_distribution(values: list[int], name: str) -> None:
        print(f"\n#### Distribution of {name}:")
        print(f"min / max: {min(values)}, {max(values)}")
        print(f"mean / median: {np.mean(values)}, {np.median(values)}")
        print(f"p5 / p95: {np.quantile(values, 0.1)}, {np.quantile(values, 0.9)}")

    n_missing_system = 0
    n_missing_user = 0
    n_messages = []
    convo_lens = []
    assistant_message_lens = []
    for ex in dataset:
        messages = ex["messages"]
        if not any(message["role"] == "system" for message in messages):
            n_missing_system += 1
        if not any(message["role"] == "user" for message in messages):
            n_missing_user += 1
        n_messages.append(len(messages))
        convo_lens.append(num_tokens_from_messages(messages))
        assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
    print("Num examples missing system message:", n_missing_system)
    print("Num examples missing user message:", n_missing_user)
    print_distribution(n_messages, "num_messages_per_example")
    print_distribution(convo_lens, "num_total_tokens_per_example")
    print_distribution(assistant_message_lens, "num_assistant_tokens_per_example")
    n_too_long = sum(length > 16385 for length in convo_lens)
    print(f"\n{n_too_long} examples may be over the 16,385 token limit, "
          "they will be truncated during fine-tuning")

    max_tokens_per_example = 16385
    target_epochs, min_target_examples, max_target_examples = 3, 100, 25000
    min_default_epochs, max_default_epochs = 1, 25
    n_epochs = target_epochs
    n_train_examples = len(dataset)
    if n_train_examples * target_epochs < min_target_examples:
        n_epochs = min(max_default_epochs, min_target_examples // n_train_examples)
    elif n_train_examples * target_epochs > max_target_examples:
        n_epochs = max(min_default_epochs, max_target_examples // n_train_examples)
    n_billing_tokens_in_dataset = sum(min(max_tokens_per_example, n) for n in convo_lens)
    print(f"Dataset has ~{n_billing_tokens_in_dataset} tokens that will be charged for during "
          "training")
    print(f"By default, you'll train for {n_epochs} epochs on this dataset")
    print(f"By default, you'll be charged for ~{n_epochs * n_billing_tokens_in_dataset} tokens")
    elapsed = time.perf_counter() - started
    result = {"seconds": elapsed, "billing_tokens": n_billing_tokens_in_dataset}
    print(f"BENCH {json.dumps(result)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "cl100k_base")
