// Package controlplane starts a real etcd and kube-apiserver for integration tests: the
// binaries are the ones e2e/lib/build-k8s.sh and e2e/lib/build-etcd.sh build from Go modules,
// found through KAB_K8S_BIN_DIR and KAB_ETCD_BIN_DIR (set by `make test-integration`).
//
// There is no scheduler or kubelet: pods are admitted and stored, never scheduled — which is all
// an admission webhook test needs. A kube-controller-manager runs only when a test asks for one
// (StartControllerManager), e.g. so that ReplicaSets re-create the pods a test evicts.
package controlplane

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Environment variables naming the directories that hold the binaries.
const (
	K8sBinDirEnv  = "KAB_K8S_BIN_DIR"
	EtcdBinDirEnv = "KAB_ETCD_BIN_DIR"
)

const (
	// startAttempts covers the window between picking a free port and the child binding it.
	startAttempts = 3
	readyTimeout  = 90 * time.Second
)

// ControlPlane is a running etcd + kube-apiserver pair owned by one test.
type ControlPlane struct {
	// Admin is authenticated with a client certificate in group system:masters.
	Admin *rest.Config
	// URL is the API server's https address.
	URL string
	// CA signed the API server's serving certificate and the admin's client certificate.
	CA *CA
	// Dir holds certificates, logs and etcd data; removed when the test ends (or, after a
	// test binary was killed, by the next Start).
	Dir string

	etcd, apiserver   *process
	controllerManager *process // nil unless StartControllerManager was called
	etcdURL           string
}

// Options adjust the API server.
type Options struct {
	// ExtraAPIServerFlags are appended to the API server's command line (a later flag wins).
	ExtraAPIServerFlags []string
}

// Start starts etcd and kube-apiserver, waits until the API server's /readyz answers ok and its
// system namespaces exist, and registers cleanup with t: both process groups are stopped and the
// directory removed when the test ends, whether it passed or not. Missing binaries fail the test.
func Start(t testing.TB, opts Options) *ControlPlane {
	t.Helper()
	etcdBin := binary(t, EtcdBinDirEnv, "etcd")
	apiserverBin := binary(t, K8sBinDirEnv, "kube-apiserver")

	dir, err := newDir()
	if err != nil {
		t.Fatalf("control plane directory: %v", err)
	}
	cp := &ControlPlane{Dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			cp.logTails(t)
		}
		cp.stop()
		// Only after the processes are gone: etcd writes into it until it exits.
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove control plane directory: %v", err)
		}
	})

	if err := cp.writeCerts(); err != nil {
		t.Fatalf("control plane certificates: %v", err)
	}

	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = cp.startEtcd(etcdBin); err == nil {
			break
		}
		t.Logf("etcd start attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = cp.startAPIServer(apiserverBin, opts.ExtraAPIServerFlags); err == nil {
			break
		}
		t.Logf("kube-apiserver start attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatalf("start kube-apiserver: %v", err)
	}
	return cp
}

// dirPrefix names control plane directories in the temp dir, so stale ones can be found.
const dirPrefix = "kab-controlplane-"

// newDir makes the directory for one control plane and first removes those left by test
// processes that are gone: a test binary killed by `go test -timeout` runs no cleanups (its
// children die with it through the parent-death signal, but its files stay).
func newDir() (string, error) {
	stale, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range stale {
		data, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // being created right now, or not ours to judge
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.RemoveAll(d)
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// Client returns a typed client with the admin's rights.
func (cp *ControlPlane) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cp.Admin)
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	return c
}

// Impersonating returns a config that authenticates as admin and acts as user (with groups):
// every request is authorized as that user, the way the API server would treat the user itself.
func (cp *ControlPlane) Impersonating(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(cp.Admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// ServiceAccountConfig returns a config acting as the service account, with the groups the API
// server gives a service account token, so RBAC bound to the account or its groups applies.
func (cp *ControlPlane) ServiceAccountConfig(namespace, name string) *rest.Config {
	user, groups := serviceAccountUser(namespace, name)
	return cp.Impersonating(user, groups...)
}

func (cp *ControlPlane) path(name string) string { return filepath.Join(cp.Dir, name) }

func (cp *ControlPlane) writeCerts() error {
	ca, err := NewCA("kab-test-cluster-ca")
	if err != nil {
		return err
	}
	cp.CA = ca
	serving, err := ca.IssueServing("kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)})
	if err != nil {
		return err
	}
	admin, err := ca.IssueClient("kab-test-admin", "system:masters")
	if err != nil {
		return err
	}
	saPriv, saPub, err := newServiceAccountKey()
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt":        ca.CertPEM,
		"apiserver.crt": serving.CertPEM,
		"apiserver.key": serving.KeyPEM,
		"sa.key":        saPriv,
		"sa.pub":        saPub,
	}
	for name, data := range files {
		if err := os.WriteFile(cp.path(name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	cp.Admin = &rest.Config{
		TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM, CertData: admin.CertPEM, KeyData: admin.KeyPEM},
		// Tests create pods one after another; client-side throttling would only slow them down.
		QPS:   -1,
		Burst: -1,
	}
	return nil
}

func (cp *ControlPlane) startEtcd(bin string) error {
	clientPort, err := freePort()
	if err != nil {
		return err
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	clientURL := "http://127.0.0.1:" + itoa(clientPort)
	peerURL := "http://127.0.0.1:" + itoa(peerPort)
	dataDir := cp.path("etcd-data")
	if err := os.RemoveAll(dataDir); err != nil {
		return fmt.Errorf("clear etcd data dir: %w", err)
	}
	p, err := startProcess("etcd", cp.path("etcd.log"), bin,
		"--name=kab-test",
		"--data-dir="+dataDir,
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kab-test="+peerURL,
		// Test data is thrown away: fsync only costs time on a shared 2-core machine.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	err = waitFor(p, readyTimeout, func() error { return httpOK(http.DefaultClient, clientURL+"/health") })
	if err != nil {
		p.stop()
		return err
	}
	cp.etcd = p
	cp.etcdURL = clientURL
	return nil
}

func (cp *ControlPlane) startAPIServer(bin string, extra []string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cp.URL = "https://127.0.0.1:" + itoa(port)
	args := []string{
		bin,
		"--etcd-servers=" + cp.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + itoa(port),
		// The default reconciler refuses a loopback advertise address, and there is no
		// kubernetes Service traffic to route anyway.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + cp.path("apiserver.crt"),
		"--tls-private-key-file=" + cp.path("apiserver.key"),
		"--client-ca-file=" + cp.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.path("sa.pub"),
		"--service-account-signing-key-file=" + cp.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		// RBAC, not the default AlwaysAllow: the injector's own rights are under test.
		"--authorization-mode=RBAC",
		// Mutating webhooks, their matchConditions (GA, on by default since 1.30) and Pod
		// Security admission are all in the default plugin set; named here so the test's
		// reliance on them is visible.
		"--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook,PodSecurity",
		// Without a controller-manager nobody creates the "default" ServiceAccount, which the
		// ServiceAccount plugin would insist on for every pod; it would also add a token volume
		// with a random name to every container, which is not kab's doing.
		"--disable-admission-plugins=ServiceAccount",
		// Real clusters (kind, kubeadm) allow privileged pods; validation must not reject a
		// privileged app before kab's own rules about it are seen.
		"--allow-privileged=true",
		"--profiling=false",
	}
	args = append(args, extra...)
	p, err := startProcess("kube-apiserver", cp.path("kube-apiserver.log"), args...)
	if err != nil {
		return err
	}
	cp.Admin.Host = cp.URL
	httpClient, err := rest.HTTPClientFor(cp.Admin)
	if err != nil {
		p.stop()
		return fmt.Errorf("admin http client: %w", err)
	}
	err = waitFor(p, readyTimeout, func() error { return httpOK(httpClient, cp.URL+"/readyz") })
	if err == nil {
		err = waitFor(p, readyTimeout, func() error { return systemNamespacesExist(cp.Admin) })
	}
	if err != nil {
		p.stop()
		return err
	}
	cp.apiserver = p
	return nil
}

// systemNamespacesExist: /readyz does not wait for the controller that creates kube-system and
// default, and tests use both.
func systemNamespacesExist(cfg *rest.Config) error {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, ns := range []string{metav1.NamespaceSystem, metav1.NamespaceDefault} {
		if _, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("namespace %s: %w", ns, errNotReady)
			}
			return err
		}
	}
	return nil
}

func httpOK(c *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %w", url, resp.Status, errNotReady)
	}
	return nil
}

func (cp *ControlPlane) stop() {
	// Its clients first: a controller-manager or API server whose server went away logs
	// errors and retries.
	if cp.controllerManager != nil {
		cp.controllerManager.stop()
	}
	if cp.apiserver != nil {
		cp.apiserver.stop()
	}
	if cp.etcd != nil {
		cp.etcd.stop()
	}
}

func (cp *ControlPlane) logTails(t testing.TB) {
	for _, p := range []*process{cp.etcd, cp.apiserver, cp.controllerManager} {
		if p != nil {
			t.Logf("%s log (last lines):\n%s", p.name, indent(p.logTail(30)))
		}
	}
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
