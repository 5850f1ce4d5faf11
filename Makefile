# Two commands on a fresh Debian 12 machine: `make demo` and `make test`.
# Each installs missing Debian packages (as root; otherwise prints the one
# apt-get line to run), configures with CMake (Ninja when present), builds,
# then runs.

BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
CMAKE_ARGS ?=

# Exactly what the build and the tests need, from Debian's archive.
PACKAGES_BUILD := cmake make g++ ninja-build pkg-config openssl libssl-dev libpoco-dev libthrift-dev \
                  thrift-compiler libboost-dev libevent-dev catch2 python3-thrift
# Only for the tests (workflow engines, Python test runner, fuzzing runtime).
PACKAGES_TEST := snakemake cwltool python3-pytest python3-yaml python3-pip python3-setuptools python3-wheel python3-venv clang libclang-rt-14-dev postgresql

.PHONY: all deps deps-test configure build test demo clean

all: build

# $(call install-missing,PACKAGES): installs what is missing (as root), or
# prints the one apt-get line to run and stops.
define install-missing
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run this once, then try again:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef

deps:
	$(call install-missing,$(PACKAGES_BUILD))

deps-test:
	$(call install-missing,$(PACKAGES_BUILD) $(PACKAGES_TEST))

configure: deps
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then \
	  cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DQLIK_RELOAD_WERROR=ON $(CMAKE_ARGS); \
	fi

build: configure
	cmake --build $(BUILD) --parallel $(JOBS)

# $(call alongside,FOREGROUND,WHAT,BACKGROUND,LOG): runs BACKGROUND at the
# lowest CPU priority (nice 19, output to LOG) while FOREGROUND runs, so a
# build or a fuzzer uses the CPU the tests leave idle without taking it from
# them; waits for both and fails when either failed (showing LOG's end).
define alongside
	@mkdir -p $(dir $(4)); start=$$(date +%s); \
	(nice -n 19 $(3) > $(4) 2>&1) & background=$$!; \
	echo '$(1)'; $(1); status=$$?; \
	echo "== make test: $(2): $$(( $$(date +%s) - start )) s"; \
	if wait $$background; then tail -n 6 $(4); else echo "== make test: '$(3)' FAILED:"; tail -n 60 $(4); status=1; fi; \
	echo "== make test: $(2), with '$(3)' alongside: $$(( $$(date +%s) - start )) s"; \
	exit $$status
endef

# The suite, then the whole suite again under ASan+UBSan, and a short
# fuzzing run (see "Sanitizers and fuzzing" below). The sanitizer tree builds
# while the first suite runs, and the fuzzers build and run while the second
# one does. Old outputs in test-tmp go first: the secrets scan reads every
# file there.
test: deps-test build
	@find $(BUILD)/test-tmp -mindepth 1 -delete 2>/dev/null || true
	$(call alongside,ctest --test-dir $(BUILD) --output-on-failure --parallel $(JOBS) --timeout 300,the test suite,$(MAKE) --no-print-directory asan-build,$(ASAN_BUILD)/make-asan-build.log)
	$(call alongside,$(MAKE) --no-print-directory asan-suite,the suite under ASan+UBSan,$(MAKE) --no-print-directory fuzz-short,$(FUZZ_BUILD)/make-fuzz-short.log)

demo: build
	examples/demo/run-demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# 1,000 reloads through the worker against qrs-sim with seeded random faults
# and outcomes, checked against the simulator's record (tests/soak). Prints
# reloads, faults injected, duplicates, lost and the worker's peak RSS.
SOAK_RELOADS ?= 1000
SOAK_SEED ?= 20260101
.PHONY: soak
soak: build
	$(BUILD)/bin/soak_driver --reloads $(SOAK_RELOADS) --concurrency 32 --seed $(SOAK_SEED)

# The benchmark (bench/): N = 1, 100, 1,000 and 5,000 concurrent reloads
# through the real worker (polling and push) and through naive per-reload
# pollers (every 1 s and 30 s) against qrs-sim, side by side; prints the
# table and the targets, writes $(BUILD)/bench/results.csv and report.md and
# the plot docs/benchmarks.png. Takes several minutes; not part of make test
# (its smoke run is). BENCH_ARGS goes to qlik-reload-bench.
BENCH_ARGS ?=
.PHONY: bench
bench: build
	$(call install-missing,gnuplot-nox)
	cmake --build $(BUILD) --target qlik-reload-bench --parallel $(JOBS)
	bench/run_bench.sh $(BUILD) $(BENCH_ARGS)

# Sanitizers and fuzzing (tests/sanitizers, tests/fuzz), each in its own tree:
#   make test-asan   the whole suite built with ASan+UBSan (gcc, Debug) in
#                    ASAN_BUILD; fails on a sanitizer report from any process,
#                    the programs the tests start included
#   make fuzz        every libFuzzer target (clang, FUZZ_BUILD) for
#                    FUZZ_SECONDS each after replaying the committed corpus;
#                    crashes land in FUZZ_BUILD/fuzz/crashes
#   make fuzz-short  the same for FUZZ_SHORT_SECONDS each (part of make test)
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 10
.PHONY: test-asan asan-build asan-suite fuzz fuzz-short fuzz-build
test-asan: asan-build
	@$(MAKE) --no-print-directory asan-suite

asan-build: deps-test
	@if [ ! -f $(ASAN_BUILD)/CMakeCache.txt ]; then \
	  cmake -S . -B $(ASAN_BUILD) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Debug -DQLIK_RELOAD_SANITIZE=ON $(CMAKE_ARGS); \
	fi
	cmake --build $(ASAN_BUILD) --parallel $(JOBS)

asan-suite:
	tests/sanitizers/ctest_sanitized.sh $(ASAN_BUILD) --output-on-failure --parallel $(JOBS) --timeout 600

fuzz-build: deps-test
	@if [ ! -f $(FUZZ_BUILD)/CMakeCache.txt ]; then \
	  cmake -S . -B $(FUZZ_BUILD) -G "$(GENERATOR)" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	        -DQLIK_RELOAD_FUZZ=ON; \
	fi
	cmake --build $(FUZZ_BUILD) --target fuzz_targets --parallel $(JOBS)

fuzz: fuzz-build
	JOBS=$(JOBS) tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-short: fuzz-build
	JOBS=$(JOBS) tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SHORT_SECONDS)
