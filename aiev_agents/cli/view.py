"""``aiev view``: browse a run in the web browser; registered on the main parser."""

from __future__ import annotations

import argparse
import threading
import webbrowser
from pathlib import Path
from typing import Any

from .args import count


def add_commands(commands: Any) -> None:
    """Register ``view`` on the main parser's ``add_subparsers()``."""
    view = commands.add_parser("view", help="browse a run's dialogues in the web browser (local, read-only)")
    view.add_argument("run", type=Path, metavar="D", help="a run folder, a curated folder, or a dialogues.jsonl")
    view.add_argument("--port", type=count, default=8765, help="port on 127.0.0.1 (0: any free one; default 8765)")
    view.add_argument("--open", action="store_true", help="open the page in the default web browser")
    view.add_argument("--html", type=Path, metavar="FILE", help="write the browser into one file instead of serving")
    view.set_defaults(func=_cmd_view)


def _cmd_view(args: argparse.Namespace) -> int:
    from ..view import ViewedRun, ViewServer, write_html

    run = ViewedRun(args.run)
    if args.html is not None:
        written = write_html(run, args.html)
        print(f"wrote {args.html}: {written} dialogue(s), open it in a browser (no server needed)")
        return 0
    read = run.refresh()
    server = ViewServer(run, port=args.port)
    # The overview reads every record whole (seconds on a big run): start on it before anyone asks.
    threading.Thread(target=run.overview, name="aiev-view-overview", daemon=True).start()
    print(f"{run.dialogues}: {read} new line(s) indexed into {run.index.index_path}")
    print(f"serving {server.url} (Ctrl-C stops)", flush=True)
    if args.open:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
