"""The warm runner: each run behaves like a fresh `python main.py`, and its files suit Python 3.8."""

from __future__ import annotations

import ast
from importlib import resources

import pytest

from aiev_agents.sandbox import DockerSandbox, SandboxSettings
from aiev_agents.sandbox.container import RUNNER_FILES

from helpers import run_program


@pytest.mark.docker
def test_each_run_gets_fresh_random_state(sandbox: DockerSandbox) -> None:
    program = "import random, uuid\nprint(random.random(), uuid.uuid4())\n"
    outputs = {run_program(sandbox, program).output for _ in range(3)}
    assert len(outputs) == 3


@pytest.mark.docker
def test_threads_are_joined_and_atexit_callbacks_run_at_exit(sandbox: DockerSandbox) -> None:
    result = run_program(
        sandbox,
        """
        import atexit, threading, time
        atexit.register(print, "atexit")
        threading.Thread(target=lambda: (time.sleep(0.2), print("thread"))).start()
        print("main")
        assert True
        """,
    )
    assert (result.status, result.output, result.assertions) == ("pass", "main\nthread\natexit\n", 1)


@pytest.mark.docker
def test_unflushed_writes_of_a_global_file_object_reach_the_output(sandbox: DockerSandbox) -> None:
    result = run_program(sandbox, "out = open(1, 'w', closefd=False)\nout.write('buffered')\n")
    assert (result.status, result.output) == ("no_tests", "buffered")


@pytest.mark.docker
def test_sys_exit_with_a_message_prints_it_and_exits_1(sandbox: DockerSandbox) -> None:
    result = run_program(sandbox, "import sys\nassert True\nsys.exit('bad input')\n")
    assert (result.status, result.exit_code, result.output) == ("fail", 1, "bad input\n")


@pytest.mark.docker
def test_sys_exit_code_is_kept(sandbox: DockerSandbox) -> None:
    result = run_program(sandbox, "import sys\nsys.exit(3)\n")
    assert (result.status, result.exit_code, result.output) == ("fail", 3, "")


@pytest.mark.docker
def test_killed_by_its_own_signal_reports_128_plus_the_signal(sandbox: DockerSandbox) -> None:
    result = run_program(sandbox, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert (result.status, result.exit_code, result.output) == (
        "fail",
        137,
        "Killed (SIGKILL) before the time limit.",
    )


@pytest.mark.docker
def test_program_sees_a_plain_environment(sandbox: DockerSandbox) -> None:
    result = run_program(
        sandbox,
        """
        import os, sys
        print(os.getcwd(), os.environ["HOME"], "PYTHONPATH" in os.environ, sys.argv, __name__)
        print(sys.stdin.read() == "", os.umask(0) == 0o022)
        """,
    )
    assert (result.status, result.output) == (
        "no_tests",
        "/workspace /tmp False ['main.py'] __main__\nTrue True\n",
    )


@pytest.mark.docker
def test_program_can_run_python_subprocesses(sandbox: DockerSandbox) -> None:
    result = run_program(
        sandbox,
        """
        import subprocess, sys
        done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
        print(done.returncode, done.stdout.strip())
        """,
    )
    assert (result.status, result.output) == ("no_tests", "0 42\n")


@pytest.mark.docker
def test_rlimits_of_the_program(sandbox_settings: SandboxSettings) -> None:
    settings = sandbox_settings.model_copy(update={"timeout_s": 10, "cpus": 1.5, "file_size_bytes": 1 << 20})
    program = """
        import resource
        print([resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in ("CPU", "CORE", "FSIZE")])
        try:
            open("big", "wb").write(b"x" * (2 << 20))
        except OSError as exc:
            print(exc.strerror)
        """
    with DockerSandbox(settings) as box:
        result = run_program(box, program)
    assert (result.status, result.output) == (
        "no_tests",
        "[(16, 17), (0, 0), (1048576, 1048576)]\nFile too large\n",
    )


#: What a shell program sees of its own process: ids, session, OOM score, place, limits, the
#: descriptors it holds (bash adds 255, its script; the command substitution's pipe adds 3,
#: and 4 where fd 3 is the report pipe) and the signals it ignores.
SELF_PORTRAIT = r"""
read -r pid _ _ _ _ sid _ < /proc/$$/stat
echo "ids $(id -u) $(id -g) [$(id -G)] session-leader $([ "$pid" = "$sid" ] && echo yes || echo no)"
echo "oom $(cat /proc/$$/oom_score_adj) cwd $PWD umask $(umask)"
echo "soft $(ulimit -S -c) $(ulimit -S -t) $(ulimit -S -f) hard $(ulimit -H -c) $(ulimit -H -t) $(ulimit -H -f)"
echo "fds $(cd /proc/$$/fd && echo *)"
grep SigIgn /proc/$$/status
"""


@pytest.mark.docker
@pytest.mark.parametrize(
    ("options", "fds"),
    [
        ({"interpreter": "bash", "filename": "main.sh"}, "0 1 2 255 3"),
        ({"language": "bash"}, "0 1 2 255 3 4"),  # a toolchain driver's run: fd 3 is the report pipe
    ],
)
def test_a_program_that_is_not_python_is_contained_as_python_is(
    sandbox_settings: SandboxSettings, options: dict, fds: str
) -> None:
    """The children of shell and toolchain runs make only system calls between fork and exec:
    they get the same ids, session, OOM score, limits and nothing of the runner's descriptors."""
    settings = sandbox_settings.model_copy(update={"timeout_s": 10, "cpus": 1.5, "file_size_bytes": 1 << 20})
    with DockerSandbox(settings) as box:
        result = box.run(SELF_PORTRAIT, **options)
    assert result.output.splitlines() == [
        "ids 65534 65534 [65534] session-leader yes",
        "oom 1000 cwd /workspace umask 0022",
        "soft 0 16 1024 hard 0 17 1024",
        f"fds {fds}",
        "SigIgn:\t0000000000000004",  # SIGQUIT, which bash ignores itself; not SIGPIPE or SIGXFSZ
    ]


@pytest.mark.docker
def test_a_toolchain_the_image_lacks_fails_with_127_and_says_so(sandbox: DockerSandbox) -> None:
    result = sandbox.run("console.log(1)\n", language="javascript")  # the Python image has no Node.js
    assert (result.status, result.exit_code, result.output) == (
        "fail",
        127,
        "aiev runner: cannot start node: No such file or directory\n",
    )
    assert run_program(sandbox, "print('next')\n").output == "next\n"


@pytest.mark.parametrize("name", RUNNER_FILES)
def test_runner_files_parse_as_python_3_8(name: str) -> None:
    source = resources.files("aiev_agents.sandbox.guest").joinpath(name).read_text(encoding="utf-8")
    ast.parse(source, filename=name, feature_version=(3, 8))
