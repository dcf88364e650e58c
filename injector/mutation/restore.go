package mutation

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/shared"
)

// addRestoreContainer is DESIGN §4 step 3. It returns the restore container's index among the
// init containers (the agent goes right after it), or -1 when there is none.
func addRestoreContainer(pod *corev1.Pod, app *corev1.Container, spec *shared.Spec) int {
	if i := indexOfContainer(pod.Spec.InitContainers, UserRestoreContainerName); i >= 0 {
		// The user's own restorer keeps its image, command and position; it only gets the
		// folder and the same env a kab-restore would.
		userRestorer := &pod.Spec.InitContainers[i]
		addBackupMount(userRestorer, spec)
		setEnv(userRestorer, restoreEnv(spec)...)
		return i
	}
	if spec.RestoreExec == "" {
		return -1
	}
	pod.Spec.InitContainers = insertContainer(pod.Spec.InitContainers, 0, restoreContainer(app, spec))
	return 0
}

// restoreContainer clones what makes the app's filesystem view and identity — image, env,
// mounts, working dir, user, resources — so restore-exec sees what backup-exec saw. What would
// make an init container keep running or be probed (probes, lifecycle, ports, restart and
// resize policies) is left out, as are args: the command is the restore shell and script.
func restoreContainer(app *corev1.Container, spec *shared.Spec) corev1.Container {
	clone := app.DeepCopy()
	restore := corev1.Container{
		Name:            RestoreContainerName,
		Image:           clone.Image,
		ImagePullPolicy: clone.ImagePullPolicy,
		Command:         append(append([]string{}, spec.RestoreShell...), spec.RestoreExec),
		WorkingDir:      clone.WorkingDir,
		EnvFrom:         clone.EnvFrom,
		Env:             clone.Env,
		VolumeMounts:    clone.VolumeMounts,
		Resources:       clone.Resources,
		SecurityContext: clone.SecurityContext,
	}
	addBackupMount(&restore, spec)
	setEnv(&restore, restoreEnv(spec)...)
	return restore
}

// restoreEnv tells a restore script where the backup is: in snapshot mode the latest complete
// snapshot, else the folder itself.
func restoreEnv(spec *shared.Spec) []corev1.EnvVar {
	from := shared.BackupDir
	if spec.SnapshotMode() {
		from = shared.BackupDir + "/latest"
	}
	return []corev1.EnvVar{
		{Name: shared.EnvBackupDir, Value: shared.BackupDir},
		{Name: shared.EnvName(shared.KeyBackupName), Value: spec.BackupName},
		{Name: shared.EnvRestoreFrom, Value: from},
	}
}
