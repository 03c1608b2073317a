"""AG2's code-executor contract, held by ``DockerCodeExecutor`` in a real sandbox.

An AG2 user who drops our executor into their own program gets what AG2's command-line
executors give (the behaviours AG2's ``test/coding/test_commandline_code_executor.py``
expects): blocks run in order, each from its own file, in a working directory that persists
across calls; Python and shell; the program's own exit code; the first failing block stops
the rest; 124 and ``Timeout`` on a timeout; an unknown language is an error. Test counts are
evidence on ``result.execution``, never the exit code. AIEV's one-program turn is
``run_program``; the canonical AG2 chats run against the scripted server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from autogen import AssistantAgent, ConversableAgent
from autogen.coding import CodeBlock, CodeExecutor

from aiev_agents import ExecutorAgent
from aiev_agents.sandbox import DockerCodeExecutor, DockerSandbox, SandboxSettings
from aiev_agents.sandbox.ag2_blocks import filename_of, split_shell
from aiev_agents.sandbox.ag2_executor import NO_CODE_MESSAGE
from aiev_agents.testing import ScriptedServer

from helpers import host_ca_bundle


def block(code: str, language: str = "python") -> CodeBlock:
    return CodeBlock(code=code, language=language)


@pytest.fixture(scope="module")
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[DockerSandbox]:
    with DockerSandbox(sandbox_settings.model_copy(update={"ca_bundle": host_ca_bundle()})) as box:
        yield box


@pytest.fixture()
def code_executor(sandbox: DockerSandbox) -> DockerCodeExecutor:
    """Our executor over the module's container (its working directory carries over between tests)."""
    return DockerCodeExecutor(sandbox=sandbox)


@pytest.fixture(scope="module")
def quick(sandbox_settings: SandboxSettings) -> Iterator[DockerCodeExecutor]:
    """An executor whose blocks may run for 1 s."""
    with DockerCodeExecutor(sandbox_settings.model_copy(update={"timeout_s": 1})) as executor:
        yield executor


def offline_executor(tmp_path: Path) -> DockerCodeExecutor:
    """An executor whose engine does not exist: what it answers, it answers without Docker."""
    return DockerCodeExecutor(SandboxSettings(docker_host=f"unix://{tmp_path}/no-docker.sock"))


# -- what the executor is, without Docker ---------------------------------------------------


def test_it_is_an_ag2_code_executor(tmp_path: Path) -> None:
    executor = offline_executor(tmp_path)
    assert isinstance(executor, CodeExecutor)
    assert (str(executor.work_dir), executor.timeout) == ("/workspace", 30.0)


def test_no_blocks_is_refused_as_ag2_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="No code blocks to execute"):
        offline_executor(tmp_path).execute_code_blocks([])


def test_an_unknown_language_exits_1_and_runs_nothing(tmp_path: Path) -> None:
    result = offline_executor(tmp_path).execute_code_blocks([block("console.log(1)", "javascript"), block("print(1)")])
    assert (result.exit_code, result.output, result.code_file) == (1, "Unsupported language javascript\n", None)


def test_a_file_name_outside_the_working_directory_is_refused(tmp_path: Path) -> None:
    result = offline_executor(tmp_path).execute_code_blocks([block("# filename: ../etc/x.py\nprint(1)")])
    assert (result.exit_code, result.output) == (1, "Filename is not in the workspace")


def test_a_pip_argument_that_is_not_a_plain_requirement_fails_the_block(tmp_path: Path) -> None:
    result = offline_executor(tmp_path).execute_code_blocks([block("pip install -r requirements.txt\necho x", "sh")])
    assert result.exit_code == 1
    assert result.output.startswith("Not installed (only plain requirements are")
    assert "-r requirements.txt" in result.output
    assert result.rejected_packages == ["-r requirements.txt"]


def test_the_extractor_keeps_each_fence_label(tmp_path: Path) -> None:
    reply = "```Python3\nprint(1)\n```\n```bash\necho b\n```\n```text\nout\n```\n"
    reply += "```\npip install six\n```\n```\nx = 1\n```\n1. In a list:\n\n    ```sh\n    echo indented\n    ```\n"
    blocks = offline_executor(tmp_path).code_extractor.extract_code_blocks(reply)
    assert [(b.language, b.code) for b in blocks] == [
        ("python3", "print(1)\n"),
        ("bash", "echo b\n"),
        ("sh", "pip install six\n"),
        ("python", "x = 1\n"),
        ("sh", "echo indented\n"),  # AG2 finds indented fences too
    ]


def test_pip_lines_leave_a_shell_block_for_the_installer_and_the_rest_stays() -> None:
    shell = split_shell("pip install -q numpy==1.26 \\\n  requests\necho hi && pip install six\n$ pip3 install rich")
    assert shell.packages == ["numpy==1.26", "requests", "rich"]
    assert shell.script.splitlines() == [
        "# pip install -q numpy==1.26 \\",
        "#   requests",
        "echo hi && pip install six",  # mixed with other commands: runs as written
        "# $ pip3 install rich",
    ]


def test_a_first_line_comment_names_the_file_as_in_ag2() -> None:
    assert filename_of("# filename: test.py\nprint(1)", "/workspace") == "test.py"
    assert filename_of("# sub/test.py\nprint(1)", "/workspace") == "sub/test.py"
    assert filename_of("// filename: /workspace/a.js\n", "/workspace") == "a.js"
    assert filename_of("print(1)", "/workspace") is None
    with pytest.raises(ValueError):
        filename_of("# filename: /etc/passwd", "/workspace")


# -- running blocks ----------------------------------------------------------------------


@pytest.mark.docker
def test_a_program_that_runs_fine_exits_0_although_it_has_no_tests(code_executor: DockerCodeExecutor) -> None:
    result = code_executor.execute_code_blocks([CodeBlock(code="print('hello', 6 * 7)", language="python")])
    assert (result.exit_code, result.output) == (0, "hello 42\n")
    assert (result.execution.status, result.execution.tests_run) == ("no_tests", 0)


@pytest.mark.docker
@pytest.mark.parametrize("language", ["python", "Python", "PYTHON", "python3", "py", "Py"])
def test_python_labels_in_any_case_run_python(code_executor: DockerCodeExecutor, language: str) -> None:
    code = "import sys; print('hello world!', sys.version_info[0])"
    result = code_executor.execute_code_blocks([block(code, language)])
    assert (result.exit_code, result.output) == (0, "hello world! 3\n")
    assert result.code_file is not None and result.code_file.startswith("/workspace/tmp_code_")


@pytest.mark.docker
@pytest.mark.parametrize("language", ["sh", "bash", "shell", "Bash"])
def test_shell_blocks_run(code_executor: DockerCodeExecutor, language: str) -> None:
    result = code_executor.execute_code_blocks([block("echo 'from the shell'", language)])
    assert (result.exit_code, result.output) == (0, "from the shell\n")


@pytest.mark.docker
def test_bash_blocks_run_in_bash_and_sh_blocks_in_sh(code_executor: DockerCodeExecutor) -> None:
    bashism = "[[ 1 == 1 ]] && echo double-brackets"
    assert code_executor.execute_code_blocks([block(bashism, "bash")]).output == "double-brackets\n"
    in_sh = code_executor.execute_code_blocks([block(bashism, "sh")])
    assert in_sh.exit_code == 127 and "not found" in in_sh.output


@pytest.mark.docker
@pytest.mark.parametrize(("code", "language", "exit_code"), [("import sys; sys.exit(3)", "py", 3), ("exit 5", "sh", 5)])
def test_the_exit_code_is_the_programs_own(
    code_executor: DockerCodeExecutor, code: str, language: str, exit_code: int
) -> None:
    result = code_executor.execute_code_blocks([block(code, language)])
    assert (result.exit_code, result.execution.status) == (exit_code, "fail")


@pytest.mark.docker
def test_an_uncaught_exception_exits_1_with_its_traceback(code_executor: DockerCodeExecutor) -> None:
    result = code_executor.execute_code_blocks([block("raise KeyError('boom')")])
    assert result.exit_code == 1
    assert result.output.startswith("Traceback (most recent call last):") and "KeyError: 'boom'" in result.output


@pytest.mark.docker
def test_several_blocks_run_in_order_each_in_its_own_process_outputs_joined(code_executor: DockerCodeExecutor) -> None:
    blocks = [
        block("import os; print('first', os.getpid() > 0)"),
        block("a = 100 + 100; print(a)", "py"),
        block("echo third", "sh"),
        block("print('defined' if 'a' in globals() else 'fresh')"),
    ]
    result = code_executor.execute_code_blocks(blocks)
    assert (result.exit_code, result.output) == (0, "first True\n200\nthird\nfresh\n")
    assert [record.status for record in result.executions] == ["no_tests"] * 4


@pytest.mark.docker
def test_the_first_failing_block_stops_the_rest(code_executor: DockerCodeExecutor) -> None:
    blocks = [block("print('ran')"), block("echo failing; exit 2", "bash"), block("print('never')")]
    result = code_executor.execute_code_blocks(blocks)
    assert (result.exit_code, result.output) == (2, "ran\nfailing\n")
    assert len(result.executions) == 2


@pytest.mark.docker
def test_output_is_stdout_and_stderr_in_the_order_written(code_executor: DockerCodeExecutor) -> None:
    code = "import sys\nprint('out 1', flush=True)\nprint('err', file=sys.stderr, flush=True)\nprint('out 2')"
    assert code_executor.execute_code_blocks([block(code)]).output == "out 1\nerr\nout 2\n"


@pytest.mark.docker
def test_files_persist_in_the_working_directory_across_calls(code_executor: DockerCodeExecutor) -> None:
    write = code_executor.execute_code_blocks([block("open('kept.txt', 'w').write('kept\\n')"), block("pwd", "sh")])
    assert (write.exit_code, write.output) == (0, "/workspace\n")
    read = code_executor.execute_code_blocks([block("cat kept.txt", "sh")])
    assert (read.exit_code, read.output) == (0, "kept\n")


@pytest.mark.docker
def test_a_filename_comment_names_the_file_that_runs_and_stays(code_executor: DockerCodeExecutor) -> None:
    first = code_executor.execute_code_blocks([block("# filename: app/hello.py\nprint(__file__)")])
    assert (first.exit_code, first.output) == (0, "/workspace/app/hello.py\n")
    assert first.code_file == "/workspace/app/hello.py"
    again = code_executor.execute_code_blocks([block("python3 app/hello.py", "sh")])
    assert (again.exit_code, again.output) == (0, "/workspace/app/hello.py\n")


@pytest.mark.docker
@pytest.mark.parametrize(("code", "language"), [("import time; time.sleep(30)", "python"), ("sleep 30", "sh")])
def test_a_block_that_runs_out_of_time_exits_124_and_says_timeout(
    quick: DockerCodeExecutor, code: str, language: str
) -> None:
    result = quick.execute_code_blocks([block("print('before', flush=True)"), block(code, language)])
    assert result.exit_code == 124
    assert result.output.startswith("before\n") and result.output.endswith("\nTimeout")
    assert (result.execution.status, result.execution.exit_code) == ("timeout", 137)
    assert quick.execute_code_blocks([block("echo still usable", "sh")]).output == "still usable\n"


@pytest.mark.docker
def test_a_file_that_cannot_be_written_fails_its_block_without_hanging(code_executor: DockerCodeExecutor) -> None:
    planted = code_executor.execute_code_blocks([block("import os; os.mkfifo('trap.py'); os.mkdir('dir.py')")])
    assert planted.exit_code == 0
    for name in ("trap.py", "dir.py"):
        result = code_executor.execute_code_blocks([block(f"# filename: {name}\nprint('ran')")])
        assert result.exit_code == 1 and result.output.startswith(f"aiev runner: cannot write {name}: ")
    assert code_executor.execute_code_blocks([block("rm trap.py; rmdir dir.py; echo cleared", "sh")]).exit_code == 0


@pytest.mark.docker
def test_no_process_outlives_its_call_although_files_do(code_executor: DockerCodeExecutor) -> None:
    started = code_executor.execute_code_blocks([block("sleep 300 & echo started", "sh")])
    assert (started.exit_code, started.output) == (0, "started\n")
    count = "import glob\nprint([open(f).read() for f in glob.glob('/proc/[0-9]*/comm')].count('sleep\\n'))"
    assert code_executor.execute_code_blocks([block(count)]).output == "0\n"


@pytest.mark.docker
def test_test_counts_are_evidence_on_the_execution_never_the_exit_code(code_executor: DockerCodeExecutor) -> None:
    tested = code_executor.execute_code_blocks([block("assert 1 + 1 == 2\nprint('ok')")])
    assert (tested.exit_code, tested.execution.status, tested.execution.assertions) == (0, "pass", 1)
    untested = code_executor.execute_code_blocks([block("print('ok')")])
    assert (untested.exit_code, untested.execution.status) == (0, "no_tests")


@pytest.mark.docker
def test_pip_install_lines_go_through_the_installer(code_executor: DockerCodeExecutor) -> None:
    script = "pip install tabulate==0.9.0\npython3 -c 'import tabulate; print(tabulate.__version__)'"
    result = code_executor.execute_code_blocks([block(script, "bash"), block("import tabulate; print('imported')")])
    assert (result.exit_code, result.output) == (0, "0.9.0\nimported\n")
    assert result.execution.packages == ["tabulate==0.9.0"]


@pytest.mark.docker
def test_restart_gives_a_fresh_container_with_an_empty_working_directory(sandbox_settings: SandboxSettings) -> None:
    with DockerCodeExecutor(sandbox_settings) as executor:
        executor.execute_code_blocks([block("echo x > left.txt", "sh")])
        before = executor.sandbox.container_name
        executor.restart()
        assert executor.sandbox.container_name != before
        result = executor.execute_code_blocks([block("echo $HOME; ls", "sh")])
    assert (result.exit_code, result.output) == (0, "/tmp\n" + result.code_file.rsplit("/", 1)[1] + "\n")


# -- AIEV's one program ------------------------------------------------------------------


@pytest.mark.docker
def test_run_program_runs_a_reply_as_one_program_in_a_fresh_directory(code_executor: DockerCodeExecutor) -> None:
    code_executor.execute_code_blocks([block("echo x > earlier.txt", "sh")])
    blocks = [
        block("import os\n\ndef f():\n    return 2\n"),
        block("print(f(), os.path.exists('earlier.txt'))"),
        block("python main.py", "sh"),
    ]
    assert code_executor.execute_code_blocks(blocks).exit_code == 1  # AG2: each block on its own, f undefined
    program = code_executor.run_program(blocks)
    assert (program.exit_code, program.execution.status) == (0, "no_tests")
    assert program.ignored_shell_lines == ["python main.py"]
    assert program.output.startswith("2 False\n")


def test_run_program_without_python_is_no_code_and_contacts_nothing(tmp_path: Path) -> None:
    result = offline_executor(tmp_path).run_program("```sh\npip install six\n```\nNo Python.")
    assert (result.exit_code, result.execution.status, result.output) == (1, "no_code", NO_CODE_MESSAGE)


# -- AG2 agents ----------------------------------------------------------------------------


@pytest.mark.docker
def test_an_ag2_conversable_agent_runs_a_reply_with_our_executor(code_executor: DockerCodeExecutor) -> None:
    agent = ConversableAgent("user_proxy", code_execution_config={"executor": code_executor}, llm_config=False)
    assert agent.code_executor is code_executor
    message = '\n    Example:\n    ```python\n    print("hello extract code")\n    ```\n    '
    sender = ConversableAgent("user", llm_config=False, code_execution_config=False)
    reply = agent.generate_reply([{"role": "user", "content": message}], sender=sender)
    assert reply == "exitcode: 0 (execution succeeded)\nCode output: hello extract code\n"


@pytest.mark.docker
def test_an_ag2_conversable_agent_runs_shell_and_python_blocks_of_one_reply(code_executor: DockerCodeExecutor) -> None:
    agent = ConversableAgent("user_proxy", code_execution_config={"executor": code_executor}, llm_config=False)
    message = "```bash\necho 'from the shell'\n```\nthen\n```python\nprint('from python')\n```"
    reply = agent.generate_reply([{"role": "user", "content": message}])
    assert reply == "exitcode: 0 (execution succeeded)\nCode output: from the shell\nfrom python\n"


def test_the_executor_agent_leaves_a_message_without_code_to_ag2(tmp_path: Path) -> None:
    agent = ExecutorAgent(sandbox=SandboxSettings(docker_host=f"unix://{tmp_path}/no-docker.sock"))
    other = ConversableAgent("assistant", llm_config=False)
    assert agent.generate_reply([{"role": "user", "content": "Nothing to run here."}], sender=other) == ""
    assert agent.last_execution is not None and agent.last_execution.status == "no_code"


def test_the_executor_agent_does_not_run_a_termination_message(tmp_path: Path) -> None:
    agent = ExecutorAgent(
        sandbox=SandboxSettings(docker_host=f"unix://{tmp_path}/no-docker.sock"),
        is_termination_msg=lambda message: "TERMINATE" in (message.get("content") or ""),
    )
    other = ConversableAgent("assistant", llm_config=False)
    message = {"role": "user", "content": "```python\nprint(1)\n```\nTERMINATE"}
    assert agent.generate_reply([message], sender=other) is None  # no Docker contacted: nothing ran


def scripted_llm_config(base_url: str) -> dict[str, Any]:
    """An AG2 ``llm_config`` of the scripted OpenAI-compatible server, written the AG2 way."""
    entry = {"model": "scripted", "base_url": base_url, "api_key": "sk-test", "api_type": "openai", "price": [0, 0]}
    return {"config_list": [entry], "cache_seed": None}


@pytest.mark.docker
def test_the_two_agent_coding_chat_ends_by_itself_on_terminate(sandbox: DockerSandbox) -> None:
    script = [
        "Let me compute it.\n```python\nprint(6 * 7)\n```",
        "The program printed 42, so 6 * 7 = 42.\nTERMINATE",
    ]
    with ScriptedServer({"assistant": script}, key=lambda body: "assistant") as server:
        assistant = AssistantAgent("assistant", llm_config=scripted_llm_config(server.base_url))
        executor = ExecutorAgent(
            code_executor=DockerCodeExecutor(sandbox=sandbox),
            is_termination_msg=lambda message: "TERMINATE" in (message.get("content") or ""),
        )
        result = executor.initiate_chat(assistant, message="What is 6 * 7? Use Python.", max_turns=10, silent=True)
        assert server.remaining("assistant") == 0 and len(server.requests) == 2
    assert [m["name"] for m in result.chat_history] == ["executor", "assistant", "executor", "assistant"]
    report = result.chat_history[2]["content"]
    assert report.startswith("exitcode: 0 (execution succeeded)") and report.endswith("Code output:\n42")
    assert result.chat_history[-1]["content"].endswith("TERMINATE")
    assert server.requests[1]["messages"][-1]["content"] == report  # the assistant read the run
