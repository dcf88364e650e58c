# kab — build, test and run targets. Cluster and e2e targets live in e2e/*.mk.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO        ?= go
GOARCH    ?= $(shell $(GO) env GOARCH)
BIN       := bin
LDFLAGS   := -s -w
GOBUILD   := CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS)'
# The agent speaks only HTTP/1.1: its servers are plain HTTP and minio-go's transport (custom
# dialer and TLS config) never negotiates h2, so net/http's bundled HTTP/2 is dead weight there
# (0.54 MB, docs/PERFORMANCE.md "Images"). The injector keeps it: the API server calls the
# webhook over h2 and client-go watches multiplex on it.
AGENT_TAGS := nethttpomithttp2
# Packages the agent calls per request, per scrape or per log line, never per byte of a backup:
# built without inlining they keep the agent image under 12 MB (docs/PERFORMANCE.md "Images").
# The per-byte paths (archive/tar, zstd, age, chacha20poly1305, sha256, io, os, syscall, runtime)
# keep it.
AGENT_COLD := github.com/prometheus/... google.golang.org/protobuf/... github.com/minio/minio-go/v7/... \
  github.com/tinylib/msgp/msgp github.com/go-co-op/gocron/v2 github.com/robfig/cron/v3 \
  github.com/lmittmann/tint log/slog encoding/json encoding/xml encoding/asn1 crypto/x509 fmt \
  regexp/... net/url mime mime/... text/tabwriter vendor/golang.org/x/net/idna vendor/golang.org/x/text/...
AGENT_GCFLAGS := $(foreach p,$(AGENT_COLD),-gcflags=$(p)=-l)
PKGS      := ./shared/... ./injector/... ./agent/... ./deploy/... ./kubectl-kab/...
FUZZTIME  ?= 30s

.PHONY: build test lint fuzz bench deps check

## build: static bin/kab-injector, bin/kab-agent (CGO_ENABLED=0, for images FROM scratch) and bin/kubectl-kab
build:
	$(GOBUILD) -o $(BIN)/kab-injector ./injector/cmd/kab-injector
	$(GOBUILD) -tags '$(AGENT_TAGS)' $(AGENT_GCFLAGS) -o $(BIN)/kab-agent ./agent/cmd/kab-agent
	$(GOBUILD) -o $(BIN)/kubectl-kab ./kubectl-kab/cmd/kubectl-kab

## check: everything CI runs, on a fresh machine: unit tests, the real kube-apiserver, the kind smoke
## test, the kind e2e suite and the kind fault suite (the cluster is deleted afterwards, also when a
## step fails)
check: deps
	$(MAKE) --no-print-directory test
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory kind-up
	$(MAKE) --no-print-directory e2e-smoke || { $(MAKE) --no-print-directory kind-down; exit 1; }
	$(MAKE) --no-print-directory e2e || { $(MAKE) --no-print-directory kind-down; exit 1; }
	$(MAKE) --no-print-directory faults || { $(MAKE) --no-print-directory kind-down; exit 1; }
	$(MAKE) --no-print-directory kind-down

## deps: what the unit tests need from Debian (a static busybox for the agent's test apps), and
## the real helm built from Go modules for deploy/'s chart tests
deps:
	e2e/lib/host-deps.sh
	e2e/lib/build-helm.sh >/dev/null

## test: lint, then unit, golden and real-process tests with the race detector (as root)
test: lint
	$(GO) test -race -count=1 $(PKGS)

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: run every fuzz target for FUZZTIME each (their seed corpora also run in `make test`)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

## bench: benchmarks of the admission path and the agent
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

include $(wildcard e2e/*.mk)
