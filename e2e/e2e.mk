# kab images, the kind e2e suite and the demo. Included by the top-level Makefile.
# Cluster targets (kind-up, kind-down, e2e-images) live in e2e/kind.mk.

.PHONY: images e2e faults demo bench-e2e

## images: kab-injector:dev and kab-agent:dev (FROM scratch) from the static binaries of `make build`
images:
	e2e/scenarios/build-images.sh

## e2e: the kind e2e suite, offline: cluster up, every image built and loaded, kab installed, all scenarios
# Serial on purpose: the cluster must exist before images are loaded into it.
# SCENARIOS="03-sqlite 05-snapshots" runs only those (names of e2e/scenarios/*.sh).
e2e:
	$(MAKE) --no-print-directory images
	$(MAKE) --no-print-directory kind-up
	$(MAKE) --no-print-directory e2e-images
	e2e/scenarios/run.sh $(SCENARIOS)

## faults: the kind fault suite (docs/RELIABILITY.md): each case injects one fault (agent kill -9,
## full volume, app killed, injector kills during a scale-up, node restart) and asserts what must survive
# FAULTS="01-agent-kill9 04-node-reboot" runs only those (names of e2e/faults/*.sh).
faults:
	$(MAKE) --no-print-directory images
	$(MAKE) --no-print-directory kind-up
	$(MAKE) --no-print-directory e2e-images
	e2e/faults/run.sh $(FAULTS)

## demo: a kind cluster running kab and an example app that backs itself up; prints where to look
demo:
	$(MAKE) --no-print-directory images
	$(MAKE) --no-print-directory kind-up
	$(MAKE) --no-print-directory e2e-images
	e2e/demo.sh

## bench-e2e: kab's performance on kind, each figure a ratio to a baseline measured in the same run (docs/PERFORMANCE.md)
# Not part of `make check`: it prints, asserts no timing, and takes a while. BENCHES="podstart
# trigger" runs only those (names of e2e/bench/*.sh); BENCH_N=2 is the quick mode.
bench-e2e:
	$(MAKE) --no-print-directory images
	$(MAKE) --no-print-directory kind-up
	$(MAKE) --no-print-directory e2e-images
	e2e/bench/run.sh $(BENCHES)
