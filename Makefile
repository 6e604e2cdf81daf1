# exoroster: bulk Exotel user management. `make test` is what CI runs.
GO      ?= go
BIN     := bin/exoroster
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s

.PHONY: build test demo bench fuzz lint clean

build: ## build the binary into bin/
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/exoroster

test: ## vet and run every test with the race detector
	$(GO) vet ./...
	$(GO) test -race ./...

demo: build ## import samples/roster.csv into the sandbox, end to end, no credentials
	./scripts/demo.sh $(BIN)

bench: ## Go benchmarks, then one table of end-to-end pace against the fake API (PACE_RUNS=7 per scenario, ~15 min)
	$(GO) test -run '^$$' -bench . -benchmem ./roster/ ./ratelimit/
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./importer/ ./exporter/
	$(GO) test -C ratelimit -tags pacebench -run '^TestPaceTable$$' -count 1 -timeout 60m

fuzz: ## fuzz the CSV, phone and email parsers for FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzParseRow$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzPhone$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzEmail$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAnswer$$' -fuzztime $(FUZZTIME) ./exotel/

lint: ## gofmt and go vet must be clean
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

clean: ## remove build and demo output
	rm -rf bin demo-results.csv demo-results.csv.state.json demo-export.csv demo-export.csv.summary.json
