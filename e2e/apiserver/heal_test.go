//go:build integration

package apiserver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/boanu/kab/injector/heal"
)

// applyHealRBAC creates deploy/components/heal/rbac.yaml as written.
func (e *env) applyHealRBAC(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "components", "heal", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(data, []byte("\n---\n"))
	for _, doc := range docs {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode heal RBAC: %v", err)
		}
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			_, err = e.admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			_, err = e.admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			_, err = e.admin.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = e.admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("heal RBAC holds a %T; the test applies RBAC only", obj)
		}
		if err != nil {
			t.Fatalf("create heal RBAC: %v", err)
		}
	}
}

// healer is one injector replica's heal, as the injector's service account.
type healer struct {
	reg *prometheus.Registry
}

func (e *env) startHealer(t *testing.T, identity string) *healer {
	t.Helper()
	sa, err := kubernetes.NewForConfig(e.cp.ServiceAccountConfig(e.manifest.ServiceAccount.Namespace, e.manifest.ServiceAccount.Name))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: sa.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kab-injector"})
	h := &healer{reg: prometheus.NewRegistry()}
	c, err := heal.NewController(sa, []string{"kube-system", e.manifest.Namespace.Name}, recorder, h.reg, testLogger(t).With("healer", identity))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.RunWithLeaderElection(ctx, sa, heal.Options{Namespace: e.manifest.Namespace.Name, Identity: identity, ProbeNamespace: "default", Workers: 2})
	}()
	t.Cleanup(func() { cancel(); <-done; broadcaster.Shutdown() })
	return h
}

func (h *healer) count(t *testing.T, action string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "kab_injector_healed_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == action {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// ownedKabPod is what a ReplicaSet would create: kab annotations, a controller reference.
func ownedKabPod(name string, rs *appsv1.ReplicaSet) *corev1.Pod {
	pod := kabPod(name)
	pod.Labels = map[string]string{"app": rs.Name}
	yes := true
	pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}
	return pod
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		done, err := ok()
		if done {
			return
		}
		lastErr = err
		time.Sleep(pollEvery)
	}
	t.Fatalf("%s: not within %s (last error: %v)", what, timeout, lastErr)
}

func hasEvent(ctx context.Context, client kubernetes.Interface, ns, pod, reason string) (bool, error) {
	events, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod + ",reason=" + reason})
	if err != nil {
		return false, err
	}
	return len(events.Items) > 0, nil
}

// TestHeal: pods created before the webhook was registered (the one-apply rebuild) are healed
// once the webhook answers: the owned pod is evicted (by one of two replicas), the one a
// PodDisruptionBudget protects is retried, the bare one gets an Event and stays.
// There is no kube-controller-manager here: the ReplicaSet does not re-create the evicted pod
// (the test creates the replacement as it would), and the PDB's status is written as the
// disruption controller would.
func TestHeal(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.applyHealRBAC(t)
	ns := e.newNamespace(t, "apps", nil)

	// Before kab's webhook exists: these start un-injected.
	replicas := int32(1)
	rs := func(name string) *appsv1.ReplicaSet {
		created, err := e.admin.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}, Spec: kabPod("x").Spec},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return created
	}
	web, db := rs("web"), rs("db")
	zero := intstr.FromInt32(0)
	pdb, err := e.admin.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &zero, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the disruption controller would report for one healthy pod and maxUnavailable 0.
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: 0, CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
	if _, err := e.admin.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, pod := range []*corev1.Pod{ownedKabPod("web-1", web), ownedKabPod("db-1", db), kabPod("bare")} {
		created, err := e.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The Eviction API ignores budgets for pending pods; with no kubelet here, the
		// status a kubelet would report is written by hand.
		// Ready too: a budget does not protect an unhealthy pod (unhealthyPodEvictionPolicy).
		created.Status.Phase = corev1.PodRunning
		created.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		if _, err := e.admin.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Two replicas campaign before the webhook answers: neither may evict yet.
	first, second := e.startHealer(t, "injector-1"), e.startHealer(t, "injector-2")
	time.Sleep(3 * time.Second)
	if _, err := e.admin.CoreV1().Pods(ns).Get(ctx, "web-1", metav1.GetOptions{}); err != nil {
		t.Fatalf("web-1 was evicted before kab's webhook answered: %v", err)
	}

	inj := startInjector(t, parseConfig(t, testConfig), e.servingCertificate(t), 0)
	e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)

	waitFor(t, "web-1 evicted", settleTimeout, func() (bool, error) {
		_, err := e.admin.CoreV1().Pods(ns).Get(ctx, "web-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	waitFor(t, "Event "+heal.ReasonNotInjected+" on the bare pod", settleTimeout, func() (bool, error) {
		return hasEvent(ctx, e.admin, ns, "bare", heal.ReasonNotInjected)
	})
	waitFor(t, "db-1's eviction blocked twice (retried)", settleTimeout, func() (bool, error) {
		return first.count(t, heal.ActionBlocked)+second.count(t, heal.ActionBlocked) >= 2, nil
	})
	if ok, err := hasEvent(ctx, e.admin, ns, "db-1", heal.ReasonBlocked); !ok {
		t.Errorf("no %s Event on db-1 (%v)", heal.ReasonBlocked, err)
	}
	for _, name := range []string{"bare", "db-1"} {
		if _, err := e.admin.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("%s is gone: %v; heal must never delete a bare pod or break a budget", name, err)
		}
	}
	if got := first.count(t, heal.ActionEvicted) + second.count(t, heal.ActionEvicted); got != 1 {
		t.Errorf("evictions counted by both replicas: %v, want 1", got)
	}
	if got := first.count(t, heal.ActionEvent) + second.count(t, heal.ActionEvent); got != 1 {
		t.Errorf("bare-pod Events counted by both replicas: %v, want 1", got)
	}

	// The replacement a ReplicaSet would create now goes through the webhook.
	replacement, err := e.admin.CoreV1().Pods(ns).Create(ctx, ownedKabPod("web-2", web), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertInjected(t, replacement)
}
