// Package drill is `kubectl kab drill` without the API calls: the throwaway pod made from a
// live kab pod, the reading of its status while it restores, and the report.
package drill

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/shared"
)

// Labels on a drill pod. Never the app's own labels: a Service would send it traffic, and a
// ReplicaSet whose selector matched would adopt it and scale the app down to make room.
const (
	LabelDrill   = shared.Prefix + "drill"
	LabelDrillOf = shared.Prefix + "drill-of"
)

// kabInitContainers are what the injector added to the live pod; the drill pod gets its own.
var kabInitContainers = []string{mutation.RestoreContainerName, mutation.AgentContainerName, mutation.FetchContainerName, mutation.DrillCopyContainerName}

// kabVolumes likewise.
var kabVolumes = []string{mutation.BackupVolumeName, mutation.OffsiteVolumeName, mutation.OffsiteFetchVolumeName, mutation.DrillSourceVolumeName}

// serviceAccountTokenPrefix names the token volume the API server adds to every pod; the drill
// pod gets a fresh one.
const serviceAccountTokenPrefix = "kube-api-access-"

// PodFor is the drill pod for a live kab pod: the app's spec as the user wrote it — the live
// pod with what the injector and the API server added taken out — with the kab annotations and
// kab.boa.nu/drill: snapshot, so the webhook injects it as a drill (DESIGN §12). The app's
// volumes that hold data (claims, host paths, network volumes) are replaced by empty scratch
// folders: the drill restores into those, never into the app's own data. scratch lists them.
func PodFor(live *corev1.Pod, snapshot string) (pod *corev1.Pod, scratch []string) {
	pod = &corev1.Pod{}
	pod.Namespace = live.Namespace
	pod.GenerateName = shorten(live.Name, 40) + "-drill-"
	pod.Labels = map[string]string{LabelDrill: "true"}
	if len(validation.IsValidLabelValue(live.Name)) == 0 {
		pod.Labels[LabelDrillOf] = live.Name
	}
	pod.Annotations = map[string]string{}
	for k, v := range live.Annotations {
		if strings.HasPrefix(k, shared.Prefix) && k != shared.Prefix+shared.KeyStatus {
			pod.Annotations[k] = v
		}
	}
	pod.Annotations[shared.Prefix+shared.KeyDrill] = snapshot

	spec := live.Spec.DeepCopy()
	// What the scheduler and the admission plugins fill in; they fill it in again.
	spec.NodeName = ""
	spec.Priority = nil
	spec.PreemptionPolicy = nil
	spec.DeprecatedServiceAccount = ""
	spec.EphemeralContainers = nil
	spec.SchedulingGates = nil
	// No DNS record in the app's headless Service; a drill is never restarted: a failed
	// restore or a crashing app is the drill's result.
	spec.Subdomain = ""
	spec.RestartPolicy = corev1.RestartPolicyNever

	spec.InitContainers = withoutContainers(spec.InitContainers, kabInitContainers)
	var dropped []string
	var volumes []corev1.Volume
	for _, v := range spec.Volumes {
		switch {
		case contains(kabVolumes, v.Name) || isServiceAccountToken(v):
			dropped = append(dropped, v.Name)
			continue
		case holdsData(v):
			scratch = append(scratch, v.Name)
			v = corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
		}
		volumes = append(volumes, v)
	}
	spec.Volumes = volumes
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			c := &list[i]
			c.VolumeMounts = withoutMounts(c.VolumeMounts, dropped)
			c.Env = withoutEnv(c.Env, shared.EnvContainer)
		}
	}
	pod.Spec = *spec
	return pod, scratch
}

// holdsData: a volume the app may write that outlives the pod or is shared with the live one.
// Config, secrets, downward API, image volumes and per-pod scratch stay as they are.
func holdsData(v corev1.Volume) bool {
	s := v.VolumeSource
	switch {
	case s.EmptyDir != nil, s.ConfigMap != nil, s.Secret != nil, s.Projected != nil, s.DownwardAPI != nil, s.Image != nil:
		return false
	case s.CSI != nil:
		// Inline CSI volumes are mostly secret stores; a writable one could be anything.
		return s.CSI.ReadOnly == nil || !*s.CSI.ReadOnly
	}
	return true
}

func isServiceAccountToken(v corev1.Volume) bool {
	if v.Projected == nil || !strings.HasPrefix(v.Name, serviceAccountTokenPrefix) {
		return false
	}
	for _, src := range v.Projected.Sources {
		if src.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}

func withoutContainers(list []corev1.Container, names []string) []corev1.Container {
	var out []corev1.Container
	for _, c := range list {
		if !contains(names, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func withoutMounts(list []corev1.VolumeMount, volumes []string) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, m := range list {
		if !contains(volumes, m.Name) {
			out = append(out, m)
		}
	}
	return out
}

func withoutEnv(list []corev1.EnvVar, name string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range list {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shorten keeps generated names readable and within the 63 characters a hostname allows.
func shorten(name string, n int) string {
	if len(name) <= n {
		return name
	}
	return strings.TrimRight(name[:n], "-.")
}
