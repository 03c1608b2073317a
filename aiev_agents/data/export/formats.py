"""One verified ``Transcript`` → one training example, in each supported format.

Pure functions of a transcript, no I/O. The conversation is the programmer's view: its
system prompt, the questioner's turns and the executor's reports as the user, its own
answers as the assistant. It always ends with the assistant (trailing user turns, such as
the report of the final passing run, are dropped). With ``merge=True`` (the default) runs
of same-role turns are joined, because most chat templates and ShareGPT readers need
strict user/assistant alternation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ...codeblocks import classify, code_in_language, fence_label, fenced, split_program
from ...dialogue.transcript import Transcript, Turn
from ...sandbox.languages import known_language

ExportFormat = Literal["openai", "sharegpt", "alpaca", "hf", "autocoder"]
FORMATS: tuple[ExportFormat, ...] = ("openai", "sharegpt", "alpaca", "hf", "autocoder")
EXPORT_SCHEMA_VERSION = 1

#: AutoCoder's interpreter protocol (bin123apple/AutoCoder): a runnable block sits right
#: between the markers, fence included, e.g. ``<API_RUN_START>```python ... ```<API_RUN_STOP>``.
RUN_START = "<API_RUN_START>"
RUN_STOP = "<API_RUN_STOP>"

_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}
#: The fence tag each language's code is exported under.
FENCE_TAGS = {name: name for name in ("python", "javascript", "cpp", "java", "rust", "go", "bash")}


def language_of(transcript: Transcript) -> str:
    """The language of a sample's programs: its seed's ``language``, Python by default."""
    return known_language(str(transcript.seed.get("language") or "python")) or "python"


_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Message:
    """One chat message of an exported conversation."""

    role: str
    content: str


def conversation(transcript: Transcript, *, merge: bool = True) -> list[Message]:
    """The dialogue as chat messages, ending with the assistant.

    Args:
        transcript: A stored dialogue.
        merge: Join consecutive turns of the same role (an executor report and the
            questioner's explanation become one user turn).

    Returns:
        The messages; empty if the programmer never answered.
    """
    turns: list[Turn] = list(transcript.messages)
    while turns and turns[-1].role != "assistant":
        turns.pop()
    messages: list[Message] = []
    for turn in turns:
        if merge and messages and messages[-1].role == turn.role:
            messages[-1] = Message(turn.role, f"{messages[-1].content}\n\n{turn.content}")
        else:
            messages.append(Message(turn.role, turn.content))
    return messages


def to_openai(transcript: Transcript, *, merge: bool = True) -> dict[str, Any]:
    """An OpenAI chat fine-tuning line: ``{"messages": [{"role", "content"}, ...]}`` and nothing else.

    The fine-tuning API accepts only known keys, so the line carries no id or version; both
    are in the dataset card.
    """
    return {"messages": [{"role": m.role, "content": m.content} for m in conversation(transcript, merge=merge)]}


def to_sharegpt(transcript: Transcript, *, merge: bool = True) -> dict[str, Any]:
    """A ShareGPT line: ``conversations`` of ``{"from": system|human|gpt, "value"}``."""
    return {
        "id": transcript.id,
        "schema": EXPORT_SCHEMA_VERSION,
        "language": language_of(transcript),
        "conversations": [
            {"from": _SHAREGPT_FROM[m.role], "value": m.content} for m in conversation(transcript, merge=merge)
        ],
    }


def to_alpaca(transcript: Transcript) -> dict[str, Any]:
    """An Alpaca line: the problem as ``instruction`` and the final solution as ``output``.

    The output is self-contained: a ``bash`` block with the ``pip install`` lines (if any)
    and the final program, tests included, in a ``python`` block.
    """
    return {
        "id": transcript.id,
        "schema": EXPORT_SCHEMA_VERSION,
        "language": language_of(transcript),
        "instruction": transcript.problem,
        "input": "",
        "output": final_solution(transcript),
    }


def to_autocoder(transcript: Transcript, *, merge: bool = True) -> dict[str, Any]:
    """A chat line in AutoCoder's interpreter format.

    Each programmer answer has its runnable code rewritten as the interpreter saw it: one
    ``sh`` block of ``pip install`` lines (when it asked for packages) and one ``python``
    block with the program that ran, each wrapped as ``<API_RUN_START>```lang ...```<API_RUN_STOP>``;
    its prose is kept around them. The execution report follows as the user turn, so a model
    learns to call its own interpreter.
    """
    language = language_of(transcript)
    messages = [
        {"role": m.role, "content": wrap_runnable(m.content, language) if m.role == "assistant" else m.content}
        for m in conversation(transcript, merge=merge)
    ]
    return {"id": transcript.id, "schema": EXPORT_SCHEMA_VERSION, "language": language, "messages": messages}


def to_hf_row(transcript: Transcript, *, merge: bool = True) -> dict[str, Any]:
    """A row of the Hugging Face dataset (see :func:`hf_features` for the columns)."""
    return {
        "id": transcript.id,
        "schema": EXPORT_SCHEMA_VERSION,
        "stage": transcript.stage,
        "status": transcript.status,
        "rounds": transcript.rounds,
        "language": language_of(transcript),
        "problem": transcript.problem,
        "messages": [{"role": m.role, "content": m.content} for m in conversation(transcript, merge=merge)],
        "final_program": transcript.final_program,
        "final_packages": list(transcript.final_packages),
        "models": [{"role": role, "model": model} for role, model in sorted(transcript.models.items())],
        "executions": [
            {
                "round": e.round,
                "status": e.status,
                "exit_code": e.exit_code,
                "output": e.output,
                "packages": list(e.packages),
                "assertions": e.assertions,
                "test_cases": e.test_cases,
                "duration_s": e.duration_s,
            }
            for e in transcript.executions
        ],
        "seed": json.dumps(transcript.seed, ensure_ascii=False, sort_keys=True),
        "config_hash": transcript.config_hash or "",
    }


def hf_features() -> Any:
    """The ``datasets.Features`` of :func:`to_hf_row` (imports ``datasets``)."""
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "schema": Value("int32"),
            "stage": Value("string"),
            "status": Value("string"),
            "rounds": Value("int32"),
            "language": Value("string"),
            "problem": Value("string"),
            "messages": List({"role": Value("string"), "content": Value("string")}),
            "final_program": Value("string"),
            "final_packages": List(Value("string")),
            "models": List({"role": Value("string"), "model": Value("string")}),
            "executions": List(
                {
                    "round": Value("int32"),
                    "status": Value("string"),
                    "exit_code": Value("int32"),
                    "output": Value("string"),
                    "packages": List(Value("string")),
                    "assertions": Value("int32"),
                    "test_cases": Value("int32"),
                    "duration_s": Value("float64"),
                }
            ),
            "seed": Value("string"),
            "config_hash": Value("string"),
        }
    )


def final_solution(transcript: Transcript) -> str:
    """The final answer as markdown: an optional ``bash`` pip block, then the program in a fence
    of its language (``python``, ``javascript``, ``cpp``, ``java``, ``rust``, ``go``, ``bash``)."""
    parts = []
    if transcript.final_packages:
        pip = "\n".join(f"pip install {package}" for package in transcript.final_packages)
        parts.append(f"```bash\n{pip}\n```")
    parts.append(f"```{FENCE_TAGS[language_of(transcript)]}\n{transcript.final_program.rstrip()}\n```")
    return "\n\n".join(parts)


def wrap_runnable(answer: str, language: str = "python") -> str:
    """Rewrite an answer's runnable fences as AutoCoder interpreter calls.

    The text outside runnable fences is kept. Where the first runnable fence stood, one
    wrapped ``sh`` block (only when packages were asked for) and one wrapped ``python``
    block (all Python blocks joined, as the executor ran them) are put. In another
    ``language``, its fences (else the unlabelled ones) are the runnable ones, joined into
    one wrapped block tagged with the language. An answer without runnable code is returned
    unchanged.
    """
    if language != "python":
        return _wrap_other(answer, language)
    program = split_program(answer)
    spans = _runnable_spans(answer)
    if not spans or not program.python.strip():
        return answer
    calls = []
    if program.packages:
        pip = "\n".join(f"pip install {package}" for package in program.packages)
        calls.append(f"{RUN_START}```sh\n{pip}\n```{RUN_STOP}")
    calls.append(f"{RUN_START}```python\n{program.python.rstrip()}\n```{RUN_STOP}")
    lines = answer.splitlines()
    before = "\n".join(lines[: spans[0][0]]).rstrip()
    first = spans[0][0]
    after = "\n".join(_outside(lines[first:], [(s - first, e - first) for s, e in spans]))
    pieces = [before, "\n".join(calls), _BLANK_RUN.sub("\n\n", after).strip()]
    return "\n".join(piece for piece in pieces if piece) + "\n"


def _wrap_other(answer: str, language: str) -> str:
    code = code_in_language(answer, language, whole_text=False)
    all_fences = fenced(answer)
    ours = [f for f in all_fences if known_language(fence_label(f.label)) == language] or [
        f for f in all_fences if not f.label
    ]
    if not ours or not code.strip():
        return answer
    call = f"{RUN_START}```{FENCE_TAGS[language]}\n{code.rstrip()}\n```{RUN_STOP}"
    lines = answer.splitlines()
    first = ours[0].first
    after = "\n".join(_outside(lines[first:], [(f.first - first, f.last - first) for f in ours]))
    pieces = ["\n".join(lines[:first]).rstrip(), call, _BLANK_RUN.sub("\n\n", after).strip()]
    return "\n".join(piece for piece in pieces if piece) + "\n"


def _runnable_spans(answer: str) -> list[tuple[int, int]]:
    """``(first, last)`` line indexes of each fenced block that is Python or shell."""
    return [(fence.first, fence.last) for fence in fenced(answer) if classify(fence.label, fence.code) is not None]


def _outside(lines: list[str], spans: list[tuple[int, int]]) -> list[str]:
    inside = {n for first, last in spans for n in range(first, last + 1)}
    return [line for n, line in enumerate(lines) if n not in inside]
