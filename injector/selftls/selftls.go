// Package selftls lets the injector manage its own webhook TLS without cert-manager: it keeps a CA
// and a serving certificate for its Service in a Secret in its namespace, and the caBundle of its
// own MutatingWebhookConfiguration equal to that CA.
//
// Two replicas share one certificate: whoever creates (or renews) the Secret first wins, the other
// gets AlreadyExists (or Conflict), re-reads the Secret and uses the winner's certificate. The API
// rights this needs are exactly those in deploy/base/rbac.yaml: get/update on the one Secret,
// create on Secrets in the namespace, and get/update on the one webhook configuration.
package selftls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Defaults for Options' durations.
const (
	DefaultCheckInterval   = time.Minute
	DefaultCAValidity      = 10 * 365 * 24 * time.Hour
	DefaultServingValidity = 365 * 24 * time.Hour
)

// maxSecretAttempts bounds the read–write loop when the other replica keeps winning; each lost
// race means a fresh Secret exists, so two attempts nearly always suffice.
const maxSecretAttempts = 5

// Options name the objects the manager owns. All four names are required.
type Options struct {
	// Namespace holds the Secret and the Service (the injector's own namespace).
	Namespace string
	// SecretName is the Secret holding CA and serving certificate (kab-injector-tls).
	SecretName string
	// ServiceName is the Service the API server calls; the certificate names
	// <service>.<namespace>.svc and <service>.<namespace>.svc.cluster.local.
	ServiceName string
	// WebhookConfigName is the MutatingWebhookConfiguration whose caBundle is kept up to date.
	WebhookConfigName string

	// CheckInterval is how often the Secret and the caBundle are re-checked: to pick up a
	// certificate the other replica renewed, renew one nearing expiry, and undo a caBundle that
	// someone (kubectl apply of the manifest) reset. Default DefaultCheckInterval.
	CheckInterval time.Duration
	// CAValidity and ServingValidity are the lifetimes of new certificates. A serving certificate
	// is renewed when less than a third of its lifetime is left; the CA when it would not outlive a
	// new serving certificate.
	CAValidity      time.Duration
	ServingValidity time.Duration
}

func (o Options) withDefaults() Options {
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.CAValidity <= 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.ServingValidity <= 0 {
		o.ServingValidity = DefaultServingValidity
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"namespace", o.Namespace}, {"secret name", o.SecretName},
		{"service name", o.ServiceName}, {"webhook configuration name", o.WebhookConfigName},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("self-managed TLS: %s is required", f.name))
		}
	}
	if o.CAValidity < o.ServingValidity {
		errs = append(errs, fmt.Errorf("self-managed TLS: CA validity %s is shorter than serving validity %s", o.CAValidity, o.ServingValidity))
	}
	return errors.Join(errs...)
}

// DNSNames are the names the serving certificate is issued for: the API server calls a webhook
// service as <service>.<namespace>.svc; the longer name serves clients inside the cluster.
func (o Options) DNSNames() []string {
	svc := o.ServiceName + "." + o.Namespace + ".svc"
	return []string{svc, svc + ".cluster.local"}
}

// Manager owns the Secret and the caBundle and serves the current certificate.
type Manager struct {
	client kubernetes.Interface
	opts   Options
	log    *slog.Logger
	now    func() time.Time

	current atomic.Pointer[material]
	// loadedVersion is the resourceVersion of the Secret behind current; only the goroutine
	// running sync touches it (Start, then the loop).
	loadedVersion string
	done          chan struct{}
}

// Start makes sure the Secret holds a usable certificate (creating or renewing it), loads it,
// brings the webhook configuration's caBundle in line, and keeps doing so every CheckInterval
// until ctx is cancelled. It fails when no certificate can be had (no Secret and no right to
// create one, say): the injector cannot serve without one. A missing webhook configuration is
// only logged: it may be applied after the Deployment, and the next check patches it.
func Start(ctx context.Context, client kubernetes.Interface, opts Options, log *slog.Logger) (*Manager, error) {
	return start(ctx, client, opts, log, time.Now)
}

// start is Start with a clock, so tests can let certificates age.
func start(ctx context.Context, client kubernetes.Interface, opts Options, log *slog.Logger, now func() time.Time) (*Manager, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		client: client,
		opts:   opts,
		log:    log.With("secret", opts.Namespace+"/"+opts.SecretName, "webhook_config", opts.WebhookConfigName),
		now:    now,
		done:   make(chan struct{}),
	}
	if err := m.sync(ctx); err != nil {
		if m.current.Load() == nil {
			return nil, err
		}
		m.log.Warn("self-managed TLS: will retry", "error", err, "retry_in", opts.CheckInterval)
	}
	go m.run(ctx)
	return m, nil
}

// GetCertificate serves the current certificate; plug it into tls.Config.GetCertificate.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	mat := m.current.Load()
	if mat == nil {
		return nil, errors.New("self-managed TLS: no certificate loaded")
	}
	return mat.serving, nil
}

// CABundle returns the PEM trust bundle the webhook configuration should carry.
func (m *Manager) CABundle() []byte {
	if mat := m.current.Load(); mat != nil {
		return bytes.Clone(mat.caBundle)
	}
	return nil
}

// Done is closed when the manager has stopped after its context was cancelled.
func (m *Manager) Done() <-chan struct{} { return m.done }

func (m *Manager) run(ctx context.Context) {
	defer close(m.done)
	ticker := time.NewTicker(m.opts.CheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := m.sync(ctx); err != nil && ctx.Err() == nil {
				// Keep serving what we have: the certificate is still valid for months when a
				// check fails, and the next one retries.
				m.log.Error("self-managed TLS check failed", "error", err, "retry_in", m.opts.CheckInterval)
			}
		}
	}
}

// sync is one round: settle the Secret, then the caBundle, then serve the Secret's certificate.
// When the CA changed, the new certificate is served only after the caBundle carries the new
// CA; until then the old certificate (trusted through the old CA) keeps working.
func (m *Manager) sync(ctx context.Context) error {
	mat, version, err := m.ensureSecret(ctx)
	if err != nil {
		return err
	}
	bundleErr := m.ensureCABundle(ctx, mat.caBundle)
	prev := m.current.Load()
	caChanged := prev != nil && !prev.caCert.Equal(mat.caCert)
	if bundleErr == nil || prev == nil || !caChanged {
		m.current.Store(mat)
		if version != m.loadedVersion {
			m.loadedVersion = version
			leaf := mat.serving.Leaf
			m.log.Info("serving certificate loaded", "serial", leaf.SerialNumber.Text(16),
				"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "dns_names", leaf.DNSNames)
		}
	}
	return bundleErr
}

// ensureSecret returns a usable certificate from the Secret, creating or renewing the Secret
// first when needed. Losing a race to the other replica is not an error: its Secret is used.
func (m *Manager) ensureSecret(ctx context.Context) (*material, string, error) {
	secrets := m.client.CoreV1().Secrets(m.opts.Namespace)
	for range maxSecretAttempts {
		secret, err := secrets.Get(ctx, m.opts.SecretName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			mat, err := m.generate(nil)
			if err != nil {
				return nil, "", err
			}
			data, err := mat.secretData()
			if err != nil {
				return nil, "", err
			}
			created, err := secrets.Create(ctx, m.newSecret(data), metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				m.log.Info("the other replica created the TLS Secret first; using its certificate")
				continue
			}
			if err != nil {
				return nil, "", fmt.Errorf("create secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
			}
			m.log.Info("created TLS Secret with a new CA and serving certificate")
			return mat, created.ResourceVersion, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("get secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
		}

		mat, parseErr := parseSecret(secret)
		var reason string
		if parseErr != nil {
			reason = "unusable: " + parseErr.Error()
			mat = nil
		} else {
			reason = m.renewalReason(mat)
		}
		if reason == "" {
			return mat, secret.ResourceVersion, nil
		}

		renewed, err := m.generate(mat)
		if err != nil {
			return nil, "", err
		}
		data, err := renewed.secretData()
		if err != nil {
			return nil, "", err
		}
		update := secret.DeepCopy()
		update.Data = data
		// Update carries the resourceVersion we read: if the other replica renewed in between,
		// ours is refused with Conflict and the next round reads (and uses) theirs.
		updated, err := secrets.Update(ctx, update, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			m.log.Info("the other replica changed the TLS Secret first; re-reading it")
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("update secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
		}
		m.log.Info("renewed TLS Secret", "reason", reason)
		return renewed, updated.ResourceVersion, nil
	}
	return nil, "", fmt.Errorf("secret %s/%s changed %d times while being settled; retrying later", m.opts.Namespace, m.opts.SecretName, maxSecretAttempts)
}

// renewalReason says why a parsed Secret must be replaced, or "" when it is fine.
func (m *Manager) renewalReason(mat *material) string {
	now := m.now()
	if mat.caCert.NotAfter.Sub(now) < m.opts.ServingValidity {
		return fmt.Sprintf("CA expires %s, before a new serving certificate would", mat.caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	leaf := mat.serving.Leaf
	if lifetime := leaf.NotAfter.Sub(leaf.NotBefore); leaf.NotAfter.Sub(now) < lifetime/3 {
		return fmt.Sprintf("serving certificate expires %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	for _, name := range m.opts.DNSNames() {
		if !slices.Contains(leaf.DNSNames, name) {
			return fmt.Sprintf("serving certificate does not name %s", name)
		}
	}
	return ""
}

// generate issues a new serving certificate, from the previous CA when it is still good for a
// whole serving lifetime, else from a new CA (keeping the previous one in the trust bundle).
func (m *Manager) generate(prev *material) (*material, error) {
	now := m.now()
	mat := &material{}
	if prev != nil && prev.caCert.NotAfter.Sub(now) >= m.opts.ServingValidity {
		mat.caCert, mat.caKey = prev.caCert, prev.caKey
		mat.caBundle = validBundle(prev.caBundle, now)
	} else {
		var err error
		mat.caCert, mat.caKey, mat.caBundle, err = newCA(m.opts.ServiceName+"-ca", now, m.opts.CAValidity, prev)
		if err != nil {
			return nil, err
		}
	}
	serving, err := newServing(m.opts.DNSNames(), now, m.opts.ServingValidity, mat.caCert, mat.caKey)
	if err != nil {
		return nil, err
	}
	mat.serving = serving
	return mat, nil
}

// validBundle drops expired CAs from a trust bundle (the current CA is never expired here).
func validBundle(bundlePEM []byte, now time.Time) []byte {
	certs, err := parseCertificates(bundlePEM)
	if err != nil {
		return bundlePEM
	}
	var out []byte
	for _, c := range certs {
		if now.Before(c.NotAfter) {
			out = append(out, pemBlock("CERTIFICATE", c.Raw)...)
		}
	}
	return out
}

func (m *Manager) newSecret(data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      m.opts.SecretName,
			Namespace: m.opts.Namespace,
			Labels: map[string]string{
				"app.kubernetes.io/name":       m.opts.ServiceName,
				"app.kubernetes.io/managed-by": "kab-injector",
			},
		},
		Type: corev1.SecretTypeTLS,
		Data: data,
	}
}

// ensureCABundle sets caBundle on every webhook of the configuration that does not carry it.
func (m *Manager) ensureCABundle(ctx context.Context, bundle []byte) error {
	configs := m.client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cfg, err := configs.Get(ctx, m.opts.WebhookConfigName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get mutatingwebhookconfiguration %s: %w", m.opts.WebhookConfigName, err)
		}
		var patched []string
		for i := range cfg.Webhooks {
			if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, bundle) {
				cfg.Webhooks[i].ClientConfig.CABundle = bytes.Clone(bundle)
				patched = append(patched, cfg.Webhooks[i].Name)
			}
		}
		if len(patched) == 0 {
			return nil
		}
		if _, err := configs.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
			// Conflict is returned bare so RetryOnConflict recognises it.
			if apierrors.IsConflict(err) {
				return err
			}
			return fmt.Errorf("update caBundle of mutatingwebhookconfiguration %s: %w", m.opts.WebhookConfigName, err)
		}
		m.log.Info("patched webhook caBundle", "webhooks", patched)
		return nil
	})
}
