package kube

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// RequirePodVerbs asks the API server whether the user may do each verb on pods in namespace,
// before starting something that needs them all (a drill creates, watches and deletes a pod):
// finding out halfway would leave a pod behind or waste a restore. The error names every
// missing verb and the resource, as RBAC grants them.
func RequirePodVerbs(ctx context.Context, cs kubernetes.Interface, namespace string, verbs ...string) error {
	var missing []string
	for _, verb := range verbs {
		review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: namespace, Verb: verb, Resource: "pods",
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return Explain(err, "create", "selfsubjectaccessreviews", "")
		}
		if !review.Status.Allowed {
			missing = append(missing, verb)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	quoted := make([]string, len(missing))
	for i, verb := range missing {
		quoted[i] = strconv.Quote(verb)
	}
	return fmt.Errorf("%w: you may not %s pods in namespace %s (RBAC: grant verb %s on resource %q)",
		ErrForbidden, strings.Join(missing, "+"), namespace, strings.Join(quoted, " and "), "pods")
}

// RequireExec is the exec check of Exec, for callers that must know before they start.
func RequireExec(ctx context.Context, cs kubernetes.Interface, namespace, pod string) error {
	return requireExec(ctx, cs, namespace, pod)
}
