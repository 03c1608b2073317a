"""The Docker sandbox and its AG2 executor, against a real engine and the sandbox image."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from autogen import ConversableAgent
from autogen.coding import CodeExecutor

from aiev_agents.errors import SandboxUnavailable
from aiev_agents.sandbox import DockerCodeExecutor, DockerSandbox, SandboxSettings
from aiev_agents.sandbox.ag2_executor import NO_CODE_MESSAGE, NO_TESTS_MESSAGE
from aiev_agents.sandbox.docker_sandbox import LABEL_HOST, LABEL_PID, LABEL_SANDBOX
from aiev_agents.sandbox.image import image_is_current

from helpers import HOST_CA_BUNDLE, host_ca_bundle, program

OUTPUT_LIMIT = 4096


@pytest.fixture(scope="module")
def sandbox_settings(sandbox_settings: SandboxSettings) -> SandboxSettings:
    """The module's sandboxes (and its shared ``sandbox``) cap output and install through the host's CA bundle."""
    return sandbox_settings.model_copy(update={"output_limit_bytes": OUTPUT_LIMIT, "ca_bundle": host_ca_bundle()})


@pytest.mark.docker
def test_program_whose_asserts_hold_passes(sandbox: DockerSandbox) -> None:
    result = sandbox.run("assert 1 + 1 == 2\nprint('ok')\n")
    assert (result.status, result.exit_code, result.output) == ("pass", 0, "ok\n")
    assert (result.assertions, result.test_cases) == (1, 0)


@pytest.mark.docker
def test_unittest_cases_count_as_tests(sandbox: DockerSandbox) -> None:
    result = sandbox.run(
        program(
            """
            import unittest

            class T(unittest.TestCase):
                def test_a(self):
                    self.assertEqual(sorted([2, 1]), [1, 2])

                def test_b(self):
                    self.assertTrue(True)

            unittest.main()
            """
        )
    )
    assert (result.status, result.exit_code, result.test_cases) == ("pass", 0, 2)


@pytest.mark.docker
def test_failing_assert_fails_with_plain_traceback(sandbox: DockerSandbox) -> None:
    result = sandbox.run("def test_f():\n    assert 1 == 2, 'boom'\n\ntest_f()\n")
    assert (result.status, result.exit_code, result.assertions) == ("fail", 1, 1)
    assert result.output.startswith("Traceback (most recent call last):\n")
    assert 'File "/workspace/main.py", line 2, in test_f' in result.output
    assert result.output.endswith("AssertionError: boom\n")
    assert "harness" not in result.output


@pytest.mark.docker
def test_unittest_failure_is_fail_even_when_the_program_exits_0(sandbox: DockerSandbox) -> None:
    result = sandbox.run(
        program(
            """
            import unittest

            class T(unittest.TestCase):
                def test_bad(self):
                    self.assertEqual(1, 2)

            unittest.main(exit=False)
            """
        )
    )
    assert (result.status, result.exit_code) == ("fail", 0)
    assert result.output.endswith("1 unittest failure(s) or error(s), although the program exited 0.")


@pytest.mark.docker
def test_program_without_tests_is_no_tests(sandbox: DockerSandbox) -> None:
    result = sandbox.run("print(1)\n")
    assert (result.status, result.exit_code, result.output, result.tests_run) == ("no_tests", 0, "1\n", 0)


@pytest.mark.docker
def test_stdout_and_stderr_keep_their_order(sandbox: DockerSandbox) -> None:
    result = sandbox.run("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')\nassert 1\n")
    assert result.output == "a\nb\nc\n"


@pytest.mark.docker
def test_endless_loop_times_out_and_the_sandbox_still_works(sandbox: DockerSandbox) -> None:
    result = sandbox.run("while True:\n    pass\n", timeout_s=2)
    assert (result.status, result.exit_code) == ("timeout", 137)
    assert result.output == "Timed out after 2 s."
    assert 2 <= result.duration_s < 8
    assert sandbox.run("assert True\n").status == "pass"


@pytest.mark.docker
def test_output_over_the_limit_is_truncated_and_tests_still_counted(sandbox: DockerSandbox) -> None:
    result = sandbox.run("print('x' * 20000)\nassert True\n")
    assert (result.status, result.truncated, result.assertions) == ("pass", True, 1)
    marker = f"[output truncated: {20001 - 2 * OUTPUT_LIMIT} bytes cut here, between the first {OUTPUT_LIMIT} and "
    marker += f"the last {OUTPUT_LIMIT} of 20001 bytes]"
    assert result.output == "x" * OUTPUT_LIMIT + f"\n{marker}\n" + "x" * (OUTPUT_LIMIT - 1) + "\n"


@pytest.mark.docker
def test_working_directory_is_emptied_before_each_run(sandbox: DockerSandbox) -> None:
    sandbox.run("open('leftover.txt', 'w').write('x')\n")
    result = sandbox.run("import os\nprint(os.getcwd(), sorted(os.listdir('.')))\n")
    assert result.output == "/workspace ['main.py']\n"


@pytest.mark.docker
def test_missing_package_is_install_error_with_pip_error_visible(sandbox: DockerSandbox) -> None:
    result = sandbox.execute("print(1)\n", ["aiev-no-such-package-zz9"])
    assert (result.status, result.packages) == ("install_error", ["aiev-no-such-package-zz9"])
    assert result.exit_code != 0
    assert "ERROR: No matching distribution found for aiev-no-such-package-zz9" in result.output
    assert result.install_output == result.output


def skip_unless_pypi_is_reachable() -> None:
    """Skip, saying why, when PyPI cannot be reached from this host through its CA bundle."""
    try:
        context = ssl.create_default_context(cafile=str(HOST_CA_BUNDLE))
        with urllib.request.urlopen("https://pypi.org/simple/six/", timeout=5, context=context):
            return
    except OSError:
        pytest.skip(f"PyPI is not reachable from this host with the CA bundle {HOST_CA_BUNDLE}")


@pytest.mark.docker
def test_real_pip_install_from_pypi_succeeds_with_the_ca_bundle(sandbox: DockerSandbox) -> None:
    skip_unless_pypi_is_reachable()
    result = sandbox.execute("import six\nassert six.PY3\n", ["six"])
    assert (result.status, result.packages) == ("pass", ["six"])
    assert "Successfully installed six-" in result.install_output


KILL_THE_RUNNER = (
    "import os\nfor p in os.listdir('/proc'):\n"
    "    if p.isdigit() and int(p) not in (1, os.getpid()) and b'runner.py' in "
    "open(f'/proc/{p}/cmdline', 'rb').read():\n        os.kill(int(p), 9)\n"
)


def kill_the_container(container: Any) -> None:
    container.kill()


def kill_the_runner(container: Any) -> None:
    container.exec_run(["python3", "-c", KILL_THE_RUNNER])  # the container ends with its runner


def assert_a_new_container_runs_the_next_program(box: DockerSandbox, dead: str | None) -> None:
    assert box.run("assert True\n").status == "pass"
    assert box.container_name not in (None, dead)


@pytest.mark.docker
@pytest.mark.parametrize("kill", [kill_the_container, kill_the_runner], ids=["killed_from_outside", "runner_killed"])
def test_dead_container_is_replaced_transparently_before_the_next_run(
    sandbox_settings: SandboxSettings, docker_client: Any, kill: Callable[[Any], None]
) -> None:
    with DockerSandbox(sandbox_settings) as box:
        first = box.container_name
        kill(docker_client.containers.get(first))
        assert_a_new_container_runs_the_next_program(box, first)


@pytest.mark.docker
def test_container_dying_during_a_run_is_a_fail_result_and_is_replaced(
    sandbox_settings: SandboxSettings, docker_client: Any
) -> None:
    with DockerSandbox(sandbox_settings) as box:
        first = box.container_name
        killer = threading.Timer(1.0, lambda: kill_the_container(docker_client.containers.get(first)))
        killer.start()
        crashed = box.run("import time\ntime.sleep(30)\n")
        killer.join()
        assert (crashed.status, crashed.exit_code) == ("fail", -1)
        assert crashed.output.startswith("The sandbox container crashed or was removed (")
        assert_a_new_container_runs_the_next_program(box, first)


@pytest.mark.docker
def test_installs_work_while_the_program_has_no_network(sandbox: DockerSandbox) -> None:
    skip_unless_pypi_is_reachable()
    program = "import socket, six\nassert [n for _, n in socket.if_nameindex()] == ['lo']\nprint(six.__name__)\n"
    result = sandbox.execute(program, ["six"])
    assert (sandbox.settings.network, result.status, result.output) == ("none", "pass", "six\n")


@pytest.mark.docker
def test_package_outside_the_allow_list_is_an_install_error(sandbox_settings: SandboxSettings) -> None:
    with DockerSandbox(sandbox_settings.model_copy(update={"allowed_packages": ["Six"]})) as box:
        result = box.execute("print(1)\n", ["tabulate==0.9.0"])
    assert (result.status, result.exit_code) == ("install_error", 1)
    assert result.output == "Not installed: tabulate==0.9.0 (not in sandbox.allowed_packages)."


@pytest.mark.docker
def test_stop_removes_the_container_and_can_be_repeated(sandbox_settings: SandboxSettings, docker_client: Any) -> None:
    box = DockerSandbox(sandbox_settings)
    box.start()
    name = box.container_name
    assert docker_client.containers.get(name).status == "running"
    box.stop()
    box.stop()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(name)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.docker
def test_start_removes_orphans_of_dead_processes_and_keeps_live_ones(
    sandbox_settings: SandboxSettings, docker_client: Any
) -> None:
    def labelled(pid: int) -> Any:
        labels = {LABEL_SANDBOX: "1", LABEL_PID: str(pid), LABEL_HOST: socket.gethostname()}
        return docker_client.containers.run(sandbox_settings.image, ["sleep", "infinity"], detach=True, labels=labels)

    orphan, live = labelled(dead_pid()), labelled(os.getpid())
    try:
        with DockerSandbox(sandbox_settings):
            pass
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(orphan.id)
        assert docker_client.containers.get(live.id).status == "running"
    finally:
        for container in (orphan, live):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass


@pytest.mark.docker
def test_missing_ca_bundle_is_sandbox_unavailable(sandbox_settings: SandboxSettings, tmp_path: Path) -> None:
    box = DockerSandbox(sandbox_settings.model_copy(update={"ca_bundle": tmp_path / "none.crt"}))
    with pytest.raises(SandboxUnavailable, match="ca_bundle .*none.crt is not a file"):
        box.start()


@pytest.mark.docker
def test_missing_image_without_pull_is_sandbox_unavailable(sandbox_settings: SandboxSettings) -> None:
    box = DockerSandbox(sandbox_settings.model_copy(update={"image": "aiev-no-such-image:0", "pull": False}))
    with pytest.raises(SandboxUnavailable, match="aiev sandbox build --offline"):
        box.start()


def test_unreachable_engine_is_sandbox_unavailable(tmp_path: Path) -> None:
    box = DockerSandbox(SandboxSettings(docker_host=f"unix://{tmp_path}/no-docker.sock"))
    with pytest.raises(SandboxUnavailable, match="Start Docker, or set DOCKER_HOST") as caught:
        box.run("assert True\n")
    assert caught.value.__cause__ is not None


def test_executor_reports_no_code_without_contacting_docker(tmp_path: Path) -> None:
    executor = DockerCodeExecutor(SandboxSettings(docker_host=f"unix://{tmp_path}/no-docker.sock"))
    assert isinstance(executor, CodeExecutor)
    blocks = executor.code_extractor.extract_code_blocks("```sh\npip install six\n```\nNo Python.")
    result = executor.run_program(blocks)  # AIEV's one program (execute_code_blocks is AG2's contract)
    assert (result.exit_code, result.execution.status, result.execution.output) == (
        1,
        "no_code",
        NO_CODE_MESSAGE,
    )


@pytest.mark.docker
def test_executor_runs_python3_fences_and_notes_programs_without_tests(sandbox: DockerSandbox) -> None:
    executor = DockerCodeExecutor(sandbox=sandbox)
    reply = "```python3\ndef f():\n    return 2\n```\n```py\nprint(f())\n```\n```sh\npython main.py\n```"
    result = executor.run_program(executor.code_extractor.extract_code_blocks(reply))
    assert (result.execution.status, result.exit_code) == ("no_tests", 0)
    assert result.ignored_shell_lines == ["python main.py"]
    assert result.output.startswith("2\n" + NO_TESTS_MESSAGE + "\n")


@pytest.mark.docker
def test_ag2_agent_executes_a_reply_through_the_executor(sandbox: DockerSandbox) -> None:
    executor = DockerCodeExecutor(sandbox=sandbox)
    agent = ConversableAgent(
        "executor", llm_config=False, human_input_mode="NEVER", code_execution_config={"executor": executor}
    )
    message = {"role": "user", "content": "```python\nassert 2 + 2 == 4\nprint('fine')\n```"}
    assert agent.generate_reply(messages=[message]) == "exitcode: 0 (execution succeeded)\nCode output: fine\n"


def test_importing_the_sandbox_package_loads_neither_docker_nor_ag2() -> None:
    code = "import sys, aiev_agents.sandbox; print(sorted({'docker', 'autogen'} & set(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout == "[]\n"


@pytest.mark.docker
def test_image_is_current_is_false_for_a_missing_image(docker_client: Any) -> None:
    assert image_is_current("aiev-no-such-image:0", client=docker_client) is False
