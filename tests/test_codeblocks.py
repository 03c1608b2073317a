"""Splitting a markdown reply into the Python program and the pip requirements."""

from __future__ import annotations

import pytest

from aiev_agents.codeblocks import Block, Program, is_requirement, parse_blocks, split_program

FENCE = "```"


def md(*blocks: tuple[str, str], prose: str = "Some words.") -> str:
    """A reply with prose between fenced blocks given as (label, code)."""
    parts = [prose]
    for label, code in blocks:
        parts += [f"{FENCE}{label}\n{code}{FENCE}", prose]
    return "\n".join(parts)


@pytest.mark.parametrize("label", ["python", "python3", "py", "Python", "PY"])
def test_python_labels_are_python(label: str) -> None:
    assert parse_blocks(md((label, "x = 1\n"))) == [Block("python", "x = 1\n")]


@pytest.mark.parametrize("label", ["sh", "bash", "shell", "console"])
def test_shell_labels_are_shell(label: str) -> None:
    assert parse_blocks(md((label, "ls\n"))) == [Block("shell", "ls\n")]


def test_other_languages_are_ignored() -> None:
    reply = md(("javascript", "let x = 1;\n"), ("text", "x = 1\n"), ("json", "{}\n"))
    assert parse_blocks(reply) == []


def test_unlabelled_block_is_python_when_it_parses() -> None:
    assert parse_blocks(md(("", "assert 1 + 1 == 2\n"))) == [Block("python", "assert 1 + 1 == 2\n")]


def test_unlabelled_block_that_is_not_python_is_ignored() -> None:
    assert parse_blocks(md(("", "Output:\n  1 2 3 -> ok\n"))) == []


def test_unlabelled_block_of_pip_installs_is_shell() -> None:
    assert split_program(md(("", "pip install numpy\n"))).packages == ["numpy"]


def test_info_string_after_label_is_allowed_and_tilde_fences_work() -> None:
    reply = '```python title="main.py"\na = 1\n```\n~~~py\nb = 2\n~~~\n'
    assert split_program(reply).python == "a = 1\n\nb = 2"


def test_longer_fence_keeps_inner_backticks() -> None:
    reply = '````python\ns = """\n```\n"""\n````\n'
    assert split_program(reply).python == 's = """\n```\n"""'


def test_unclosed_fence_runs_to_the_end() -> None:
    assert split_program("```python\nassert True\n").python == "assert True"


def test_python_blocks_are_joined_in_order_with_a_blank_line() -> None:
    reply = md(("python", "def f():\n    return 1\n"), ("sh", "pip install six\n"), ("py", "assert f() == 1\n"))
    assert split_program(reply).python == "def f():\n    return 1\n\nassert f() == 1"


def test_reply_without_python_has_empty_program() -> None:
    assert split_program("No code here.") == Program()


def test_pip_forms_prompts_chains_and_continuations() -> None:
    shell = "\n".join(
        [
            "$ pip install requests>=2",
            "!pip3 install -q numpy==1.26",
            "python -m pip install --upgrade 'pandas[excel]' && python3 -m pip install --no-cache-dir rich",
            "pip install \\",
            "    -U attrs \\",
            "    six",
            "# pip install commented-out",
        ]
    )
    program = split_program(md(("bash", shell + "\n")))
    assert program.packages == ["requests>=2", "numpy==1.26", "pandas[excel]", "rich", "attrs", "six"]
    assert program.ignored_shell_lines == []
    assert program.rejected == []


def test_packages_are_deduplicated_keeping_order() -> None:
    program = split_program(md(("sh", "pip install b a\npip install a c b\n")))
    assert program.packages == ["b", "a", "c"]


def test_paths_urls_and_source_options_are_rejected() -> None:
    shell = (
        "pip install -r requirements.txt -e . ./local_pkg https://example.org/x.whl "
        "--index-url https://mirror.example/simple git+https://github.com/a/b requests --timeout 60\n"
    )
    program = split_program(md(("sh", shell)))
    assert program.packages == ["requests"]
    assert program.rejected == [
        "-r requirements.txt",
        "-e .",
        "./local_pkg",
        "https://example.org/x.whl",
        "--index-url https://mirror.example/simple",
        "git+https://github.com/a/b",
    ]


def test_other_shell_lines_are_reported_and_not_kept() -> None:
    program = split_program(md(("sh", "cd /tmp\npython main.py && pip install six\n\n# note\n")))
    assert program.packages == ["six"]
    assert program.ignored_shell_lines == ["cd /tmp", "python main.py"]


def test_console_output_lines_are_ignored_shell_lines() -> None:
    program = split_program(md(("console", "$ pip install six\nSuccessfully installed six-1.16.0\n")))
    assert program.packages == ["six"]
    assert program.ignored_shell_lines == ["Successfully installed six-1.16.0"]


@pytest.mark.parametrize("token", ["numpy", "a-b.c_d", "numpy==1.26", "requests>=2,<3", "x[y,z]~=1.0"])
def test_plain_requirements_are_accepted(token: str) -> None:
    assert is_requirement(token)


@pytest.mark.parametrize(
    "token",
    ["./pkg", "/abs/pkg", "p-1.0-py3-none-any.whl", "reqs.txt", "http://x/y", "a @ file:///x", "-q", ""],
)
def test_paths_urls_and_flags_are_not_requirements(token: str) -> None:
    assert not is_requirement(token)
