//go:build integration

package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// rbacScope is what a component's RBAC may hold.
type rbacScope bool

const (
	// clusterWideOnly: ClusterRoles and their bindings only (the uninjected-pods watch reads
	// pods cluster-wide and needs nothing in kab-system).
	clusterWideOnly rbacScope = false
	// namespacedToo: also Roles and RoleBindings (heal's Lease and Events in kab-system).
	namespacedToo rbacScope = true
)

// applyComponentRBAC creates deploy/components/<component>/rbac.yaml as written, and fails on
// any object the scope does not allow, so a component that grows rights shows up here. It
// returns once the API server authorizes what the bindings grant.
func (e *env) applyComponentRBAC(t *testing.T, component string, scope rbacScope) {
	t.Helper()
	ctx := context.Background()
	file := filepath.Join(repoRoot, "deploy", "components", component, "rbac.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string][]rbacv1.PolicyRule{}
	var bindings []func()
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode %s: %v", file, err)
		}
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			rules["ClusterRole/"+o.Name] = o.Rules
			_, err = e.admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			bindings = append(bindings, func() { e.waitForBinding(t, "", o.Subjects, rules["ClusterRole/"+o.RoleRef.Name]) })
			_, err = e.admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			if scope == clusterWideOnly {
				t.Fatalf("%s holds Role %s; the component must be cluster-wide RBAC only", file, o.Name)
			}
			rules["Role/"+o.Namespace+"/"+o.Name] = o.Rules
			_, err = e.admin.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			if scope == clusterWideOnly {
				t.Fatalf("%s holds RoleBinding %s; the component must be cluster-wide RBAC only", file, o.Name)
			}
			bindings = append(bindings, func() { e.waitForBinding(t, o.Namespace, o.Subjects, roleRules(rules, o)) })
			_, err = e.admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("%s holds a %T; the test applies RBAC only", file, obj)
		}
		if err != nil {
			t.Fatalf("create %s from %s: %v", obj.GetObjectKind().GroupVersionKind().Kind, file, err)
		}
	}
	for _, wait := range bindings {
		wait()
	}
}

// roleRules is what a RoleBinding refers to among the roles created alongside it.
func roleRules(rules map[string][]rbacv1.PolicyRule, b *rbacv1.RoleBinding) []rbacv1.PolicyRule {
	if b.RoleRef.Kind == "ClusterRole" {
		return rules["ClusterRole/"+b.RoleRef.Name]
	}
	return rules["Role/"+b.Namespace+"/"+b.RoleRef.Name]
}

// waitForBinding returns once the API server authorizes every verb of every resource rule for
// every subject of a binding just created, in namespace ("" for a ClusterRoleBinding). Its
// RBAC authorizer reads roles and bindings from an informer cache, so a request right after
// the create can still be denied — a rights check did so once in CI. kab's injector waits the
// same way (startHeal re-checks); a test must too, or it fails on the cache, not on kab.
func (e *env) waitForBinding(t *testing.T, namespace string, subjects []rbacv1.Subject, rules []rbacv1.PolicyRule) {
	t.Helper()
	if len(rules) == 0 {
		t.Fatalf("a binding in %q refers to a role the test did not create with it", namespace)
	}
	for _, subject := range subjects {
		for _, rule := range rules {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					attrs := &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Group: first(rule.APIGroups), Name: first(rule.ResourceNames)}
					attrs.Resource, attrs.Subresource, _ = strings.Cut(resource, "/")
					what := fmt.Sprintf("%s %s may %s %s in %q", subject.Kind, subject.Name, verb, resource, namespace)
					waitFor(t, what, settleTimeout, func() (bool, error) {
						review := &authorizationv1.SubjectAccessReview{Spec: subjectSpec(subject, attrs)}
						got, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
						if err != nil {
							return false, err
						}
						return got.Status.Allowed, fmt.Errorf("denied: %s", got.Status.Reason)
					})
				}
			}
		}
	}
}

// subjectSpec is who a SubjectAccessReview asks about: a binding's subject as the API server
// authenticates it.
func subjectSpec(s rbacv1.Subject, attrs *authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
	spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: attrs}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		// As controlplane.ServiceAccountConfig impersonates it.
		spec.User = "system:serviceaccount:" + s.Namespace + ":" + s.Name
		spec.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + s.Namespace, "system:authenticated"}
	case rbacv1.GroupKind:
		spec.User = "kab-test-member"
		spec.Groups = []string{s.Name}
	default:
		spec.User = s.Name
	}
	return spec
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}
