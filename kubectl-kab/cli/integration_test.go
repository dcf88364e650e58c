//go:build integration

package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/boanu/kab/e2e/controlplane"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/kubectl-kab/clitest"
	"github.com/boanu/kab/kubectl-kab/fleet"
	"github.com/boanu/kab/shared"
)

// The plugin against a real kube-apiserver: everything up to the kubelet. The harness has no
// nodes, so agents never answer through the pod proxy and exec never reaches a container —
// which makes it the place to prove the error paths: unknown pod, pod without kab, RBAC
// refusals naming the verb and resource, an agent that does not answer. The happy paths run
// in kind (e2e/scenarios).
func TestPluginAgainstAPIServer(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{})
	admin := cp.Client(t)
	ctx := context.Background()
	kubeconfig := writeKubeconfig(t, cp)

	ns := "shop"
	must(t)(admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	createPod(t, admin, ns, plainPod("web"))
	createPod(t, admin, ns, kabPod("db-0"))
	// alice may list and get pods in shop, nothing more; bob may also proxy to them.
	controlplane.GrantUser(t, admin, ns, "alice", []string{"get", "list"}, "pods")
	controlplane.GrantUser(t, admin, ns, "bob", []string{"get", "list"}, "pods", "pods/proxy")

	t.Run("unknown pod", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "backup", "-n", ns, "nope")
		clitest.WantOneLineError(t, code, stderr, `pods "nope" not found`)
	})
	t.Run("pod without kab", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "backup", "-n", ns, "web")
		clitest.WantOneLineError(t, code, stderr, "shop/web: pod has no kab agent")
	})
	t.Run("get: bad snapshot name", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "get", "-n", ns, "db-0", "yesterday", "-o", t.TempDir())
		clitest.WantOneLineError(t, code, stderr, `snapshot "yesterday": want "latest" or a stamp`)
	})
	t.Run("status: bad output format", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "status", "-n", ns, "-o", "wide")
		clitest.WantOneLineError(t, code, stderr, `--output "wide": want table, json or yaml`)
	})
	t.Run("status without list right", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "--as", "mallory", "status", "-n", ns)
		clitest.WantOneLineError(t, code, stderr, `you may not list pods in namespace shop (RBAC: grant verb "list" on resource "pods")`)
	})
	t.Run("status -A without cluster-wide list", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "--as", "alice", "status", "-A")
		clitest.WantOneLineError(t, code, stderr, `you may not list pods in all namespaces`)
	})
	t.Run("backup without exec right", func(t *testing.T) {
		code, _, stderr := clitest.Run(t, kubeconfig, "--as", "alice", "backup", "-n", ns, "db-0")
		clitest.WantOneLineError(t, code, stderr, `you may not create+get pods/exec in namespace shop (RBAC: grant verb "create" and "get" on resource "pods/exec")`)
	})
	t.Run("status without proxy right", func(t *testing.T) {
		code, stdout, stderr := clitest.Run(t, kubeconfig, "--as", "alice", "status", "-n", ns, "-o", "json")
		row := onlyRow(t, code, stdout, stderr)
		if row.State != fleet.StateUnknown || !strings.Contains(row.Reason, `grant verb "get" on resource "pods/proxy"`) {
			t.Errorf("row %+v: want unknown, naming get on pods/proxy", row)
		}
	})
	t.Run("status of an agent that does not answer", func(t *testing.T) {
		code, stdout, stderr := clitest.Run(t, kubeconfig, "--as", "bob", "status", "-n", ns, "-o", "json", "--timeout", "3s")
		row := onlyRow(t, code, stdout, stderr)
		if row.State != fleet.StateUnknown || row.Reason == "" || row.Mode != fleet.ModeSnapshot {
			t.Errorf("row %+v: want unknown with a reason, mode snapshot", row)
		}
	})
	t.Run("status in a namespace without kab pods", func(t *testing.T) {
		code, stdout, stderr := clitest.Run(t, kubeconfig, "status", "-n", "default")
		if code != 0 || stdout != "" || !strings.Contains(stderr, "No kab pods found in namespace default") {
			t.Errorf("exit %d, stdout %q, stderr %q: want 0 and a note", code, stdout, stderr)
		}
	})
}

func onlyRow(t *testing.T, code int, stdout, stderr string) fleet.Row {
	t.Helper()
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a backup in an unknown state)", code)
	}
	var list fleet.List
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("stdout is not the JSON list: %v\n%s\nstderr %s", err, stdout, stderr)
	}
	if list.Kind != fleet.ListKind || len(list.Items) != 1 || list.Items[0].Pod != "db-0" {
		t.Fatalf("list %+v: want one row, for db-0", list)
	}
	return list.Items[0]
}

func writeKubeconfig(t *testing.T, cp *controlplane.ControlPlane) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["harness"] = &clientcmdapi.Cluster{Server: cp.URL, CertificateAuthorityData: cp.Admin.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cp.Admin.CertData, ClientKeyData: cp.Admin.KeyData}
	cfg.Contexts["harness"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "harness"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func plainPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
	}
}

// kabPod has the shape the webhook gives a pod (the harness runs no webhook here): the status
// annotation, the injected label, kab-agent as a native sidecar with its metrics port and the
// app marker.
func kabPod(name string) *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	pod := plainPod(name)
	pod.Labels = map[string]string{shared.InjectedLabel: "true"}
	pod.Annotations = map[string]string{
		shared.Prefix + shared.KeyStatus:     shared.StatusInjected,
		shared.Prefix + shared.KeyBackupKeep: "7",
	}
	pod.Spec.InitContainers = []corev1.Container{{
		Name: mutation.AgentContainerName, Image: "kab-agent:dev", RestartPolicy: &always,
		Ports: []corev1.ContainerPort{{Name: mutation.MetricsPortName, ContainerPort: 9779}},
		Env:   []corev1.EnvVar{{Name: shared.EnvContainer, Value: "app"}},
	}}
	return pod
}

// createPod stores the pod and marks it running on a node that does not exist, as the kubelet
// would report it: the plugin then gets as far as the pod proxy and exec.
func createPod(t *testing.T, cs kubernetes.Interface, ns string, pod *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	pod.Spec.NodeName = "node-that-is-not-there"
	created, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	created.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.0.0.9", PodIPs: []corev1.PodIP{{IP: "10.0.0.9"}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "app:1", State: running, Ready: true}},
	}
	for _, c := range pod.Spec.InitContainers {
		created.Status.InitContainerStatuses = append(created.Status.InitContainerStatuses,
			corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: running, Ready: true})
	}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// must fails the test on a create's error; it takes the call's two results as they come.
func must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
