package heal

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaseName is the Lease in kab's namespace that says which injector replica heals.
const LeaseName = "kab-injector-heal"

// Options say where heal keeps its Lease and probes its webhook.
type Options struct {
	Namespace      string // kab's namespace: the Lease
	Identity       string // this replica (the pod name)
	ProbeNamespace string // a namespace the webhook covers, for the dry-run probe
	Workers        int
}

// RunWithLeaderElection heals while this replica holds the Lease, after the webhook answers.
// It blocks until ctx ends; losing the Lease stops the workers and campaigns again.
func (c *Controller) RunWithLeaderElection(ctx context.Context, client kubernetes.Interface, opts Options) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: LeaseName, Namespace: opts.Namespace},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity},
	}
	workers := max(opts.Workers, 1)
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock: lock,
			// client-go's example values; ReleaseOnCancel hands over at once on shutdown.
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Name:            LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					c.log.Info("heal: leading", "identity", opts.Identity)
					if err := c.WaitForWebhook(ctx, opts.ProbeNamespace); err != nil {
						return
					}
					if err := c.Run(ctx, workers); err != nil {
						c.log.Warn("heal stopped", "err", err)
					}
				},
				OnStoppedLeading: func() { c.log.Info("heal: not leading", "identity", opts.Identity) },
			},
		})
	}
}
