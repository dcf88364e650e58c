//go:build integration

package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/e2e/controlplane"
	"github.com/boanu/kab/injector/certfile"
	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/webhook"
	"github.com/boanu/kab/shared"
)

// The injector's directories relative to this package.
var (
	repoRoot        = filepath.Join("..", "..")
	deployBase      = filepath.Join(repoRoot, "deploy", "base")
	mutationTestdir = filepath.Join(repoRoot, "injector", "mutation", "testdata")
)

// timeouts for things the API server does asynchronously (its webhook informer).
const (
	settleTimeout = 30 * time.Second
	pollEvery     = 100 * time.Millisecond
)

// manifest is deploy/base as `kubectl kustomize` renders it: what users apply.
type manifest struct {
	Namespace           *corev1.Namespace
	ServiceAccount      *corev1.ServiceAccount
	Role                *rbacv1.Role
	RoleBinding         *rbacv1.RoleBinding
	ClusterRole         *rbacv1.ClusterRole
	ClusterRoleBinding  *rbacv1.ClusterRoleBinding
	Service             *corev1.Service
	Deployment          *appsv1.Deployment
	PodDisruptionBudget *policyv1.PodDisruptionBudget
	Webhook             *admissionregistrationv1.MutatingWebhookConfiguration
}

// loadManifest renders deploy/base with the kubectl built for the project's Kubernetes version
// and decodes every object; an object of a kind the test does not expect, or a missing one,
// fails the test (a manifest change must be looked at here too).
func loadManifest(t *testing.T) *manifest {
	t.Helper()
	kubectl := filepath.Join(os.Getenv(controlplane.K8sBinDirEnv), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl: %v (%s=%q): run `make test-integration`, which builds it", err, controlplane.K8sBinDirEnv, os.Getenv(controlplane.K8sBinDirEnv))
	}
	cmd := exec.Command(kubectl, "kustomize", deployBase)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", deployBase, err, stderr.String())
	}
	m := &manifest{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("split rendered manifest: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode rendered manifest: %v\n%s", err, doc)
		}
		switch o := obj.(type) {
		case *corev1.Namespace:
			m.Namespace = o
		case *corev1.ServiceAccount:
			m.ServiceAccount = o
		case *rbacv1.Role:
			m.Role = o
		case *rbacv1.RoleBinding:
			m.RoleBinding = o
		case *rbacv1.ClusterRole:
			m.ClusterRole = o
		case *rbacv1.ClusterRoleBinding:
			m.ClusterRoleBinding = o
		case *corev1.Service:
			m.Service = o
		case *appsv1.Deployment:
			m.Deployment = o
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			m.Webhook = o
		case *policyv1.PodDisruptionBudget:
			m.PodDisruptionBudget = o
		case *corev1.ConfigMap:
			if _, err := config.Parse([]byte(o.Data["config.yaml"])); err != nil {
				t.Errorf("the injector ConfigMap's config.yaml does not load: %v", err)
			}
		default:
			t.Logf("manifest: not used by the integration test: %T", obj)
		}
	}
	for name, present := range map[string]bool{
		"Namespace": m.Namespace != nil, "ServiceAccount": m.ServiceAccount != nil, "Role": m.Role != nil,
		"RoleBinding": m.RoleBinding != nil, "ClusterRole": m.ClusterRole != nil,
		"ClusterRoleBinding": m.ClusterRoleBinding != nil, "Service": m.Service != nil,
		"Deployment": m.Deployment != nil, "MutatingWebhookConfiguration": m.Webhook != nil,
		"PodDisruptionBudget": m.PodDisruptionBudget != nil,
	} {
		if !present {
			t.Fatalf("deploy/base renders no %s", name)
		}
	}
	return m
}

// serviceRef is where the manifest's webhook sends requests.
func (m *manifest) serviceRef(t *testing.T) *admissionregistrationv1.ServiceReference {
	t.Helper()
	if len(m.Webhook.Webhooks) == 0 {
		t.Fatal("the webhook configuration has no webhooks")
	}
	ref := m.Webhook.Webhooks[0].ClientConfig.Service
	if ref == nil {
		t.Fatal("the webhook is not registered through a Service")
	}
	return ref
}

// tlsSecretName is the Secret the injector's Role lets it read: the name self-managed TLS
// must use, so the test takes it from the RBAC rather than repeating it.
func (m *manifest) tlsSecretName(t *testing.T) string {
	t.Helper()
	for _, rule := range m.Role.Rules {
		for _, res := range rule.Resources {
			if res == "secrets" && len(rule.ResourceNames) == 1 {
				return rule.ResourceNames[0]
			}
		}
	}
	t.Fatal("the injector's Role names no Secret")
	return ""
}

// env is one control plane with kab's namespace, RBAC and Service set up from the manifest.
type env struct {
	cp       *controlplane.ControlPlane
	admin    kubernetes.Interface
	manifest *manifest
	// webhookCA signs the serving certificates of file-based injectors.
	webhookCA *controlplane.CA
}

func setup(t *testing.T) *env {
	t.Helper()
	m := loadManifest(t)
	cp := controlplane.Start(t, controlplane.Options{})
	e := &env{cp: cp, admin: cp.Client(t), manifest: m}
	ctx := context.Background()

	objects := []struct {
		what   string
		create func() error
	}{
		{"namespace", func() error {
			_, err := e.admin.CoreV1().Namespaces().Create(ctx, m.Namespace, metav1.CreateOptions{})
			return err
		}},
		{"serviceaccount", func() error {
			_, err := e.admin.CoreV1().ServiceAccounts(m.ServiceAccount.Namespace).Create(ctx, m.ServiceAccount, metav1.CreateOptions{})
			return err
		}},
		{"role", func() error {
			_, err := e.admin.RbacV1().Roles(m.Role.Namespace).Create(ctx, m.Role, metav1.CreateOptions{})
			return err
		}},
		{"rolebinding", func() error {
			_, err := e.admin.RbacV1().RoleBindings(m.RoleBinding.Namespace).Create(ctx, m.RoleBinding, metav1.CreateOptions{})
			return err
		}},
		{"clusterrole", func() error {
			_, err := e.admin.RbacV1().ClusterRoles().Create(ctx, m.ClusterRole, metav1.CreateOptions{})
			return err
		}},
		{"clusterrolebinding", func() error {
			_, err := e.admin.RbacV1().ClusterRoleBindings().Create(ctx, m.ClusterRoleBinding, metav1.CreateOptions{})
			return err
		}},
		{"service", func() error { return e.createInjectorService(ctx) }},
	}
	for _, o := range objects {
		if err := o.create(); err != nil {
			t.Fatalf("create %s from deploy/base: %v", o.what, err)
		}
	}
	controlplane.WaitForBinding(t, e.admin, m.RoleBinding.Namespace, m.RoleBinding.Subjects, m.Role.Rules)
	controlplane.WaitForBinding(t, e.admin, "", m.ClusterRoleBinding.Subjects, m.ClusterRole.Rules)

	ca, err := controlplane.NewCA("kab-test-webhook-ca")
	if err != nil {
		t.Fatal(err)
	}
	e.webhookCA = ca
	return e
}

// createInjectorService stands in for the manifest's Service. There is no kube-proxy or pod
// network here, so the API server cannot reach a ClusterIP; an ExternalName Service of the same
// name makes it dial localhost instead, while it still verifies the injector's certificate for
// <service>.<namespace>.svc exactly as in a cluster. The port it dials is the webhook's service
// port, which the tests point at their injector.
func (e *env) createInjectorService(ctx context.Context) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: e.manifest.Service.Name, Namespace: e.manifest.Service.Namespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	_, err := e.admin.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

// newNamespace creates a namespace for a test's pods, with extra labels (Pod Security).
func (e *env) newNamespace(t *testing.T, name string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := e.admin.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// injector is a kab injector served from the test process: the real handler and TLS server.
type injector struct {
	port     int
	reg      *prometheus.Registry
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// startInjector serves the injector with cfg on port (0: any free port) with the certificate
// from getCertificate, until stopped or the test ends.
func startInjector(t *testing.T, cfg *config.Config, getCertificate webhook.GetCertificateFunc, port int) *injector {
	t.Helper()
	ln, err := listenRetry("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatalf("injector listen: %v", err)
	}
	log := testLogger(t).With("injector_port", ln.Addr().(*net.TCPAddr).Port)
	reg := webhook.NewRegistry()
	handler, err := webhook.NewHandler(cfg, log, reg)
	if err != nil {
		ln.Close()
		t.Fatalf("injector handler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inj := &injector{port: ln.Addr().(*net.TCPAddr).Port, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { inj.done <- webhook.Serve(ctx, ln, handler, getCertificate, log) }()
	t.Cleanup(inj.stop)
	return inj
}

// listenRetry: a port just released by a stopped injector may take a moment to be free again.
func listenRetry(addr string) (net.Listener, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(pollEvery)
	}
}

// stop shuts the injector down and waits until its listener is closed. Safe to call twice.
func (i *injector) stop() {
	i.stopOnce.Do(func() {
		i.cancel()
		if err := <-i.done; err != nil {
			// Serve returns nil after a clean shutdown; anything else is a bug in the server.
			panic(fmt.Sprintf("injector on port %d stopped with %v", i.port, err))
		}
	})
}

// admissions is the injector's kab_injector_admissions_total, summed over results.
func (i *injector) admissions(t *testing.T) float64 {
	t.Helper()
	families, err := i.reg.Gather()
	if err != nil {
		t.Fatalf("gather injector metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "kab_injector_admissions_total" {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return sum
	}
	t.Fatal("the injector exposes no kab_injector_admissions_total")
	return 0
}

// servingCertificate writes a certificate for the manifest's Service, signed by the test's
// webhook CA, to files, and serves it through the injector's file-based reloader.
func (e *env) servingCertificate(t *testing.T) webhook.GetCertificateFunc {
	t.Helper()
	ref := e.manifest.serviceRef(t)
	svc := ref.Name + "." + ref.Namespace + ".svc"
	kp, err := e.webhookCA.IssueServing(svc, []string{svc, svc + ".cluster.local"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, kp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, kp.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := certfile.New(certFile, keyFile, testLogger(t))
	if err != nil {
		t.Fatalf("certfile: %v", err)
	}
	return r.GetCertificate
}

// registerWebhook creates (or replaces) the manifest's webhook configuration, changed only to
// send requests to port and to trust caBundle (nil: leave it for self-managed TLS to fill).
func (e *env) registerWebhook(t *testing.T, port int, caBundle []byte) {
	t.Helper()
	ctx := context.Background()
	api := e.admin.AdmissionregistrationV1().MutatingWebhookConfigurations()
	err := retryOnConflict(func() error {
		want := e.manifest.Webhook.DeepCopy()
		for i := range want.Webhooks {
			ref := want.Webhooks[i].ClientConfig.Service
			if ref == nil {
				t.Fatalf("webhook %s is not registered through a Service", want.Webhooks[i].Name)
			}
			p := int32(port)
			ref.Port = &p
			want.Webhooks[i].ClientConfig.CABundle = caBundle
		}
		current, err := api.Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = api.Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		if caBundle == nil {
			for i := range want.Webhooks {
				if i < len(current.Webhooks) {
					want.Webhooks[i].ClientConfig.CABundle = current.Webhooks[i].ClientConfig.CABundle
				}
			}
		}
		want.ResourceVersion = current.ResourceVersion
		_, err = api.Update(ctx, want, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("register webhook: %v", err)
	}
}

func retryOnConflict(f func() error) error {
	for range 10 {
		err := f()
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return errors.New("conflict 10 times in a row")
}

// probeNamespace holds the dry-run pods that check which injector the API server is calling.
const probeNamespace = "kab-probe"

// waitUntilCalled waits until the API server's webhook calls reach inj. Registration is
// eventually consistent (the API server learns of webhook configurations through an informer):
// without this a pod created right after registering could be admitted without the webhook.
// The probe is a server-side dry-run, so nothing is stored.
func (e *env) waitUntilCalled(t *testing.T, inj *injector) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.admin.CoreV1().Namespaces().Get(ctx, probeNamespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		e.newNamespace(t, probeNamespace, nil)
	}
	probe := kabPod("probe")
	before := inj.admissions(t)
	deadline := time.Now().Add(settleTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		_, lastErr = e.admin.CoreV1().Pods(probeNamespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if inj.admissions(t) > before {
			return
		}
		time.Sleep(pollEvery)
	}
	t.Fatalf("the API server did not call the injector on port %d within %s (last probe error: %v)", inj.port, settleTimeout, lastErr)
}

// kabPod is a minimal pod kab injects: one container, a backup and a restore script.
func kabPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				shared.Prefix + shared.KeyBackupExec:  "cp -a /data/. /kab-backup/",
				shared.Prefix + shared.KeyRestoreExec: "cp -a /kab-backup/. /data/",
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox:1.37"}}},
	}
}

// plainPod has nothing for kab.
func plainPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox:1.37"}}},
	}
}

// assertInjected checks the marks every injected pod carries (DESIGN §4 step 5) and the agent.
func assertInjected(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if got := pod.Annotations[shared.Prefix+shared.KeyStatus]; got != shared.StatusInjected {
		t.Errorf("pod %s: status annotation = %q, want injected", pod.Name, got)
	}
	if got := pod.Labels[shared.InjectedLabel]; got != "true" {
		t.Errorf("pod %s: injected label = %q, want true", pod.Name, got)
	}
	var agent bool
	for _, c := range pod.Spec.InitContainers {
		agent = agent || c.Name == "kab-agent"
	}
	if !agent {
		t.Errorf("pod %s has no kab-agent init container", pod.Name)
	}
}

// loadConfig reads an injector config file as the injector does.
func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("injector config %s: %v", path, err)
	}
	return cfg
}

// parseConfig reads injector config YAML given inline.
func parseConfig(t *testing.T, data string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatalf("injector config: %v\n%s", err, data)
	}
	return cfg
}

// servedCertificate connects to an injector as the API server does (trusting caBundle, naming
// the Service) and returns the certificate it presents.
func servedCertificate(t *testing.T, port int, caBundle []byte, serverName string) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("caBundle holds no certificate: %q", caBundle)
	}
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS handshake with injector on port %d as %s: %v", port, serverName, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// toYAML is for failure messages.
func toYAML(v any) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(cannot marshal: %v)", err)
	}
	return string(out)
}

// freePort reserves nothing: it finds a port free now, for an injector the test starts later.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
