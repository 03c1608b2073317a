"""Realistic stored dialogues built with the real ``Transcript`` model: repairs, installs, failures.

Each builder lays the turns out as ``aiev_agents.dialogue.loop`` records them (the programmer's
view): the programmer's system prompt, the task turn (the problem in the programmer's task
message), then per round the programmer's answer, the executor's report and, after a failure,
the questioner's explanation. Turns a model wrote carry a ``call_id``; a verified record carries
the ``checks`` of its passing program. ``tests/test_dialogue.py`` checks that these records have
the shape of one ``run_dialogue`` makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from aiev_agents.codeblocks import split_program
from aiev_agents.dialogue.transcript import Execution, ExecutionResult, Timings, Transcript, Turn, Usage
from aiev_agents.dialogue.verdict.checks import evidence
from aiev_agents.roles.execution_text import format_execution
from aiev_agents.roles.prompts import fill, read_prompt

CONFIG_HASH = "3f2a9c0d51e4b7a8"
TEACHER = "gpt-4-turbo"
SYSTEM_PROMPT = read_prompt("programmer")  # the programmer's default system message

ADD_PROBLEM = (
    "Write a function `add(a, b)` that returns the sum of two integers. "
    "Include unit tests that cover positive and negative numbers."
)
ADD_PROGRAM = (
    "def add(a, b):\n    return a + b\n\n\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\nprint('all tests passed')\n"
)

TABLE_PROBLEM = (
    "Write `squares_table(numbers)` that returns a plain-text table with the columns `n` and `square`, "
    "one row per number, using the tabulate package. Test it."
)
TABLE_PROGRAM = (
    "from tabulate import tabulate\n\n\n"
    "def squares_table(numbers):\n"
    '    return tabulate([[n, n * n] for n in numbers], headers=["n", "square"], tablefmt="plain")\n\n\n'
    "out = squares_table([2, 3])\n"
    'assert out.splitlines()[0].split() == ["n", "square"]\n'
    'assert out.splitlines()[1].split() == ["2", "4"]\n'
    "print(out)\n"
)

WORDS_PROBLEM = (
    "Write `count_words(text)` that returns a dict mapping each lower-cased word to how often it "
    "occurs; punctuation is not part of a word. Include tests."
)
WORDS_BUGGY = (
    "def count_words(text):\n"
    "    counts = {}\n"
    "    for word in text.split():\n"
    "        counts[word] = counts.get(word, 0) + 1\n"
    "    return counts\n\n\n"
    'assert count_words("a b a") == {"a": 2, "b": 1}\n'
    'assert count_words("Hello, hello!") == {"hello": 2}\n'
)
WORDS_FIXED = (
    "import re\n\n\n"
    "def count_words(text):\n"
    "    counts = {}\n"
    '    for word in re.findall(r"[a-z0-9\']+", text.lower()):\n'
    "        counts[word] = counts.get(word, 0) + 1\n"
    "    return counts\n\n\n"
    'assert count_words("a b a") == {"a": 2, "b": 1}\n'
    'assert count_words("Hello, hello!") == {"hello": 2}\n'
    'assert count_words("") == {}\n'
)


def python_answer(program: str, intro: str = "Here is the program with its tests.") -> str:
    """A programmer's reply: a sentence and one python block."""
    return f"{intro}\n\n```python\n{program.rstrip()}\n```\n"


def install_answer(packages: Sequence[str], program: str) -> str:
    """A programmer's reply that asks for packages first (a bash block), then the python block."""
    pip = "\n".join(f"pip install {package}" for package in packages)
    return f"This needs {', '.join(packages)}.\n\n```bash\n{pip}\n```\n\n```python\n{program.rstrip()}\n```\n"


def passed(
    output: str, assertions: int, packages: Sequence[str] = (), install_output: str = "", functions: Sequence[str] = ()
) -> ExecutionResult:
    """A passing run whose tests called the solution's ``functions`` (all of them)."""
    return ExecutionResult(
        status="pass",
        exit_code=0,
        output=output,
        duration_s=0.21,
        packages=list(packages),
        install_output=install_output,
        assertions=assertions,
        solution_functions=list(functions),
        solution_calls=list(functions),
    )


def failed(output: str, exit_code: int = 1, status: str = "fail", assertions: int = 0) -> ExecutionResult:
    return ExecutionResult.model_validate(
        {"status": status, "exit_code": exit_code, "output": output, "duration_s": 0.18, "assertions": assertions}
    )


def checks_of_a_pass(run: ExecutionResult) -> dict[str, object]:
    """The ``checks`` the verdict records for a passing program: evidence, mutants all killed, full coverage."""
    functions = run.solution_functions or ["solution"]
    mutants = [
        {
            "operator": "return_none",
            "function": name,
            "line": 1,
            "description": "line 1: the function returns None",
            "outcome": "killed",
            "status": "fail",
        }
        for name in functions
    ]
    return {
        "tests_ran": evidence(run),
        "mutation": {
            "score": 1.0,
            "killed": len(mutants),
            "survived": 0,
            "inconclusive": 0,
            "candidates": len(mutants),
            "duration_s": 0.07,
            "mutants": mutants,
            "budget": 16,
        },
        "coverage": {
            "lines": [4, 4],
            "branches": [0, 0],
            "missing": [],
            "line_rate": 1.0,
            "branch_rate": None,
            "status": "pass",
            "duration_s": 0.01,
        },
    }


def build(
    sample_id: str,
    problem: str,
    rounds: Sequence[tuple[str, ExecutionResult]],
    explanations: Sequence[str] = (),
    *,
    stage: str = "teaching",
    seed: dict[str, object] | None = None,
    models: dict[str, str] | None = None,
    config_hash: str | None = CONFIG_HASH,
) -> Transcript:
    """A transcript of ``rounds`` (answer, execution) with an explanation after each failed round."""
    turns = [
        Turn(role="system", name="programmer", content=SYSTEM_PROMPT),
        Turn(role="user", name="questioner", content=fill("task", problem=problem.strip())),
    ]
    executions = []
    for number, (answer, result) in enumerate(rounds, start=1):
        turns.append(Turn(role="assistant", name="programmer", content=answer, call_id=f"chatcmpl-{number}a"))
        turns.append(Turn(role="user", name="executor", content=format_execution(result)))
        executions.append(Execution(round=number, **result.model_dump()))
        if number < len(rounds):
            explanation = explanations[number - 1]
            turns.append(Turn(role="user", name="questioner", content=explanation, call_id=f"chatcmpl-{number}q"))
    final = split_program(rounds[-1][0])
    last = executions[-1]
    player = models or {"questioner": TEACHER, "programmer": TEACHER}
    return Transcript(
        id=sample_id,
        stage=stage,
        verified=last.passed,
        status=last.status,
        rounds=len(executions),
        seed=seed or {"id": sample_id, "problem": problem, "license": "MIT"},
        problem=problem,
        models=player,
        messages=turns,
        executions=executions,
        final_program=final.python,
        final_packages=list(final.packages),
        usage={
            "questioner": Usage(prompt_tokens=120, completion_tokens=80, total_tokens=200, cost=0.004),
            "programmer": Usage(prompt_tokens=900, completion_tokens=400, total_tokens=1300, cost=0.021),
        },
        timings=Timings(
            started_at="2025-05-01T10:00:00+00:00",
            ended_at="2025-05-01T10:00:09+00:00",
            wall_s=9.0,
            model_s=7.5,
            execution_s=1.2,
        ),
        config_hash=config_hash,
        checks=checks_of_a_pass(last) if last.passed else {},
    )


def first_try(sample_id: str = "add-1", problem: str = ADD_PROBLEM, program: str = ADD_PROGRAM) -> Transcript:
    """Verified in one round."""
    return build(sample_id, problem, [(python_answer(program), passed("all tests passed\n", 2, functions=["add"]))])


def repaired_assertion(sample_id: str = "words-1") -> Transcript:
    """A failing assertion, the questioner's explanation, then a passing fix."""
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/workspace/main.py", line 9, in <module>\n'
        '    assert count_words("Hello, hello!") == {"hello": 2}\n'
        "AssertionError\n"
    )
    explanation = (
        "The second test failed: `text.split()` keeps punctuation and case, so `Hello,` and `hello!` "
        "are counted as different words. Lower-case the text and split on word characters."
    )
    return build(
        sample_id,
        WORDS_PROBLEM,
        [
            (python_answer(WORDS_BUGGY), failed(traceback, assertions=1)),
            (
                python_answer(WORDS_FIXED, "Fixed: words are lower-cased and punctuation dropped."),
                passed("", 3, functions=["count_words"]),
            ),
        ],
        [explanation],
    )


def repaired_with_install(sample_id: str = "table-1") -> Transcript:
    """A missing package, then the same program with ``pip install tabulate``: verified."""
    missing = (
        "Traceback (most recent call last):\n"
        '  File "/workspace/main.py", line 1, in <module>\n'
        "    from tabulate import tabulate\n"
        "ModuleNotFoundError: No module named 'tabulate'\n"
    )
    install = (
        "Collecting tabulate==0.9.0\n"
        "  Downloading tabulate-0.9.0-py3-none-any.whl (35 kB)\n"
        "Successfully installed tabulate-0.9.0\n"
    )
    return build(
        sample_id,
        TABLE_PROBLEM,
        [
            (python_answer(TABLE_PROGRAM), failed(missing)),
            (
                install_answer(["tabulate==0.9.0"], TABLE_PROGRAM),
                passed(
                    " n    square\n 2         4\n 3         9\n", 2, ["tabulate==0.9.0"], install, ["squares_table"]
                ),
            ),
        ],
        ["The program imports `tabulate`, which is not installed. Ask for it with a pip install block."],
    )


def never_passed(sample_id: str = "sleep-1") -> Transcript:
    """Two rounds that time out and fail: not verified."""
    problem = "Write `wait_for(flag)` that returns when `flag()` is true, checking every 0.1 s. Test it."
    loop = (
        "import time\n\n\n"
        "def wait_for(flag):\n"
        "    while not flag():\n"
        "        time.sleep(0.1)\n\n\n"
        "wait_for(lambda: False)\n"
        "assert True\n"
    )
    return build(
        sample_id,
        problem,
        [
            (python_answer(loop), failed("Timed out after 30 s; the program was stopped.", 124, "timeout")),
            (
                python_answer(loop.replace("False", "None")),
                failed("Timed out after 30 s; the program was stopped.", 124, "timeout"),
            ),
        ],
        ["The program never ends: the test waits for a flag that is never set."],
    )


def write_dataset(folder: Path, transcripts: Iterable[Transcript | dict[str, object] | str]) -> Path:
    """Write ``folder/dialogues.jsonl``: transcripts, raw dicts, or raw lines (for broken input)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for item in transcripts:
        if isinstance(item, Transcript):
            lines.append(json.dumps(item.to_dict(), ensure_ascii=False))
        elif isinstance(item, dict):
            lines.append(json.dumps(item, ensure_ascii=False))
        else:
            lines.append(item)
    path = folder / "dialogues.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
