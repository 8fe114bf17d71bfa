#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/run_fuzzers.sh [BUILD_DIR] [SECONDS]: replay each fuzzer's seed
# corpus, then fuzz it for SECONDS (default 30) under ASan + UBSan.
# BUILD_DIR is scripts/build --fuzz's (default build-fuzz/). The corpus is
# made afresh (make_corpus.sh) into BUILD_DIR/corpus; new inputs found go
# to BUILD_DIR/corpus-new/<fuzzer> (kept between runs). A crash, leak,
# sanitizer report or timeout fails the run and prints the reproducer's
# path, and how to replay it. Needs FLOE_SHARED_DIR (the fixtures).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${2:-30}
fuzzers=(icechunk zarr stac region points)
# A single input taking longer than this is a hang, reported as a failure.
timeout_per_input_s=10

"$here/make_corpus.sh" "$build/corpus"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for f in "${fuzzers[@]}"; do
  bin="$build/tests/fuzz/fuzz_$f"
  crashes="$build/crashes/$f"
  mkdir -p "$crashes" "$build/corpus-new/$f"
  log="$build/fuzz_$f.log"
  echo "== fuzz_$f: replay $(ls "$build/corpus/$f" | wc -l) seeds, then ${seconds} s"
  if "$bin" -artifact_prefix="$crashes/" -timeout=$timeout_per_input_s \
       -max_total_time="$seconds" -print_final_stats=1 \
       "$build/corpus-new/$f" "$build/corpus/$f" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' '; echo
  else
    status=1
    grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$log" | head -20
    for a in $(grep -o "Test unit written to [^ ]*" "$log" | awk '{print $5}'); do
      echo "fuzz_$f: FAILED, reproducer $a (replay: $bin $a; full log $log)"
    done
    grep -q "Test unit written" "$log" || echo "fuzz_$f: FAILED (log $log)"
  fi
done
exit $status
