package kube

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/kubectl-kab/agentstatus"
	"github.com/boanu/kab/kubectl-kab/fleet"
)

// ProxyAsker reads each agent's read-only GET /status and /metrics through the API server's
// pod proxy (verb get on pods/proxy): no exec right needed, nothing the agent can be made to do.
func ProxyAsker(cs kubernetes.Interface, pods map[fleet.Target]*corev1.Pod) fleet.Asker {
	return func(ctx context.Context, t fleet.Target) (*agentstatus.Status, *agentstatus.Gauges, error) {
		pod := pods[t]
		if err := Ready(pod); err != nil {
			return nil, nil, err
		}
		port, err := MetricsPort(pod)
		if err != nil {
			return nil, nil, err
		}
		get := func(path string) ([]byte, error) {
			body, err := cs.CoreV1().Pods(t.Namespace).ProxyGet("http", t.Pod, strconv.Itoa(int(port)), path, nil).DoRaw(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("the agent did not answer GET %s within the timeout", path)
				}
				return nil, Explain(err, "get", "pods/proxy", t.Namespace)
			}
			return body, nil
		}
		body, err := get("status")
		if err != nil {
			return nil, nil, err
		}
		status, err := agentstatus.Parse(body)
		if err != nil {
			return nil, nil, err
		}
		// The gauges only refine the row; a status without them is still a verdict.
		var gauges *agentstatus.Gauges
		if metrics, err := get("metrics"); err == nil {
			if g, err := agentstatus.ParseGauges(bytes.NewReader(metrics)); err == nil {
				gauges = &g
			}
		}
		return status, gauges, nil
	}
}
