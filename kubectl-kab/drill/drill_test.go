package drill_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/e2e/golden"
	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/kubectl-kab/drill"
	"github.com/boanu/kab/shared"
)

func loadPod(t *testing.T, path string) *corev1.Pod {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict(raw, pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pod
}

// PodFor takes out what the injector and the control plane added, keeps the app as written,
// and replaces the data volumes; the webhook's Mutate then injects it as a drill: the live
// folder read-only in kab-drill-copy only, the scratch folder as kab-backup, no agent.
func TestPodForRoundTripsThroughTheInjector(t *testing.T) {
	live := loadPod(t, "testdata/live.pod.yaml")
	before, _ := yaml.Marshal(live)
	pod, scratch := drill.PodFor(live, "20261205T020000.000Z")
	if after, _ := yaml.Marshal(live); !bytes.Equal(before, after) {
		t.Fatal("PodFor modified the live pod")
	}
	if strings.Join(scratch, ",") != "data,cache" {
		t.Errorf("scratch volumes %v, want data and cache (the claim and the host path)", scratch)
	}
	out, err := yaml.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/drill.pod.golden.yaml", out)

	cfg, err := config.Parse([]byte("agentImage: kab-agent:test\nvolume: {nfs: {server: nas.lan, path: /data/backup}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	injected, outcome, err := mutation.Mutate(pod, cfg)
	if err != nil || outcome != mutation.Injected {
		t.Fatalf("the webhook would not inject the drill pod: %v %v", outcome, err)
	}
	assertDrillInjection(t, injected)
}

// assertDrillInjection: what makes a drill safe, checked on the injected pod.
func assertDrillInjection(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		switch c.Name {
		case mutation.AgentContainerName, mutation.FetchContainerName:
			t.Errorf("the drill pod has %s", c.Name)
		}
		for _, m := range c.VolumeMounts {
			if m.Name != mutation.DrillSourceVolumeName {
				continue
			}
			if c.Name != mutation.DrillCopyContainerName || !m.ReadOnly {
				t.Errorf("container %s mounts the live folder (read-only %v); only kab-drill-copy may, read-only", c.Name, m.ReadOnly)
			}
		}
	}
	if pod.Spec.InitContainers[0].Name != mutation.DrillCopyContainerName {
		t.Errorf("first init container %s, want %s", pod.Spec.InitContainers[0].Name, mutation.DrillCopyContainerName)
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name == mutation.BackupVolumeName && v.EmptyDir == nil {
			t.Errorf("volume kab-backup is %+v, want the scratch emptyDir", v.VolumeSource)
		}
		if v.Name == mutation.OffsiteVolumeName || v.Name == mutation.OffsiteFetchVolumeName {
			t.Errorf("the drill pod mounts the offsite Secret (%s)", v.Name)
		}
	}
}

func TestPodForSeedModeAndLongNames(t *testing.T) {
	live := loadPod(t, "testdata/live.pod.yaml")
	live.Name = strings.Repeat("a", 70)
	delete(live.Annotations, shared.Prefix+shared.KeyBackupKeep)
	pod, _ := drill.PodFor(live, shared.DrillLatest)
	if len(pod.GenerateName) > 48 || !strings.HasSuffix(pod.GenerateName, "-drill-") {
		t.Errorf("generateName %q: want a short prefix ending in -drill-", pod.GenerateName)
	}
	if _, ok := pod.Labels[drill.LabelDrillOf]; ok {
		t.Error("a 70-character pod name became a label value (at most 63 are valid)")
	}
	if pod.Annotations[shared.Prefix+shared.KeyDrill] != shared.DrillLatest {
		t.Errorf("drill annotation %q, want latest", pod.Annotations[shared.Prefix+shared.KeyDrill])
	}
}

var t0 = metav1.NewTime(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))

func ended(name string, code int32, msg string, seconds int) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Message: msg, StartedAt: t0, FinishedAt: metav1.NewTime(t0.Add(time.Duration(seconds) * time.Second)),
	}}}
}

func drillPod(init []corev1.ContainerStatus, app *corev1.ContainerStatus) *corev1.Pod {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: mutation.DrillCopyContainerName}, {Name: mutation.RestoreContainerName}},
		Containers:     []corev1.Container{{Name: "app"}},
	}}
	pod.Status.Phase = corev1.PodPending
	pod.Status.InitContainerStatuses = init
	if app != nil {
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{*app}
		pod.Status.Phase = corev1.PodRunning
	}
	return pod
}

func TestObserve(t *testing.T) {
	copied := ended(mutation.DrillCopyContainerName, 0, `{"snapshot":"20261205T020000.000Z","files":2,"bytes":4113}`, 1)
	restored := ended(mutation.RestoreContainerName, 0, "", 3)
	running := corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	ready := running
	ready.Ready = true
	for _, c := range []struct {
		name       string
		pod        *corev1.Pod
		stage      drill.Stage
		reason     string
		copyFailed bool
	}{
		{"nothing yet", drillPod(nil, nil), drill.StageCopying, "", false},
		{"copying", drillPod([]corev1.ContainerStatus{{Name: mutation.DrillCopyContainerName}}, nil), drill.StageCopying, "", false},
		{"restoring", drillPod([]corev1.ContainerStatus{copied}, nil), drill.StageRestoring, "init container kab-restore", false},
		{"starting", drillPod([]corev1.ContainerStatus{copied, restored}, &running), drill.StageStarting, "the app is running, not ready yet", false},
		{"ready", drillPod([]corev1.ContainerStatus{copied, restored}, &ready), drill.StageReady, "", false},
		{"unknown snapshot", drillPod([]corev1.ContainerStatus{ended(mutation.DrillCopyContainerName, 1, "snapshot X does not exist;\nthe snapshots are: A", 0)}, nil),
			drill.StageFailed, "snapshot X does not exist; the snapshots are: A", true},
		{"restore failed", drillPod([]corev1.ContainerStatus{copied, ended(mutation.RestoreContainerName, 2, "no dump", 1)}, nil),
			drill.StageFailed, "init container kab-restore exited with code 2: no dump", false},
		{"app crashed", drillPod([]corev1.ContainerStatus{copied, restored}, &corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}),
			drill.StageFailed, "the app container app exited with code 1 (Error) instead of becoming ready", false},
		{"image missing", drillPod([]corev1.ContainerStatus{copied, restored}, &corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "not found"}}}),
			drill.StageFailed, "the app container app: ErrImagePull: not found", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := drill.Observe(c.pod, "app")
			if got.Stage != c.stage || got.Reason != c.reason || got.CopyFailed != c.copyFailed {
				t.Errorf("Observe = %+v, want stage %q reason %q copyFailed %v", got, c.stage, c.reason, c.copyFailed)
			}
		})
	}
	pod := drillPod([]corev1.ContainerStatus{copied, restored}, &ready)
	if stamp, files, bytes, ok := drill.Copied(pod); !ok || stamp != "20261205T020000.000Z" || files != 2 || bytes != 4113 {
		t.Errorf("Copied = %q %d %d %v", stamp, files, bytes, ok)
	}
	if d, ok := drill.Ran(pod, drill.RestoreContainer(pod)); !ok || d != 3*time.Second {
		t.Errorf("restore ran %s %v, want 3s", d, ok)
	}
}

func f(v float64) *float64 { return &v }
func i(v int) *int         { return &v }

// The report in its three formats, for a passing and a failing drill.
func TestReportGolden(t *testing.T) {
	good := drill.NewResult("shop", "db-0", "shop-db", "snapshot")
	good.DrillPod, good.Snapshot, good.Files, good.Bytes = "db-0-drill-x7k2p", "20261205T020000.000Z", 2, 4113
	good.CopySeconds, good.RestoreSeconds, good.ReadySeconds = f(1), f(3), f(7.42)
	good.Verify, good.VerifyExitCode, good.VerifyOutput = drill.VerifyPassed, i(0), "ok"
	good.ScratchVolumes = []string{"data"}
	good.Result = drill.ResultSuccess

	bad := drill.NewResult("shop", "db-0", "shop-db", "snapshot")
	bad.DrillPod, bad.Snapshot, bad.Files, bad.Bytes = "db-0-drill-q9w8e", "20261204T020000.000Z", 2, 17
	bad.CopySeconds, bad.RestoreSeconds, bad.ReadySeconds = f(0), f(1), f(5.03)
	bad.Verify, bad.VerifyExitCode, bad.VerifyOutput = drill.VerifyFailed, i(1), "Error: file is not a database"
	bad.Fail("backup-verify exited with code 1")

	seed := drill.NewResult("media", "photos-0", "photos", "seed")
	seed.DrillPod = "photos-0-drill-a1b2c"
	seed.Fail("init container kab-restore exited with code 2: no dump")

	var table bytes.Buffer
	for _, r := range []*drill.Result{good, bad, seed} {
		if err := drill.WriteTable(&table, r); err != nil {
			t.Fatal(err)
		}
		table.WriteString("\n")
	}
	golden.Check(t, filepath.Join("testdata", "drill.table.golden"), table.Bytes())
	for _, format := range []string{"json", "yaml"} {
		printer, err := genericclioptions.NewJSONYamlPrintFlags().ToPrinter(format)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, r := range []*drill.Result{good, bad} {
			if err := printer.PrintObj(r, &out); err != nil {
				t.Fatal(err)
			}
		}
		golden.Check(t, filepath.Join("testdata", "drill."+format+".golden"), out.Bytes())
	}
}
