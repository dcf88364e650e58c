package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
)

// serviceAccountNamespaceFile holds the pod's namespace in every pod with a service account.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Config is everything kab-injector takes on its command line (DESIGN §5).
type Config struct {
	Listen      string
	TLSCertFile string
	TLSKeyFile  string
	ConfigFile  string
	LogFormat   string // text | json
	LogLevel    slog.Level

	// Self-managed TLS, used when no certificate files are given.
	TLSSecretName     string
	WebhookConfigName string
	ServiceName       string
	Namespace         string

	// HealProbeNamespace is where heal's dry-run probe pod is "created": a namespace kab's
	// webhook covers (not kube-system, not kab's own).
	HealProbeNamespace string
}

// SelfManagedTLS reports whether the injector keeps its own certificate in a Secret.
func (c Config) SelfManagedTLS() bool { return c.TLSCertFile == "" && c.TLSKeyFile == "" }

// parseFlags reads the command line; defaults that depend on the environment (the log format
// on a terminal, the pod's namespace) are filled in here so Validate sees final values.
func parseFlags(args []string, stderr io.Writer, isTerminal bool, getenv func(string) string) (Config, error) {
	defaultFormat := "json"
	if isTerminal {
		defaultFormat = "text"
	}
	var c Config
	fs := flag.NewFlagSet("kab-injector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", ":8443", "address for the TLS listener: POST /mutate, /healthz, /readyz, /metrics")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes; with --tls-key-file. Neither: self-managed TLS")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", "", "private key (PEM) of --tls-cert-file")
	fs.StringVar(&c.ConfigFile, "config", "", "injector config file (YAML): agentImage, volume, agentPort, agentResources, allowPtrace")
	fs.StringVar(&c.LogFormat, "log-format", defaultFormat, "log format: text or json (default: text on a terminal, json otherwise)")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.StringVar(&c.TLSSecretName, "tls-secret-name", "kab-injector-tls", "self-managed TLS: Secret holding the CA and serving certificate")
	fs.StringVar(&c.WebhookConfigName, "webhook-config-name", "kab-injector", "self-managed TLS: MutatingWebhookConfiguration whose caBundle the injector keeps")
	fs.StringVar(&c.ServiceName, "service-name", "kab-injector", "self-managed TLS: Service the API server calls; names the certificate")
	fs.StringVar(&c.Namespace, "namespace", defaultNamespace(getenv), "self-managed TLS: the injector's namespace (default: $POD_NAMESPACE, else the service account's)")
	fs.StringVar(&c.HealProbeNamespace, "heal-probe-namespace", "default", "heal: namespace of the dry-run pod that shows the webhook answers (one the webhook covers)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q: kab-injector takes flags only", fs.Args())
	}
	return c, nil
}

func defaultNamespace(getenv func(string) string) string {
	if ns := getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if data, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
		return strings.TrimSpace(string(data))
	}
	return ""
}

// Validate reports every bad flag at once, naming the flag and what would be valid.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("--listen %q: want host:port or :port, e.g. :8443", c.Listen))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-key-file: give both (certificate files) or neither (self-managed TLS)"))
	}
	if c.ConfigFile == "" {
		errs = append(errs, errors.New("--config: is required; a YAML file with at least agentImage and volume"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.SelfManagedTLS() {
		for _, f := range []struct{ flag, value string }{
			{"--tls-secret-name", c.TLSSecretName}, {"--webhook-config-name", c.WebhookConfigName},
			{"--service-name", c.ServiceName},
		} {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("%s: must not be empty with self-managed TLS (no --tls-cert-file)", f.flag))
			}
		}
		if c.Namespace == "" {
			errs = append(errs, errors.New("--namespace: unknown; set it or POD_NAMESPACE (needed for self-managed TLS, or give --tls-cert-file and --tls-key-file)"))
		}
	}
	return errors.Join(errs...)
}
