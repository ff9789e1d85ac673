# msb-logfs — common tasks. `make help` lists them.

GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 30s
MOUNTPOINT ?=
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Empty: every Fuzz function of every package (.ci/fuzz finds them).
# Name some to run only those: make fuzz FUZZ_TARGETS="FuzzSeekWrite".
FUZZ_TARGETS ?=

.PHONY: all help build test lint bench demo fuzz clean

all: build

help:
	@echo "make build   build the commands in ./cmd/... into ./$(BIN)/"
	@echo "make test    go vet, then all tests with -race (FUSE end-to-end tests need /dev/fuse)"
	@echo "make lint    gofmt check, go vet, staticcheck"
	@echo "make bench   whole-process benchmarks (bench/run.sh)"
	@echo "make demo    live demo mount (MOUNTPOINT=dir to choose where)"
	@echo "make fuzz    run every fuzz target, of every package, for FUZZTIME=$(FUZZTIME) each"
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

# .ci/fuzz runs `go test -run='^$$' -fuzz=^Target$$ -fuzztime=$(FUZZTIME)` for
# each target it finds (or each one named in FUZZ_TARGETS).
fuzz:
	GO=$(GO) bash .ci/fuzz $(FUZZTIME) $(FUZZ_TARGETS)

clean:
	rm -rf $(BIN)
	find . -type f \( -name '*.test' -o -name '*.prof' \) -delete
