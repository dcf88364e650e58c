package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// bindingTimeout bounds how long a binding may take to reach the API server's authorizer; it
// takes milliseconds, so reaching this is a broken binding, not a slow one.
const bindingTimeout = 30 * time.Second

// GrantUser lets user do verbs on resources in ns (a Role and a RoleBinding, both named after
// the user) and returns once the API server authorizes it.
func GrantUser(t testing.TB, admin kubernetes.Interface, ns, user string, verbs []string, resources ...string) {
	t.Helper()
	ctx := context.Background()
	rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: resources, Verbs: verbs}}
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules:      rules,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Role %s/%s: %v", ns, user, err)
	}
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
		Subjects:   subjects,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create RoleBinding %s/%s: %v", ns, user, err)
	}
	WaitForBinding(t, admin, ns, subjects, rules)
}

// WaitForBinding returns once the API server authorizes every verb of every resource rule for
// every subject of a binding just created, in namespace ("" for a ClusterRoleBinding). Its
// RBAC authorizer reads roles and bindings from an informer cache, so a request right after
// the create can still be denied — a rights check did so once in CI. kab's injector waits the
// same way (heal re-checks its rights); a test must too, or it fails on the cache, not on kab.
func WaitForBinding(t testing.TB, admin kubernetes.Interface, namespace string, subjects []rbacv1.Subject, rules []rbacv1.PolicyRule) {
	t.Helper()
	if len(rules) == 0 {
		t.Fatalf("a binding in %q grants no rules: its role was not created with it", namespace)
	}
	for _, subject := range subjects {
		for _, rule := range rules {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					attrs := &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: first(rule.APIGroups), Name: first(rule.ResourceNames)}
					attrs.Resource, attrs.Subresource, _ = strings.Cut(resource, "/")
					if err := waitAllowed(admin, subjectSpec(subject, attrs), bindingTimeout); err != nil {
						t.Fatalf("%s %s may %s %s in %q: %v", subject.Kind, subject.Name, verb, resource, namespace, err)
					}
				}
			}
		}
	}
}

// waitAllowed asks the API server about spec until it allows it, for at most timeout.
func waitAllowed(admin kubernetes.Interface, spec authorizationv1.SubjectAccessReviewSpec, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		review := &authorizationv1.SubjectAccessReview{Spec: spec}
		got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
		switch {
		case err == nil && got.Status.Allowed:
			return nil
		case err == nil:
			err = fmt.Errorf("denied (%q)", got.Status.Reason)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// subjectSpec is who a SubjectAccessReview asks about: a binding's subject as the API server
// authenticates it.
func subjectSpec(s rbacv1.Subject, attrs *authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
	spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: attrs}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		spec.User, spec.Groups = serviceAccountUser(s.Namespace, s.Name)
	case rbacv1.GroupKind:
		spec.User = "kab-test-member"
		spec.Groups = []string{s.Name}
	default:
		spec.User = s.Name
	}
	return spec
}

// serviceAccountUser is the user name and groups the API server gives a service account's token.
func serviceAccountUser(namespace, name string) (string, []string) {
	return "system:serviceaccount:" + namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
