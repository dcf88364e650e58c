//go:build integration

package apiserver

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strconv"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/selftls"
)

// TestSelfManagedTLS runs injectors with self-managed TLS under the manifest's RBAC (as the
// injector's ServiceAccount, not as admin), starting with no Secret and a webhook configuration
// without caBundle, exactly as after `kubectl apply` of deploy/base:
//   - two injectors started at once create one CA and serving certificate between them and both
//     serve it;
//   - the caBundle of every webhook in the configuration becomes that CA;
//   - the API server's calls go through (pods are admitted injected, via either injector);
//   - a restarted injector reuses the Secret instead of making a new certificate;
//   - a caBundle reset by someone else is put back.
func TestSelfManagedTLS(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ref := e.manifest.serviceRef(t)
	opts := selftls.Options{
		Namespace:         ref.Namespace,
		SecretName:        e.manifest.tlsSecretName(t),
		ServiceName:       ref.Name,
		WebhookConfigName: e.manifest.Webhook.Name,
	}
	serverName := ref.Name + "." + ref.Namespace + ".svc"
	saClient := e.serviceAccountClient(t)
	cfg := parseConfig(t, testConfig)

	// Registered from the manifest as is: no caBundle. The port is that of the first injector.
	portA, portB := freePort(t), freePort(t)
	e.registerWebhook(t, portA, nil)

	// Both replicas start together: one creates the Secret, the other must end up with it.
	var wg sync.WaitGroup
	managers := make([]*selftls.Manager, 2)
	errs := make([]error, 2)
	startLine := make(chan struct{})
	for i := range managers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startLine
			managers[i], errs[i] = startSelfTLS(t, saClient, opts)
		}()
	}
	close(startLine)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("injector %d: self-managed TLS did not start as the injector's ServiceAccount: %v", i, err)
		}
	}
	injA := startInjector(t, cfg, managers[0].GetCertificate, portA)
	injB := startInjector(t, cfg, managers[1].GetCertificate, portB)

	secret, err := e.admin.CoreV1().Secrets(opts.Namespace).Get(ctx, opts.SecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no Secret %s/%s after the injectors started: %v", opts.Namespace, opts.SecretName, err)
	}
	caBundle := secret.Data["ca.crt"]
	if len(caBundle) == 0 || len(secret.Data["ca.key"]) == 0 || len(secret.Data[corev1.TLSCertKey]) == 0 {
		t.Fatalf("Secret lacks CA or serving certificate; keys: %v", keys(secret.Data))
	}
	whc, err := e.admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, opts.WebhookConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, wh := range whc.Webhooks {
		if !bytes.Equal(wh.ClientConfig.CABundle, caBundle) {
			t.Errorf("webhook %s caBundle is not the Secret's CA", wh.Name)
		}
	}

	// Both serve the Secret's certificate, and it verifies for the Service name against the CA.
	want := secretCertificate(t, secret)
	for name, port := range map[string]int{"first": portA, "second": portB} {
		if got := servedCertificate(t, port, caBundle, serverName); !got.Equal(want) {
			t.Errorf("%s injector serves certificate %x, the Secret holds %x", name, got.SerialNumber, want.SerialNumber)
		}
	}

	// The API server trusts it: admissions go through either injector.
	ns := e.newNamespace(t, "apps", nil)
	e.waitUntilCalled(t, injA)
	e.createInjected(t, ns, "via-first")
	e.registerWebhook(t, portB, nil)
	e.waitUntilCalled(t, injB)
	e.createInjected(t, ns, "via-second")

	// A restart reuses the certificate: the Secret is not rewritten and the new process serves
	// what the old ones did.
	injA.stop()
	injB.stop()
	// (Checking often here, so the caBundle repair below shows within the test's patience.)
	restartOpts := opts
	restartOpts.CheckInterval = 200 * time.Millisecond
	restarted, err := startSelfTLS(t, saClient, restartOpts)
	if err != nil {
		t.Fatalf("restarted injector: %v", err)
	}
	injC := startInjector(t, cfg, restarted.GetCertificate, portB)
	after, err := e.admin.CoreV1().Secrets(opts.Namespace).Get(ctx, opts.SecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != secret.ResourceVersion {
		t.Errorf("restart rewrote the Secret (resourceVersion %s → %s)", secret.ResourceVersion, after.ResourceVersion)
	}
	if got := servedCertificate(t, portB, caBundle, serverName); !got.Equal(want) {
		t.Errorf("restarted injector serves certificate %x, want the reused %x", got.SerialNumber, want.SerialNumber)
	}
	e.waitUntilCalled(t, injC)
	e.createInjected(t, ns, "after-restart")

	// Someone replaces the configuration with the manifest's caBundle-less one (kubectl replace,
	// a Helm upgrade): kab pods would be rejected until the injector puts its CA back.
	e.registerWebhook(t, portB, []byte{})
	deadline := time.Now().Add(settleTimeout)
	for {
		whc, err := e.admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, opts.WebhookConfigName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(whc.Webhooks[0].ClientConfig.CABundle, caBundle) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the injector did not restore the caBundle within %s", settleTimeout)
		}
		time.Sleep(pollEvery)
	}
	// The probe can reach the injector through the configuration from before the blanking, if
	// the API server's webhook cache has not seen that change yet; the blank one may still
	// arrive and reject a pod once before the repaired one does. So the pod is retried.
	e.waitUntilCalled(t, injC)
	var pod *corev1.Pod
	attempt := 0
	waitFor(t, "a kab pod admitted after the caBundle was repaired", settleTimeout, func() (bool, error) {
		attempt++
		var err error
		pod, err = e.admin.CoreV1().Pods(ns).Create(ctx, kabPod("after-repair-"+strconv.Itoa(attempt)), metav1.CreateOptions{})
		return err == nil, err
	})
	assertInjected(t, pod)
}

// TestInjectorRBACIsMinimal: the manifest's RBAC gives the injector its own Secret and its own
// webhook configuration, and nothing around them. (Self-managed TLS proves the rights it needs
// are there; this proves the rest are not.)
func TestInjectorRBACIsMinimal(t *testing.T) {
	e := setup(t)
	ref := e.manifest.serviceRef(t)
	secretName := e.manifest.tlsSecretName(t)
	sa := e.serviceAccountClient(t)
	ctx := context.Background()

	checks := []struct {
		attrs authorizationv1.ResourceAttributes
		allow bool
	}{
		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "get", Resource: "secrets", Name: secretName}, true},
		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "update", Resource: "secrets", Name: secretName}, true},
		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "create", Resource: "secrets"}, true},
		{authorizationv1.ResourceAttributes{Verb: "get", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: e.manifest.Webhook.Name}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: e.manifest.Webhook.Name}, true},

		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "get", Resource: "secrets", Name: "someone-elses"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "list", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ref.Namespace, Verb: "delete", Resource: "secrets", Name: secretName}, false},
		{authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: "someone-elses"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}, false},
		// selftls reads and updates; anything wider is a right it would hold for nothing.
		{authorizationv1.ResourceAttributes{Verb: "patch", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: e.manifest.Webhook.Name}, false},
		{authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "pods"}, false},
		{authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods", Subresource: "exec"}, false},
	}
	for _, c := range checks {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &c.attrs}}
		res, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("access review %+v: %v", c.attrs, err)
		}
		if res.Status.Allowed != c.allow {
			t.Errorf("injector may %s %s/%s %q in %q: %v, want %v", c.attrs.Verb, c.attrs.Resource, c.attrs.Subresource, c.attrs.Name, c.attrs.Namespace, res.Status.Allowed, c.allow)
		}
	}

	// And a real request, not only the authorizer's opinion.
	_, err := sa.CoreV1().Secrets(ref.Namespace).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("listing Secrets as the injector: err = %v, want Forbidden", err)
	}
}

// serviceAccountClient acts as the manifest's ServiceAccount (impersonated by the admin, with
// the groups a token of that account carries), so only the manifest's RBAC applies.
func (e *env) serviceAccountClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	sa := e.manifest.ServiceAccount
	c, err := kubernetes.NewForConfig(e.cp.ServiceAccountConfig(sa.Namespace, sa.Name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startSelfTLS starts a manager that stops with the test.
func startSelfTLS(t *testing.T, client kubernetes.Interface, opts selftls.Options) (*selftls.Manager, error) {
	ctx, cancel := context.WithCancel(context.Background())
	m, err := selftls.Start(ctx, client, opts, testLogger(t))
	if err != nil {
		cancel()
		return nil, err
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-m.Done():
		case <-time.After(10 * time.Second):
			t.Error("self-managed TLS manager did not stop")
		}
	})
	return m, nil
}

func (e *env) createInjected(t *testing.T, namespace, name string) {
	t.Helper()
	pod, err := e.admin.CoreV1().Pods(namespace).Create(context.Background(), kabPod(name), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create kab pod %s: %v", name, err)
	}
	assertInjected(t, pod)
}

func secretCertificate(t *testing.T, s *corev1.Secret) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		t.Fatalf("Secret %s has no PEM certificate", s.Name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
