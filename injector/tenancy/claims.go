package tenancy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// Claim records: ConfigMaps in kab's namespace, one per backup-name.
const (
	ClaimPrefix       = "kab-claim-"
	ClaimLabel        = shared.Prefix + "claim"
	claimKeyName      = "backupName"
	claimKeyNamespace = "namespace"
)

// ClaimName is the ConfigMap that records who owns a backup-name. A backup-name may hold
// capitals and '_' (not allowed in object names): those get a hash instead of the name.
func ClaimName(backupName string) string {
	if len(validation.IsDNS1123Subdomain(ClaimPrefix+backupName)) == 0 {
		return ClaimPrefix + backupName
	}
	sum := sha256.Sum256([]byte(backupName))
	return ClaimPrefix + "h-" + hex.EncodeToString(sum[:8])
}

// Claims keeps the backup-name claims of the flat layout.
type Claims struct {
	Client    kubernetes.Interface
	Namespace string // kab's namespace
	// cache, when WatchClaims made it and once it has synced, answers for the claims that
	// exist without a request to the API server: every admission of a backup-name's pods
	// after its first. A miss asks the API server, as without a cache.
	cache  listerscorev1.ConfigMapNamespaceLister
	synced cache.InformerSynced
}

// NewClaims is the claims store for the layout: watched in the flat layout, where every
// admission asks who owns its backup-name; in the namespaced layout the guard never asks, and
// nothing is watched.
func NewClaims(ctx context.Context, client kubernetes.Interface, namespace string, layout config.Layout) Claims {
	if layout == config.LayoutFlat {
		return WatchClaims(ctx, client, namespace)
	}
	return Claims{Client: client, Namespace: namespace}
}

// WatchClaims returns Claims that keep the existing claims in a cache fed by a watch of the
// claim ConfigMaps in kab's namespace (label kab.boa.nu/claim), running until ctx ends. It
// does not wait for the first list: until then every admission asks the API server.
//
// Why a cache: a Deployment scaled up by 50 sends 50 pods to the gate at once, and a request
// each to the API server queued behind the client's rate limit for seconds
// (docs/PERFORMANCE.md, "Footprint").
func WatchClaims(ctx context.Context, client kubernetes.Interface, namespace string) Claims {
	informer := coreinformers.NewFilteredConfigMapInformer(client, namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = ClaimLabel + "=true" })
	go informer.Run(ctx.Done())
	return Claims{
		Client:    client,
		Namespace: namespace,
		cache:     listerscorev1.NewConfigMapLister(informer.GetIndexer()).ConfigMaps(namespace),
		synced:    informer.HasSynced,
	}
}

// Synced reports whether the claims cache has its first list; false without a cache.
func (c Claims) Synced() bool { return c.synced != nil && c.synced() }

// owner returns the namespace that owns backupName, claiming it for ns when nobody has
// (unless dryRun: a dry-run admission must not leave a record behind).
func (c Claims) owner(ctx context.Context, backupName, ns string, dryRun bool) (string, error) {
	name := ClaimName(backupName)
	if c.Synced() {
		// The cache follows creations, edits and deletions (releases) within the watch's
		// delay: a claim released a moment ago is answered as if released a moment later.
		if existing, err := c.cache.Get(name); err == nil {
			return existing.Data[claimKeyNamespace], nil
		}
	}
	cms := c.Client.CoreV1().ConfigMaps(c.Namespace)
	existing, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return existing.Data[claimKeyNamespace], nil
	}
	if !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("read claim %s/%s: %w", c.Namespace, name, err)
	}
	if dryRun {
		return ns, nil
	}
	claim := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: c.Namespace,
			Labels:    map[string]string{ClaimLabel: "true", "app.kubernetes.io/part-of": "kab"},
		},
		Data: map[string]string{claimKeyName: backupName, claimKeyNamespace: ns},
	}
	_, err = cms.Create(ctx, claim, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Two first pods at once (two namespaces, or two injector replicas): whoever
		// created it owns it; read the winner.
		existing, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("read claim %s/%s: %w", c.Namespace, name, err)
		}
		return existing.Data[claimKeyNamespace], nil
	}
	if err != nil {
		return "", fmt.Errorf("record claim %s/%s: %w", c.Namespace, name, err)
	}
	return ns, nil
}
