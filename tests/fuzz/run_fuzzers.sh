#!/bin/bash
# Runs every libFuzzer target of a QLIK_RELOAD_FUZZ build: first the
# committed corpus once (a regression check), then fuzzing for SECONDS each.
#
#   tests/fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]
#
# Targets are the fuzz_<name> programs in BUILD_DIR/bin (all by default), run
# JOBS at a time (default 2). New interesting inputs go to
# BUILD_DIR/fuzz/corpus/<name>/ (never to the committed seeds), crashes to
# BUILD_DIR/fuzz/crashes/<name>-crash-*, logs to BUILD_DIR/fuzz/<name>.log.
# Exits 1 when any target found a crash, leak, timeout or violated property;
# the input is printed as a command line that replays it.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
source_dir=$(cd "$(dirname "$0")" && pwd)
jobs=${JOBS:-2}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for program in "$build"/bin/fuzz_*; do
    [ -x "$program" ] && targets+=("$(basename "$program" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "$0: no fuzz_* programs in $build/bin (build the target fuzz_targets first)" >&2
  exit 2
fi

mkdir -p "$build/fuzz/crashes"

# run_one NAME: the corpus replay, then the timed run. Its status is the
# fuzzer's: 0 clean, anything else a finding.
run_one() {
  local name=$1
  local program="$build/bin/fuzz_$name"
  local seeds="$source_dir/corpus/$name"
  local corpus="$build/fuzz/corpus/$name"
  local log="$build/fuzz/$name.log"
  local dict=()
  [ -f "$source_dir/dict/$name.dict" ] && dict=("-dict=$source_dir/dict/$name.dict")
  mkdir -p "$corpus"
  local common=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
                "-artifact_prefix=$build/fuzz/crashes/$name-")
  rm -f "$build/fuzz/$name.status" "$build/fuzz/crashes/$name"-*
  set +e
  {
    echo "== $name: replaying $(ls "$seeds" | wc -l) committed inputs"
    "$program" "${common[@]}" -runs=0 "$seeds" &&
    echo "== $name: fuzzing for $seconds s" &&
    "$program" "${common[@]}" "${dict[@]}" -max_total_time="$seconds" "$corpus" "$seeds"
  } > "$log" 2>&1
  echo $? > "$build/fuzz/$name.status"
}

start=$(date +%s)
failed=()
names=()
for name in "${targets[@]}"; do
  if [ ! -x "$build/bin/fuzz_$name" ]; then
    echo "$0: no program $build/bin/fuzz_$name" >&2
    exit 2
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_one "$name" &
  names+=("$name")
done
wait
for name in "${names[@]}"; do
  if [ "$(cat "$build/fuzz/$name.status" 2>/dev/null)" = 0 ]; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/fuzz/$name.log" | tail -1 | awk '{print $2}')
    echo "fuzz $name: ok (${runs:-?} runs)"
  else
    failed+=("$name")
    echo "fuzz $name: FAILED; the end of $build/fuzz/$name.log:"
    tail -n 40 "$build/fuzz/$name.log" | sed 's/^/    /'
    for crash in "$build/fuzz/crashes/$name"-*; do
      [ -e "$crash" ] && echo "    replay: $build/bin/fuzz_$name $crash"
    done
  fi
done
echo "fuzzing: ${#targets[@]} targets, $seconds s each, took $(( $(date +%s) - start )) s"
[ ${#failed[@]} -eq 0 ] || { echo "fuzzing found problems in: ${failed[*]}"; exit 1; }
