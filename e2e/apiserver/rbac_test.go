//go:build integration

package apiserver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/boanu/kab/e2e/controlplane"
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
			bindings = append(bindings, func() { controlplane.WaitForBinding(t, e.admin, "", o.Subjects, rules["ClusterRole/"+o.RoleRef.Name]) })
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
			bindings = append(bindings, func() { controlplane.WaitForBinding(t, e.admin, o.Namespace, o.Subjects, roleRules(rules, o)) })
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
