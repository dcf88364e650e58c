package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/heal"
	"github.com/boanu/kab/injector/tenancy"
	"github.com/boanu/kab/injector/webhook"
)

// clusterClient is the in-cluster API client, or nil outside a cluster (certificate files
// given, no service account): then only the pure mutation runs.
func clusterClient() kubernetes.Interface {
	restConfig, err := inClusterConfig()
	if err != nil {
		return nil
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil
	}
	return client
}

// Client-side rate limit of the injector's API client. client-go's default (5 requests/s,
// bursts of 10) is meant for tools; the injector answers admissions, and a Deployment scaled
// up by 50 sends it 100 at once. The API server's priority and fairness still applies.
const (
	clientQPS   = 50
	clientBurst = 100
)

// inClusterConfig is the service account's API config with the injector's rate limit.
func inClusterConfig() (*rest.Config, error) {
	restConfig, err := rest.InClusterConfig()
	if err != nil {
		return nil, err
	}
	restConfig.QPS, restConfig.Burst = clientQPS, clientBurst
	return restConfig, nil
}

// tenancyGate is the webhook's tenancy check. Namespace selectors read labels from a
// namespace informer, so admission does not wait on the API for them.
func tenancyGate(ctx context.Context, client kubernetes.Interface, cfg *config.Config, kabNamespace string) (webhook.Option, error) {
	var labels tenancy.NamespaceLabels
	if cfg.Namespaces.HasSelectors() {
		// The namespace informer alone: a SharedInformerFactory links an informer for every
		// API group into the binary (docs/PERFORMANCE.md, "Images").
		namespaces := coreinformers.NewNamespaceInformer(client, 10*time.Minute, cache.Indexers{})
		lister := listerscorev1.NewNamespaceLister(namespaces.GetIndexer())
		go namespaces.Run(ctx.Done())
		if !cache.WaitForCacheSync(ctx.Done(), namespaces.HasSynced) {
			return nil, fmt.Errorf("namespace cache did not sync (namespaces.allow/deny has label selectors; the injector needs namespaces list/watch)")
		}
		labels = func(_ context.Context, name string) (map[string]string, error) {
			ns, err := lister.Get(name)
			if err != nil {
				return nil, err
			}
			return ns.Labels, nil
		}
	}
	claims := tenancy.NewClaims(ctx, client, kabNamespace, cfg.Layout)
	return webhook.WithGate(tenancy.New(cfg, claims, labels)), nil
}

// healRightsRecheck is how often heal looks again for rights it lacked at start.
const healRightsRecheck = 15 * time.Second

// startHeal runs heal in the background once its rights are there. Missing rights are logged
// once and heal waits, re-checking: when kab is applied in one go with its RBAC (a GitOps first
// sync), the injector can start a moment before its RoleBindings take effect (measured in the
// any-order rebuild scenario), and giving up then would leave heal off for good. Heal never
// takes admission down. With evict false heal only watches and counts (heal.Watch), on every
// replica, and needs only pods list/watch (deploy/components/uninjected-watch).
func startHeal(ctx context.Context, client kubernetes.Interface, flags Config, evict bool, reg prometheus.Registerer, log *slog.Logger) {
	component := "deploy/components/heal"
	if !evict {
		component = "deploy/components/uninjected-watch"
	}
	go func() {
		logged := false
		for {
			var missing []string
			var err error
			if evict {
				missing, err = heal.MissingRights(ctx, client, flags.Namespace, flags.HealProbeNamespace)
			} else {
				missing, err = heal.MissingWatchRights(ctx, client)
			}
			switch {
			case err == nil && len(missing) == 0:
				if logged {
					log.Info("heal's rights are granted now; heal starts")
				}
				runHeal(ctx, client, flags, evict, reg, log)
				return
			case logged:
			case err != nil:
				log.Error("heal waits: cannot check its RBAC; retrying", "err", err, "every", healRightsRecheck)
				logged = true
			default:
				log.Error("heal waits: the injector's service account lacks rights; apply "+component+" or set heal.enabled: false",
					"missing", strings.Join(missing, ", "), "recheck_every", healRightsRecheck)
				logged = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(healRightsRecheck):
			}
		}
	}()
}

// runHeal runs the heal controller under leader election until ctx ends; with evict false it
// only watches, on this replica, with no Lease and no Events.
func runHeal(ctx context.Context, client kubernetes.Interface, flags Config, evict bool, reg prometheus.Registerer, log *slog.Logger) {
	if !evict {
		controller, err := heal.NewController(client, []string{"kube-system", flags.Namespace}, nil, reg, log)
		if err == nil {
			err = controller.Watch(ctx)
		}
		if err != nil {
			log.Error("heal's watch stopped", "err", err)
		}
		return
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kab-injector"})
	controller, err := heal.NewController(client, []string{"kube-system", flags.Namespace}, recorder, reg, log)
	if err != nil {
		log.Error("heal is off", "err", err)
		return
	}
	identity, _ := os.Hostname()
	defer broadcaster.Shutdown()
	controller.RunWithLeaderElection(ctx, client, heal.Options{
		Namespace: flags.Namespace, Identity: identity, ProbeNamespace: flags.HealProbeNamespace, Workers: 2,
	})
}
