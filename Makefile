# The one command that runs every test: `make test`.
GO ?= go
BIN := bin/codemux

.PHONY: build test test-go test-extension bench lint

build:
	$(GO) build -o $(BIN) ./cmd/codemux

test: test-go test-extension

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-extension: build
	cd extension-stub && npm ci --no-audit --no-fund && CODEMUX_BIN=$(CURDIR)/$(BIN) npm test

# The scale benchmark (cold index of GOROOT/src through the real daemon,
# memory, disk, search, save-to-searchable, warm restart, retrieval) and
# the retrieval benchmark over the standard library. Several minutes.
bench:
	$(GO) test -run XXX -bench Scale -benchtime 1x -timeout 30m ./agent/scalebench/
	$(GO) test -run XXX -bench BenchmarkRetrieval -benchtime 1x -v ./index/

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
