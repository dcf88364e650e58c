# Real-cluster targets: a single-node kind cluster "kab-e2e" (context kind-kab-e2e) that works
# offline. Scripts live in e2e/kind, e2e/images and e2e/smoke; caches in $(KAB_CACHE_DIR)
# (default .cache/). Env: KAB_OFFLINE=1|0 (default: probe), KAB_E2E_HOSTDIR (host folder
# mounted at /var/lib/kab in the node), KAB_E2E_KEEP=1 (keep a failed cluster for debugging).
KAB_E2E_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: kind-up kind-down kind-clean e2e-images e2e-smoke

## kind-up: create or reuse the kab-e2e cluster (starts Docker if none answers; offline builds the node image)
kind-up:
	bash $(KAB_E2E_MK_DIR)/kind/up.sh

## kind-down: delete the kab-e2e cluster and stop the Docker daemon if kind-up started it
kind-down:
	bash $(KAB_E2E_MK_DIR)/kind/down.sh

## kind-clean: kind-down and drop every cached e2e product (binaries, root filesystems, images)
kind-clean:
	bash $(KAB_E2E_MK_DIR)/kind/clean.sh

## e2e-images: build kab-test/busybox:e2e, kab-test/sqlite:e2e and kab-test/postgres:e2e from Debian packages and load them
e2e-images:
	bash $(KAB_E2E_MK_DIR)/images/build.sh

## e2e-smoke: init container, native sidecar, shared PID namespace, hostPath and a Service on the cluster
e2e-smoke: e2e-images
	bash $(KAB_E2E_MK_DIR)/smoke/smoke.sh
