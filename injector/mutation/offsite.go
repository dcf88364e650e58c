package mutation

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// Offsite names (DESIGN §10). Two volumes from the one Secret: kab-agent's leaves out the age
// identity — uploading needs only the public recipients, so the key that decrypts every copy is
// never in the long-running container that shares the app's PID namespace.
const (
	FetchContainerName     = "kab-fetch"
	OffsiteVolumeName      = "kab-offsite"
	OffsiteFetchVolumeName = "kab-offsite-fetch"
	OffsiteMountPath       = "/var/run/kab/offsite"
	offsiteIdentityKey     = "identity"
	offsiteAgentFileMode   = int32(0o400) // the agent runs as root
	offsiteFetchFileMode   = int32(0o400) // kab-fetch runs as root too; the app never mounts it
	offsiteFetchSubcommand = "fetch"
)

// offsiteAgentKeys are the Secret's keys kab-agent gets: all but the identity.
var offsiteAgentKeys = []string{"endpoint", "bucket", "accessKeyID", "secretAccessKey", "region", "prefix", "caBundle", "recipients"}

// addOffsite mounts the offsite Secret into kab-agent (without the identity) and adds kab-fetch
// before the restore container (first, when there is none), so a backup folder that lost its
// content is refilled from the bucket before restore-exec looks at it. restoreAt is the restore
// container's index among the init containers, or -1.
func addOffsite(pod *corev1.Pod, app *corev1.Container, spec *shared.Spec, cfg *config.Config, restoreAt int) {
	if spec.Offsite == "" {
		return
	}
	agentAt := indexOfContainer(pod.Spec.InitContainers, AgentContainerName)
	// Optional: a missing Secret or key reaches the agent and kab-fetch as a missing file, and
	// they fail naming the Secret and the key — clearer than the kubelet's mount error.
	optional := true
	agentMode, fetchMode := offsiteAgentFileMode, offsiteFetchFileMode
	var items []corev1.KeyToPath
	for _, key := range offsiteAgentKeys {
		items = append(items, corev1.KeyToPath{Key: key, Path: key})
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes,
		corev1.Volume{Name: OffsiteVolumeName, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: spec.Offsite, Items: items, DefaultMode: &agentMode, Optional: &optional,
		}}},
		corev1.Volume{Name: OffsiteFetchVolumeName, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: spec.Offsite, DefaultMode: &fetchMode, Optional: &optional,
		}}},
	)
	if agentAt >= 0 {
		agent := &pod.Spec.InitContainers[agentAt]
		agent.VolumeMounts = append(agent.VolumeMounts, corev1.VolumeMount{Name: OffsiteVolumeName, MountPath: OffsiteMountPath, ReadOnly: true})
	}
	at := max(restoreAt, 0)
	pod.Spec.InitContainers = insertContainer(pod.Spec.InitContainers, at, fetchContainer(pod, app, spec, cfg))
}

// fetchContainer is kab-fetch: the agent image running `kab-agent fetch`. It runs as root with
// only CHOWN, SETUID and SETGID (all within Pod Security baseline), because the kubelet creates
// the subPath folder owned by root: a brand-new folder — the "lost everything" case — is only
// writable after kab-fetch hands it to the app's uid/gid, as kab-agent does. It then unpacks
// with its fs ids switched to the app's, so every restored file belongs to the app.
func fetchContainer(pod *corev1.Pod, app *corev1.Container, spec *shared.Spec, cfg *config.Config) corev1.Container {
	no, yes, root := false, true, int64(0)
	sc := &corev1.SecurityContext{
		RunAsUser:                &root,
		RunAsNonRoot:             &no,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		Capabilities: &corev1.Capabilities{
			Drop: []corev1.Capability{"ALL"},
			Add:  []corev1.Capability{"CHOWN", "SETUID", "SETGID"},
		},
	}
	env := []corev1.EnvVar{
		{Name: shared.EnvName(shared.KeyOffsite), Value: spec.Offsite},
		{Name: shared.EnvName(shared.KeyBackupName), Value: spec.BackupName},
		{Name: shared.EnvName(shared.KeyBackupKeep), Value: spec.Value(shared.KeyBackupKeep)},
		{Name: shared.EnvBackupDir, Value: shared.BackupDir},
		fieldEnv(shared.EnvPodName, "metadata.name"),
		fieldEnv(shared.EnvPodNamespace, "metadata.namespace"),
	}
	// Unknown ids (the image's USER decides, which the injector cannot see) are left out:
	// kab-fetch then keeps root's, like the runtime would give an image without a USER.
	uid, gid := appIDs(pod, app)
	if uid != nil {
		env = append(env, corev1.EnvVar{Name: shared.EnvAppUID, Value: strconv.FormatInt(*uid, 10)})
	}
	if gid != nil {
		env = append(env, corev1.EnvVar{Name: shared.EnvAppGID, Value: strconv.FormatInt(*gid, 10)})
	}
	return corev1.Container{
		Name:      FetchContainerName,
		Image:     cfg.AgentImage,
		Args:      []string{offsiteFetchSubcommand},
		Env:       env,
		Resources: *cfg.AgentResources.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{
			backupMount(spec),
			{Name: OffsiteFetchVolumeName, MountPath: OffsiteMountPath, ReadOnly: true},
		},
		SecurityContext: sc,
	}
}

// appIDs is the uid and gid the app runs as where the pod says so (container over pod); nil
// where it does not (the image's USER decides, which the injector cannot see).
func appIDs(pod *corev1.Pod, app *corev1.Container) (uid, gid *int64) {
	if psc := pod.Spec.SecurityContext; psc != nil {
		uid, gid = psc.RunAsUser, psc.RunAsGroup
	}
	if csc := app.SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			uid = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			gid = csc.RunAsGroup
		}
	}
	if uid != nil {
		uid = ptrCopy(*uid)
	}
	if gid != nil {
		gid = ptrCopy(*gid)
	}
	return uid, gid
}

func ptrCopy(v int64) *int64 { return &v }
