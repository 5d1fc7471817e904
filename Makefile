# A thin wrapper: meson is the build. `make run` and `make test` install
# what is missing from Debian, configure, build, then run or test.

BUILD ?= build
MESON_OPTS ?=
# CI builds with warnings as errors.
ifeq ($(CI),true)
MESON_OPTS += -Dwerror=true
endif

.PHONY: all deps cni-config setup build run test test-faults bench bench-parts clean \
  test-asan test-tsan fuzz fuzz-ci fuzz-deps deb

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

# A Debian package of what is built: $(BUILD)/deb/ringcri_<version>_<arch>.deb
# (scripts/make-deb.sh says what is in it).
deb: build
	bash scripts/make-deb.sh $(BUILD) $(BUILD)/deb

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

# Sanitizer builds, each in its own build dir, beside the regular one.
# ASan+UBSan over the unit and integration suites (ASAN_SUITES=unit for
# the unit suite alone); UBSan findings fail the test, and so does any
# report the daemon or its keeper writes to their logs (tests/support).
# On the 2-core CI machine: the first build ~60 min, so CI does not run
# it; then the unit suite ~2 min and the integration suite ~7 min.
ASAN_BUILD ?= build-asan
ASAN_SUITES ?= unit integration
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# -Wno-maybe-uninitialized: with the sanitizers g++ 12 sees an
# uninitialised std::function inside libstdc++'s <regex> (a false alarm).
$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dcpp_args=-Wno-maybe-uninitialized

test-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) $$(python3 scripts/suite-targets.py $(ASAN_BUILD) $(ASAN_SUITES))
	@status=0; $(SANITIZER_ENV) meson test -C $(ASAN_BUILD) --no-rebuild --print-errorlogs --num-processes 2 \
	  $(foreach s,$(ASAN_SUITES),--suite $(s)) || status=$$?; \
	  python3 scripts/test-summary.py $(ASAN_BUILD)/meson-logs/testlog.json; exit $$status

# TSan over the suites whose code shares memory between threads: the
# reactor's (handoff, pool, blocking) and the record store's. The rest of
# the daemon is single-threaded per reactor, or runs in clone children
# that TSan cannot follow.
# -Wno-tsan: g++ warns that TSan does not model atomic_thread_fence, which
# concurrentqueue (post()'s queue) uses; its other atomics are modelled.
TSAN_BUILD ?= build-tsan

$(TSAN_BUILD)/build.ninja: | deps
	meson setup $(TSAN_BUILD) $(MESON_OPTS) -Db_sanitize=thread -Db_lundef=false \
	  -Dintegration_tests=false -Dcpp_args=-Wno-tsan

test-tsan: $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD) $$(python3 scripts/suite-targets.py $(TSAN_BUILD) tsan)
	@status=0; TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  meson test -C $(TSAN_BUILD) --no-rebuild --print-errorlogs --num-processes 2 --suite tsan \
	  || status=$$?; python3 scripts/test-summary.py $(TSAN_BUILD)/meson-logs/testlog.json; exit $$status

# libFuzzer targets (tests/fuzz), built with clang in their own build dir,
# each run for FUZZ_SECONDS from its seed corpus. New inputs go to a
# scratch dir under the build dir, never into the tree; a crash leaves its
# input in FUZZ_ARTIFACTS.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(notdir $(patsubst %_fuzz.cpp,%,$(wildcard tests/fuzz/*_fuzz.cpp)))
FUZZ_ARTIFACTS ?= $(FUZZ_BUILD)/artifacts

fuzz-deps:
	@bash scripts/install-deps.sh --fuzz

$(FUZZ_BUILD)/build.ninja: | fuzz-deps
	CXX=clang++ meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@mkdir -p $(FUZZ_ARTIFACTS); status=0; \
	for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/found/$$t; mkdir -p $(FUZZ_BUILD)/found/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/tests/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_ARTIFACTS)/$$t- \
	    $(FUZZ_BUILD)/found/$$t tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/found/$$t.log 2>&1 \
	    || { status=1; echo "fuzz: $$t FAILED, see $(FUZZ_BUILD)/found/$$t.log"; }; \
	  grep -E '^#[0-9]+ *DONE|^stat::number_of_executed_units' $(FUZZ_BUILD)/found/$$t.log | tail -2; \
	done; exit $$status

# What CI runs: every target for 12 s.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=12

clean:
	rm -rf $(BUILD)
