package mutation

import (
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// backupVolume is the shared backup folder as the injector's config describes it. Sources are
// deep-copied so pods never share pointers with the config (or with each other).
func backupVolume(source config.Volume) corev1.Volume {
	v := corev1.Volume{Name: BackupVolumeName}
	switch {
	case source.NFS != nil:
		v.NFS = source.NFS.DeepCopy()
	case source.HostPath != nil:
		v.HostPath = source.HostPath.DeepCopy()
	case source.PersistentVolumeClaim != nil:
		v.PersistentVolumeClaim = source.PersistentVolumeClaim.DeepCopy()
	}
	return v
}

// backupMount mounts the pod's own folder of the volume: subPath makes the kubelet create
// <backup-name>, so /kab-backup is that folder and one app never sees another's backups.
func backupMount(spec *shared.Spec) corev1.VolumeMount {
	return corev1.VolumeMount{Name: BackupVolumeName, MountPath: shared.BackupDir, SubPath: spec.BackupName}
}

// placeBackupFolder points every mount of the backup volume at the pod's folder under the
// configured layout: namespaced puts it below <namespace>/ so namespaces cannot name each
// other's folders (DESIGN §11); flat keeps the seed's <backup-name>.
func placeBackupFolder(pod *corev1.Pod, spec *shared.Spec, layout config.Layout) {
	if layout != config.LayoutNamespaced {
		return
	}
	folder := pod.Namespace + "/" + spec.BackupName
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			for j := range list[i].VolumeMounts {
				if list[i].VolumeMounts[j].Name == BackupVolumeName {
					list[i].VolumeMounts[j].SubPath = folder
				}
			}
		}
	}
}

// layoutProblems: the namespaced layout names the folder by the pod's namespace, which the
// webhook copies from the admission request; a pod without one cannot be placed.
func layoutProblems(pod *corev1.Pod, layout config.Layout) []error {
	if layout == config.LayoutNamespaced && pod.Namespace == "" {
		return []error{errors.New("metadata.namespace: is empty; the namespaced layout puts backups at <namespace>/<backup-name> and needs it")}
	}
	return nil
}

func addBackupMount(c *corev1.Container, spec *shared.Spec) {
	c.VolumeMounts = append(c.VolumeMounts, backupMount(spec))
}

// setEnv sets a variable, replacing an earlier definition: with a duplicate name the kubelet
// would pick one silently, and kab's values (the marker, the backup dir) must be the ones seen.
func setEnv(c *corev1.Container, vars ...corev1.EnvVar) {
	c.Env = slices.Grow(c.Env, len(vars))
	for _, v := range vars {
		replaced := false
		for i := range c.Env {
			if c.Env[i].Name == v.Name {
				c.Env[i] = v
				replaced = true
			}
		}
		if !replaced {
			c.Env = append(c.Env, v)
		}
	}
}
