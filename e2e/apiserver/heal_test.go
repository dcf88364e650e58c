//go:build integration

package apiserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/boanu/kab/injector/heal"
	"github.com/boanu/kab/shared"
)

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

// createKabDeployment creates a one-replica Deployment of kabPod, labelled app=name; the real
// deployment and replicaset controllers create its pods.
func (e *env) createKabDeployment(t *testing.T, ns, name string) {
	t.Helper()
	replicas := int32(1)
	template := kabPod("")
	template.Labels = map[string]string{"app": name}
	_, err := e.admin.AppsV1().Deployments(ns).Create(context.Background(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: template.Labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: template.ObjectMeta, Spec: template.Spec},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Deployment %s: %v", name, err)
	}
}

// appPod waits for the one live pod labelled app=name other than the pod with UID not (""
// for any), as the ReplicaSet controller creates it, and returns it.
func (e *env) appPod(t *testing.T, ns, name string, not types.UID) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	waitFor(t, "a pod of Deployment "+name+" created by its ReplicaSet", settleTimeout, func() (bool, error) {
		pods, err := e.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, err
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.UID != not && p.DeletionTimestamp == nil {
				found = p
				return true, nil
			}
		}
		return false, fmt.Errorf("%d pods, none new", len(pods.Items))
	})
	owner := metav1.GetControllerOf(found)
	if owner == nil || owner.Kind != "ReplicaSet" {
		t.Fatalf("pod %s is not controlled by a ReplicaSet: %v", found.Name, found.OwnerReferences)
	}
	return found
}

// markRunningReady writes the status a kubelet would report for a started, ready pod. There is
// no kubelet here; without it the pod stays Pending, and the Eviction API lets a pending or
// unready pod go whatever its budget says (unhealthyPodEvictionPolicy).
func (e *env) markRunningReady(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := e.admin.CoreV1().Pods(pod.Namespace).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("write Running/Ready status of pod %s: %v", pod.Name, err)
	}
}

// waitForBlockingBudget waits until the disruption controller has observed the budget and
// counted the one healthy pod it protects, with no disruption allowed.
func (e *env) waitForBlockingBudget(t *testing.T, ns, name string) {
	t.Helper()
	waitFor(t, "PodDisruptionBudget "+name+" computed by the disruption controller", settleTimeout, func() (bool, error) {
		pdb, err := e.admin.PolicyV1().PodDisruptionBudgets(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := pdb.Status
		return st.ObservedGeneration == pdb.Generation && st.CurrentHealthy == 1 && st.DisruptionsAllowed == 0,
			fmt.Errorf("status %+v at generation %d", st, pdb.Generation)
	})
}

// podGone reports whether the pod with this name and UID no longer exists.
func (e *env) podGone(ns string, pod *corev1.Pod) (bool, error) {
	got, err := e.admin.CoreV1().Pods(ns).Get(context.Background(), pod.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return got.UID != pod.UID, nil
}

// TestHeal: the one-apply rebuild, against a real kube-controller-manager. Deployments created
// before kab's webhook was registered have un-injected pods; once the webhook answers, heal
// (two replicas, one Lease) evicts the pod, and the replacement its ReplicaSet creates is
// injected. A PodDisruptionBudget with maxUnavailable 0, computed by the disruption controller,
// blocks the eviction, which is retried with backoff until the budget allows it. A bare pod gets
// an Event and stays.
func TestHeal(t *testing.T) {
	e := setup(t)
	e.cp.StartControllerManager(t, "replicaset-controller", "deployment-controller", "disruption-controller")
	ctx := context.Background()
	// The injector starts heal only when its own rights check passes: it must fail without
	// deploy/components/heal and pass with exactly it (the Lease is granted by name).
	sa, err := kubernetes.NewForConfig(e.cp.ServiceAccountConfig(e.manifest.ServiceAccount.Namespace, e.manifest.ServiceAccount.Name))
	if err != nil {
		t.Fatal(err)
	}
	if missing, err := heal.MissingRights(ctx, sa, e.manifest.Namespace.Name, "default"); err != nil || len(missing) == 0 {
		t.Fatalf("without heal's RBAC the rights check says missing %q, err %v; want rights missing", missing, err)
	}
	e.applyComponentRBAC(t, "heal", namespacedToo)
	if missing, err := heal.MissingRights(ctx, sa, e.manifest.Namespace.Name, "default"); err != nil || len(missing) > 0 {
		t.Fatalf("with deploy/components/heal the rights check says missing %q, err %v; heal would never start", missing, err)
	}
	ns := e.newNamespace(t, "apps", nil)

	// Before kab's webhook exists: all of these start un-injected.
	e.createKabDeployment(t, ns, "web")
	e.createKabDeployment(t, ns, "db")
	zero := intstr.FromInt32(0)
	_, err = e.admin.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &zero, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := e.admin.CoreV1().Pods(ns).Create(ctx, kabPod("bare"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	web, db := e.appPod(t, ns, "web", ""), e.appPod(t, ns, "db", "")
	for _, pod := range []*corev1.Pod{web, db, bare} {
		if _, injected := pod.Annotations[shared.Prefix+shared.KeyStatus]; injected {
			t.Fatalf("pod %s was injected before kab's webhook was registered", pod.Name)
		}
		e.markRunningReady(t, pod)
	}
	e.waitForBlockingBudget(t, ns, "db")

	// Two replicas campaign before the webhook answers: neither may evict yet.
	first, second := e.startHealer(t, "injector-1"), e.startHealer(t, "injector-2")
	time.Sleep(3 * time.Second)
	if gone, err := e.podGone(ns, web); gone || err != nil {
		t.Fatalf("web's pod %s was evicted before kab's webhook answered (err %v)", web.Name, err)
	}

	inj := startInjector(t, parseConfig(t, testConfig), e.servingCertificate(t), 0)
	e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)

	waitFor(t, "web's un-injected pod "+web.Name+" evicted", settleTimeout, func() (bool, error) { return e.podGone(ns, web) })
	// The recorder sends Events from its own goroutine, after the eviction returned.
	waitFor(t, "Event "+heal.ReasonEvicted+" on "+web.Name, settleTimeout, func() (bool, error) {
		return hasEvent(ctx, e.admin, ns, web.Name, heal.ReasonEvicted)
	})
	assertInjected(t, e.appPod(t, ns, "web", web.UID))

	waitFor(t, "Event "+heal.ReasonNotInjected+" on the bare pod", settleTimeout, func() (bool, error) {
		return hasEvent(ctx, e.admin, ns, "bare", heal.ReasonNotInjected)
	})
	// Three refusals: the first try and two retries, each after a longer backoff.
	waitFor(t, "db's eviction blocked three times (retried)", settleTimeout, func() (bool, error) {
		return first.count(t, heal.ActionBlocked)+second.count(t, heal.ActionBlocked) >= 3, nil
	})
	waitFor(t, "Event "+heal.ReasonBlocked+" on "+db.Name, settleTimeout, func() (bool, error) {
		return hasEvent(ctx, e.admin, ns, db.Name, heal.ReasonBlocked)
	})
	for _, pod := range []*corev1.Pod{bare, db} {
		if gone, err := e.podGone(ns, pod); gone || err != nil {
			t.Errorf("pod %s is gone (err %v); heal must never delete a bare pod or break a budget", pod.Name, err)
		}
	}
	if got := first.count(t, heal.ActionEvicted) + second.count(t, heal.ActionEvicted); got != 1 {
		t.Errorf("evictions counted by both replicas: %v, want 1", got)
	}
	if got := first.count(t, heal.ActionEvent) + second.count(t, heal.ActionEvent); got != 1 {
		t.Errorf("bare-pod Events counted by both replicas: %v, want 1", got)
	}

	// The budget allows one disruption now: a retry (the backoff, not a pod change, brings it
	// back) evicts db's pod and its ReplicaSet's replacement is injected.
	one := intstr.FromInt32(1)
	if err := retryOnConflict(func() error {
		pdb, err := e.admin.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pdb.Spec.MaxUnavailable = &one
		_, err = e.admin.PolicyV1().PodDisruptionBudgets(ns).Update(ctx, pdb, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Not waiting for the budget's new status: the retry may evict db's pod as soon as the
	// disruption controller allows it, and the unready replacement takes the allowance away again.
	waitFor(t, "db's pod "+db.Name+" evicted on a retry once its budget allowed it", 2*settleTimeout, func() (bool, error) { return e.podGone(ns, db) })
	assertInjected(t, e.appPod(t, ns, "db", db.UID))
	// Heal counts an eviction when the API server's answer reaches it, which can be after the
	// pod is gone and replaced.
	waitFor(t, "both evictions counted (web, then db)", settleTimeout, func() (bool, error) {
		got := first.count(t, heal.ActionEvicted) + second.count(t, heal.ActionEvicted)
		return got == 2, fmt.Errorf("evictions counted by both replicas: %v, want 2", got)
	})
	if gone, err := e.podGone(ns, bare); gone || err != nil {
		t.Errorf("bare pod is gone (err %v); heal must never delete it", err)
	}
}
