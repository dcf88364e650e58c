package mutation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/shared"
)

// appContainer picks the container kab backs up and clones for restore: the one the
// container-name annotation names, or the pod's only container.
func appContainer(pod *corev1.Pod, name string) (*corev1.Container, error) {
	containers := pod.Spec.Containers
	annotation := shared.Prefix + shared.KeyContainerName
	if name == "" {
		switch len(containers) {
		case 0:
			return nil, fmt.Errorf("the pod has no containers; kab needs an app container to back up")
		case 1:
			return &containers[0], nil
		}
		return nil, fmt.Errorf("the pod has %d containers (%s): set the annotation %s to the one kab should back up and clone for restore",
			len(containers), containerList(containers), annotation)
	}
	if i := indexOfContainer(containers, name); i >= 0 {
		return &containers[i], nil
	}
	if indexOfContainer(pod.Spec.InitContainers, name) >= 0 {
		return nil, fmt.Errorf("annotation %s: %q is an init container; name one of the pod's containers: %s",
			annotation, name, containerList(containers))
	}
	return nil, fmt.Errorf("annotation %s: %q names no container of this pod; its containers are: %s",
		annotation, name, containerList(containers))
}

func containerList(containers []corev1.Container) string {
	names := make([]string, len(containers))
	for i, c := range containers {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
