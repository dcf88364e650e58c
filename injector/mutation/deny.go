package mutation

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// podProblems is DESIGN §4 step 0 for what does not depend on the annotations: pods kab
// cannot serve, and names kab would add that the pod already uses.
func podProblems(pod *corev1.Pod) []error {
	var problems []error
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows {
		problems = append(problems, fmt.Errorf("spec.os.name is %q: kab's agent and restore run Linux containers only; remove the %s annotations from Windows pods", pod.Spec.OS.Name, shared.Prefix))
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name == BackupVolumeName {
			problems = append(problems, fmt.Errorf("the pod already has a volume named %q; kab adds its backup volume under that name, so rename yours", BackupVolumeName))
		}
	}
	for _, name := range allContainerNames(pod) {
		if name == AgentContainerName || name == RestoreContainerName {
			problems = append(problems, fmt.Errorf("the pod already has a container named %q; kab adds its own under that name, so rename yours (a restore container of your own must be the init container %q)", name, UserRestoreContainerName))
		}
	}
	if pod.Annotations[shared.Prefix+shared.KeyOffsite] != "" {
		problems = append(problems, offsiteClashes(pod)...)
	}
	return problems
}

// offsiteClashes are the names kab adds only with offsite (a raw annotation check, so it runs
// even when another annotation fails to parse): kab-fetch and the two Secret volumes.
func offsiteClashes(pod *corev1.Pod) []error {
	var problems []error
	for _, v := range pod.Spec.Volumes {
		if v.Name == OffsiteVolumeName || v.Name == OffsiteFetchVolumeName {
			problems = append(problems, fmt.Errorf("the pod already has a volume named %q; with %s%s kab adds the offsite Secret's volume under that name, so rename yours", v.Name, shared.Prefix, shared.KeyOffsite))
		}
	}
	for _, name := range allContainerNames(pod) {
		if name == FetchContainerName {
			problems = append(problems, fmt.Errorf("the pod already has a container named %q; with %s%s kab adds its offsite restore under that name, so rename yours", name, shared.Prefix, shared.KeyOffsite))
		}
	}
	return problems
}

// appProblems is step 0 for what depends on the app container and on whether kab adds its
// agent (backup-exec is set).
func appProblems(pod *corev1.Pod, app *corev1.Container, withAgent bool, cfg *config.Config) []error {
	var problems []error
	mounted := []*corev1.Container{app}
	if i := indexOfContainer(pod.Spec.InitContainers, UserRestoreContainerName); i >= 0 {
		mounted = append(mounted, &pod.Spec.InitContainers[i])
	}
	for _, c := range mounted {
		for _, m := range c.VolumeMounts {
			if path.Clean(m.MountPath) == shared.BackupDir {
				problems = append(problems, fmt.Errorf("container %q already mounts volume %q at %s; kab mounts its backup volume there, so move that mount", c.Name, m.Name, shared.BackupDir))
			}
		}
	}
	if !withAgent {
		// Without an agent there is no shared PID namespace and no agent port to clash with.
		return problems
	}
	if pod.Spec.HostPID {
		problems = append(problems, fmt.Errorf("spec.hostPID is true: kab's agent needs shareProcessNamespace, which the API server rejects together with hostPID; remove hostPID or the %s%s annotation", shared.Prefix, shared.KeyBackupExec))
	}
	problems = append(problems, portProblems(pod, cfg.AgentPort)...)
	if _, err := agentCapabilities(app, cfg.AllowPtrace); err != nil {
		problems = append(problems, err)
	}
	return problems
}

// portProblems: every container of a pod shares one network namespace, so a port of any
// container clashes with the agent's metrics port and its loopback control port.
func portProblems(pod *corev1.Pod, agentPort int32) []error {
	var problems []error
	for _, c := range allContainers(pod) {
		for _, p := range c.Ports {
			switch p.ContainerPort {
			case agentPort:
				problems = append(problems, fmt.Errorf("container %q uses port %d, which kab's agent serves its metrics on (%s); use another port in the app or change agentPort in the injector's config", c.Name, p.ContainerPort, MetricsPortName))
			case config.ControlPort:
				problems = append(problems, fmt.Errorf("container %q uses port %d, which kab's agent serves its control API on (%s); use another port in the app", c.Name, p.ContainerPort, shared.DefaultControlAddr))
			}
		}
	}
	return problems
}

func allContainers(pod *corev1.Pod) []*corev1.Container {
	var all []*corev1.Container
	for i := range pod.Spec.InitContainers {
		all = append(all, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		all = append(all, &pod.Spec.Containers[i])
	}
	return all
}

// allContainerNames includes ephemeral containers: they share the pod's name space of containers.
func allContainerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range allContainers(pod) {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return names
}
