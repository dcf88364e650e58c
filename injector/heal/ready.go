package heal

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/shared"
)

// ProbePodName is the pod heal creates with dryRun=All to see its webhook answer.
const ProbePodName = "kab-heal-probe"

// webhookAnswers asks the API server to create (dry run: nothing is stored) a kab pod in
// namespace ns. The webhook answered when the pod comes back injected, or when the API server
// reports a denial by kab's webhook; anything else (webhook unreachable, not registered yet)
// means an evicted pod would start un-injected again.
func webhookAnswers(ctx context.Context, client kubernetes.Interface, ns string) error {
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: ProbePodName, Namespace: ns,
			Annotations: map[string]string{shared.Prefix + shared.KeyBackupName: ProbePodName},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "kab-heal-probe"}}},
	}
	created, err := client.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "inject.kab.boa.nu") {
			return nil // kab's webhook answered, with a denial (a namespace rule, a claim)
		}
		return err
	}
	if created.Annotations[shared.Prefix+shared.KeyStatus] != shared.StatusInjected {
		return fmt.Errorf("a dry-run kab pod in namespace %s was admitted without injection: kab's webhook is not registered (yet)", ns)
	}
	return nil
}

// WaitForWebhook blocks until webhookAnswers succeeds, logging the first failure and then one
// in ten, or ctx ends.
func (c *Controller) WaitForWebhook(ctx context.Context, probeNamespace string) error {
	tries := 0
	return wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		err := webhookAnswers(ctx, c.client, probeNamespace)
		if err == nil {
			c.log.Info("heal: kab's webhook answers through the API server", "probe_namespace", probeNamespace)
			return true, nil
		}
		if tries%10 == 0 {
			c.log.Info("heal waits for kab's webhook before evicting anything", "probe_namespace", probeNamespace, "err", err)
		}
		tries++
		return false, nil
	})
}
