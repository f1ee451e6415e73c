# The short commands. `make run` and `make test` install what is missing
# (scripts/bootstrap), build with CMake, and run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: run test build build-asan bootstrap bench clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: bootstrap
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DLATCHKEY_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	$(BUILD)/latchkey serve $(ARGS)

# Every test, in the normal build and under ASan+UBSan; CTest's summary last.
test: build build-asan
	@echo "== tests: ASan+UBSan build =="
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)
	@echo "== tests: normal build =="
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

bench: build
	@bench/run $(BENCH_SECONDS)
