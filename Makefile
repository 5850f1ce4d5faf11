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
PACKAGES_TEST := snakemake cwltool python3-pytest python3-yaml python3-pip python3-setuptools python3-wheel python3-venv

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

test: deps-test build
	ctest --test-dir $(BUILD) --output-on-failure --parallel $(JOBS) --timeout 300

demo: build
	examples/demo/run-demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# 1,000 reloads through the worker against qrs-sim with seeded random faults
# and outcomes, checked against the simulator's record (tests/soak). Prints
# reloads, faults injected, duplicates, lost and the worker's peak RSS.
SOAK_RELOADS ?= 1000
SOAK_SEED ?= 20260101
.PHONY: soak
soak: build
	$(BUILD)/bin/soak_driver --reloads $(SOAK_RELOADS) --concurrency 32 --seed $(SOAK_SEED)
