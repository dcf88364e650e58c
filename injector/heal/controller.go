package heal

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Event reasons on the pod.
const (
	ReasonEvicted     = "KabHealEvicted"
	ReasonBlocked     = "KabHealBlocked"
	ReasonNotInjected = "KabNotInjected"
)

// Controller heals the cluster's un-injected kab pods. Build it with NewController and Run it
// while leading.
type Controller struct {
	client   kubernetes.Interface
	excluded map[string]bool
	recorder record.EventRecorder
	metrics  *metrics
	log      *slog.Logger

	informer cache.SharedIndexInformer
	pods     listerscorev1.PodLister
	synced   cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]

	// warned holds the bare pods (key → UID) already given their Event, so a resync does
	// not repeat it; in watch mode, the pods already logged.
	mu     sync.Mutex
	warned map[string]types.UID

	// watchOnly counts and logs un-injected pods and acts on none (Watch).
	watchOnly bool
}

// NewController watches pods in every namespace but excluded (the webhook's exclusions:
// kube-system and kab's own). Metrics go to reg; Events are sent by recorder.
func NewController(client kubernetes.Interface, excluded []string, recorder record.EventRecorder, reg prometheus.Registerer, log *slog.Logger) (*Controller, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	c := &Controller{client: client, excluded: map[string]bool{}, recorder: recorder, metrics: m, log: log}
	for _, ns := range excluded {
		c.excluded[ns] = true
	}
	return c, nil
}

// start builds the informer and queue afresh: Run is called again each time this replica
// wins the Lease back, and a shut-down queue cannot be reused.
func (c *Controller) start() error {
	// A resync every few minutes re-offers pods whose eviction was blocked for good
	// (the rate limiter's backoff caps at 1000 s) and recounts the gauge.
	// The pod informer alone, as a SharedInformerFactory would build it: the factory links an
	// informer and lister for every API group into the injector (1.2 MB of its image).
	c.informer = coreinformers.NewPodInformer(c.client, metav1.NamespaceAll, 5*time.Minute,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	c.pods = listerscorev1.NewPodLister(c.informer.GetIndexer())
	c.synced = c.informer.HasSynced
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "kab-heal"})
	c.warned = map[string]types.UID{}
	_, err := c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	})
	return err
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	ns, _, _ := cache.SplitMetaNamespaceKey(key)
	if c.excluded[ns] {
		return
	}
	c.queue.Add(key)
}

// Run starts the informer and workers and blocks until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if err := c.start(); err != nil {
		return err
	}
	defer c.queue.ShutDown()
	var informerRunning sync.WaitGroup
	informerRunning.Go(func() { c.informer.Run(ctx.Done()) })
	defer informerRunning.Wait()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return fmt.Errorf("heal: pod cache did not sync: %w", ctx.Err())
	}
	c.log.Info("heal started", "workers", workers, "evict", !c.watchOnly)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { wait.UntilWithContext(ctx, c.worker, time.Second) })
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNext(ctx) {
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		// Blocked evictions and API errors come back with the rate limiter's backoff.
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// sync heals one pod. It re-reads the pod from the cache each time, so it is safe to call for
// any key any number of times: an injected, finished or deleted pod needs nothing.
func (c *Controller) sync(ctx context.Context, key string) error {
	defer c.countUninjected()
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if !uninjected(pod) {
		return nil
	}
	if c.watchOnly {
		c.logUninjected(pod)
		return nil
	}
	owner := metav1.GetControllerOf(pod)
	if owner == nil {
		c.warnBare(pod)
		return nil
	}
	return c.evict(ctx, pod, owner)
}

func (c *Controller) evict(ctx context.Context, pod *corev1.Pod, owner *metav1.OwnerReference) error {
	uid := pod.UID
	eviction := &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		// The UID precondition: never evict a newer pod of the same name (a StatefulSet's
		// replacement) that the cache has not seen yet.
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}},
	}
	// A bounded call: a worker stuck on one pod would stall the queue for every other.
	callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := c.client.PolicyV1().Evictions(pod.Namespace).Evict(callCtx, eviction)
	switch {
	case err == nil:
		c.metrics.healed.WithLabelValues(ActionEvicted).Inc()
		c.recorder.Eventf(pod, corev1.EventTypeNormal, ReasonEvicted,
			"kab evicted this pod: it started without kab's injection (no restore, no backups); its %s %s re-creates it injected", owner.Kind, owner.Name)
		c.log.Info("heal evicted an un-injected pod", "pod", pod.Namespace+"/"+pod.Name, "owner", owner.Kind+"/"+owner.Name)
		return nil
	case apierrors.IsTooManyRequests(err):
		c.metrics.healed.WithLabelValues(ActionBlocked).Inc()
		c.recorder.Eventf(pod, corev1.EventTypeWarning, ReasonBlocked,
			"kab cannot evict this un-injected pod yet (retrying with backoff): %v", err)
		c.log.Warn("heal eviction blocked", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		return err
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return nil // gone, or already replaced: nothing left to heal
	default:
		c.log.Warn("heal eviction failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		return err
	}
}

// warnBare gives a bare pod its Event once: deleting it would lose it for good, since no
// controller brings it back.
func (c *Controller) warnBare(pod *corev1.Pod) {
	if !c.firstNotice(pod) {
		return
	}
	c.metrics.healed.WithLabelValues(ActionEvent).Inc()
	c.recorder.Event(pod, corev1.EventTypeWarning, ReasonNotInjected,
		"this kab pod started without kab's injection (no restore, no backups) and has no controller to re-create it; delete and create it again now that kab's webhook is up")
	c.log.Warn("un-injected bare kab pod; not deleting it", "pod", pod.Namespace+"/"+pod.Name)
}

// forget drops the Event record of a deleted pod.
func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.warned, key)
}

// countUninjected sets the gauge from the cache.
func (c *Controller) countUninjected() {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return
	}
	n := 0
	for _, p := range pods {
		if !c.excluded[p.Namespace] && uninjected(p) {
			n++
		}
	}
	c.metrics.uninjected.Set(float64(n))
}
