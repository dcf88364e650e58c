package mutation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// Restore drill (`kubectl kab drill`, DESIGN §12): a throwaway pod, made by the plugin from the
// app's own spec and marked with kab.boa.nu/drill, proves a backup restores without touching
// the app or its backups. Its volume named kab-backup is a scratch emptyDir, so the restore
// container and the app — which mount kab-backup as always — can write only to the scratch
// copy; the live folder is mounted in one place only, read-only, in the container that copies
// the chosen snapshot into the scratch folder. No agent (no backups), no kab-fetch (no
// offsite), and the tenancy gate checks ownership of the backup-name without claiming it.
const (
	DrillCopyContainerName = "kab-drill-copy"
	DrillSourceVolumeName  = "kab-drill-source"
	// DrillSourceDir is where kab-drill-copy sees the live backup folder, read-only.
	DrillSourceDir      = "/kab-drill-source"
	drillCopySubcommand = "drill-copy"
	drillRunIDPrefix    = "drill-"
)

// drillProblems: the names kab adds only to a drill pod, checked like the other reserved names.
func drillProblems(pod *corev1.Pod) []error {
	if pod.Annotations[shared.Prefix+shared.KeyDrill] == "" {
		return nil
	}
	var problems []error
	for _, v := range pod.Spec.Volumes {
		if v.Name == DrillSourceVolumeName {
			problems = append(problems, fmt.Errorf("the pod already has a volume named %q; a restore drill adds the live backup folder under that name, so rename yours", v.Name))
		}
	}
	for _, name := range allContainerNames(pod) {
		if name == DrillCopyContainerName {
			problems = append(problems, fmt.Errorf("the pod already has a container named %q; a restore drill adds its copy step under that name, so rename yours", name))
		}
	}
	return problems
}

// injectDrill is inject for a drill pod (DESIGN §4 steps 2, 3 and 5; step 4 and offsite are
// left out on purpose).
func injectDrill(pod *corev1.Pod, app *corev1.Container, spec *shared.Spec, cfg *config.Config) {
	scratch := corev1.Volume{Name: BackupVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	source := backupVolume(cfg.Volume)
	source.Name = DrillSourceVolumeName
	// Read-only at the source too, where the source kind has the switch: a mount flag alone
	// would already do, this keeps a future mount of the volume from being writable by mistake.
	if source.NFS != nil {
		source.NFS.ReadOnly = true
	}
	if source.PersistentVolumeClaim != nil {
		source.PersistentVolumeClaim.ReadOnly = true
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, scratch, source)

	addRestoreContainer(pod, app, spec)
	addBackupMount(app, spec)
	// backup-verify runs through exec in the app container; exec cannot set env, so the app
	// carries what the agent would give the script.
	setEnv(app, drillVerifyEnv(spec)...)
	// First of all init containers: the scratch folder is filled before anything reads it.
	pod.Spec.InitContainers = insertContainer(pod.Spec.InitContainers, 0, drillCopyContainer(pod, spec, cfg))
	placeBackupFolder(pod, spec, cfg.Layout)
	pod.Annotations[shared.Prefix+shared.KeyStatus] = shared.StatusInjected
}

// drillCopyContainer runs `kab-agent drill-copy`: it copies the chosen snapshot (or, in seed
// mode, the folder) from the read-only live folder into the scratch folder, laid out as a
// backup folder (snapshots/<stamp>/ + latest), keeping owners, modes and times so the restore
// script meets the files as it would in the live folder. It runs as root with the three
// capabilities that copying someone else's files takes (all within Pod Security baseline).
func drillCopyContainer(pod *corev1.Pod, spec *shared.Spec, cfg *config.Config) corev1.Container {
	no, yes, root := false, true, int64(0)
	ifPossible := corev1.RecursiveReadOnlyIfPossible
	return corev1.Container{
		Name:  DrillCopyContainerName,
		Image: cfg.AgentImage,
		Args:  []string{drillCopySubcommand},
		Env: []corev1.EnvVar{
			{Name: shared.EnvName(shared.KeyDrill), Value: spec.Drill},
			{Name: shared.EnvName(shared.KeyBackupKeep), Value: spec.Value(shared.KeyBackupKeep)},
			{Name: shared.EnvName(shared.KeyBackupName), Value: spec.BackupName},
			{Name: shared.EnvBackupDir, Value: shared.BackupDir},
			{Name: shared.EnvDrillSource, Value: DrillSourceDir},
		},
		Resources: *cfg.AgentResources.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{
			{
				Name: DrillSourceVolumeName, MountPath: DrillSourceDir, SubPath: liveFolder(pod, spec, cfg.Layout),
				ReadOnly: true, RecursiveReadOnly: &ifPossible,
			},
			backupMount(spec),
		},
		// The kubelet shows the message (snapshot copied, or why not) in the pod's status, where
		// the plugin reads it without exec rights.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			RunAsUser:                &root,
			RunAsNonRoot:             &no,
			AllowPrivilegeEscalation: &no,
			ReadOnlyRootFilesystem:   &yes,
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			Capabilities: &corev1.Capabilities{
				Drop: []corev1.Capability{"ALL"},
				Add:  []corev1.Capability{"CHOWN", "DAC_OVERRIDE", "FOWNER"},
			},
		},
	}
}

// liveFolder is the backup folder's path in the volume under the layout, as placeBackupFolder
// gives it to a normal pod's mounts.
func liveFolder(pod *corev1.Pod, spec *shared.Spec, layout config.Layout) string {
	if layout == config.LayoutNamespaced {
		return pod.Namespace + "/" + spec.BackupName
	}
	return spec.BackupName
}

// drillVerifyEnv is the environment the agent gives backup-verify (DESIGN §9), pointed at the
// restored copy: KAB_BACKUP_DIR is what the drill copied (latest in snapshot mode, which the
// copy links to the chosen snapshot).
func drillVerifyEnv(spec *shared.Spec) []corev1.EnvVar {
	dir := shared.BackupDir
	if spec.SnapshotMode() {
		dir = shared.BackupDir + "/" + shared.DrillLatest
	}
	return []corev1.EnvVar{
		{Name: shared.EnvBackupDir, Value: dir},
		{Name: shared.EnvName(shared.KeyBackupName), Value: spec.BackupName},
		{Name: shared.EnvRunID, Value: drillRunIDPrefix + spec.Drill},
		fieldEnv(shared.EnvPodName, "metadata.name"),
		fieldEnv(shared.EnvPodNamespace, "metadata.namespace"),
	}
}
