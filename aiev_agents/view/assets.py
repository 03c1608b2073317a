"""The page's files, shipped as package data in ``aiev_agents/view/static/``."""

from __future__ import annotations

import re
from importlib import resources

#: The files the page loads, in order: (kind, name under static/).
PAGE_STYLES = ("vendor/highlightjs/github.min.css", "app.css")
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
PAGE_SCRIPTS = ("vendor/chartjs/chart.umd.min.js", "vendor/highlightjs/highlight.min.js", "app.js")


def read_asset(name: str) -> bytes | None:
    """The bytes of ``static/<name>``; None when there is no such file (or the name leaves the folder)."""
    if not name or ".." in name.split("/") or name.startswith("/"):
        return None
    item = resources.files("aiev_agents.view").joinpath("static", *name.split("/"))
    return item.read_bytes() if item.is_file() else None


def asset_text(name: str) -> str:
    """A shipped file as text (it must exist)."""
    data = read_asset(name)
    if data is None:
        raise FileNotFoundError(f"aiev_agents/view/static/{name} is missing from the package")
    return data.decode("utf-8")


def page_html(data_json: str | None = None) -> str:
    """The viewer's page: linking the static files (served), or with them and the run's data inlined.

    Args:
        data_json: The run's data as JSON (see :mod:`aiev_agents.view.html`): the page then
            needs no server and no network, every file is inside it.
    """
    if data_json is None:
        styles = "".join(f'<link rel="stylesheet" href="/static/{name}">' for name in PAGE_STYLES)
        scripts = "".join(f'<script src="/static/{name}"></script>' for name in PAGE_SCRIPTS)
        data = ""
    else:
        styles = "".join(f"<style>{asset_text(name)}</style>" for name in PAGE_STYLES)
        scripts = "".join(f"<script>{_script_safe(asset_text(name))}</script>" for name in PAGE_SCRIPTS)
        data = f'<script id="aiev-data" type="application/json">{_script_safe(data_json)}</script>'
    return asset_text("page.html").replace("<!--styles-->", styles).replace("<!--data-->", data + scripts)


def _script_safe(text: str) -> str:
    """Text that cannot end the ``<script>`` element it sits in (``<\\/script`` means the same in JS and JSON)."""
    return _SCRIPT_END.sub(r"<\\/\1", text)
