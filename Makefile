# Thin wrapper over CMake and CTest. The README's two commands:
#
#   make demo    install missing Debian packages, build, run the echo server
#   make test    install missing Debian packages, build, run the test suite
#
# More: make asan | tsan | valgrind | fuzz | bench | abi | format | format-check | clean | help
# make fuzz: every libFuzzer target (tests/fuzz/fuzz_*.c) for FUZZ_SECONDS each (default 60), in build-fuzz/.
# make chaos SEEDS=N: N seeds (default 1000) of tests/test_chaos.c under ASan+UBSan, plain then --tls.
# make soak SOAK_SECONDS=N: tests/soak.c for N s (default 300) each plain, TLS, Unix, under ASan+UBSan.
# Variables: JOBS (default: nproc), CMAKE_ARGS (extra -D options for every
# configure), NO_DEPS=1 (skip the package check; scripts/deps.sh).

JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE      ?= cmake
CTEST      ?= ctest
BUILD_TYPE ?= RelWithDebInfo
CMAKE_ARGS ?=
NO_DEPS    ?=
BENCH_ARGS ?=

BUILD_DIR  := build
ASAN_DIR   := build-asan
TSAN_DIR   := build-tsan
BENCH_DIR  := build-bench
DEMO_PORT  := 8124

MAKEFLAGS += --no-print-directory

# $(call deps,GROUPS): make sure the Debian packages of GROUPS are installed.
deps = $(if $(NO_DEPS),@true,bash scripts/deps.sh $(1))

# $(call cmake_build,DIR,OPTIONS): configure and build DIR.
define cmake_build
	$(CMAKE) -S . -B $(1) $(2) $(CMAKE_ARGS)
	$(CMAKE) --build $(1) -j $(JOBS)
endef

.PHONY: all build demo test asan tsan valgrind bench abi format format-check clean help

all: build

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

build:
	$(call deps,build)
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))

demo:
	$(call deps,build)
	@command -v nc >/dev/null 2>&1 || $(if $(NO_DEPS),true,bash scripts/deps.sh --optional nc)
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))
	@test -x $(BUILD_DIR)/examples/echo_server || \
	  { echo "make demo: $(BUILD_DIR)/examples/echo_server was not built" >&2; exit 1; }
	@echo
	@echo "Starting the echo server on port $(DEMO_PORT) (Ctrl-C stops it)."
	@echo "Talk to it from another terminal:"
	@echo
	@echo "    nc localhost $(DEMO_PORT)"
	@echo
	@echo "Every line you type is echoed back; Ctrl-C quits nc."
	@echo
	@exec ./$(BUILD_DIR)/examples/echo_server

test:
	$(call deps,build)
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer, warnings as errors (as in CI).
asan:
	$(call deps,build)
	$(call cmake_build,$(ASAN_DIR),-DCMAKE_BUILD_TYPE=Debug "-DCNET_SANITIZE=address;undefined" -DCNET_WERROR=ON)
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	$(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS)

# ThreadSanitizer on the threaded tests only (CTest label "threads": test_workers,
# test_loop), in build-tsan/: only their targets are built, which keeps it short.
# Debian's libuv is not instrumented, but cnet's cross-thread state is guarded by
# pthread mutexes (intercepted wherever they are called from) and atomics, so no
# suppressions are needed (tests/tsan.supp is passed anyway, for future ones).
TSAN_TESTS ?= test_workers test_loop
tsan:
	$(call deps,build)
	$(CMAKE) -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DCNET_SANITIZE=thread -DCNET_WERROR=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp} \
	$(CTEST) --test-dir $(TSAN_DIR) -L threads --output-on-failure -j$(JOBS)

# The seeded random-operations contract test (tests/test_chaos.c) on the ASan+UBSan
# build: SEEDS seeds from CHAOS_FIRST; CHAOS_ARGS adds options (--keep-going, --ops M).
SEEDS       ?= 1000
CHAOS_FIRST ?= 1
CHAOS_ARGS  ?=
.PHONY: chaos
chaos:
	$(call deps,build)
	$(call cmake_build,$(ASAN_DIR),-DCMAKE_BUILD_TYPE=Debug "-DCNET_SANITIZE=address;undefined" -DCNET_WERROR=ON)
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	./$(ASAN_DIR)/tests/test_chaos --seeds $(SEEDS) --first $(CHAOS_FIRST) $(CHAOS_ARGS)
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	./$(ASAN_DIR)/tests/test_chaos --tls --seeds $(SEEDS) --first $(CHAOS_FIRST) $(CHAOS_ARGS)

# The soak run (tests/soak.c, docs/soak.md) on the ASan+UBSan build: SOAK_SECONDS
# each of plain TCP, TLS and a Unix socket, one after the other; SOAK_ARGS adds
# options (--clients N, --seed S, --rss-bound MiB, --verbose).
SOAK_SECONDS ?= 300
SOAK_ARGS    ?=
SOAK_ENV = ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
.PHONY: soak
soak:
	$(call deps,build)
	$(call cmake_build,$(ASAN_DIR),-DCMAKE_BUILD_TYPE=Debug "-DCNET_SANITIZE=address;undefined" -DCNET_WERROR=ON)
	$(SOAK_ENV) ./$(ASAN_DIR)/tests/cnet_soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)
	$(SOAK_ENV) ./$(ASAN_DIR)/tests/cnet_soak --seconds $(SOAK_SECONDS) --tls $(SOAK_ARGS)
	$(SOAK_ENV) ./$(ASAN_DIR)/tests/cnet_soak --seconds $(SOAK_SECONDS) --unix $(SOAK_ARGS)

# libFuzzer targets (clang), built in build-fuzz/ and run one after another for
# FUZZ_SECONDS each on their seed corpora (tests/fuzz/run.sh, docs/fuzzing.md);
# FUZZ_TARGETS="framing isip" picks some.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	$(call deps,build fuzz)
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD_JOBS=$(JOBS) bash tests/fuzz/run.sh $(CURDIR)/build-fuzz

# Every compiled test under valgrind memcheck (scripts/valgrind.sh says how).
valgrind:
	$(call deps,build valgrind)
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))
	CNET_TEST_TIMEOUT_MULTIPLIER=10 JOBS=$(JOBS) bash scripts/valgrind.sh $(BUILD_DIR)

# Benchmarks: a Release build with bench/ enabled (build-bench/), then
# bench/run.sh $(BENCH_ARGS) with CNET_BUILD_DIR pointing at that build.
bench:
	$(call deps,build bench)
	@test -f bench/run.sh || { echo "make bench: bench/run.sh does not exist yet" >&2; exit 1; }
	$(call cmake_build,$(BENCH_DIR),-DCMAKE_BUILD_TYPE=Release -DCNET_BUILD_BENCH=ON)
	CNET_BUILD_DIR=$(CURDIR)/$(BENCH_DIR) bash bench/run.sh $(BENCH_ARGS)

# ABI of libcnet.so.0 against the last release's baseline in abi/ (scripts/abi.sh).
abi:
	$(call deps,build abi)
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))
	bash scripts/abi.sh $(BUILD_DIR)

format:
	$(call deps,format)
	bash scripts/format.sh

format-check:
	bash scripts/format.sh --check

clean:
	rm -rf build build-asan build-tsan build-release build-bench build-valgrind build-fuzz
