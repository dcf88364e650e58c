package selftls

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var testOpts = Options{
	Namespace:         "kab-system",
	SecretName:        "kab-injector-tls",
	ServiceName:       "kab-injector",
	WebhookConfigName: "kab-injector",
	// The loop must not run during these tests: each calls sync itself when it wants a round.
	CheckInterval: time.Hour,
}

var secretsResource = schema.GroupResource{Resource: "secrets"}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func webhookConfig() *admissionregistrationv1.MutatingWebhookConfiguration {
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kab-injector"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "inject.kab.boa.nu"},
			{Name: "second.kab.boa.nu", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("stale")}},
		},
	}
}

// startManager starts a manager whose loop stops with the test.
func startManager(t *testing.T, client *fake.Clientset, now func() time.Time) *Manager {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := start(ctx, client, testOpts, testLogger(t), now)
	if err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { cancel(); <-m.Done() })
	return m
}

func getSecret(t *testing.T, client *fake.Clientset) *corev1.Secret {
	t.Helper()
	s, err := client.CoreV1().Secrets(testOpts.Namespace).Get(context.Background(), testOpts.SecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get secret: %v", err)
	}
	return s
}

func servedLeaf(t *testing.T, m *Manager) *x509.Certificate {
	t.Helper()
	cert, err := m.GetCertificate(nil)
	if err != nil {
		t.Fatalf("GetCertificate: %v", err)
	}
	return cert.Leaf
}

func secretLeaf(t *testing.T, s *corev1.Secret) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		t.Fatalf("secret has no PEM in %s", corev1.TLSCertKey)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse secret certificate: %v", err)
	}
	return leaf
}

func assertCABundles(t *testing.T, client *fake.Clientset, want []byte) {
	t.Helper()
	cfg, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(context.Background(), "kab-injector", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get webhook configuration: %v", err)
	}
	for _, wh := range cfg.Webhooks {
		if !bytes.Equal(wh.ClientConfig.CABundle, want) {
			t.Errorf("webhook %s caBundle = %q, want the Secret's ca.crt", wh.Name, wh.ClientConfig.CABundle)
		}
	}
}

// A Secret made by another replica's manager, as the winner of a race would have written it.
func competitorSecret(t *testing.T, now time.Time) *corev1.Secret {
	t.Helper()
	other := &Manager{opts: testOpts.withDefaults(), now: func() time.Time { return now }}
	mat, err := other.generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := mat.secretData()
	if err != nil {
		t.Fatal(err)
	}
	s := other.newSecret(data)
	s.ResourceVersion = "winner"
	return s
}

func TestStartCreatesSecretAndPatchesEveryWebhook(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	m := startManager(t, client, time.Now)

	secret := getSecret(t, client)
	if secret.Type != corev1.SecretTypeTLS {
		t.Errorf("secret type = %s, want %s", secret.Type, corev1.SecretTypeTLS)
	}
	leaf := servedLeaf(t, m)
	if !leaf.Equal(secretLeaf(t, secret)) {
		t.Error("served certificate is not the one in the Secret")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(secret.Data[caCertKey]) {
		t.Fatal("ca.crt holds no certificate")
	}
	for _, name := range []string{"kab-injector.kab-system.svc", "kab-injector.kab-system.svc.cluster.local"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("certificate does not verify for %s against ca.crt: %v", name, err)
		}
	}
	assertCABundles(t, client, secret.Data[caCertKey])
	if !bytes.Equal(m.CABundle(), secret.Data[caCertKey]) {
		t.Error("CABundle() differs from the Secret's ca.crt")
	}
}

func TestCreateRaceUsesTheWinnersCertificate(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	winner := competitorSecret(t, time.Now())
	// The other replica's Create lands between our Get (NotFound) and our Create.
	client.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if err := client.Tracker().Add(winner); err != nil {
			t.Errorf("add winner: %v", err)
		}
		return true, nil, apierrors.NewAlreadyExists(secretsResource, testOpts.SecretName)
	})
	m := startManager(t, client, time.Now)

	if !servedLeaf(t, m).Equal(secretLeaf(t, winner)) {
		t.Error("after losing the create race the manager serves its own certificate, not the winner's")
	}
	assertCABundles(t, client, winner.Data[caCertKey])
}

func TestRenewalRaceUsesTheWinnersCertificate(t *testing.T) {
	issued := time.Now()
	stale := competitorSecret(t, issued)
	client := fake.NewClientset(webhookConfig(), stale)
	later := issued.Add(DefaultServingValidity * 3 / 4) // under a third of the lifetime left
	winner := competitorSecret(t, later)
	var updates atomic.Int32
	client.PrependReactor("update", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		updates.Add(1)
		if err := client.Tracker().Update(secretsResource.WithVersion("v1"), winner, testOpts.Namespace); err != nil {
			t.Errorf("update to winner: %v", err)
		}
		return true, nil, apierrors.NewConflict(secretsResource, testOpts.SecretName, nil)
	})
	m := startManager(t, client, func() time.Time { return later })

	if updates.Load() != 1 {
		t.Errorf("secret updates = %d, want 1 (renew once, then accept the winner's fresh certificate)", updates.Load())
	}
	if !servedLeaf(t, m).Equal(secretLeaf(t, winner)) {
		t.Error("after losing the renewal race the manager does not serve the winner's certificate")
	}
}

func TestRenewsServingCertificateWithTheSameCA(t *testing.T) {
	issued := time.Now()
	old := competitorSecret(t, issued)
	client := fake.NewClientset(webhookConfig(), old)
	clock := issued
	m := startManager(t, client, func() time.Time { return clock })
	if !servedLeaf(t, m).Equal(secretLeaf(t, old)) {
		t.Fatal("a fresh certificate in the Secret was not used as it is")
	}

	clock = issued.Add(DefaultServingValidity * 3 / 4)
	if err := m.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	renewed := getSecret(t, client)
	leaf := servedLeaf(t, m)
	if leaf.Equal(secretLeaf(t, old)) {
		t.Fatal("serving certificate with a quarter of its life left was not renewed")
	}
	if !leaf.Equal(secretLeaf(t, renewed)) {
		t.Error("served certificate is not the renewed one in the Secret")
	}
	if !bytes.Equal(renewed.Data[caCertKey], old.Data[caCertKey]) {
		t.Error("renewing the serving certificate changed the CA; replicas still serving the old certificate would break")
	}
}

func TestRotatesExpiringCAKeepingTheOldOneTrusted(t *testing.T) {
	issued := time.Now()
	old := competitorSecret(t, issued)
	client := fake.NewClientset(webhookConfig(), old)
	// Less than one serving lifetime left on the CA.
	later := issued.Add(DefaultCAValidity - DefaultServingValidity/2)
	m := startManager(t, client, func() time.Time { return later })

	rotated := getSecret(t, client)
	bundle, err := parseCertificates(rotated.Data[caCertKey])
	if err != nil {
		t.Fatal(err)
	}
	oldCA, _ := parseCertificates(old.Data[caCertKey])
	if len(bundle) != 2 || bundle[0].Equal(oldCA[0]) || !bundle[1].Equal(oldCA[0]) {
		t.Fatalf("trust bundle after CA rotation has %d certificates; want the new CA then the old one", len(bundle))
	}
	if err := servedLeaf(t, m).CheckSignatureFrom(bundle[0]); err != nil {
		t.Errorf("served certificate is not signed by the new CA: %v", err)
	}
	assertCABundles(t, client, rotated.Data[caCertKey])
}

func TestReplacesAnUnusableSecret(t *testing.T) {
	broken := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: testOpts.SecretName, Namespace: testOpts.Namespace},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: []byte("garbage"), corev1.TLSPrivateKeyKey: []byte("garbage")},
	}
	client := fake.NewClientset(webhookConfig(), broken)
	m := startManager(t, client, time.Now)
	if !servedLeaf(t, m).Equal(secretLeaf(t, getSecret(t, client))) {
		t.Error("an unusable Secret was not replaced by a working certificate")
	}
}

func TestRepairsACABundleResetByApply(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	m := startManager(t, client, time.Now)

	// `kubectl apply` of the manifest (which has no caBundle) resets it.
	_, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(context.Background(), webhookConfig(), metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	assertCABundles(t, client, m.CABundle())
}

func TestMissingWebhookConfigurationIsPatchedOnceItExists(t *testing.T) {
	client := fake.NewClientset()
	m := startManager(t, client, time.Now)

	_, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(context.Background(), webhookConfig(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	assertCABundles(t, client, m.CABundle())
}

func TestStartFailsWithoutACertificate(t *testing.T) {
	client := fake.NewClientset(webhookConfig())
	client.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(secretsResource, testOpts.SecretName, nil)
	})
	_, err := Start(context.Background(), client, testOpts, testLogger(t))
	if !apierrors.IsForbidden(err) {
		t.Fatalf("Start error = %v, want the Forbidden from creating the Secret", err)
	}
}

func TestOptionsRequireNames(t *testing.T) {
	_, err := Start(context.Background(), fake.NewClientset(), Options{Namespace: "kab-system"}, testLogger(t))
	if err == nil {
		t.Fatal("Start accepted options without secret, service and webhook names")
	}
}
