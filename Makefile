# A thin wrapper: meson is the build. `make run` and `make test` install
# what is missing from Debian, configure, build, then run or test.

BUILD ?= build
MESON_OPTS ?=
# CI builds with warnings as errors.
ifeq ($(CI),true)
MESON_OPTS += -Dwerror=true
endif

.PHONY: all deps cni-config setup build run test test-faults bench bench-parts clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

setup: deps $(BUILD)/build.ninja

build: setup
	ninja -C $(BUILD)

# A default bridge network for pods when the node has no CNI config.
cni-config:
	@bash scripts/install-cni-config.sh

# Starts the daemon in the foreground with its embedded defaults.
run: build cni-config
	$(BUILD)/src/ringcri $(ARGS)

test: build
	@status=0; meson test -C $(BUILD) --print-errorlogs --num-processes 2 || status=$$?; \
	  python3 scripts/test-summary.py $(BUILD)/meson-logs/testlog.json; exit $$status

# The fault tests at full length: every crash point, 200 rounds of churn
# with the daemon killed at random, 1,000 pod cycles of the leak check
# (make test runs the same with 20 rounds and 100 cycles).
test-faults: build
	@status=0; RINGCRI_CHURN_ROUNDS=200 RINGCRI_LEAK_CYCLES=1000 \
	  meson test -C $(BUILD) --print-errorlogs --suite faults --timeout-multiplier 4 || status=$$?; \
	  python3 scripts/test-summary.py $(BUILD)/meson-logs/testlog.json; exit $$status

# ringcri and containerd + runc side by side on the same registry, CNI
# network and workload; results, table and chart in $(BUILD)/bench-results.
# The fixture images are generated once, into $(BUILD)/bench-layouts.
bench: build
	@bash scripts/install-deps.sh --bench
	RINGCRI_BIN=$(BUILD)/src/ringcri RINGCRI_FIXTURES=$(CURDIR)/tests/fixtures \
	  LAYOUTS=$(abspath $(BUILD))/bench-layouts \
	  $(BUILD)/bench/bench_compare --out $(BUILD)/bench-results $(ARGS)

# What the parts cost on their own: the reactor, a CRI call, a pull, a pod
# network, layer unpacking.
bench-parts: build
	$(BUILD)/bench/bench_reactor
	RINGCRI_BIN=$(BUILD)/src/ringcri $(BUILD)/bench/bench_version
	RINGCRI_BIN=$(BUILD)/src/ringcri RINGCRI_FIXTURES=$(CURDIR)/tests/fixtures $(BUILD)/bench/bench_pull
	RINGCRI_BIN=$(BUILD)/src/ringcri $(BUILD)/bench/bench_pod_network
	$(BUILD)/bench/unpack/bench_unpack

clean:
	rm -rf $(BUILD)
