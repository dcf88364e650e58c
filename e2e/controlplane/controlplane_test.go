//go:build integration

package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestStartServesAndCleansUp: the API server answers as admin, enforces RBAC for anyone else
// (the injector's rights are tested through it), stores pods without a ServiceAccount, and
// leaves no process or directory behind once the test that started it ends.
func TestStartServesAndCleansUp(t *testing.T) {
	var pids []int
	var dir string
	t.Run("running", func(t *testing.T) {
		cp := Start(t, Options{})
		pids = []int{cp.etcd.cmd.Process.Pid, cp.apiserver.cmd.Process.Pid}
		dir = cp.Dir
		ctx := context.Background()
		admin := cp.Client(t)

		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		if _, err := admin.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("admin cannot create a pod: %v", err)
		}
		nobody, err := kubernetes.NewForConfig(cp.Impersonating("nobody"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = nobody.CoreV1().Pods(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("a user without RBAC lists pods: err = %v, want Forbidden (RBAC not enforced?)", err)
		}
	})
	for _, pid := range pids {
		// The processes were reaped by the cleanup, so the pid (and its group) is gone.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after the test ended (kill: %v)", pid, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control plane directory %s still exists after the test ended (stat: %v)", dir, err)
	}
}

// TestMissingBinariesFail: without the make target's environment the harness fails the test
// with what to run; it must never skip.
func TestMissingBinariesFail(t *testing.T) {
	t.Setenv(K8sBinDirEnv, "")
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		binary(ft, K8sBinDirEnv, "kube-apiserver")
	}()
	if ft.msg == "" || !strings.Contains(ft.msg, "make test-integration") {
		t.Fatalf("missing binary: fatal message %q, want one that says to run make test-integration", ft.msg)
	}
}

// fatalRecorder captures Fatalf instead of ending the test, to check the message.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
