# msb-logfs — common tasks. `make help` lists them.

GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 30s
MOUNTPOINT ?=
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

FUZZ_TARGETS := FuzzParseExecLine FuzzParseTextLine FuzzParseCursor FuzzSandbox FuzzCursorPositions

.PHONY: all help build test lint bench demo fuzz clean

all: build

help:
	@echo "make build   build the commands in ./cmd/... into ./$(BIN)/"
	@echo "make test    go vet, then all tests with -race (FUSE end-to-end tests need /dev/fuse)"
	@echo "make lint    gofmt check, go vet, staticcheck"
	@echo "make bench   whole-process benchmarks (bench/run.sh)"
	@echo "make demo    live demo mount (MOUNTPOINT=dir to choose where)"
	@echo "make fuzz    run each fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "make clean   remove build output"

build:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# The end-to-end tests in ./test/ build the binary themselves.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 45m ./...

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

bench:
	bash bench/run.sh

# Built first, then run directly, so Ctrl-C reaches the demo itself, which
# unmounts and removes everything.
demo:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/msb-logfs ./cmd/msb-logfs
	$(BIN)/msb-logfs demo $(MOUNTPOINT)

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) ./engine/; \
	done

clean:
	rm -rf $(BIN)
	find . -type f \( -name '*.test' -o -name '*.prof' \) -delete
