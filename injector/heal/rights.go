package heal

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// rights are what heal needs (deploy/components/heal); the injector logs the missing ones once.
func rights(kabNamespace, probeNamespace string) []authorizationv1.ResourceAttributes {
	return []authorizationv1.ResourceAttributes{
		{Verb: "list", Resource: "pods"},
		{Verb: "watch", Resource: "pods"},
		{Verb: "create", Resource: "pods", Subresource: "eviction"},
		{Verb: "create", Resource: "events"},
		{Verb: "create", Resource: "pods", Namespace: probeNamespace},
		// get and update are granted for heal's own Lease only (resourceNames), so ask for that
		// name: a review without one would be refused although heal can work.
		{Verb: "get", Group: "coordination.k8s.io", Resource: "leases", Namespace: kabNamespace, Name: LeaseName},
		{Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: kabNamespace},
		{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: kabNamespace, Name: LeaseName},
	}
}

// watchRights are what Watch needs (deploy/components/uninjected-watch).
func watchRights() []authorizationv1.ResourceAttributes {
	return []authorizationv1.ResourceAttributes{
		{Verb: "list", Resource: "pods"},
		{Verb: "watch", Resource: "pods"},
	}
}

// MissingRights asks the API server (SelfSubjectAccessReview, as the caller's identity) which of
// heal's rights (deploy/components/heal) are missing, in words ("create pods/eviction").
func MissingRights(ctx context.Context, client kubernetes.Interface, kabNamespace, probeNamespace string) ([]string, error) {
	return missingOf(ctx, client, rights(kabNamespace, probeNamespace))
}

// MissingWatchRights is MissingRights for Watch (deploy/components/uninjected-watch).
func MissingWatchRights(ctx context.Context, client kubernetes.Interface) ([]string, error) {
	return missingOf(ctx, client, watchRights())
}

func missingOf(ctx context.Context, client kubernetes.Interface, wanted []authorizationv1.ResourceAttributes) ([]string, error) {
	var missing []string
	for _, attrs := range wanted {
		review, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		if !review.Status.Allowed {
			what := attrs.Verb + " " + attrs.Resource
			if attrs.Subresource != "" {
				what += "/" + attrs.Subresource
			}
			if attrs.Group != "" {
				what += "." + attrs.Group
			}
			if attrs.Namespace != "" {
				what += " in namespace " + attrs.Namespace
			}
			missing = append(missing, what)
		}
	}
	return missing, nil
}
