package heal

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/shared"
)

// uninjected reports whether the pod is a kab pod the webhook never saw: kab annotations, no
// status, still meant to run. A pod being deleted or finished is past healing.
func uninjected(pod *corev1.Pod) bool {
	if !shared.HasAnnotations(pod.Annotations) {
		return false
	}
	if _, injected := pod.Annotations[shared.Prefix+shared.KeyStatus]; injected {
		return false
	}
	if pod.DeletionTimestamp != nil {
		return false
	}
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}
