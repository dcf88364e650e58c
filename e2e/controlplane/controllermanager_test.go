//go:build integration

package controlplane

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TestControllerManagerRecreatesPods: with StartControllerManager, a ReplicaSet creates its pod
// and re-creates it after a deletion (what heal relies on), and the controller-manager is
// stopped with the control plane.
func TestControllerManagerRecreatesPods(t *testing.T) {
	var pid int
	t.Run("running", func(t *testing.T) {
		cp := Start(t, Options{})
		cp.StartControllerManager(t, "replicaset-controller")
		pid = cp.controllerManager.cmd.Process.Pid
		ctx := context.Background()
		admin := cp.Client(t)

		replicas := int32(1)
		labels := map[string]string{"app": "rs"}
		_, err := admin.AppsV1().ReplicaSets(metav1.NamespaceDefault).Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "rs"},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		first := waitForPod(t, admin, "")
		if err := admin.CoreV1().Pods(metav1.NamespaceDefault).Delete(ctx, first.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitForPod(t, admin, first.UID)
	})
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kube-controller-manager process group %d still exists after the test ended (kill: %v)", pid, err)
	}
}

// waitForPod waits for a live pod of the ReplicaSet other than the one with UID not.
func waitForPod(t *testing.T, c kubernetes.Interface, not types.UID) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pods, err := c.CoreV1().Pods(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{LabelSelector: "app=rs"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.UID != not && p.DeletionTimestamp == nil {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the ReplicaSet created no pod (other than %q) within 30s", not)
	return nil
}
