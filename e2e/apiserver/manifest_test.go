//go:build integration

package apiserver

import (
	"context"
	"slices"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestManifestWiring checks that the pieces of deploy/base point at each other: a webhook
// that names a Service port nobody listens on, or RBAC for a Secret the injector does not use,
// passes `kubectl apply` and fails only in a cluster. The API-facing behaviour of the same
// objects is tested against the API server in the other tests.
func TestManifestWiring(t *testing.T) {
	m := loadManifest(t)
	ns := m.Namespace.Name

	for _, wh := range m.Webhook.Webhooks {
		ref := wh.ClientConfig.Service
		if ref == nil {
			t.Fatalf("webhook %s is not registered through a Service", wh.Name)
		}
		if ref.Namespace != ns || ref.Name != m.Service.Name || ref.Namespace != m.Service.Namespace {
			t.Errorf("webhook %s calls Service %s/%s; the manifest's Service is %s/%s", wh.Name, ref.Namespace, ref.Name, m.Service.Namespace, m.Service.Name)
		}
		port := int32(443)
		if ref.Port != nil {
			port = *ref.Port
		}
		if !slices.ContainsFunc(m.Service.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port }) {
			t.Errorf("webhook %s calls port %d, which the Service does not expose", wh.Name, port)
		}
		if wh.FailurePolicy == nil || *wh.FailurePolicy != admissionregistrationv1.Fail {
			t.Errorf("webhook %s: failurePolicy must be Fail (a kab pod must not start without injection)", wh.Name)
		}
		// NoneOnDryRun: a pod's first admission records its backup-name claim (DESIGN §11);
		// dry-run requests are still sent, and only check.
		if wh.SideEffects == nil || *wh.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
			t.Errorf("webhook %s: sideEffects must be NoneOnDryRun (dry-run requests are sent too; claims are not recorded for them)", wh.Name)
		}
		if wh.ReinvocationPolicy == nil || *wh.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
			t.Errorf("webhook %s: reinvocationPolicy must be IfNeeded", wh.Name)
		}
		if !excludes(wh.NamespaceSelector, metav1.NamespaceSystem) || !excludes(wh.NamespaceSelector, ns) {
			t.Errorf("webhook %s: namespaceSelector must exclude %s and %s", wh.Name, metav1.NamespaceSystem, ns)
		}
		if len(wh.MatchConditions) == 0 {
			t.Errorf("webhook %s has no matchConditions: every pod would depend on the injector", wh.Name)
		}
	}

	pod := m.Deployment.Spec.Template.Spec
	if pod.ServiceAccountName != m.ServiceAccount.Name || m.Deployment.Namespace != m.ServiceAccount.Namespace {
		t.Errorf("Deployment runs as %q; the RBAC is for ServiceAccount %s/%s", pod.ServiceAccountName, m.ServiceAccount.Namespace, m.ServiceAccount.Name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want the injector only", len(pod.Containers))
	}
	container := pod.Containers[0]
	for _, sp := range m.Service.Spec.Ports {
		if !servesTarget(container, sp.TargetPort) {
			t.Errorf("Service port %d targets %s, which the injector container does not expose", sp.Port, sp.TargetPort.String())
		}
	}
	if !selects(m.Service.Spec.Selector, m.Deployment.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the injector pods %v", m.Service.Spec.Selector, m.Deployment.Spec.Template.Labels)
	}
	sc := container.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("injector container must have a read-only root filesystem and no privilege escalation")
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("injector pod must run as non-root")
	}

	for _, subjects := range [][]rbacSubject{subjectsOf(m.RoleBinding.Subjects), subjectsOf(m.ClusterRoleBinding.Subjects)} {
		if !slices.Contains(subjects, rbacSubject{"ServiceAccount", m.ServiceAccount.Namespace, m.ServiceAccount.Name}) {
			t.Errorf("a binding does not name ServiceAccount %s/%s: %v", m.ServiceAccount.Namespace, m.ServiceAccount.Name, subjects)
		}
	}
	if m.RoleBinding.RoleRef.Name != m.Role.Name || m.ClusterRoleBinding.RoleRef.Name != m.ClusterRole.Name {
		t.Error("bindings do not refer to the manifest's Role and ClusterRole")
	}
	for _, rule := range m.ClusterRole.Rules {
		// Reading namespaces' labels (namespaces.allow/deny selectors) is the one cluster-wide
		// read; everything else is the injector's own webhook configuration.
		if slices.Equal(rule.Resources, []string{"namespaces"}) && slices.Equal(rule.Verbs, []string{"list", "watch"}) {
			continue
		}
		if !slices.Equal(rule.ResourceNames, []string{m.Webhook.Name}) {
			t.Errorf("ClusterRole rule %v is not limited to the webhook configuration %s", rule, m.Webhook.Name)
		}
	}
	m.tlsSecretName(t)
}

func excludes(sel *metav1.LabelSelector, namespace string) bool {
	if sel == nil {
		return false
	}
	for _, req := range sel.MatchExpressions {
		if req.Key == corev1.LabelMetadataName && req.Operator == metav1.LabelSelectorOpNotIn && slices.Contains(req.Values, namespace) {
			return true
		}
	}
	return false
}

func servesTarget(c corev1.Container, target intstr.IntOrString) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		if target.Type == intstr.String {
			return p.Name == target.StrVal
		}
		return p.ContainerPort == target.IntVal
	})
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

type rbacSubject struct{ Kind, Namespace, Name string }

func subjectsOf(subjects []rbacv1.Subject) []rbacSubject {
	out := make([]rbacSubject, 0, len(subjects))
	for _, s := range subjects {
		out = append(out, rbacSubject{s.Kind, s.Namespace, s.Name})
	}
	return out
}

// TestManifestAcceptedByAPIServer: the API server's validation accepts the injector's own
// workload objects, and its pod passes the Pod Security level the manifest puts on kab's
// namespace (restricted) — checked by server-side dry-run, as `kubectl apply --dry-run=server`.
func TestManifestAcceptedByAPIServer(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	m := e.manifest
	if m.Namespace.Labels["pod-security.kubernetes.io/enforce"] == "" {
		t.Errorf("namespace %s enforces no Pod Security level", m.Namespace.Name)
	}

	if _, err := e.admin.AppsV1().Deployments(m.Deployment.Namespace).Create(ctx, m.Deployment, dryRun); err != nil {
		t.Errorf("Deployment: %v", err)
	}
	if _, err := e.admin.PolicyV1().PodDisruptionBudgets(m.PodDisruptionBudget.Namespace).Create(ctx, m.PodDisruptionBudget, dryRun); err != nil {
		t.Errorf("PodDisruptionBudget: %v", err)
	}
	svc := m.Service.DeepCopy()
	svc.Name += "-dry-run" // the test's ExternalName stand-in already has the name
	if _, err := e.admin.CoreV1().Services(svc.Namespace).Create(ctx, svc, dryRun); err != nil {
		t.Errorf("Service: %v", err)
	}
	// Deployments are not checked by Pod Security enforcement, only their pods are.
	pod := &corev1.Pod{ObjectMeta: m.Deployment.Spec.Template.ObjectMeta, Spec: m.Deployment.Spec.Template.Spec}
	pod.Name = "kab-injector-dry-run"
	pod.Namespace = m.Deployment.Namespace
	if _, err := e.admin.CoreV1().Pods(pod.Namespace).Create(ctx, pod, dryRun); err != nil {
		t.Errorf("injector pod in %s: %v", pod.Namespace, err)
	}
}
