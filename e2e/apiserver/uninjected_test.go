//go:build integration

package apiserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/heal"
)

// startWatcher runs one injector replica's heal in watch mode (heal.evict: false) as the
// injector's service account, and returns its metrics.
func (e *env) startWatcher(t *testing.T, sa kubernetes.Interface, identity string) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	// No Event recorder: watch mode must not need one.
	c, err := heal.NewController(sa, []string{"kube-system", e.manifest.Namespace.Name}, nil, reg, testLogger(t).With("watcher", identity))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher %s: %v", identity, err)
		}
	})
	return reg
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func healedTotal(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == "kab_injector_healed_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestUninjectedWatch: heal with evict false, against a real kube-controller-manager. With
// exactly deploy/components/uninjected-watch (none of heal's rights), every replica counts the
// un-injected pods — a Deployment's and a bare one — in kab_injector_uninjected_pods, follows
// them as they go, and evicts nothing, records no Event and takes no Lease — not even when
// heal's rights are granted too.
func TestUninjectedWatch(t *testing.T) {
	e := setup(t)
	e.cp.StartControllerManager(t, "replicaset-controller", "deployment-controller")
	ctx := context.Background()
	sa, err := kubernetes.NewForConfig(e.cp.ServiceAccountConfig(e.manifest.ServiceAccount.Namespace, e.manifest.ServiceAccount.Name))
	if err != nil {
		t.Fatal(err)
	}
	if missing, err := heal.MissingWatchRights(ctx, sa); err != nil || len(missing) == 0 {
		t.Fatalf("without the watch RBAC the rights check says missing %q, err %v; want pods list/watch missing", missing, err)
	}
	e.applyComponentRBAC(t, "uninjected-watch", clusterWideOnly)
	if missing, err := heal.MissingWatchRights(ctx, sa); err != nil || len(missing) > 0 {
		t.Fatalf("with deploy/components/uninjected-watch the rights check says missing %q, err %v; the watch would never start", missing, err)
	}
	// The component grants the watch only: evicting, Events and the Lease stay heal's.
	missing, err := heal.MissingRights(ctx, sa, e.manifest.Namespace.Name, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"create pods/eviction", "create events"} {
		found := false
		for _, m := range missing {
			found = found || m == want
		}
		if !found {
			t.Errorf("with only the watch RBAC, heal's right %q is granted (missing: %q); the watch component must grant pods get/list/watch alone", want, missing)
		}
	}

	// No webhook is registered: these pods start un-injected.
	ns := e.newNamespace(t, "apps", nil)
	e.createKabDeployment(t, ns, "web")
	if _, err := e.admin.CoreV1().Pods(ns).Create(ctx, kabPod("bare"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	web := e.appPod(t, ns, "web", "")
	e.markRunningReady(t, web)

	replicas := []*prometheus.Registry{e.startWatcher(t, sa, "injector-1"), e.startWatcher(t, sa, "injector-2")}
	for i, reg := range replicas {
		waitFor(t, fmt.Sprintf("replica %d counts 2 un-injected pods", i+1), settleTimeout, func() (bool, error) {
			v, ok := gaugeValue(t, reg, "kab_injector_uninjected_pods")
			return ok && v == 2, fmt.Errorf("kab_injector_uninjected_pods %v (exported %v)", v, ok)
		})
	}
	// Heal would have evicted web's pod by now (the informer has synced and seen it); give a
	// worker a moment more before checking it is still the same pod.
	time.Sleep(2 * time.Second)
	if gone, err := e.podGone(ns, web); gone || err != nil {
		t.Errorf("web's pod %s is gone (err %v); with evict false nothing is evicted", web.Name, err)
	}
	events, err := e.admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Items {
		if ev.Source.Component == "kab-injector" || ev.ReportingController == "kab-injector" {
			t.Errorf("Event %s %q on %s: with evict false kab records none", ev.Reason, ev.Message, ev.InvolvedObject.Name)
		}
	}
	if _, err := e.admin.CoordinationV1().Leases(e.manifest.Namespace.Name).Get(ctx, heal.LeaseName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Lease %s: err %v, want not found (watch mode runs on every replica, no election)", heal.LeaseName, err)
	}
	for i, reg := range replicas {
		if got := healedTotal(t, reg); got != 0 {
			t.Errorf("replica %d: kab_injector_healed_total sums to %v, want 0", i+1, got)
		}
	}

	// The count follows the cluster: the bare pod deleted, one left.
	if err := e.admin.CoreV1().Pods(ns).Delete(ctx, "bare", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, reg := range replicas {
		waitFor(t, fmt.Sprintf("replica %d counts 1 un-injected pod after the bare one was deleted", i+1), settleTimeout, func() (bool, error) {
			v, _ := gaugeValue(t, reg, "kab_injector_uninjected_pods")
			return v == 1, fmt.Errorf("kab_injector_uninjected_pods %v", v)
		})
	}

	// Not evicting is the mode, not a lack of rights: with heal's RBAC granted as well, a
	// replica in watch mode still leaves web's pod alone.
	e.applyComponentRBAC(t, "heal", namespacedToo)
	third := e.startWatcher(t, sa, "injector-3")
	waitFor(t, "replica 3, with heal's rights too, counts 1 un-injected pod", settleTimeout, func() (bool, error) {
		v, ok := gaugeValue(t, third, "kab_injector_uninjected_pods")
		return ok && v == 1, fmt.Errorf("kab_injector_uninjected_pods %v (exported %v)", v, ok)
	})
	time.Sleep(2 * time.Second)
	if gone, err := e.podGone(ns, web); gone || err != nil {
		t.Errorf("web's pod %s is gone (err %v) with heal's rights granted; with evict false nothing is evicted", web.Name, err)
	}
}
