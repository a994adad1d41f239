# gmsync: `make demo` runs the whole job against the local Gmail emulator;
# `make test` installs what the tests need and runs them.

GO ?= go
BIN := bin
PREFIX ?= $(HOME)/.local
STATICCHECK_VERSION := v0.8.2

.PHONY: all build install demo test deps vet staticcheck bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/gmsync ./cmd/gmail-emulator

# Installs gmsync into $(PREFIX)/bin (default ~/.local/bin), where mail
# clients and the systemd timer find it.
install:
	mkdir -p $(PREFIX)/bin
	$(GO) build -o $(PREFIX)/bin/gmsync ./cmd/gmsync

demo: deps build
	./scripts/demo.sh

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Unit and end-to-end tests, all with the race detector. The e2e package
# builds the binaries itself and starts its own Secret Service.
test: deps vet staticcheck
	$(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./... | ./scripts/benchtable.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzEscapeLabel -fuzztime 30s ./maildir/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./sendmail/
	$(GO) test -run '^$$' -fuzz FuzzPrepare -fuzztime 30s ./sendmail/

clean:
	rm -rf $(BIN) demo
