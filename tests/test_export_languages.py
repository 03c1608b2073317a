"""Exports keep a sample's language: its fence tags and a `language` field."""

from __future__ import annotations

import re

from aiev_agents.data.export.formats import RUN_START, RUN_STOP, to_alpaca, to_autocoder, to_hf_row, wrap_runnable

import transcripts as tx

RUST = 'fn add(a: i32, b: i32) -> i32 { a + b }\nfn main() { assert_eq!(add(2, 3), 5); println!("ok"); }\n'


def rust_sample():
    sample = tx.first_try()
    messages = [
        turn.model_copy(update={"content": f"Here it is.\n\n```rs\n{RUST}```\n"}) if turn.role == "assistant" else turn
        for turn in sample.messages
    ]
    seed = {**sample.seed, "language": "rust"}
    return sample.model_copy(update={"seed": seed, "final_program": RUST, "messages": messages})


def test_the_final_solution_is_fenced_in_its_language():
    line = to_alpaca(rust_sample())
    assert line["language"] == "rust"
    assert line["output"] == f"```rust\n{RUST.rstrip()}\n```"


def test_the_autocoder_format_wraps_the_languages_fence_as_an_interpreter_call():
    line = to_autocoder(rust_sample())
    answer = next(m["content"] for m in line["messages"] if m["role"] == "assistant")
    assert line["language"] == "rust"
    assert answer == f"Here it is.\n{RUN_START}```rust\n{RUST.rstrip()}\n```{RUN_STOP}\n"


def test_a_python_sample_says_python():
    sample = tx.first_try()
    assert (to_hf_row(sample)["language"], to_alpaca(sample)["language"]) == ("python", "python")
    assert to_alpaca(sample)["output"].startswith("```python\n")


def test_fences_of_other_languages_are_left_alone_when_wrapping():
    answer = "```go\nfunc main() {}\n```\n\n```text\nok\n```\n"
    wrapped = wrap_runnable(answer, "go")
    assert re.findall(r"```(\w+)", wrapped) == ["go", "text"]
    assert wrapped.startswith(f"{RUN_START}```go\nfunc main() {{}}\n```{RUN_STOP}\n")
