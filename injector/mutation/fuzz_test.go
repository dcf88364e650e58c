package mutation_test

import (
	"path"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/shared"
)

// FuzzMutateAnnotations feeds arbitrary kab annotations to Mutate on a realistic pod: it never
// panics, and either denies or returns a pod that keeps kab's invariants.
func FuzzMutateAnnotations(f *testing.F) {
	f.Add("backup-exec", "cp -a /data/. /kab-backup/", "restore-exec", "cp -a /kab-backup/. /data/", "backup-name", "notes")
	f.Add("backup-exec", "x", "backup-keep", "7", "backup-schedule", "CRON_TZ=Europe/Oslo 0 3 * * *")
	f.Add("backup-name", "../x", "backup-shedule", "100", "backup-exec-shell", "sh -c")
	f.Add("restore-exec", "x", "restore-exec-shell", "/bin/bash -ec", "container-name", "app")
	f.Add("container-name", "sidecar", "backup-exec", "x", "backup-timeout", "0s")
	f.Add("status", "injected", "backup-exec", "x", "backup-keep", "1001")
	f.Add("backup-schedule", "@every 0s", "backup-exec", "", "backup-name", ".")

	cfg := fuzzConfig(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		pod := fuzzPod(map[string]string{shared.Prefix + k1: v1, shared.Prefix + k2: v2, shared.Prefix + k3: v3})
		out, outcome, err := mutation.Mutate(pod, cfg)
		if err != nil {
			if out != nil || err.Error() == "" {
				t.Fatalf("denial with a pod or without a message: %v", err)
			}
			return
		}
		if outcome != mutation.Injected {
			if out != pod {
				t.Fatalf("outcome %q but a different pod", outcome)
			}
			return
		}
		checkInvariants(t, out)
		if len(pod.Spec.InitContainers) != 1 || len(pod.Spec.Containers[0].VolumeMounts) != 1 {
			t.Fatal("Mutate modified its input")
		}
	})
}

func checkInvariants(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if pod.Annotations[shared.Prefix+shared.KeyStatus] != shared.StatusInjected || pod.Labels[shared.InjectedLabel] != "true" {
		t.Fatal("status annotation or label missing")
	}
	volumes := 0
	for _, v := range pod.Spec.Volumes {
		if v.Name == mutation.BackupVolumeName {
			volumes++
		}
	}
	if volumes != 1 {
		t.Fatalf("%d kab-backup volumes", volumes)
	}
	names := map[string]int{}
	var agent, restore *corev1.Container
	for i, c := range pod.Spec.InitContainers {
		names[c.Name]++
		switch c.Name {
		case mutation.AgentContainerName:
			agent = &pod.Spec.InitContainers[i]
		case mutation.RestoreContainerName:
			restore = &pod.Spec.InitContainers[i]
			if i != 0 {
				t.Fatalf("kab-restore at %d, want first", i)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		names[c.Name]++
	}
	for name, n := range names {
		if n > 1 {
			t.Fatalf("container name %q used %d times", name, n)
		}
	}
	app := &pod.Spec.Containers[0]
	for _, c := range []*corev1.Container{app, agent, restore} {
		if c == nil {
			continue
		}
		mounts := 0
		for _, m := range c.VolumeMounts {
			if m.MountPath == shared.BackupDir {
				mounts++
				if m.SubPath == "" || strings.Contains(m.SubPath, "/") || path.Clean(m.SubPath) != m.SubPath || m.SubPath == ".." || m.SubPath == "." {
					t.Fatalf("unsafe subPath %q", m.SubPath)
				}
			}
		}
		if mounts != 1 {
			t.Fatalf("container %q has %d mounts at %s", c.Name, mounts, shared.BackupDir)
		}
	}
	share := pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace
	if (agent != nil) != share {
		t.Fatalf("agent present %v but shareProcessNamespace %v", agent != nil, share)
	}
	if agent != nil && (agent.RestartPolicy == nil || *agent.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
		t.Fatal("agent is not a native sidecar")
	}
	if restore != nil && (restore.Args != nil || restore.LivenessProbe != nil || restore.Ports != nil || restore.Lifecycle != nil) {
		t.Fatal("restore clone kept args, probes, ports or lifecycle")
	}
}

func fuzzPod(annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1ObjectMeta("fuzz", annotations),
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "setup", Image: "busybox"}},
			Containers: []corev1.Container{{
				Name: "app", Image: "busybox", Args: []string{"serve"},
				Ports:         []corev1.ContainerPort{{ContainerPort: 8080}},
				LivenessProbe: &corev1.Probe{},
				VolumeMounts:  []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{Name: "data"}},
		},
	}
}
