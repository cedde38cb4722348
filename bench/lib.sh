# Shared setup of the Java benchmarks under bench/ — sourced, not run:
#
#   source "$(dirname "$0")/../lib.sh"      (from bench/<dir>/<script>.sh)
#   bench_build MODULE                      cd to the repository root, compile MODULE's tests, set BENCH_CP
#                                           (SKIP_BUILD=1: no build when MODULE has been built for a bench before)
#   "${BENCH_JAVA[@]}" -Xmx4g MAIN ARGS     java as every bench runs it
#
# What every bench shares, so a figure from one is comparable with another's: the JDK the launcher uses, the
# launcher's glibc allocator settings (big buffers are kept instead of being returned and page-faulted every step:
# docs/architecture.md; NO_MALLOC_TUNING=1 leaves glibc's defaults), DJL offline, and the JVM flags of the launcher —
# its argfile cli/jvm.options (native access for DJL and the FFM calls) and the Vector API module, without which the
# inference engine silently runs its scalar kernels (the request-log bench of session 7 did, and the demo teacher and
# on-policy benches, which read only the argfile, until session 9).
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [[ -z "${NO_MALLOC_TUNING:-}" ]]; then
  export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
fi
export DJL_OFFLINE=true
BENCH_JAVA=("$JAVA_HOME/bin/java" @"$BENCH_ROOT/cli/jvm.options" --add-modules=jdk.incubator.vector)

# bench_build MODULE: compiles MODULE and what it needs (offline), leaves its test classpath in BENCH_CP.
bench_build() {
  local module=$1
  cd "$BENCH_ROOT"
  # SKIP_BUILD=1: a script run many times in a row (bench/guard/all.sh) builds once
  if [[ -z "${SKIP_BUILD:-}" || ! -f "$BENCH_ROOT/$module/target/bench.classpath" ]]; then
    # Maven's own JVM warns that its Guice calls a deprecated sun.misc.Unsafe method: not the bench's business
    ./mvnw -B -q -o -pl "$module" -am test-compile dependency:build-classpath \
      -Dmdep.outputFile="$BENCH_ROOT/$module/target/bench.classpath" -Dmdep.includeScope=test \
      2> >(grep -v -e 'sun\.misc\.Unsafe' -e 'Please consider reporting this to the maintainers' >&2) >/dev/null
  fi
  BENCH_CP="$BENCH_ROOT/$module/target/test-classes:$BENCH_ROOT/$module/target/classes:$(cat "$BENCH_ROOT/$module/target/bench.classpath")"
}

# kept off the bench's output: the JVM's one-line notice that the Vector API is an incubator module, and SLF4J's
# notice that a module whose tests bring no logging backend falls back to its no-op one
bench_quiet_incubator() { grep -v -e '^WARNING: Using incubator modules' -e '^SLF4J(' >&2; }
