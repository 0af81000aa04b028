# The process, build and scratch-folder plumbing shared by scripts/bench,
# scripts/bench-sessions and scripts/bench-cpu; sourced by them, never run. Before sourcing, set
#   bench_name  the script's name under scripts/ (messages and --help)
#   root        the checkout
#   keep        1 to leave the scratch folder on exit
# and optionally keep_note (said beside the kept folder's name) and pin
# (1: start and on_cpus run commands under taskset; default 0).
# shellcheck shell=bash

pin=${pin:-0}
keep_note=${keep_note:-}

usage() { # exit-code: the script's header comment, on stdout for --help, else on stderr
  local text
  text=$(sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "$root/scripts/$bench_name")
  if [ "$1" -eq 0 ]; then echo "$text"; else echo "$text" >&2; fi
  exit "$1"
}

posint() { # value option: the value must be a positive integer
  [[ $1 =~ ^[1-9][0-9]{0,7}$ ]] || {
    echo "$bench_name: $2 needs a positive integer (got '$1')" >&2
    exit 2
  }
}

log() { echo "$bench_name: $*" >&2; }

# --- processes we start, stopped on any exit ------------------------------
declare -A pid_of=()
scratch=
stop_all() {
  local status=$?
  trap - EXIT INT TERM
  local pids=("${pid_of[@]}")
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      local alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive -eq 0 ] && break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  if [ -n "$scratch" ]; then
    if [ "$keep" -eq 1 ]; then
      log "kept $scratch${keep_note:+ ($keep_note)}"
    else
      rm -rf "$scratch"
    fi
  fi
  exit $status
}
trap stop_all EXIT
trap 'exit 130' INT TERM

on_cpus() { # CPUS command...: run pinned when pinning is on
  local cpus=$1
  shift
  if [ "$pin" -eq 1 ]; then
    exec taskset -c "$cpus" "$@"
  else
    exec "$@"
  fi
}

start() { # name cpus command...: in the background, output to logs/name.log (cpus: "-" for any)
  local name=$1 cpus=$2
  shift 2
  if [ "$cpus" = - ]; then
    "$@" >"$scratch/logs/$name.log" 2>&1 &
  else
    (on_cpus "$cpus" "$@") >"$scratch/logs/$name.log" 2>&1 &
  fi
  pid_of[$name]=$!
}

show_log() { # name: the last lines of its log, on stderr
  log "$1's log:"
  tail -n 20 "$scratch/logs/$1.log" >&2 || true
}

wait_for() { # name seconds command...: until the command succeeds (exit 1 when name dies or time is up)
  local name=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "${pid_of[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not come up"
  show_log "$name"
  exit 1
}

release_build() { # dir tests(ON|OFF) target...: an optimised build without sanitizers, as benchmarks use
  # (dir relative to the checkout, the current folder of every script that sources this file)
  local dir=$1 tests=$2
  shift 2
  log "building $* ($dir, Release, no sanitizers)"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DTG_TESTS="$tests" -DTG_SANITIZE=OFF \
    -DTG_FUZZ=OFF >/dev/null
  cmake --build "$dir" -j2 --target "$@" >/dev/null
}

make_scratch() { # prefix: the scratch folder (in $scratch) with logs/, certs/ (scripts/make-certs) and secrets/
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  chmod 755 "$scratch" # nginx and h2o workers run as nobody
  mkdir -p "$scratch/logs" "$scratch/nginx-tmp"
  certs=$scratch/certs
  "$root/scripts/make-certs" "$certs" >/dev/null
  chmod 755 "$certs"
  # login: the IdP client's secret and the session sealing key (mode 0600); callers add their own
  secrets=$scratch/secrets
  mkdir -m 700 "$secrets"
  (
    umask 077
    openssl rand -hex 24 >"$secrets/client-secret"
    openssl rand -hex 32 >"$secrets/session.key"
  )
}
