"""One image with every toolchain, or one image per language family: size and start-up.

Usage::

    python benchmarks/bench_toolchain_images.py [--image aiev-sandbox-polyglot:latest] \\
        [--python-image aiev-sandbox:latest]

Sizes come from the toolchain image's own package database (``/var/lib/dpkg/status``): a
family's image would be the Python image plus the dependency closure of its packages
(``Depends`` and ``Pre-Depends``, the first installed alternative) that the Python image's
packages do not already bring, so each per-family size is what a debootstrap with only that
family's packages installs; an official Node.js build (``/usr/local/bin/node``, not a package)
counts for the JavaScript family by its file size. Start-up is measured on the two images that exist: the time from
``DockerSandbox.start()`` to a ready runner (the container's layers are not copied, so size
should not matter; this checks it).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiev_agents.sandbox import DockerSandbox, SandboxSettings  # noqa: E402
from aiev_agents.sandbox.image import DEBOOTSTRAP_PACKAGES  # noqa: E402
from aiev_agents.sandbox.node_release import NODE_BINARY  # noqa: E402

NODE_BINARY_PATH = "/" + NODE_BINARY

FAMILIES = {
    "javascript": ("nodejs",),
    "c++": ("g++",),
    "java": ("openjdk-17-jdk-headless", "libjavatuples-java"),
    "rust": ("rustc",),
    "go": ("golang-go",),
}


def installed(image: str) -> dict[str, tuple[int, list[list[str]]]]:
    """Package -> (installed size in KiB, its dependencies as lists of alternatives)."""
    status = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "cat", image, "/var/lib/dpkg/status"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    packages = {}
    for stanza in status.split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
        if "Package" not in fields or "installed" not in fields.get("Status", ""):
            continue
        depends = ", ".join(filter(None, (fields.get("Pre-Depends"), fields.get("Depends"))))
        alternatives = [
            [re.sub(r"[\s(:].*", "", option.strip()) for option in group.split("|")]
            for group in depends.split(",")
            if group.strip()
        ]
        packages[fields["Package"]] = (int(fields.get("Installed-Size", "0")), alternatives)
    return packages


def closure(roots: tuple[str, ...], packages: dict[str, tuple[int, list[list[str]]]]) -> set[str]:
    """The packages ``roots`` need, themselves included."""
    seen: set[str] = set()
    todo = [root for root in roots if root in packages]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for group in packages[name][1]:
            chosen = next((option for option in group if option in packages), None)
            if chosen is not None and chosen not in seen:
                todo.append(chosen)
    return seen


def startup_ms(image: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        box = DockerSandbox(SandboxSettings(image=image, pull=False))
        started = time.perf_counter()
        box.start()
        times.append(time.perf_counter() - started)
        box.stop()
    return statistics.median(times) * 1000


def file_mb(image: str, path: str) -> float:
    """Size of one file of ``image`` in MB, 0 when it has none."""
    size = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "stat", image, "-c", "%s", path], capture_output=True, text=True
    )
    return int(size.stdout.strip()) / 1e6 if size.returncode == 0 else 0.0


def image_mb(image: str) -> float:
    size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True, text=True)
    return int(size.stdout.strip()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="aiev-sandbox-polyglot:latest")
    parser.add_argument("--python-image", default="aiev-sandbox:latest")
    args = parser.parse_args()
    packages = installed(args.image)
    base = closure(DEBOOTSTRAP_PACKAGES + ("apt", "dpkg", "bash", "coreutils"), packages)
    base_mb = image_mb(args.python_image)
    everything = image_mb(args.image)
    print(f"python image {args.python_image}: {base_mb:.0f} MB; all toolchains {args.image}: {everything:.0f} MB")
    total = 0.0
    for family, roots in FAMILIES.items():
        extra = closure(roots, packages) - base
        mb = sum(packages[name][0] for name in extra) * 1024 / 1e6
        if family == "javascript" and "nodejs" not in packages:
            mb += file_mb(args.image, NODE_BINARY_PATH)
        total += mb
        family_mb = base_mb + mb
        print(f"  {family:<11} +{mb:7.0f} MB installed ({len(extra)} packages): family image ~{family_mb:.0f} MB")
    print(
        f"  sum of the per-family images: ~{total + len(FAMILIES) * base_mb:.0f} MB (shared packages counted in each)"
    )
    for name, image in (("all toolchains", args.image), ("python only", args.python_image)):
        print(f"start-up ({name}, {image}): {startup_ms(image):.0f} ms (median of 5)")


if __name__ == "__main__":
    main()
