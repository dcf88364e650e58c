// Command kab-injector is kab's admission webhook: it adds the backup volume, the restore
// container and the kab-agent sidecar to pods with kab.boa.nu/ annotations (DESIGN §4–5).
// The work is in packages config, mutation, patch and webhook; this file only wires them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/certfile"
	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/selftls"
	"github.com/boanu/kab/injector/webhook"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // failed while starting or serving
	exitUsage = 2 // bad flags or config file
)

func main() { os.Exit(run(os.Args[1:], os.Stderr, os.Getenv)) }

func run(args []string, stderr io.Writer, getenv func(string) string) int {
	flags, err := parseFlags(args, stderr, isTerminal(stderr), getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		err = flags.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "kab-injector: %v\n", err)
		return exitUsage
	}
	log := newLogger(stderr, flags.LogFormat, flags.LogLevel)

	cfg, err := config.Load(flags.ConfigFile)
	if err != nil {
		log.Error("bad config file", "file", flags.ConfigFile, "err", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	getCertificate, err := startTLS(ctx, flags, log)
	if err != nil {
		log.Error("cannot get a TLS certificate", "err", err)
		return exitError
	}
	reg := webhook.NewRegistry()
	var opts []webhook.Option
	if client := clusterClient(); client != nil {
		gate, err := tenancyGate(ctx, client, cfg, flags.Namespace)
		if err != nil {
			log.Error("cannot start the tenancy check", "err", err)
			return exitError
		}
		opts = append(opts, gate)
		if cfg.Heal.Enabled {
			startHeal(ctx, client, flags, cfg.Heal.Evicts(), reg, log)
		}
	} else if cfg.Heal.Enabled || len(cfg.Namespaces.Allow)+len(cfg.Namespaces.Deny) > 0 {
		log.Error("heal and namespaces.allow/deny need the Kubernetes API: run the injector in a cluster")
		return exitUsage
	} else {
		log.Warn("not in a cluster: backup-name claims (flat layout) are not checked")
	}
	handler, err := webhook.NewHandler(cfg, log, reg, opts...)
	if err != nil {
		log.Error("cannot build the admission handler", "err", err)
		return exitError
	}
	ln, err := net.Listen("tcp", flags.Listen)
	if err != nil {
		log.Error("cannot listen", "addr", flags.Listen, "err", err)
		return exitError
	}
	log.Info("kab-injector starting", "agent_image", cfg.AgentImage, "agent_port", cfg.AgentPort,
		"self_managed_tls", flags.SelfManagedTLS(), "layout", cfg.Layout, "heal", cfg.Heal.Enabled, "heal_evict", cfg.Heal.Evicts())
	if err := webhook.Serve(ctx, ln, handler, getCertificate, log); err != nil {
		log.Error("admission server failed", "err", err)
		return exitError
	}
	log.Info("kab-injector stopped")
	return exitOK
}

// startTLS returns where the server gets its certificate: the given files (reloaded when they
// change), or a certificate the injector keeps itself in a Secret (selftls).
func startTLS(ctx context.Context, flags Config, log *slog.Logger) (webhook.GetCertificateFunc, error) {
	if !flags.SelfManagedTLS() {
		certs, err := certfile.New(flags.TLSCertFile, flags.TLSKeyFile, log)
		if err != nil {
			return nil, err
		}
		go func() { _ = certs.Run(ctx) }()
		return certs.GetCertificate, nil
	}
	restConfig, err := inClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("self-managed TLS needs to run in a cluster (or give --tls-cert-file and --tls-key-file): %w", err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	manager, err := selftls.Start(ctx, client, selftls.Options{
		Namespace:         flags.Namespace,
		SecretName:        flags.TLSSecretName,
		ServiceName:       flags.ServiceName,
		WebhookConfigName: flags.WebhookConfigName,
	}, log)
	if err != nil {
		return nil, err
	}
	return manager.GetCertificate, nil
}

// newLogger is tint (colored, short times) for a person at a terminal, JSON for a log pipeline.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	if format == "text" {
		return slog.New(tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
