# The short commands. `make run` and `make test` install what is missing
# (scripts/bootstrap), build with CMake, and run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_CLANG ?= build-clang
BUILD_BENCH ?= build-bench
JOBS       ?= $(shell nproc)
# How long `make fuzz` runs each fuzz target (`make test` runs each for
# LATCHKEY_FUZZ_SECONDS, 20 by default: see tests/fuzz/CMakeLists.txt).
FUZZ_SECONDS ?= 300

.PHONY: run run-devices run-example test build build-asan build-fuzz build-clang build-bench fuzz bootstrap bench bench-quick bench-scale soak clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: bootstrap
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DLATCHKEY_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# clang with libFuzzer, ASan and UBSan: the fuzz targets of tests/fuzz.
build-fuzz: bootstrap
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DLATCHKEY_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)

# clang, Release: the build others run, compiled with the second compiler
# (warnings are errors), so both gcc and clang stay clean.
build-clang: bootstrap
	@cmake -S . -B $(BUILD_CLANG) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_CLANG) -j $(JOBS)

# gcc, Release: the latchkey `make bench` measures (only the server, no tests).
build-bench: bootstrap
	@cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target latchkey

# Every fuzz target for FUZZ_SECONDS, one after another; executions in all last.
fuzz: build-fuzz
	@tests/fuzz/run $(BUILD_FUZZ) $(FUZZ_SECONDS)

run: build
	$(BUILD)/latchkey serve $(ARGS)

# Real locks without hardware: Mosquitto, the device simulator (tools/devsim)
# and a seeded latchkey, with a connect webview for each provider printed.
run-devices: build
	@scripts/run-devices $(BUILD) $(or $(PORT),3020)

# The browser example next to a seeded latchkey (see examples/browser/README.md).
EXAMPLE_DATA ?= /tmp/latchkey-example
run-example: build
	@$(BUILD)/latchkey serve --seed --data-dir $(EXAMPLE_DATA) --port 3020 & \
	trap 'kill $$!' EXIT INT TERM; \
	node examples/browser/server.mjs --latchkey http://127.0.0.1:3020 \
	  --api-key seam_apikey1_token --publishable-key seam_pk1_token --port 8080

# Every test: fuzzing for a bounded time, then everything in the normal
# build and under ASan+UBSan, each on SQLite and on a throwaway PostgreSQL;
# CTest's summary last. A clang Release build is compiled alongside.
test: build build-asan build-fuzz build-clang
	@echo "== tests: fuzzing (libFuzzer, ASan+UBSan) =="
	@cd $(BUILD_FUZZ) && ctest --output-on-failure -j $(JOBS) -R '^fuzz/'
	@tests/fuzz/run --summary $(BUILD_FUZZ)
	@echo "== tests: ASan+UBSan build =="
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)
	@echo "== tests: normal build =="
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_CLANG) $(BUILD_BENCH)

# latchkey (SQLite and PostgreSQL) against nginx serving its response as a
# static file and against fake-seam-connect, with wrk, in alternating rounds;
# a table of medians, and the raw output in bench/results/ (bench/bench.mjs).
# BENCH_SECONDS (10) a run, BENCH_ROUNDS (3), BENCH_WARMUP (2) s a row first.
bench: build-bench
	@LATCHKEY_BIN=$(BUILD_BENCH)/latchkey node bench/bench.mjs

# The same in about a minute, to try it: one round of 2 s, no warm-up.
bench-quick: build-bench
	@BENCH_SECONDS=2 BENCH_ROUNDS=1 BENCH_WARMUP=0 LATCHKEY_BIN=$(BUILD_BENCH)/latchkey node bench/bench.mjs

# The scale run (bench/scale.mjs): latchkey-scale-seed writes a workspace of
# 1,000,000 devices, 200,000 connected accounts and 100,000 client sessions
# (and one of 1,000 devices, the same shape) into SQLite and into a throwaway
# PostgreSQL; each call is measured on both, with the ratio large/small;
# the raw output goes to bench/results/scale-<date>.txt. Smaller:
# `make bench-scale SCALE_DEVICES=20000`; other knobs: node bench/scale.mjs --help.
bench-scale: build-bench
	@cmake --build $(BUILD_BENCH) -j $(JOBS) --target latchkey-scale-seed
	@node bench/scale.mjs --build $(BUILD_BENCH)

# A soak of SOAK_SECONDS: the SDK's workload with hostile clients alongside;
# fails when a request fails, the server 5xxs or crashes, or RSS grows 5 %.
SOAK_SECONDS ?= 60
soak: build
	@node bench/soak.mjs $(SOAK_SECONDS)
