package kube

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/kubernetes"
)

// RequirePodVerbs asks the API server whether the user may do each verb on pods in namespace,
// before starting something that needs them all (a drill creates, watches and deletes a pod):
// finding out halfway would leave a pod behind or waste a restore. The error names every
// missing verb and the resource, as RBAC grants them.
func RequirePodVerbs(ctx context.Context, cs kubernetes.Interface, namespace string, verbs ...string) error {
	return requireVerbs(ctx, cs, authorizationv1.ResourceAttributes{Namespace: namespace, Resource: "pods"}, verbs...)
}

// RequireExec is the exec check of Exec, for callers that must know before they start.
func RequireExec(ctx context.Context, cs kubernetes.Interface, namespace, pod string) error {
	return requireExec(ctx, cs, namespace, pod)
}
