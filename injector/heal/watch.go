package heal

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Watch is heal with evict: false: the same pod informer and kab_injector_uninjected_pods
// gauge, and a log line once per un-injected pod, but no evictions, Events or Lease. It needs
// only pods list/watch (deploy/components/uninjected-watch), so an install that keeps heal's
// rights off still sees such pods. Every replica runs it: each exports the same count, and
// the alert takes the max. It blocks until ctx ends.
func (c *Controller) Watch(ctx context.Context) error {
	c.watchOnly = true
	return c.Run(ctx, 1)
}

// logUninjected logs a pod once (per UID), the watch mode's only notice besides the gauge.
func (c *Controller) logUninjected(pod *corev1.Pod) {
	if !c.firstNotice(pod) {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	c.log.Warn("un-injected kab pod: it runs with no restore and no backups; delete it so its controller re-creates it injected, or create it again if bare (heal.evict is false: kab does not act)",
		"pod", key)
}

// firstNotice reports whether this pod (by namespace/name and UID) has not been warned about yet,
// and marks it: a pod re-created under the same name with a new UID is warned about again.
func (c *Controller) firstNotice(pod *corev1.Pod) bool {
	key := pod.Namespace + "/" + pod.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warned[key] == pod.UID {
		return false
	}
	c.warned[key] = pod.UID
	return true
}
