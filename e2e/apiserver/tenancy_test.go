//go:build integration

package apiserver

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/tenancy"
	"github.com/boanu/kab/injector/webhook"
	"github.com/boanu/kab/shared"
)

// guardedInjector is an injector with the tenancy gate, and what the tests watch of its claims.
type guardedInjector struct {
	*injector
	claims tenancy.Claims
	// claimReads counts the gate's GETs of claim ConfigMaps, as its client sent them.
	claimReads *atomic.Int64
}

// startGuardedInjector is startInjector with the tenancy gate the injector binary adds in a
// cluster — its claims from tenancy.NewClaims, as the binary's — talking to the API server
// as the injector's service account (so deploy/base's RBAC is what is tested).
func (e *env) startGuardedInjector(t *testing.T, cfg *config.Config, getCertificate webhook.GetCertificateFunc) *guardedInjector {
	t.Helper()
	saConfig := e.cp.ServiceAccountConfig(e.manifest.ServiceAccount.Namespace, e.manifest.ServiceAccount.Name)
	claimReads := &atomic.Int64{}
	saConfig.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/configmaps/"+tenancy.ClaimPrefix) {
				claimReads.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	sa, err := kubernetes.NewForConfig(saConfig)
	if err != nil {
		t.Fatal(err)
	}
	claimsCtx, stopClaims := context.WithCancel(context.Background())
	t.Cleanup(stopClaims)
	claims := tenancy.NewClaims(claimsCtx, sa, e.manifest.Namespace.Name, cfg.Layout)
	labels := func(ctx context.Context, name string) (map[string]string, error) {
		ns, err := e.admin.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return ns.Labels, nil
	}
	gate := tenancy.New(cfg, claims, labels)
	ln, err := listenRetry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	inj := &injector{port: ln.Addr().(*net.TCPAddr).Port, reg: webhook.NewRegistry(), done: make(chan error, 1)}
	handler, err := webhook.NewHandler(cfg, log, inj.reg, webhook.WithGate(gate))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inj.cancel = cancel
	go func() { inj.done <- webhook.Serve(ctx, ln, handler, getCertificate, log) }()
	t.Cleanup(inj.stop)
	e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)
	e.waitUntilCalled(t, inj)
	return &guardedInjector{injector: inj, claims: claims, claimReads: claimReads}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func namedKabPod(name, backupName string) *corev1.Pod {
	pod := kabPod(name)
	pod.Annotations[shared.Prefix+shared.KeyBackupName] = backupName
	return pod
}

// TestFlatLayoutClaims: the first namespace to use a backup-name owns it; another namespace's
// pod naming it is denied with the owner and the fix; the owner keeps using it.
func TestFlatLayoutClaims(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.startGuardedInjector(t, parseConfig(t, "agentImage: kab-agent:test\nvolume: {hostPath: {path: /var/lib/kab}}\n"), e.servingCertificate(t))
	a, b := e.newNamespace(t, "team-a", nil), e.newNamespace(t, "team-b", nil)

	first, err := e.admin.CoreV1().Pods(a).Create(ctx, namedKabPod("db", "shop-db"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("first pod naming shop-db: %v", err)
	}
	assertInjected(t, first)
	claim, err := e.admin.CoreV1().ConfigMaps(e.manifest.Namespace.Name).Get(ctx, tenancy.ClaimName("shop-db"), metav1.GetOptions{})
	if err != nil || claim.Data["namespace"] != a {
		t.Fatalf("claim of shop-db: %v %v, want a ConfigMap naming %s", claim, err, a)
	}

	_, err = e.admin.CoreV1().Pods(b).Create(ctx, namedKabPod("thief", "shop-db"), metav1.CreateOptions{})
	if err == nil {
		t.Fatal("a pod of team-b naming team-a's backup-name was admitted")
	}
	for _, want := range []string{"belongs to namespace team-a", "choose another backup-name", "delete configmap " + tenancy.ClaimName("shop-db")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %q does not say %q", err, want)
		}
	}
	if _, err := e.admin.CoreV1().Pods(a).Create(ctx, namedKabPod("db-2", "shop-db"), metav1.CreateOptions{}); err != nil {
		t.Errorf("the owner's second pod naming shop-db: %v", err)
	}
	// A dry run checks but never claims.
	if _, err := e.admin.CoreV1().Pods(b).Create(ctx, namedKabPod("dry", "dry-only"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run pod: %v", err)
	}
	if _, err := e.admin.CoreV1().ConfigMaps(e.manifest.Namespace.Name).Get(ctx, tenancy.ClaimName("dry-only"), metav1.GetOptions{}); err == nil {
		t.Error("a dry-run admission left a claim behind")
	}
}

// TestNamespacedLayoutAndNamespaceRules: the stored pod mounts <namespace>/<backup-name>, two
// namespaces may use the same backup-name, and allow/deny (names and selectors) decide who may
// use kab at all.
func TestNamespacedLayoutAndNamespaceRules(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	cfg := parseConfig(t, "agentImage: kab-agent:test\nvolume: {hostPath: {path: /var/lib/kab}}\nlayout: namespaced\n"+
		"namespaces: {allow: [team-a, 'kab=on', "+strconv.Quote(probeNamespace)+"], deny: ['tier=sandbox']}\n")
	e.startGuardedInjector(t, cfg, e.servingCertificate(t))
	a := e.newNamespace(t, "team-a", nil)
	byLabel := e.newNamespace(t, "team-c", map[string]string{"kab": "on"})
	notAllowed := e.newNamespace(t, "team-d", nil)
	denied := e.newNamespace(t, "team-e", map[string]string{"kab": "on", "tier": "sandbox"})

	for _, ns := range []string{a, byLabel} {
		pod, err := e.admin.CoreV1().Pods(ns).Create(ctx, namedKabPod("app", "shared-name"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("namespace %s, backup-name shared-name: %v", ns, err)
		}
		assertInjected(t, pod)
		want := ns + "/shared-name"
		for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
			for _, m := range c.VolumeMounts {
				if m.MountPath == shared.BackupDir && m.SubPath != want {
					t.Errorf("%s: container %s mounts subPath %q, want %q", ns, c.Name, m.SubPath, want)
				}
			}
		}
	}
	for ns, want := range map[string]string{
		notAllowed: "matches none of namespaces.allow",
		denied:     `matches "tier=sandbox" in namespaces.deny`,
	} {
		_, err := e.admin.CoreV1().Pods(ns).Create(ctx, namedKabPod("app", "x"), metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kab-injector-config") {
			t.Errorf("namespace %s: got %v, want a denial saying %q and who can allow it", ns, err, want)
		}
	}
	if _, err := e.admin.CoreV1().Pods(notAllowed).Create(ctx, plainPod("plain"), metav1.CreateOptions{}); err != nil {
		t.Errorf("a pod without kab annotations in a namespace kab may not serve: %v", err)
	}
}

// TestFlatLayoutClaimsFromTheCache: once the claims cache has synced, admissions of a claimed
// backup-name — the owner's pods and another namespace's — ask the API server nothing, and a
// claim deleted (released) by an admin is followed: another namespace may then take the name.
func TestFlatLayoutClaimsFromTheCache(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	a, b := e.newNamespace(t, "cache-a", nil), e.newNamespace(t, "cache-b", nil)
	claim := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: tenancy.ClaimName("cached-db"), Namespace: e.manifest.Namespace.Name,
			Labels: map[string]string{tenancy.ClaimLabel: "true"}},
		Data: map[string]string{"backupName": "cached-db", "namespace": a},
	}
	if _, err := e.admin.CoreV1().ConfigMaps(claim.Namespace).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inj := e.startGuardedInjector(t, parseConfig(t, "agentImage: kab-agent:test\nvolume: {hostPath: {path: /var/lib/kab}}\n"), e.servingCertificate(t))
	waitFor(t, "the claims cache to sync", 30*time.Second, func() (bool, error) { return inj.claims.Synced(), nil })

	before := inj.claimReads.Load()
	for i := range 5 {
		pod, err := e.admin.CoreV1().Pods(a).Create(ctx, namedKabPod("db-"+strconv.Itoa(i), "cached-db"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("owner's pod %d: %v", i, err)
		}
		assertInjected(t, pod)
	}
	_, err := e.admin.CoreV1().Pods(b).Create(ctx, namedKabPod("thief", "cached-db"), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "belongs to namespace "+a) {
		t.Fatalf("another namespace's pod naming cached-db: %v, want a denial naming %s", err, a)
	}
	if reads := inj.claimReads.Load() - before; reads != 0 {
		t.Errorf("6 admissions of a cached claim sent %d GETs of claim ConfigMaps to the API server, want 0", reads)
	}

	if err := e.admin.CoreV1().ConfigMaps(claim.Namespace).Delete(ctx, claim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	attempt := 0
	waitFor(t, "team b's pod to be admitted after the claim's release", 30*time.Second, func() (bool, error) {
		attempt++
		_, err := e.admin.CoreV1().Pods(b).Create(ctx, namedKabPod("heir-"+strconv.Itoa(attempt), "cached-db"), metav1.CreateOptions{})
		return err == nil, err
	})
	got, err := e.admin.CoreV1().ConfigMaps(claim.Namespace).Get(ctx, claim.Name, metav1.GetOptions{})
	if err != nil || got.Data["namespace"] != b {
		t.Fatalf("claim of cached-db after the release: %v %v, want a ConfigMap naming %s", got, err, b)
	}
}
