package mutation

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// agentSidecar is DESIGN §4 step 4: kab-agent as a native sidecar (an init container that
// keeps running), so it starts before the app and is stopped only after the app has exited.
func agentSidecar(appName string, spec *shared.Spec, cfg *config.Config, caps *corev1.Capabilities) corev1.Container {
	always := corev1.ContainerRestartPolicyAlways
	// Both probes wait 5 s for an answer instead of the default 1 s: on a busy node the agent,
	// with its small CPU request, can be slow to answer, and a readiness timeout would take the
	// app out of its Service while a liveness timeout would kill a running backup. Liveness
	// restarts the agent only after a minute without an answer (6 × 10 s): it is there for a
	// hung agent, not a slow one. (A 200-pod scale-up at load 40–110 restarted 130 agents with
	// the defaults.)
	health := func() *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: HealthPath,
			Port: intstr.FromString(MetricsPortName),
		}}, TimeoutSeconds: 5}
	}
	liveness := health()
	liveness.FailureThreshold = 6
	agent := corev1.Container{
		Name:          AgentContainerName,
		Image:         cfg.AgentImage,
		RestartPolicy: &always,
		Env:           agentEnv(appName, spec, cfg.AgentPort),
		Ports: []corev1.ContainerPort{{
			Name:          MetricsPortName,
			ContainerPort: cfg.AgentPort,
			Protocol:      corev1.ProtocolTCP,
		}},
		LivenessProbe:   liveness,
		ReadinessProbe:  health(),
		Resources:       *cfg.AgentResources.DeepCopy(),
		VolumeMounts:    []corev1.VolumeMount{backupMount(spec)},
		SecurityContext: agentSecurityContext(caps),
	}
	return agent
}

// agentEnv is the agent's whole configuration: the annotations as the user wrote them (so the
// agent parses them with the same shared table), plus where to find the app and the volume.
func agentEnv(appName string, spec *shared.Spec, port int32) []corev1.EnvVar {
	fromSpec := spec.AgentEnv()
	env := make([]corev1.EnvVar, 0, len(fromSpec)+5)
	for _, v := range fromSpec {
		env = append(env, corev1.EnvVar{Name: v.Name, Value: v.Value})
	}
	return append(env,
		corev1.EnvVar{Name: shared.EnvContainer, Value: appName},
		corev1.EnvVar{Name: shared.EnvBackupDir, Value: shared.BackupDir},
		corev1.EnvVar{Name: shared.EnvMetricsAddr, Value: ":" + strconv.Itoa(int(port))},
		fieldEnv(shared.EnvPodName, "metadata.name"),
		fieldEnv(shared.EnvPodNamespace, "metadata.namespace"),
	)
}

func fieldEnv(name, fieldPath string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: fieldPath},
	}}
}

// agentSecurityContext: the agent runs as root only to switch its fs uid/gid to the app's (see
// notes/agent-exec.md); everything else is as tight as Pod Security baseline asks, and the
// root filesystem is read-only because the agent writes only to the backup volume.
func agentSecurityContext(caps *corev1.Capabilities) *corev1.SecurityContext {
	root := int64(0)
	no, yes := false, true
	return &corev1.SecurityContext{
		RunAsUser:                &root,
		RunAsGroup:               &root,
		RunAsNonRoot:             &no,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		Capabilities:             caps,
	}
}
