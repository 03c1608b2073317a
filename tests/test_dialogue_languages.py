"""A dialogue per language against the scripted server in the real sandbox: the programmer
answers in the seed's language, a failure is explained and repaired, and a program without
tests is never verified."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import SANDBOX_IMAGE
from test_sandbox_languages import EVIDENCE, PROGRAMS

from aiev_agents import ExecutorAgent, Transcript
from aiev_agents.sandbox import SandboxSettings
from aiev_agents.testing import key_by_role

from helpers import scripted_dialogue

pytestmark = pytest.mark.docker

#: The seed's language -> the fence label the scripted programmer uses (aliases on purpose).
FENCES = {"javascript": "js", "cpp": "c++", "java": "java", "rust": "rs", "go": "golang", "bash": "sh"}
PROBLEM = "Write add(a, b), which returns the sum of two integers, with tests."
EXPLANATION = "add(1, 2) must be 3: your test expects 4. Fix the test."


@pytest.fixture(scope="module")
def executor(polyglot_settings: SandboxSettings) -> Iterator[ExecutorAgent]:
    agent = ExecutorAgent(sandbox=SandboxSettings(image=SANDBOX_IMAGE, toolchain_image=polyglot_settings.image))
    try:
        yield agent
    finally:
        agent.close()


def reply(language: str, code: str) -> str:
    return f"Here is the program.\n\n```{FENCES[language]}\n{code}```\n"


def dialogue(executor: ExecutorAgent, seed: dict, questioner: list[str], programmer: list[str]) -> Transcript:
    return scripted_dialogue(executor, seed, questioner, programmer)


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_a_failure_is_explained_and_repaired_then_verified(executor: ExecutorAgent, language: str):
    good, bad, _ = PROGRAMS[language]
    seed = {"id": f"{language}-repair", "problem": PROBLEM, "language": FENCES[language]}
    transcript = dialogue(executor, seed, [EXPLANATION], [reply(language, bad), reply(language, good)])
    assert [run.status for run in transcript.executions] == ["fail", "pass"]
    assert (transcript.verified, transcript.status, transcript.rounds) == (True, "pass", 2)
    assert getattr(transcript.executions[1], EVIDENCE.get(language, "assertions")) == 2
    assert transcript.final_program == good
    assert transcript.checks["language"] == language
    assert transcript.seed["language"] == language
    mutation = transcript.checks["mutation"]
    assert (mutation["method"], mutation["killed"], mutation["survived"], mutation["score"]) == (
        "default_return",
        1,
        [],
        1.0,
    )
    assert transcript.messages[4].content == EXPLANATION


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_a_program_without_tests_is_never_verified(executor: ExecutorAgent, language: str):
    _, _, untested = PROGRAMS[language]
    seed = {"id": f"{language}-untested", "problem": PROBLEM, "language": language}
    transcript = dialogue(executor, seed, ["Add tests.", "Add tests."], [reply(language, untested)] * 3)
    assert [run.status for run in transcript.executions] == ["no_tests"] * 3
    assert (transcript.verified, transcript.status) == (False, "no_tests")


def test_the_programmer_is_asked_for_the_seeds_language_and_its_tests(executor: ExecutorAgent):
    good = PROGRAMS["rust"][0]
    transcript = dialogue(executor, {"id": "rs", "problem": PROBLEM, "language": "rs"}, [], [reply("rust", good)])
    task = transcript.messages[1].content
    assert task.startswith(PROBLEM + "\n\nAnswer in Rust (2021 edition, standard library only)")
    assert "```rust block" in task
    assert "`assert_eq!`" in task


def test_the_questioner_is_told_the_language_of_a_snippet_seed(executor: ExecutorAgent):
    good = PROGRAMS["go"][0]
    seed = {"id": "go-snippet", "snippet": "func Add(a, b int) int { return a + b }", "language": "go"}
    requests: list[dict] = []
    transcript = scripted_dialogue(executor, seed, [PROBLEM], [reply("go", good)], requests=requests)
    asked = next(body for body in requests if key_by_role(body) == "questioner")["messages"][-1]["content"]
    assert asked.endswith("The problem must be solved in Go (standard library only): say so in the problem statement.")
    assert transcript.verified


#: Tests that run and pass but never check a value: gutting `add` goes unnoticed.
VACUOUS = {
    "javascript": "const assert = require('assert');\nfunction add(a, b) { return a + b; }\n"
    "assert.ok(add(1, 2) !== null);\n",
    "cpp": "#include <cassert>\nint add(int a, int b) { return a + b; }\nint main() { assert(add(1, 2) >= 0); }\n",
}


@pytest.mark.parametrize("language", sorted(VACUOUS))
def test_tests_that_survive_a_default_return_are_vacuous(executor: ExecutorAgent, language: str):
    seed = {"id": f"{language}-vacuous", "problem": PROBLEM, "language": language}
    transcript = dialogue(executor, seed, [], [reply(language, VACUOUS[language])])
    assert transcript.executions[0].status == "pass"
    assert (transcript.verified, transcript.status) == (False, "vacuous_tests")
    assert (transcript.checks["mutation"]["killed"], transcript.checks["mutation"]["survived"]) == (0, ["add"])


def test_aiev_verify_reruns_a_sample_with_its_languages_toolchain(executor: ExecutorAgent, tmp_path):
    from aiev_agents.data.reverify import verify_dataset

    good = PROGRAMS["java"][0]
    transcript = dialogue(
        executor, {"id": "java-verify", "problem": PROBLEM, "language": "java"}, [], [reply("java", good)]
    )
    assert transcript.verified
    path = tmp_path / "dialogues.jsonl"
    path.write_text(json.dumps(transcript.to_dict()) + "\n")
    report = verify_dataset(path, executor.code_executor.sandbox.settings)
    assert (report.checked, report.passed, report.mismatches) == (1, 1, [])
