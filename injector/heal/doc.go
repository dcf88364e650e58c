// Package heal finds kab pods that started without injection and puts them right (DESIGN §11).
//
// A pod with a kab.boa.nu/ annotation but no kab.boa.nu/status slipped past the webhook (it
// was created before the webhook was registered — the one-apply cluster rebuild). Owned by a
// controller, it is evicted through the Eviction API (PodDisruptionBudgets hold; a blocked
// eviction is retried with the workqueue's backoff) and its controller re-creates it, now
// injected. A bare pod is never deleted: it gets a Warning Event. The shape is
// kubernetes/sample-controller's: informer → rate-limited workqueue → an idempotent sync that
// re-reads the pod; one replica acts at a time (client-go leader election on a Lease), and
// only after the injector's own webhook answers through the API server, so an eviction never
// leads to another un-injected start.
package heal
