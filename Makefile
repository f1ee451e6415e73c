# The short commands. `make run` and `make test` install what is missing
# (scripts/bootstrap), build with CMake, and run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: run run-example test build build-asan bootstrap bench clean

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

# The browser example next to a seeded latchkey (see examples/browser/README.md).
EXAMPLE_DATA ?= /tmp/latchkey-example
run-example: build
	@$(BUILD)/latchkey serve --seed --data-dir $(EXAMPLE_DATA) --port 3020 & \
	trap 'kill $$!' EXIT INT TERM; \
	node examples/browser/server.mjs --latchkey http://127.0.0.1:3020 \
	  --api-key seam_apikey1_token --publishable-key seam_pk1_token --port 8080

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
