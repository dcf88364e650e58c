package webhook

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Gate is a check that needs the cluster (tenancy: allowed namespaces, backup-name claims) and
// so cannot live in the pure mutation. It sees each pod the mutation would inject, with its
// namespace set, and returns a *mutation.DeniedError to deny it; any other error fails the
// admission (failurePolicy Fail: the pod is retried, never admitted unchecked).
type Gate interface {
	Admit(ctx context.Context, pod *corev1.Pod, dryRun bool) error
}

// Option changes what NewHandler builds.
type Option func(*handler)

// WithGate runs gate after the mutation on every pod that would be injected.
func WithGate(gate Gate) Option { return func(h *handler) { h.gate = gate } }
