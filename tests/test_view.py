"""`aiev view` without a browser: the index, its filters, malformed input, the server's API, the CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.errors import DatasetError
from aiev_agents.generate.report import build_report
from aiev_agents.view import Query, ViewedRun, ViewServer, scan, write_html
from aiev_agents.view.dialogue import dialogue_page, program_diffs
from aiev_agents.view.fastread import list_fields
from aiev_agents.view.index import INDEX_SUFFIX
from aiev_agents.view.summary import summarize

from helpers import interruptible

pytestmark = pytest.mark.docker  # the runs are made by `aiev generate` in the sandbox


@pytest.fixture
def run_dir(scripted_run: Path, tmp_path: Path) -> Path:
    """A copy of the scripted run that a test may change."""
    return Path(shutil.copytree(scripted_run, tmp_path / "run"))


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "dialogues.jsonl").read_text().splitlines()]


def ids(run: ViewedRun, **filters: Any) -> list[str]:
    return [row["id"] for row in run.list_page(Query(**filters))["rows"]]


def append(run_dir: Path, text: str) -> None:
    with (run_dir / "dialogues.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(text)


def test_the_list_has_one_row_per_dialogue_in_file_order(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    assert run.refresh() == 4
    rows = run.list_page(Query())["rows"]
    assert [(row["id"], row["verified"], row["status"], row["rounds"]) for row in rows] == [
        ("first-try", True, "pass", 1),
        ("fixed", True, "pass", 2),
        ("never-passed", False, "fail", 2),
        ("also-first-try", True, "pass", 1),
    ]
    assert {(row["models"][0], row["language"], row["source"], row["stage"]) for row in rows} == {
        ("scripted-teacher", "python", "tests", "teaching")
    }
    assert rows[1]["first_line"].startswith("Write a function `add(a, b)`") and rows[1]["first_line"].endswith(
        "(fixed)"
    )


def test_filters_sort_and_pages(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    run.refresh()
    assert ids(run, verified="no") == ["never-passed"]
    assert ids(run, rounds=2) == ["fixed", "never-passed"]
    assert ids(run, status="pass", stage="teaching", model="scripted-teacher") == [
        "first-try",
        "fixed",
        "also-first-try",
    ]
    assert ids(run, model="another-model") == []
    assert ids(run, text="RETURN A * B") == ["never-passed"]  # code, any case
    assert ids(run, text="(also-first-try)") == ["also-first-try"]  # problem
    assert ids(run, text="add(a,_b)") == [] and len(ids(run, text="add(a, b)")) == 4  # `_` is no wildcard
    assert ids(run, sort="rounds", descending=True) == ["fixed", "never-passed", "first-try", "also-first-try"]
    second_page = run.list_page(Query(offset=2, limit=2))
    assert (second_page["total"], [row["id"] for row in second_page["rows"]]) == (4, ["never-passed", "also-first-try"])
    assert run.list_page(Query())["facets"]["status"] == {"fail": 1, "pass": 3}


def test_the_index_is_kept_beside_the_file_and_reused(run_dir: Path) -> None:
    assert ViewedRun(run_dir).refresh() == 4
    assert (run_dir / f"dialogues.jsonl{INDEX_SUFFIX}").is_file()
    assert ViewedRun(run_dir).refresh() == 0  # a new process finds it current


def test_a_grown_file_has_only_its_new_lines_read(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    run.refresh()
    extra = {**records(run_dir)[0], "id": "late"}
    append(run_dir, json.dumps(extra) + "\n")
    assert run.refresh() == 1
    assert ids(run)[-1] == "late"


def test_a_rewritten_file_is_indexed_again(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    run.refresh()
    kept = records(run_dir)[2:]
    (run_dir / "dialogues.jsonl").write_text("".join(json.dumps(record) + "\n" for record in kept))
    assert run.refresh() == 2
    assert ids(run) == ["never-passed", "also-first-try"]


def test_a_torn_last_line_is_shown_then_read_whole_once_finished(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    run.refresh()
    line = json.dumps({**records(run_dir)[0], "id": "being-written"})
    append(run_dir, line[:100])
    assert run.refresh() == 1
    torn = run.list_page(Query(status="malformed"))["rows"]
    assert [(row["id"], row["note"]) for row in torn] == [
        ("line-5", "line 5: a torn last line (the writer stopped mid-record)")
    ]
    page = run.dialogue(seq=torn[0]["seq"])
    assert (page["status"], page["raw"]) == ("malformed", line[:100])
    append(run_dir, line[100:] + "\n")
    assert run.refresh() == 1
    assert ids(run)[-1] == "being-written" and ids(run, status="malformed") == []


def test_an_older_schema_and_a_missing_field_are_shown_with_what_is_wrong(run_dir: Path) -> None:
    old = {key: value for key, value in records(run_dir)[1].items() if key != "messages"}
    old.update(id="old-record", schema=0)
    append(run_dir, json.dumps(old) + "\n")
    run = ViewedRun(run_dir)
    run.refresh()
    row = run.list_page(Query(text="(fixed)"))["rows"][-1]
    assert row["id"] == "old-record"
    assert row["note"] == "schema 0, this version reads 1: shown as far as it goes; missing messages"
    page = run.dialogue("old-record")
    assert "messages: Field required" in page["problems"]
    assert [run["status"] for run in page["executions"]] == ["fail", "pass"] and page["messages"] == []


def test_a_folder_that_is_not_a_run_gets_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a run: this folder has no dialogues.jsonl"):
        ViewedRun(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "aiev_agents.cli", "view", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_the_server_answers_on_localhost_only_with_the_page_its_libraries_and_json(run_dir: Path) -> None:
    with ViewServer(ViewedRun(run_dir), port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        page = urllib.request.urlopen(server.url).read().decode()
        assert '<script src="/static/vendor/chartjs/chart.umd.min.js">' in page and "https://" not in page
        assert urllib.request.urlopen(server.url + "static/vendor/highlightjs/highlight.min.js").status == 200
        listed = json.load(urllib.request.urlopen(server.url + "api/dialogues?verified=no&limit=5"))
        assert (listed["total"], listed["rows"][0]["id"]) == (1, "never-passed")
        overview = json.load(urllib.request.urlopen(server.url + "api/overview"))
        assert (overview["report"]["counts"]["verified"], overview["report"]["verified_rate"]) == (3, 0.75)
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(server.url + "api/dialogues?sort=colour")
        assert bad.value.code == 400
        assert json.load(bad.value) == {"error": "unknown sort 'colour'; use one of line, id, rounds, status, ended"}


def test_the_html_file_holds_the_page_its_libraries_and_every_dialogue(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "share.html"
    proc = subprocess.run(
        [sys.executable, "-m", "aiev_agents.cli", "view", str(run_dir), "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "<script src=" not in page and "<link" not in page  # everything inline
    data = json.loads(page.split('<script id="aiev-data" type="application/json">')[1].split("</script>")[0])
    assert [row["id"] for row in data["rows"]] == ["first-try", "fixed", "never-passed", "also-first-try"]
    assert len(data["dialogues"]) == 4 and data["overview"]["report"]["counts"]["dialogues"] == 4


def test_an_html_file_past_its_limit_is_refused_and_not_written(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="has 4 dialogues; --html holds at most 3"):
        write_html(ViewedRun(run_dir), tmp_path / "big.html", limit=3)
    assert not (tmp_path / "big.html").exists()


def test_the_diff_goes_from_each_program_to_the_next() -> None:
    diffs = program_diffs(["x = 1\nprint(x)", "x = 2\nprint(x)", "x = 2\nprint(x)"])
    assert diffs[0] == {
        "from_round": 1,
        "to_round": 2,
        "diff": "--- round 1\n+++ round 2\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 2\n print(x)",
    }
    assert diffs[1]["diff"] == ""


def test_the_fast_read_gives_the_rows_a_whole_parse_gives(scripted_run: Path) -> None:
    lines = (scripted_run / "dialogues.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 4
    for line in lines:
        fields = list_fields(line)
        assert fields is not None
        assert summarize(fields) == summarize(json.loads(line))


def test_a_line_of_another_shape_is_left_to_the_whole_parse(scripted_run: Path) -> None:
    record = records(scripted_run)[0]
    reordered = {"messages": record["messages"], **{k: v for k, v in record.items() if k != "messages"}}
    assert list_fields((json.dumps(reordered) + "\n").encode()) is None
    assert list_fields(json.dumps(record).encode()) is None  # no newline: maybe torn
    tricky = {**record, "problem": 'Say , "messages": and , "executions": here.'}
    assert summarize(list_fields((json.dumps(tricky) + "\n").encode())) == summarize(tricky)


def test_the_command_serves_a_dialogues_file_until_interrupted(run_dir: Path) -> None:
    command = [sys.executable, "-m", "aiev_agents.cli", "view", str(run_dir / "dialogues.jsonl"), "--port", "0"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    proc = subprocess.Popen(command, preexec_fn=interruptible, **pipes)
    try:
        assert proc.stdout is not None
        indexed = proc.stdout.readline()
        serving = proc.stdout.readline()
        assert indexed.startswith(f"{run_dir / 'dialogues.jsonl'}: 4 new line(s) indexed into ")
        url = serving.split()[1]
        assert serving == f"serving {url} (Ctrl-C stops)\n" and url.startswith("http://127.0.0.1:")
        listed = json.load(urllib.request.urlopen(url + "api/dialogues?q=never"))
        assert [row["id"] for row in listed["rows"]] == ["never-passed"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_the_overview_is_the_run_report_kept_in_the_index_until_the_file_changes(run_dir: Path) -> None:
    run = ViewedRun(run_dir)
    run.refresh()
    overview = run.overview()
    assert overview["report"] == build_report(records(run_dir))
    assert ViewedRun(run_dir).index.saved("overview") == overview  # a second viewer reads it back
    append(run_dir, json.dumps({**records(run_dir)[2], "id": "late"}) + "\n")
    run.refresh()
    assert run.index.saved("overview") is None
    assert run.overview()["report"]["counts"]["not_verified"] == 2


def test_a_big_file_read_by_worker_processes_gives_the_rows_one_process_gives(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (run_dir / "dialogues.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "dialogues.jsonl").write_text("".join(lines * 5) + "\n" + lines[0][:50])  # a blank and a torn line
    serial = ViewedRun(run_dir, index_path=tmp_path / "serial.sqlite")
    assert serial.refresh() == 21
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan, "_RANGE_BYTES", 12_000)  # a few lines per range
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 3)  # two workers
    parallel = ViewedRun(run_dir, index_path=tmp_path / "parallel.sqlite")
    assert parallel.refresh() == 21
    everything = Query(limit=100)
    assert parallel.list_page(everything)["rows"] == serial.list_page(everything)["rows"]
    assert parallel.list_page(everything)["rows"][-1]["id"] == "line-22"


def test_a_dialogue_page_has_side_turns_the_ag2_log_ids_and_what_each_check_means(scripted_run: Path) -> None:
    record = records(scripted_run)[1]
    record["trace"] = {"ag2_log_db": "runs/first/ag2.sqlite", "ag2_session_id": "4e2a"}
    record["side_turns"] = [
        {"role": "assistant", "name": "test_writer", "content": "```python\nassert add(1, 1) == 2\n```"}
    ]
    page = dialogue_page(record)
    assert page["trace"]["ag2_session_id"] == "4e2a" and page["trace"]["ag2_log_db"] == "runs/first/ag2.sqlite"
    assert page["trace"]["call_ids"] == [turn["call_id"] for turn in record["messages"] if turn["call_id"]]
    assert page["side_turns"][0]["segments"] == [{"code": "assert add(1, 1) == 2\n", "lang": "python"}]
    checks = {check["name"]: check for check in page["checks"]}
    assert set(checks) == set(record["checks"])
    assert checks["mutation"]["meaning"].startswith("Mutants of the solution")
    assert [run["round"] for run in page["executions"]] == [1, 2] and page["problems"] == []


def test_a_port_in_use_is_a_one_line_error(run_dir: Path) -> None:
    with ViewServer(ViewedRun(run_dir), port=0) as first:
        port = first.url.rsplit(":", 1)[1].strip("/")
        proc = subprocess.run(
            [sys.executable, "-m", "aiev_agents.cli", "view", str(run_dir), "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: cannot serve on 127.0.0.1:{port} (Address already in use): pass another --port, or 0\n"
    )
