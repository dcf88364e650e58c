//go:build integration

package apiserver

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/tenancy"
	"github.com/boanu/kab/injector/webhook"
	"github.com/boanu/kab/shared"
)

// startGuardedInjector is startInjector with the tenancy gate the injector binary adds in a
// cluster, talking to the API server as the injector's service account (so deploy/base's RBAC
// is what is tested).
func (e *env) startGuardedInjector(t *testing.T, cfg *config.Config, getCertificate webhook.GetCertificateFunc) *injector {
	t.Helper()
	sa, err := kubernetes.NewForConfig(e.cp.ServiceAccountConfig(e.manifest.ServiceAccount.Namespace, e.manifest.ServiceAccount.Name))
	if err != nil {
		t.Fatal(err)
	}
	labels := func(ctx context.Context, name string) (map[string]string, error) {
		ns, err := e.admin.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return ns.Labels, nil
	}
	gate := tenancy.New(cfg, tenancy.Claims{Client: sa, Namespace: e.manifest.Namespace.Name}, labels)
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
	return inj
}

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
