package mutation

import (
	corev1 "k8s.io/api/core/v1"
)

// raisePodResources adds the agent's requests and limits to pod-level resources where the pod
// sets them: a pod-level budget is shared by all containers, and the API server rejects a pod
// whose containers ask for more than it.
func raisePodResources(spec *corev1.PodSpec, agent corev1.ResourceRequirements) {
	if spec.Resources == nil {
		return
	}
	raise(spec.Resources.Requests, agent.Requests)
	raise(spec.Resources.Limits, agent.Limits)
}

func raise(pod, agent corev1.ResourceList) {
	for name, q := range pod {
		if extra, ok := agent[name]; ok {
			q.Add(extra)
			pod[name] = q
		}
	}
}
