"""What a model is asked for each benchmark task: AutoCoder's public evaluation prompts.

AutoCoder's ``Evaluation/test_humaneval.py`` and ``test_mbpp.py`` send one user turn, no
system prompt:

* HumanEval (and HumanEval+): ``Write a solution to the following problem:`` and the
  task's prompt, stripped, in a ``python`` fence.
* MBPP: the problem text, then ``Your code should satisfy the following assertion:`` and
  the task's assertions in a ``python`` fence. AutoCoder formats the list of assertions
  with Python's ``repr``; here they are one per line, as code.
* MultiPL-E (not in AutoCoder's scripts): the task's prompt (signature and doc comment) in a
  fence of its language, and a request for the whole function.

AutoCoder's strings keep the indentation of its source file inside the message; the
templates here are flush left. The templates are package data (``templates/*.md``).
"""

from __future__ import annotations

import functools
from importlib import resources

from ..data.benchmarks import BenchmarkTask
from ..data.multipl_e import is_multipl_e

#: MultiPL-E's language codes as a prompt names them.
LANGUAGE_NAMES = {"js": "JavaScript", "cpp": "C++", "java": "Java", "rs": "Rust", "go": "Go", "sh": "Bash"}

Message = dict[str, str]


@functools.cache
def template(benchmark: str) -> str:
    """The prompt template of a benchmark (``humaneval_plus`` uses HumanEval's).

    Raises:
        ValueError: Unknown benchmark.
    """
    names = {"humaneval": "humaneval", "humaneval_plus": "humaneval", "mbpp": "mbpp", "multipl_e": "multipl_e"}
    name = "multipl_e" if is_multipl_e(benchmark) else names.get(benchmark)
    if name is None:
        raise ValueError(f"no prompt template for benchmark {benchmark!r}")
    return resources.files(__package__).joinpath("templates").joinpath(f"{name}.md").read_text(encoding="utf-8").strip()


def build_prompt(task: BenchmarkTask) -> str:
    """The user turn that asks a model to solve ``task``.

    Example:
        >>> from aiev_agents.data.benchmarks import BenchmarkTask
        >>> task = BenchmarkTask("mbpp", "Mbpp/1", "Add two numbers.", "", "add", "", ("assert add(1, 2) == 3",))
        >>> print(build_prompt(task))
        Add two numbers.
        Your code should satisfy the following assertion:
        ```python
        assert add(1, 2) == 3
        ```
    """
    if task.benchmark == "mbpp":
        return template("mbpp").format(problem=task.prompt.strip(), tests="\n".join(task.test_list))
    if is_multipl_e(task.benchmark):
        code = task.benchmark.removeprefix("multipl_e_")
        fence = {"rs": "rust", "sh": "bash"}.get(code, code)
        return template("multipl_e").format(language=LANGUAGE_NAMES[code], fence=fence, prompt=task.prompt.strip())
    return template(task.benchmark).format(prompt=task.prompt.strip())


def build_messages(task: BenchmarkTask) -> list[Message]:
    """The chat messages for ``task``: one user turn, no system prompt (as AutoCoder sends)."""
    return [{"role": "user", "content": build_prompt(task)}]
