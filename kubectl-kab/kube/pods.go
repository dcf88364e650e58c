// Package kube is kubectl-kab's side of the API server: finding kab pods, reading agents
// through the pod proxy, exec into the agent, and turning API errors into one-line messages
// that say which right is missing.
package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/shared"
)

// ErrNotKab is returned for a pod the webhook did not give an agent.
var ErrNotKab = errors.New("pod has no kab agent")

// KabPods lists the injected pods in namespace ("" = all) that also match selector.
func KabPods(ctx context.Context, cs kubernetes.Interface, namespace, selector string) ([]corev1.Pod, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("label selector %q: %w", selector, err)
	}
	injected, err := labels.Parse(shared.InjectedLabel + "=true")
	if err != nil {
		return nil, err
	}
	reqs, _ := injected.Requirements()
	sel = sel.Add(reqs...)
	list, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, Explain(err, "list", "pods", namespace)
	}
	var pods []corev1.Pod
	for _, p := range list.Items {
		if IsKab(&p) {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// KabPod fetches one pod and checks it carries a kab agent.
func KabPod(ctx context.Context, cs kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	pod, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, Explain(err, "get", "pods", namespace)
	}
	if !IsKab(pod) {
		return nil, fmt.Errorf("pod %s/%s: %w (no %s annotation and no %s container: it has no kab.boa.nu/ annotations, or was created before the webhook ran)",
			namespace, name, ErrNotKab, shared.Prefix+shared.KeyStatus, mutation.AgentContainerName)
	}
	return pod, nil
}

// IsKab says whether the webhook injected the pod.
func IsKab(pod *corev1.Pod) bool {
	_, ok := agentContainer(pod)
	return ok && pod.Annotations[shared.Prefix+shared.KeyStatus] == shared.StatusInjected
}

// Mode is "snapshot" when the pod keeps snapshots (backup-keep set), "seed" otherwise.
func Mode(pod *corev1.Pod) string {
	if pod.Annotations[shared.Prefix+shared.KeyBackupKeep] != "" {
		return "snapshot"
	}
	return "seed"
}

// MetricsPort is the agent's metrics port number; the pod proxy needs the number, it does not
// resolve port names.
func MetricsPort(pod *corev1.Pod) (int32, error) {
	agent, ok := agentContainer(pod)
	if !ok {
		return 0, ErrNotKab
	}
	for _, p := range agent.Ports {
		if p.Name == mutation.MetricsPortName {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("container %s declares no port named %s", mutation.AgentContainerName, mutation.MetricsPortName)
}

// AppContainer is the container the agent backs up: the one whose env carries the marker.
func AppContainer(pod *corev1.Pod) (string, error) {
	agent, ok := agentContainer(pod)
	if !ok {
		return "", ErrNotKab
	}
	for _, e := range agent.Env {
		if e.Name == shared.EnvContainer && e.Value != "" {
			return e.Value, nil
		}
	}
	return "", fmt.Errorf("container %s has no %s env naming the app container", mutation.AgentContainerName, shared.EnvContainer)
}

// Ready reports whether the pod's agent container is running; a row for a pod that is not
// says so instead of waiting for a proxy timeout.
func Ready(pod *corev1.Pod) error {
	if pod.Status.Phase != corev1.PodRunning {
		return fmt.Errorf("pod is %s", strings.ToLower(string(pod.Status.Phase)))
	}
	for _, s := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
		if s.Name == mutation.AgentContainerName {
			if s.State.Running == nil {
				return fmt.Errorf("container %s is not running", mutation.AgentContainerName)
			}
			return nil
		}
	}
	return fmt.Errorf("container %s has no status yet", mutation.AgentContainerName)
}

func agentContainer(pod *corev1.Pod) (*corev1.Container, bool) {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == mutation.AgentContainerName {
				return &list[i], true
			}
		}
	}
	return nil, false
}
