//go:build integration

package controlplane

import (
	"context"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestGrantsAreInForceOnReturn: what GrantUser and WaitForBinding grant is in force for the
// very next request — as the user, and as a service account through ServiceAccountConfig,
// so the reviews ask about the identity the tests act as — and nothing more is; a right
// nobody granted is never reported allowed.
func TestGrantsAreInForceOnReturn(t *testing.T) {
	cp := Start(t, Options{})
	admin := cp.Client(t)
	ctx := context.Background()
	as := func(cfg *rest.Config) kubernetes.Interface {
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	GrantUser(t, admin, metav1.NamespaceDefault, "reader", []string{"get", "list"}, "pods")
	reader := as(cp.Impersonating("reader"))
	if _, err := reader.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("right after GrantUser, the user cannot list pods: %v", err)
	}
	if _, err := reader.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the user lists pods in another namespace: err = %v, want Forbidden", err)
	}

	robot := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: metav1.NamespaceDefault, Name: "robot"}}
	if _, err := admin.RbacV1().RoleBindings(metav1.NamespaceDefault).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "robot"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"},
		Subjects:   robot,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	WaitForBinding(t, admin, metav1.NamespaceDefault, robot, []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}})
	sa := as(cp.ServiceAccountConfig(metav1.NamespaceDefault, "robot"))
	if _, err := sa.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("right after WaitForBinding, the service account cannot list pods: %v", err)
	}

	spec := subjectSpec(rbacv1.Subject{Kind: rbacv1.UserKind, Name: "reader"},
		&authorizationv1.ResourceAttributes{Namespace: metav1.NamespaceDefault, Verb: "delete", Resource: "pods"})
	if err := waitAllowed(admin, spec, 2*time.Second); err == nil {
		t.Error("waitAllowed says a right nobody granted (delete pods) is allowed")
	}
}
