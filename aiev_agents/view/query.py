"""Filtering, sorting and paging the index's rows: what the list page asks for, as SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DatasetError
from .index import RunIndex

#: Sort keys the list offers → their SQL (``seq``, the order of the file, breaks ties).
SORTS = {"line": "seq", "id": "id", "rounds": "rounds", "status": "status", "ended": "ended_at"}
MAX_PAGE = 500
DEFAULT_PAGE = 50
_LIST_COLUMNS = (
    "seq, line_no, id, verified, status, rounds, models, language, source, stage, first_line, ended_at, note"
)


@dataclass(frozen=True)
class Query:
    """One list request: filters (empty: any), sort and page. ``text`` searches problem and code."""

    verified: str = ""  # "yes", "no" or ""
    status: str = ""
    rounds: int | None = None
    model: str = ""
    stage: str = ""
    text: str = ""
    sort: str = "line"
    descending: bool = False
    offset: int = 0
    limit: int = DEFAULT_PAGE

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        """A query from URL parameters (``verified``, ``status``, ``rounds``, ``model``, ``stage``,
        ``q``, ``sort``, ``order``, ``offset``, ``limit``).

        Raises:
            DatasetError: A parameter has a value the list does not offer.
        """
        sort = params.get("sort") or "line"
        if sort not in SORTS:
            raise DatasetError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
        if params.get("verified", "") not in ("", "yes", "no"):
            raise DatasetError("verified is yes, no, or empty for both")
        return cls(
            verified=params.get("verified", ""),
            status=params.get("status", ""),
            rounds=_whole(params.get("rounds"), "rounds") if params.get("rounds") else None,
            model=params.get("model", ""),
            stage=params.get("stage", ""),
            text=params.get("q", "").strip(),
            sort=sort,
            descending=params.get("order") == "desc",
            offset=_whole(params.get("offset") or "0", "offset"),
            limit=min(MAX_PAGE, max(1, _whole(params.get("limit") or str(DEFAULT_PAGE), "limit"))),
        )

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition of the filters and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.verified:
            clauses.append("verified = ?")
            params.append(1 if self.verified == "yes" else 0)
        for column, value in (("status", self.status), ("stage", self.stage)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.rounds is not None:
            clauses.append("rounds = ?")
            params.append(self.rounds)
        if self.model:
            clauses.append("instr(char(10) || models || char(10), ?) > 0")
            params.append(f"\n{self.model}\n")
        if self.text:
            # LIKE (ASCII case folded, the text is lower-cased already) scans faster than instr()
            clauses.append("seq IN (SELECT seq FROM search WHERE text LIKE ? ESCAPE '\\')")
            escaped = self.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def page(index: RunIndex, query: Query) -> dict[str, Any]:
    """One page of rows matching ``query``, and how many match in all."""
    where, params = query.where()
    order = f"{SORTS[query.sort]} {'DESC' if query.descending else 'ASC'}, seq"
    # Sort narrow rows (the key and seq), then read the page's columns; a text search scans every
    # record's text, so it is counted in the same pass (a window) rather than in a second one.
    counted = ", COUNT(*) OVER () AS total" if query.text else ""
    picked = index.rows(
        f"SELECT seq{counted} FROM rows{where} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, query.limit, query.offset),
    )
    if counted and picked:
        total = picked[0]["total"]
    else:
        total = index.rows(f"SELECT COUNT(*) FROM rows{where}", tuple(params))[0][0]
    seqs = [row["seq"] for row in picked]
    found = {
        row["seq"]: _list_row(row)
        for row in index.rows(
            f"SELECT {_LIST_COLUMNS} FROM rows WHERE seq IN ({', '.join('?' * len(seqs))})", tuple(seqs)
        )
    }
    return {"total": total, "offset": query.offset, "limit": query.limit, "rows": [found[seq] for seq in seqs]}


def facets(index: RunIndex) -> dict[str, Any]:
    """The values each filter can take, with how many rows have each."""
    counts = {
        column: {str(value): n for value, n in index.rows(f"SELECT {column}, COUNT(*) FROM rows GROUP BY 1 ORDER BY 1")}
        for column in ("status", "stage", "rounds")
    }
    models: dict[str, int] = {}
    for joined, n in index.rows("SELECT models, COUNT(*) FROM rows GROUP BY 1"):
        for name in filter(None, (joined or "").split("\n")):
            models[name] = models.get(name, 0) + n
    verified = dict(index.rows("SELECT verified, COUNT(*) FROM rows GROUP BY 1"))
    return {
        **counts,
        "model": dict(sorted(models.items())),
        "verified": {"yes": verified.get(1, 0), "no": verified.get(0, 0)},
        "total": sum(counts["status"].values()),
    }


def seq_of(index: RunIndex, dialogue_id: str) -> int:
    """The row of a dialogue id (its first line, if the id repeats).

    Raises:
        DatasetError: No row has that id.
    """
    found = index.rows("SELECT seq FROM rows WHERE id = ? ORDER BY seq LIMIT 1", (dialogue_id,))
    if not found:
        raise DatasetError(f"no dialogue with id {dialogue_id!r} in {index.dialogues}")
    return int(found[0][0])


def _list_row(row: Any) -> dict[str, Any]:
    item = dict(row)
    item["verified"] = None if item["verified"] is None else bool(item["verified"])
    item["models"] = [name for name in (item["models"] or "").split("\n") if name]
    return item


def _whole(text: str | None, name: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise DatasetError(f"{name} must be a whole number, got {text!r}") from None
    if value < 0:
        raise DatasetError(f"{name} must be 0 or more, got {value}")
    return value
