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

// execVerbs are what exec needs: create for SPDY, get for the WebSocket upgrade kubectl uses
// first (the API server checks both for a WebSocket since Kubernetes 1.35).
var execVerbs = []string{"create", "get"}

// requireExec asks the API server whether the user may exec into the pod, before trying: the
// refusal of a streaming upgrade comes back as text, not as a typed error, so this is how the
// message can name the missing verb and resource reliably.
func requireExec(ctx context.Context, cs kubernetes.Interface, namespace, pod string) error {
	return requireVerbs(ctx, cs, authorizationv1.ResourceAttributes{
		Namespace: namespace, Resource: "pods", Subresource: "exec", Name: pod,
	}, execVerbs...)
}

// requireVerbs asks the API server, one SelfSubjectAccessReview per verb, whether the user may
// do each verb on the resource of attrs. The error names every missing verb and the resource as
// RBAC grants them ("pods", "pods/exec"), so the fix can be copied into a Role.
func requireVerbs(ctx context.Context, cs kubernetes.Interface, attrs authorizationv1.ResourceAttributes, verbs ...string) error {
	var missing []string
	for _, verb := range verbs {
		asked := attrs
		asked.Verb = verb
		review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &asked},
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
	resource := attrs.Resource
	if attrs.Subresource != "" {
		resource += "/" + attrs.Subresource
	}
	quoted := make([]string, len(missing))
	for i, verb := range missing {
		quoted[i] = strconv.Quote(verb)
	}
	return fmt.Errorf("%w: you may not %s %s in namespace %s (RBAC: grant verb %s on resource %q)",
		ErrForbidden, strings.Join(missing, "+"), resource, attrs.Namespace, strings.Join(quoted, " and "), resource)
}
