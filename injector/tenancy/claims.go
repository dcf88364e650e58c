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
	"k8s.io/client-go/kubernetes"

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
}

// owner returns the namespace that owns backupName, claiming it for ns when nobody has
// (unless dryRun: a dry-run admission must not leave a record behind).
func (c Claims) owner(ctx context.Context, backupName, ns string, dryRun bool) (string, error) {
	name := ClaimName(backupName)
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
