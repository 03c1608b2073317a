"""Export: every format read back by its consumer (datasets, pydantic or JSON-schema models), and the card."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from aiev_agents.codeblocks import split_program
from aiev_agents.data.curate.report import BenchmarkInfo, CurateReport, FilterCount, Match, Removal
from aiev_agents.data.export import export_dataset
from aiev_agents.data.export.formats import RUN_START, RUN_STOP, wrap_runnable
from aiev_agents.errors import DatasetError

import transcripts as tx

jsonschema = pytest.importorskip("jsonschema")

SAMPLES = ["add-1", "words-1", "table-1"]


# -- consumer-side models of the formats -------------------------------------------------------


class OpenAIMessage(BaseModel):
    """A message as OpenAI's chat fine-tuning accepts it."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)
    name: str | None = None
    weight: Literal[0, 1] | None = None


class OpenAIChatLine(BaseModel):
    """One line of an OpenAI chat fine-tuning file: at least one assistant turn, the last one."""

    model_config = ConfigDict(extra="forbid")

    messages: list[OpenAIMessage] = Field(min_length=2)

    @model_validator(mode="after")
    def _ends_with_the_assistant(self) -> OpenAIChatLine:
        if self.messages[-1].role != "assistant":
            raise ValueError("the last message must be the assistant's")
        return self


SHAREGPT_SCHEMA = {
    "type": "object",
    "required": ["conversations"],
    "properties": {
        "conversations": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["from", "value"],
                "additionalProperties": False,
                "properties": {"from": {"enum": ["system", "human", "gpt"]}, "value": {"type": "string"}},
            },
        }
    },
}

ALPACA_SCHEMA = {
    "type": "object",
    "required": ["instruction", "input", "output"],
    "properties": {k: {"type": "string"} for k in ("instruction", "input", "output")},
}

# AutoCoder's own extraction (Web_demo/code_interpreter/AutoCoderInterpreter.py): the last match per language.
AUTOCODER_BLOCK = {
    lang: re.compile(re.escape(f"{RUN_START}```{lang}") + r"(.*?)" + re.escape(f"```{RUN_STOP}"), re.DOTALL)
    for lang in ("sh", "python")
}


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Three verified dialogues (first try, repaired assertion, repaired with an install), one failed, one torn."""
    items = [tx.first_try(), tx.repaired_assertion(), tx.never_passed(), tx.repaired_with_install(), "{torn"]
    tx.write_dataset(tmp_path / "run", items)
    return tmp_path / "run"


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def front_matter(card: Path) -> dict:
    import yaml

    text = card.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


# -- formats -----------------------------------------------------------------------------------


def test_openai_lines_validate_and_end_with_the_assistant(dataset: Path, tmp_path: Path) -> None:
    result = export_dataset(dataset, "openai", tmp_path / "openai")
    lines = [OpenAIChatLine.model_validate(line) for line in read_lines(tmp_path / "openai" / "train.jsonl")]
    assert (result.stats.exported, result.stats.not_verified, result.stats.invalid) == (3, 1, 1)
    roles = [[m.role for m in line.messages] for line in lines]
    assert roles == [
        ["system", "user", "assistant"],
        ["system", "user", "assistant", "user", "assistant"],
        ["system", "user", "assistant", "user", "assistant"],
    ]
    repair_turn = lines[1].messages[3].content
    assert repair_turn.startswith("exitcode: 1 (execution failed)") and "Lower-case the text" in repair_turn
    assert split_program(lines[2].messages[-1].content).packages == ["tabulate==0.9.0"]


def test_keep_turns_leaves_the_executor_and_questioner_turns_apart(dataset: Path, tmp_path: Path) -> None:
    export_dataset(dataset, "openai", tmp_path / "openai", merge=False)
    second = OpenAIChatLine.model_validate(read_lines(tmp_path / "openai" / "train.jsonl")[1])
    assert [m.role for m in second.messages] == ["system", "user", "assistant", "user", "user", "assistant"]


def test_sharegpt_lines_match_the_schema_and_alternate(dataset: Path, tmp_path: Path) -> None:
    export_dataset(dataset, "sharegpt", tmp_path / "sharegpt")
    lines = read_lines(tmp_path / "sharegpt" / "train.jsonl")
    for line in lines:
        jsonschema.validate(line, SHAREGPT_SCHEMA)
        speakers = [turn["from"] for turn in line["conversations"]]
        assert speakers[0] == "system" and speakers[-1] == "gpt"
        assert speakers[1:] == ["human", "gpt"] * (len(speakers[1:]) // 2)
    assert [(line["id"], line["schema"]) for line in lines] == [(s, 1) for s in SAMPLES]


def test_alpaca_output_is_the_runnable_final_solution(dataset: Path, tmp_path: Path) -> None:
    export_dataset(dataset, "alpaca", tmp_path / "alpaca")
    lines = read_lines(tmp_path / "alpaca" / "train.jsonl")
    for line in lines:
        jsonschema.validate(line, ALPACA_SCHEMA)
    table = lines[2]
    assert table["instruction"] == tx.TABLE_PROBLEM
    program = split_program(table["output"])
    assert (program.python, program.packages) == (tx.TABLE_PROGRAM.rstrip(), ["tabulate==0.9.0"])


def test_autocoder_blocks_are_what_the_interpreter_extracts(dataset: Path, tmp_path: Path) -> None:
    export_dataset(dataset, "autocoder", tmp_path / "autocoder")
    table = read_lines(tmp_path / "autocoder" / "train.jsonl")[2]
    messages = table["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    first, last = messages[2]["content"], messages[4]["content"]
    assert AUTOCODER_BLOCK["python"].findall(first)[-1].strip() == tx.TABLE_PROGRAM.strip()
    assert AUTOCODER_BLOCK["sh"].findall(first) == []
    assert AUTOCODER_BLOCK["sh"].findall(last)[-1].strip() == "pip install tabulate==0.9.0"
    assert AUTOCODER_BLOCK["python"].findall(last)[-1].strip() == tx.TABLE_PROGRAM.strip()
    assert messages[3]["content"].startswith("exitcode: 1 (execution failed)")
    assert "```bash" not in last and last.startswith("This needs tabulate==0.9.0.")


def test_wrap_runnable_joins_python_blocks_as_executed_and_keeps_prose() -> None:
    answer = "Intro.\n\n```python\nx = 1\n```\n\nThen:\n\n```py\nassert x == 1\n```\n\nDone.\n"
    wrapped = wrap_runnable(answer)
    assert AUTOCODER_BLOCK["python"].findall(wrapped) == ["\nx = 1\n\nassert x == 1\n"]
    assert wrapped.startswith("Intro.\n") and "Then:" in wrapped and wrapped.rstrip().endswith("Done.")
    assert wrap_runnable("No code here.") == "No code here."


def test_hf_dataset_loads_from_disk_and_from_parquet(dataset: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    export_dataset(dataset, "hf", tmp_path / "hf")
    train = datasets.load_from_disk(str(tmp_path / "hf"))["train"]
    assert train["id"] == SAMPLES
    assert train[2]["final_packages"] == ["tabulate==0.9.0"]
    assert [e["status"] for e in train[2]["executions"]] == ["fail", "pass"]
    assert train[1]["messages"][-1]["role"] == "assistant"
    assert json.loads(train[0]["seed"])["license"] == "MIT"
    # a private cache: datasets keys its cache by the files' path, which pytest reuses from run to run
    from_card = datasets.load_dataset(str(tmp_path / "hf"), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert from_card["id"] == SAMPLES and from_card.features == train.features


def test_jsonl_export_loads_with_datasets_json(dataset: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    export_dataset(dataset, "sharegpt", tmp_path / "sharegpt")
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "sharegpt" / "train.jsonl"), split="train")
    assert loaded["id"] == SAMPLES


# -- dataset card -----------------------------------------------------------------------------


def test_card_has_front_matter_provenance_schema_and_license(dataset: Path, tmp_path: Path) -> None:
    result = export_dataset(dataset, "openai", tmp_path / "openai")
    meta = front_matter(result.card)
    assert meta["license"] == "other"
    assert meta["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": ["train.jsonl"]}]}]
    assert meta["aiev"]["config_hashes"] == [tx.CONFIG_HASH] and meta["aiev"]["samples"] == 3
    text = result.card.read_text(encoding="utf-8")
    assert "| teaching | programmer | gpt-4-turbo | 3 |" in text
    assert "| export: verified, valid, non-empty | 5 | 3 |" in text
    assert "Not curated" in text and "MIT (3)" in text and "terms of use" in text
    assert "| `messages` |" in text


def test_card_loads_with_huggingface_hub(dataset: Path, tmp_path: Path) -> None:
    hub = pytest.importorskip("huggingface_hub")
    result = export_dataset(dataset, "sharegpt", tmp_path / "sharegpt")
    card = hub.DatasetCard.load(result.card)
    assert card.data.license == "other" and "aiev-instruct" in card.data.tags


def test_card_reports_curate_counts_and_contamination(dataset: Path, tmp_path: Path) -> None:
    report = CurateReport(
        created_at="2025-05-01T10:00:00+00:00",
        source="runs/a/dialogues.jsonl",
        output=str(dataset / "dialogues.jsonl"),
        input_records=7,
        kept=3,
        filters=[
            FilterCount(name="verified", before=7, after=5),
            FilterCount(name="decontamination", before=5, after=4),
        ],
        benchmarks=[BenchmarkInfo(name="humaneval", source="package", tasks=164)],
        removed=[
            Removal(
                id="he12",
                line=6,
                reason="contaminated",
                matches=[
                    Match(
                        benchmark="humaneval",
                        task_id="HumanEval/12",
                        method="levenshtein",
                        field="problem",
                        benchmark_field="prompt",
                        score=0.97,
                    )
                ],
            )
        ],  # fmt: skip
        settings={"ngram_size": 10, "levenshtein_threshold": 0.9, "decontaminate_fields": ["problem", "code"]},
    )
    report.save(dataset)
    text = export_dataset(dataset, "alpaca", tmp_path / "alpaca").card.read_text(encoding="utf-8")
    assert "| curate: verified | 7 | 5 |" in text and "| curate: decontamination | 5 | 4 |" in text
    assert "| humaneval | HumanEval/12 (1) |" in text
    assert "Not curated" not in text


# -- errors ------------------------------------------------------------------------------------


def test_unknown_format_is_refused(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown export format 'jsonl'"):
        export_dataset(dataset, "jsonl", tmp_path / "out")


def test_no_verified_sample_writes_nothing(tmp_path: Path) -> None:
    tx.write_dataset(tmp_path / "run", [tx.never_passed()])
    with pytest.raises(DatasetError, match="holds no verified sample"):
        export_dataset(tmp_path / "run", "openai", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_existing_export_needs_overwrite_and_other_files_are_protected(dataset: Path, tmp_path: Path) -> None:
    export_dataset(dataset, "openai", tmp_path / "out")
    with pytest.raises(DatasetError, match="pass --overwrite"):
        export_dataset(dataset, "openai", tmp_path / "out")
    assert export_dataset(dataset, "sharegpt", tmp_path / "out", overwrite=True).stats.exported == 3
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="holds other files"):
        export_dataset(dataset, "openai", tmp_path / "mine", overwrite=True)
