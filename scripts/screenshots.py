"""Screenshots of `aiev view` for the docs: docs/images/view-overview.png and view-dialogue.png.

Makes a run with `aiev generate` against the scripted teacher (the tests' run: needs Docker and
the sandbox image), serves it, and photographs the pages in headless Chromium (Debian's
`chromium` and `chromium-driver`, driven by Selenium). Run it after changing the page:

    python scripts/screenshots.py            # AIEV_SANDBOX_IMAGE picks the image (default aiev-sandbox:latest)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import chromium, missing_browser, wait_for  # noqa: E402
from view_runs import make_scripted_run  # noqa: E402

from aiev_agents.view import ViewedRun, ViewServer  # noqa: E402

IMAGES = ROOT / "docs" / "images"
PAGES = {
    "view-overview.png": ("#/", "return Object.keys(Chart.instances).length === 5"),
    "view-dialogue.png": ("#/d/fixed", "return !!document.querySelector('section.diff')"),
}


def main() -> int:
    reason = missing_browser()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = make_scripted_run(Path(folder), os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest"))
        with ViewServer(ViewedRun(run_dir), port=0) as server, chromium(1280, 1000) as driver:
            for name, (route, ready) in PAGES.items():
                driver.get(server.url + route)
                wait_for(driver, lambda d, ready=ready: d.execute_script(ready))
                driver.execute_script("document.getElementById('source').textContent = 'runs/example/dialogues.jsonl'")
                driver.save_screenshot(str(IMAGES / name))
                print(f"wrote {IMAGES / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
