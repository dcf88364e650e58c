# The injector against a real kube-apiserver + etcd, and agent/offsite against a real SeaweedFS S3
# server. Included by the top-level Makefile.
# The binaries are built from Go modules at pinned versions and cached in .cache/ (a cold build
# takes minutes, a warm one only checks the files); the tests find them through
# KAB_K8S_BIN_DIR / KAB_ETCD_BIN_DIR / KAB_WEED_BIN_DIR and fail — never skip — without them.

.PHONY: test-integration integration-binaries

INTEGRATION_PKGS    := ./e2e/controlplane/... ./e2e/apiserver/... ./agent/offsite/... ./agent/cmd/kab-agent/... ./kubectl-kab/cli/...
INTEGRATION_TIMEOUT ?= 20m
# INTEGRATION_FLAGS="-run TestSelfManagedTLS -v" narrows or details a run.
INTEGRATION_FLAGS   ?=

## integration-binaries: build (or reuse) etcd, kube-apiserver, kube-controller-manager and kubectl for the integration tests
integration-binaries:
	e2e/lib/build-k8s.sh kube-apiserver kubectl kube-controller-manager >/dev/null
	e2e/lib/build-etcd.sh >/dev/null
	e2e/lib/build-seaweedfs.sh >/dev/null

## test-integration: the injector, its manifest and self-managed TLS against a real kube-apiserver
test-integration:
	@set -euo pipefail; \
	k8s_bin_dir=$$(e2e/lib/build-k8s.sh kube-apiserver kubectl kube-controller-manager); \
	etcd_bin_dir=$$(e2e/lib/build-etcd.sh); \
	weed_bin_dir=$$(e2e/lib/build-seaweedfs.sh); \
	echo "KAB_K8S_BIN_DIR=$$k8s_bin_dir KAB_ETCD_BIN_DIR=$$etcd_bin_dir KAB_WEED_BIN_DIR=$$weed_bin_dir"; \
	KAB_K8S_BIN_DIR=$$k8s_bin_dir KAB_ETCD_BIN_DIR=$$etcd_bin_dir KAB_WEED_BIN_DIR=$$weed_bin_dir \
	  $(or $(GO),go) test -tags integration -race -count=1 -timeout $(INTEGRATION_TIMEOUT) $(INTEGRATION_FLAGS) $(INTEGRATION_PKGS)
