// Package apiserver holds the injector's integration tests against a real kube-apiserver and
// etcd (see e2e/controlplane). The tests carry the build tag `integration` and need the binaries
// that `make test-integration` builds; run them with that target:
//
//	make test-integration
//
// Every test registers the webhook from the manifest users apply (deploy/base, rendered with
// the project's own kubectl), changes only where it points (the service port of an injector
// started in the test) and its caBundle, and creates pods through the API server.
package apiserver
