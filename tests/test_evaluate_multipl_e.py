"""`aiev eval --benchmark multipl-e-<lang>`: MultiPL-E's test programs scored as MultiPL-E scores
them (exit 0 passes), in the sandbox, agreeing with a direct run by the bare toolchains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aiev_agents.errors import DatasetError
from aiev_agents.evaluate import CompletionsFile, EvalOptions, Evaluation, load_tasks
from aiev_agents.evaluate.candidates import code_for
from aiev_agents.evaluate.prompts import build_prompt
from aiev_agents.sandbox import SandboxSettings

DATA = Path(__file__).parent / "data" / "multipl_e"
CODES = ("js", "cpp", "java", "rs", "go", "sh")
#: MultiPL-E's published task counts of the reworded HumanEval files.
PUBLISHED_TASKS = {"js": 161, "cpp": 161, "java": 158, "rs": 156, "go": 154, "sh": 158}


def tiny(code: str):
    return load_tasks(f"multipl-e-{code}", DATA / f"humaneval-{code}-tiny.jsonl")


def test_a_whole_function_reply_becomes_the_completion_after_the_prompt():
    task = tiny("cpp").tasks[0]
    reply = "Here it is:\n```cpp\n#include <bits/stdc++.h>\nlong add(long x, long y) {\n    return x + y;\n}\n```\n"
    assert code_for(task, reply) == task.prompt + "    return x + y;\n"


def test_the_closing_brace_stays_where_the_tests_do_not_close_the_function():
    task = tiny("js").tasks[1]
    body = "  return text === '}' || text === [...text].reverse().join('');\n"
    reply = f"```javascript\nfunction is_palindrome(text){{\n{body}}}\n```"
    assert code_for(task, reply) == task.prompt + body + "}"


def test_a_continuation_reply_is_kept_as_it_is():
    task = tiny("rs").tasks[0]
    assert code_for(task, "```rust\n    x + y\n```") == task.prompt + "    x + y\n"


def test_the_prompt_asks_for_the_whole_function_in_the_tasks_language():
    task = tiny("rs").tasks[0]
    assert build_prompt(task) == (
        "Complete the following Rust function. Answer with the whole function, its signature unchanged, "
        f"in a `rust` code block:\n```rust\n{task.prompt.strip()}\n```"
    )


def test_multipl_e_needs_the_dataset_path():
    with pytest.raises(DatasetError, match="needs --dataset: the path or URL of MultiPL-E's humaneval-go-reworded"):
        load_tasks("multipl-e-go")


def test_a_file_in_another_format_says_which_files_to_give(tmp_path: Path):
    path = tmp_path / "humaneval.jsonl"
    path.write_text(json.dumps({"task_id": "HumanEval/0", "prompt": "def f(): pass"}) + "\n")
    with pytest.raises(DatasetError, match="has no 'name' field; give one of MultiPL-E's"):
        load_tasks("multipl-e-js", path)


def score(code: str, kind: str, settings: SandboxSettings, out: Path) -> dict:
    completions = CompletionsFile(DATA / f"completions-{code}-{kind}.jsonl")
    return Evaluation(tiny(code), settings, options=EvalOptions(timeout_s=30)).run(completions, out)


@pytest.mark.docker
@pytest.mark.parametrize("code", CODES)
def test_correct_solutions_score_1_and_default_returns_score_0(polyglot_settings, tmp_path: Path, code: str):
    settings = SandboxSettings(image="aiev-sandbox:latest", toolchain_image=polyglot_settings.image, pull=False)
    correct = score(code, "correct", settings, tmp_path / "correct")
    empty = score(code, "default-return", settings, tmp_path / "empty")
    assert (correct["pass@1"], empty["pass@1"]) == (1.0, 0.0)
    assert correct["benchmark"] == f"multipl-e-{code}"
    assert correct["sandbox_image"] == polyglot_settings.image


# -- agreement with MultiPL-E's own way of running the programs: the bare toolchains on the host --

JAR = "/usr/share/java/javatuples.jar"
JAR = "/usr/share/java/javatuples.jar"
BARE = {
    "js": ("main.js", "node main.js"),
    "cpp": ("main.cpp", "g++ -std=c++17 -o main main.cpp && ./main"),
    "java": (
        "Problem.java",
        f"javac -cp {JAR} Problem.java && java -ea -cp .:{JAR} Problem",
    ),
    "rs": ("main.rs", "rustc -o main main.rs && ./main"),
    "go": ("main_test.go", "GOCACHE=$PWD/.cache GO111MODULE=off go test main_test.go"),
    "sh": ("main.sh", "bash main.sh"),
}
TOOL = {"js": "node", "cpp": "g++", "java": "javac", "rs": "rustc", "go": "go", "sh": "bash"}


def bare_run_passes(code: str, program: str, folder: Path) -> bool:
    folder.mkdir(parents=True)
    filename, command = BARE[code]
    (folder / filename).write_text(program)
    done = subprocess.run(command, shell=True, cwd=folder, capture_output=True, timeout=120)
    return done.returncode == 0


@pytest.mark.docker
@pytest.mark.parametrize("code", CODES)
def test_the_sandbox_agrees_with_the_bare_toolchain_on_a_mixed_set(polyglot_settings, tmp_path: Path, code: str):
    if shutil.which(TOOL[code]) is None or (code == "java" and not Path(JAR).exists()):
        pytest.skip(f"{TOOL[code]} (with javatuples for Java) is not installed on this host")
    mixed = tmp_path / "mixed.jsonl"
    rows = [json.loads(line) for kind in ("correct", "default-return") for line in
            (DATA / f"completions-{code}-{kind}.jsonl").read_text().splitlines()]  # fmt: skip
    rows.append({"task_id": rows[0]["task_id"], "completion": "this does not compile {"})
    mixed.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = SandboxSettings(toolchain_image=polyglot_settings.image, pull=False)
    Evaluation(tiny(code), settings, options=EvalOptions(timeout_s=30)).run(CompletionsFile(mixed), tmp_path / "out")
    ours = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    tasks = {task.task_id: task for task in tiny(code).tasks}
    theirs = [
        bare_run_passes(code, row["solution"] + "\n" + tasks[row["task_id"]].test, tmp_path / f"bare{i}")
        for i, row in enumerate(ours)
    ]
    assert [row["passed"] for row in ours] == theirs
    assert sorted(theirs) == [False, False, False, True, True]


@pytest.mark.docker
@pytest.mark.skipif(not os.environ.get("AIEV_MULTIPL_E_DIR"), reason="set AIEV_MULTIPL_E_DIR to MultiPL-E's files")
@pytest.mark.parametrize("code", CODES)
def test_the_published_files_load_and_their_bare_prompts_fail(polyglot_settings, tmp_path: Path, code: str):
    path = Path(os.environ["AIEV_MULTIPL_E_DIR"]) / f"humaneval-{code}-reworded.jsonl"
    loaded = load_tasks(f"multipl-e-{code}", path)
    assert len(loaded.tasks) == PUBLISHED_TASKS[code]
    first = load_tasks(f"multipl-e-{code}", path, limit=2)
    completions = tmp_path / "empty.jsonl"
    completions.write_text("".join(json.dumps({"task_id": t.task_id, "completion": ""}) + "\n" for t in first.tasks))
    settings = SandboxSettings(toolchain_image=polyglot_settings.image, pull=False)
    summary = Evaluation(first, settings).run(CompletionsFile(completions), tmp_path / "out")
    assert summary["pass@1"] == 0.0


@pytest.mark.docker
def test_a_model_behind_a_scripted_server_is_scored_on_multipl_e(polyglot_settings, tmp_path: Path):
    from aiev_agents.cli import main
    from aiev_agents.testing import ScriptedReply, ScriptedServer

    from helpers import write_config

    replies = {
        "add": "```javascript\nfunction add(x, y){\n  return x + y;\n}\n```",
        "is_palindrome": "Sure:\n```js\nfunction is_palindrome(text){\n  return true;\n}\n```\nDone.",
    }

    def responder(body: dict) -> ScriptedReply:
        content = body["messages"][-1]["content"]
        return ScriptedReply(next(reply for name, reply in replies.items() if f"function {name}(" in content))

    with ScriptedServer(responder=responder) as server:
        config = write_config(tmp_path, server.base_url, polyglot_settings.image)
        argv = ["eval", "--config", str(config), "--model", "teacher", "--benchmark", "multipl-e-js"]
        argv += ["--dataset", str(DATA / "humaneval-js-tiny.jsonl"), "--image", polyglot_settings.image]
        assert main([*argv, "--out", str(tmp_path / "out"), "--quiet"]) == 0
        asked = [body["messages"][0]["content"] for body in server.requests]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["pass@1"], summary["counts"]["passed"], summary["model"]) == (0.5, 1, "teacher")
    assert all(text.startswith("Complete the following JavaScript function.") for text in asked)
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert rows[1]["solution"].endswith("function is_palindrome(text){\n  return true;\n}")


def test_a_failed_node_assertion_is_the_error_shown_not_nodes_version_line():
    from aiev_agents.evaluate.execute import error_line

    output = (
        "node:assert:125\n  throw new AssertionError(obj);\n  ^\n\n"
        "AssertionError [ERR_ASSERTION]: Expected values to be strictly deep-equal:\n+ false\n- true\n"
        "    at test (/workspace/main.js:20:10) {\n  generatedMessage: true,\n}\n\nNode.js v18.20.4\n"
    )
    assert error_line(output) == "AssertionError [ERR_ASSERTION]: Expected values to be strictly deep-equal:"


def test_a_compile_error_is_the_error_shown_not_the_compilers_closing_hint():
    from aiev_agents.evaluate.execute import error_line

    output = (
        "error[E0277]: a value of type `Vec<String>` cannot be built from an iterator over elements of type `&str`\n"
        " --> main.rs:9:10\n\nerror: aborting due to previous error\n\n"
        "For more information about this error, try `rustc --explain E0277`.\n"
    )
    assert error_line(output).startswith("error[E0277]: a value of type `Vec<String>` cannot be built")
