# exoroster: bulk Exotel user management. `make test` is what CI runs.
GO      ?= go
BIN     := bin/exoroster
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s
IMAGE   ?= exoroster/exoroster:$(VERSION)

.PHONY: build test demo bench bench-validate fuzz lint clean image screenshot

build: ## build the binary into bin/
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/exoroster

test: ## vet and run every test with the race detector
	$(GO) vet ./...
	$(GO) test -race ./...

demo: build ## import samples/roster.csv into the sandbox, end to end, no credentials
	./scripts/demo.sh $(BIN)

bench: ## Go benchmarks, then one table of end-to-end pace against the fake API (PACE_RUNS=7 per scenario, ~15 min)
	$(GO) test -run '^$$' -bench . -benchmem ./roster/ ./ratelimit/ ./results/
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./importer/ ./exporter/
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x ./audit/ ./htmlreport/
	$(GO) test -C ratelimit -tags pacebench -run '^TestPaceTable$$' -count 1 -timeout 60m
	$(MAKE) --no-print-directory bench-validate

bench-validate: build ## validate a generated 1,000,000-row roster and import --dry-run 100,000 rows, under GNU time
	./scripts/bench-validate.sh $(BIN)

fuzz: ## fuzz the CSV and .xlsx readers, header words, --map, phone, email, API-answer and report parsers for FUZZTIME each
	$(GO) test -run '^$$' -fuzz '^FuzzParseRow$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzPhone$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzPhoneRules$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzEmail$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzHeaderWords$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzCountRows$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzLineEnds$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzAppendRecord$$' -fuzztime $(FUZZTIME) ./results/
	$(GO) test -run '^$$' -fuzz '^FuzzMap$$' -fuzztime $(FUZZTIME) ./roster/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAnswer$$' -fuzztime $(FUZZTIME) ./exotel/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./audit/

screenshot: build ## render the sample HTML audit page to PNG with headless chromium (not part of test)
	./scripts/screenshot.sh $(BIN) bin

image: ## build the container image IMAGE (needs docker; not part of test)
	@command -v docker >/dev/null || { echo "make image: docker is not installed here"; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make image: no docker daemon reachable here (docker info fails)"; exit 1; }
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

lint: ## gofmt and go vet must be clean
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

clean: ## remove build and demo output
	rm -rf bin demo-results.csv demo-results.csv.state.json demo-export.csv demo-export.csv.summary.json
