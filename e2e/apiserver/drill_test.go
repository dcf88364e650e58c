//go:build integration

package apiserver

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/boanu/kab/e2e/controlplane"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/injector/tenancy"
	"github.com/boanu/kab/kubectl-kab/clitest"
	"github.com/boanu/kab/kubectl-kab/drill"
	"github.com/boanu/kab/shared"
)

// TestDrill: `kubectl kab drill` against the real API server with the webhook from deploy/base
// and the tenancy gate. The harness has no kubelet, so the test plays the kubelet's part where
// a drill needs one (it writes the drill pod's container statuses). It proves what the API
// server stores for a drill pod — the live folder read-only in kab-drill-copy only, the scratch
// folder as kab-backup, no agent, no fetch, no claim — and every error path of the plugin, each
// one line and a non-zero exit, with the drill pod deleted afterwards.
func TestDrill(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.startGuardedInjector(t, parseConfig(t, "agentImage: kab-agent:test\nvolume: {hostPath: {path: /var/lib/kab}}\n"), e.servingCertificate(t))
	ns, other := e.newNamespace(t, "shop", nil), e.newNamespace(t, "other", nil)

	snapshotPod := namedKabPod("db-0", "shop-db")
	snapshotPod.Annotations[shared.Prefix+shared.KeyBackupKeep] = "3"
	snapshotPod.Annotations[shared.Prefix+shared.KeyBackupVerify] = "test -s \"$KAB_BACKUP_DIR/dump\""
	snapshotPod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/db"}}}}
	snapshotPod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	live := e.createLive(t, ns, snapshotPod)
	e.createLive(t, ns, namedKabPod("seed-0", "shop-seed"))
	if _, err := e.admin.CoreV1().Pods(ns).Create(ctx, plainPod("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("the stored drill pod", func(t *testing.T) {
		want, scratch := drill.PodFor(live, "20261205T020000.000Z")
		stored, err := e.admin.CoreV1().Pods(ns).Create(ctx, want, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create the drill pod: %v", err)
		}
		defer e.admin.CoreV1().Pods(ns).Delete(ctx, stored.Name, metav1.DeleteOptions{})
		if strings.Join(scratch, ",") != "data" {
			t.Errorf("scratch volumes %v, want the app's host path volume data", scratch)
		}
		assertStoredDrill(t, stored)
	})

	t.Run("a drill claims no backup-name and reads no other namespace's", func(t *testing.T) {
		free := drillOf(t, namedKabPod("x", "never-used"))
		if _, err := e.admin.CoreV1().Pods(other).Create(ctx, free, metav1.CreateOptions{}); err != nil {
			t.Fatalf("a drill of an unclaimed backup-name: %v", err)
		}
		if _, err := e.admin.CoreV1().ConfigMaps(e.manifest.Namespace.Name).Get(ctx, tenancy.ClaimName("never-used"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the drill pod claimed never-used (get claim: %v)", err)
		}
		_, err := e.admin.CoreV1().Pods(other).Create(ctx, drillOf(t, namedKabPod("y", "shop-db")), metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "belongs to namespace shop") {
			t.Errorf("a drill in %s of shop's backup-name: %v, want a denial naming the owner", other, err)
		}
	})

	kubeconfig := e.kubeconfig(t)
	// alice may read pods but not create them; bob may run drills but not exec.
	controlplane.GrantUser(t, e.admin, ns, "alice", []string{"get", "list"}, "pods")
	controlplane.GrantUser(t, e.admin, ns, "bob", []string{"get", "list", "create", "delete"}, "pods")

	errorCases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown pod", []string{"drill", "-n", ns, "nope"}, `pods "nope" not found`},
		{"pod without kab", []string{"drill", "-n", ns, "web"}, "shop/web: pod has no kab agent"},
		{"bad snapshot", []string{"drill", "-n", ns, "db-0", "--snapshot", "yesterday"}, `--snapshot "yesterday": want "latest" or a stamp`},
		{"stamp of a seed-mode pod", []string{"drill", "-n", ns, "seed-0", "--snapshot", "20261205T020000.000Z"}, "keeps no snapshots (seed mode"},
		{"bad output", []string{"drill", "-n", ns, "db-0", "-o", "wide"}, `--output "wide": want table, json or yaml`},
		{"no create right", []string{"--as", "alice", "drill", "-n", ns, "db-0"}, `you may not create+delete pods in namespace shop (RBAC: grant verb "create" and "delete" on resource "pods")`},
		{"no exec right for backup-verify", []string{"--as", "bob", "drill", "-n", ns, "db-0"}, `grant verb "create" and "get" on resource "pods/exec"`},
	}
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := clitest.Run(t, kubeconfig, c.args...)
			clitest.WantOneLineError(t, code, stderr, c.want)
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			e.assertNoDrillPods(t, ns)
		})
	}

	t.Run("unknown snapshot", func(t *testing.T) {
		done := e.playKubelet(t, ns, func(pod *corev1.Pod) {
			pod.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated(mutation.DrillCopyContainerName, 1,
				"snapshot 20261101T000000.000Z does not exist; the snapshots are: 20261205T020000.000Z, 20261204T020000.000Z")}
		})
		code, stdout, stderr := clitest.Run(t, kubeconfig, "drill", "-n", ns, "db-0", "--snapshot", "20261101T000000.000Z")
		<-done
		clitest.WantOneLineError(t, code, stderr, "shop/db-0: snapshot 20261101T000000.000Z does not exist; the snapshots are: 20261205T020000.000Z, 20261204T020000.000Z")
		if stdout != "" {
			t.Errorf("stdout %q, want nothing", stdout)
		}
		e.assertNoDrillPods(t, ns)
	})

	t.Run("failed restore", func(t *testing.T) {
		done := e.playKubelet(t, ns, func(pod *corev1.Pod) {
			pod.Status.InitContainerStatuses = []corev1.ContainerStatus{
				terminated(mutation.DrillCopyContainerName, 0, `{"snapshot":"20261205T020000.000Z","files":1,"bytes":9}`),
				terminated(mutation.RestoreContainerName, 3, "cp: can't stat '/kab-backup/dump'"),
			}
		})
		code, stdout, stderr := clitest.Run(t, kubeconfig, "drill", "-n", ns, "db-0", "-o", "json")
		<-done
		if code != 1 || !strings.Contains(stdout, `"result": "failed"`) || !strings.Contains(stdout, `"snapshot": "20261205T020000.000Z"`) ||
			!strings.Contains(stderr, "init container kab-restore exited with code 3") {
			t.Errorf("exit %d, stdout %s, stderr %q: want 1, a failed JSON report of the snapshot, the reason", code, stdout, stderr)
		}
		e.assertNoDrillPods(t, ns)
	})

	t.Run("a drill that passes", func(t *testing.T) {
		done := e.playKubelet(t, ns, func(pod *corev1.Pod) {
			pod.Status.Phase = corev1.PodRunning
			pod.Status.InitContainerStatuses = []corev1.ContainerStatus{
				terminated(mutation.DrillCopyContainerName, 0, `{"files":3,"bytes":2048}`),
				terminated(mutation.RestoreContainerName, 0, ""),
			}
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "x", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
		})
		code, stdout, stderr := clitest.Run(t, kubeconfig, "drill", "-n", ns, "seed-0")
		<-done
		if code != 0 || stderr != "" || !regexpMatch(`(?m)^seed-0 +shop-seed +\(seed\) +3 +2\.0KiB +0\.0s +[0-9.]+s +none +success +-$`, stdout) {
			t.Errorf("exit %d, stdout:\n%s\nstderr %q: want 0 and a success row for seed-0 (3 files, 2.0KiB)", code, stdout, stderr)
		}
		e.assertNoDrillPods(t, ns)
	})

	t.Run("timeout", func(t *testing.T) {
		code, stdout, stderr := clitest.Run(t, kubeconfig, "drill", "-n", ns, "seed-0", "--timeout", "2s")
		if code != 1 || !strings.Contains(stdout, "timed out after 2s while copying the snapshot") {
			t.Errorf("exit %d, stdout %q, stderr %q: want 1 and a report naming the stage", code, stdout, stderr)
		}
		e.assertNoDrillPods(t, ns)
	})
}

// createLive creates a kab pod through the webhook and checks it was injected.
func (e *env) createLive(t *testing.T, ns string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	created, err := e.admin.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", pod.Name, err)
	}
	assertInjected(t, created)
	return created
}

// drillOf is the drill pod for a pod as the webhook would have injected it.
func drillOf(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	pod.Annotations[shared.Prefix+shared.KeyDrill] = shared.DrillLatest
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	return pod
}

// assertStoredDrill: what makes a drill pod safe, on the pod as the API server stored it.
func assertStoredDrill(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if pod.Annotations[shared.Prefix+shared.KeyStatus] != shared.StatusInjected {
		t.Errorf("drill pod status annotation %q, want injected", pod.Annotations[shared.Prefix+shared.KeyStatus])
	}
	if len(pod.Spec.InitContainers) == 0 || pod.Spec.InitContainers[0].Name != mutation.DrillCopyContainerName {
		t.Fatalf("drill pod init containers %v, want %s first", names(pod.Spec.InitContainers), mutation.DrillCopyContainerName)
	}
	copyStep := pod.Spec.InitContainers[0]
	var sourceMounts, scratchMounts int
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == mutation.AgentContainerName || c.Name == mutation.FetchContainerName {
			t.Errorf("the drill pod has %s", c.Name)
		}
		for _, m := range c.VolumeMounts {
			switch m.Name {
			case mutation.DrillSourceVolumeName:
				sourceMounts++
				if c.Name != copyStep.Name || !m.ReadOnly || m.SubPath != "shop-db" {
					t.Errorf("container %s mounts the live folder %+v; only %s may, read-only, at subPath shop-db", c.Name, m, copyStep.Name)
				}
			case mutation.BackupVolumeName:
				scratchMounts++
			}
		}
	}
	if sourceMounts != 1 || scratchMounts != 3 {
		t.Errorf("%d mounts of the live folder and %d of the scratch folder, want 1 (the copy) and 3 (copy, restore, app)", sourceMounts, scratchMounts)
	}
	for _, v := range pod.Spec.Volumes {
		switch v.Name {
		case mutation.BackupVolumeName:
			if v.EmptyDir == nil {
				t.Errorf("kab-backup is %s, want the scratch emptyDir", toYAML(v.VolumeSource))
			}
		case mutation.DrillSourceVolumeName:
			if v.HostPath == nil || v.HostPath.Path != "/var/lib/kab" {
				t.Errorf("kab-drill-source is %s, want the configured host path", toYAML(v.VolumeSource))
			}
		case "data":
			if v.EmptyDir == nil {
				t.Errorf("the app's data volume is %s in the drill pod, want an emptyDir", toYAML(v.VolumeSource))
			}
		}
	}
	// No agent, so nothing for a PodMonitor and no marker for an agent to look for.
	if pod.Labels[shared.InjectedLabel] != "" || hasAgentEnv(pod) {
		t.Errorf("the drill pod has the injected label (%q) or the agent's marker env (%v)", pod.Labels[shared.InjectedLabel], hasAgentEnv(pod))
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever || len(pod.OwnerReferences) != 0 {
		t.Errorf("restartPolicy %s, owners %v: want Never and none", pod.Spec.RestartPolicy, pod.OwnerReferences)
	}
}

func hasAgentEnv(pod *corev1.Pod) bool {
	for _, c := range pod.Spec.Containers {
		for _, env := range c.Env {
			if env.Name == shared.EnvContainer {
				return true
			}
		}
	}
	return false
}

func names(list []corev1.Container) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.Name)
	}
	return out
}

func terminated(name string, code int32, msg string) corev1.ContainerStatus {
	now := metav1.Now()
	return corev1.ContainerStatus{Name: name, Image: "x", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Message: msg, StartedAt: now, FinishedAt: now,
	}}}
}

// playKubelet waits for the plugin's drill pod and writes the status set gives it, as the
// kubelet would after running its containers. done closes when it has.
func (e *env) playKubelet(t *testing.T, ns string, set func(*corev1.Pod)) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := context.Background()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			list, err := e.admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: drill.LabelDrill + "=true"})
			if err == nil && len(list.Items) > 0 {
				pod := list.Items[0]
				pod.Status.Phase = corev1.PodPending
				set(&pod)
				if _, err := e.admin.CoreV1().Pods(ns).UpdateStatus(ctx, &pod, metav1.UpdateOptions{}); err != nil {
					t.Errorf("write the drill pod's status: %v", err)
				}
				return
			}
			time.Sleep(pollEvery)
		}
		t.Error("the plugin created no drill pod within 30s")
	}()
	return done
}

// assertNoDrillPods: every way out of a drill deletes its pod.
func (e *env) assertNoDrillPods(t *testing.T, ns string) {
	t.Helper()
	list, err := e.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: drill.LabelDrill + "=true"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			t.Errorf("drill pod %s is left behind", p.Name)
		}
	}
}

func (e *env) kubeconfig(t *testing.T) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["harness"] = &clientcmdapi.Cluster{Server: e.cp.URL, CertificateAuthorityData: e.cp.Admin.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.cp.Admin.CertData, ClientKeyData: e.cp.Admin.KeyData}
	cfg.Contexts["harness"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "harness"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
