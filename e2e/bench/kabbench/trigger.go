package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// triggerCmd compares, interleaved, three ways to get a command running in the app container:
//   - agent: POST /backup → the backup command's first instruction, timed in the pod by
//     `kabbench probe` (which must be in the app container at /tmp/kabbench);
//   - kubectl: `kubectl exec POD -c CONTAINER -- true`, the wall clock of the whole process;
//   - client-go: an in-process exec of `true` (no process start-up, a new stream each time), as
//     an operator written in Go would run one, timed from the request to the stream's end.
func triggerCmd(args []string) error {
	var c cluster
	fs := flag.NewFlagSet("trigger", flag.ExitOnError)
	c.flags(fs)
	pod := fs.String("pod", "", "the kab pod (required)")
	container := fs.String("container", "app", "the app container")
	kubectl := fs.String("kubectl", "kubectl", "the kubectl to time")
	_ = fs.Parse(args)
	cfg, cs, err := c.client()
	if err != nil {
		return err
	}
	if *pod == "" {
		return fmt.Errorf("--pod is required")
	}
	ctx := context.Background()
	names := []string{"agent", "kubectl", "client-go"}
	samples := map[string][]time.Duration{}
	run := map[string]func() (time.Duration, error){
		"agent": func() (time.Duration, error) {
			var out, errOut bytes.Buffer
			if err := podExec(ctx, cfg, cs, c.namespace, *pod, *container, []string{"/tmp/kabbench", "probe"}, &out, &errOut); err != nil {
				return 0, fmt.Errorf("kabbench probe in the pod: %w: %s", err, errOut.String())
			}
			return parseProbe(out.String())
		},
		"kubectl": func() (time.Duration, error) {
			cmd := exec.Command(*kubectl, "--context", c.context, "-n", c.namespace, "exec", *pod, "-c", *container, "--", "true")
			cmd.Stderr = os.Stderr
			start := time.Now()
			err := cmd.Run()
			return time.Since(start), err
		},
		"client-go": func() (time.Duration, error) {
			var out, errOut bytes.Buffer
			start := time.Now()
			err := podExec(ctx, cfg, cs, c.namespace, *pod, *container, []string{"true"}, &out, &errOut)
			return time.Since(start), err
		},
	}
	for i := range c.n {
		for j := range names {
			name := names[(i+j)%len(names)] // rotate who goes first
			d, err := run[name]()
			if err != nil {
				return fmt.Errorf("sample %d %s: %w", i+1, name, err)
			}
			samples[name] = append(samples[name], d)
		}
		fmt.Printf("sample %d: agent %s, kubectl exec %s, client-go exec %s\n", i+1,
			ms(samples["agent"][i]), ms(samples["kubectl"][i]), ms(samples["client-go"][i]))
	}
	agent, kc, cg := summarize(samples["agent"]), summarize(samples["kubectl"]), summarize(samples["client-go"])
	fmt.Printf("\nRESULT trigger agent POST /backup → first instruction: %s\n", agent)
	fmt.Printf("RESULT trigger kubectl exec … true (whole process):     %s\n", kc)
	fmt.Printf("RESULT trigger client-go exec true (in process):       %s\n", cg)
	fmt.Printf("RESULT trigger ratio kubectl/agent %s, client-go/agent %s (medians)\n", ratio(kc, agent), ratio(cg, agent))
	return nil
}

func parseProbe(out string) (time.Duration, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "trigger_ns "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(n), err
		}
	}
	return 0, fmt.Errorf("no trigger_ns line in the probe's output: %q", out)
}

// podExec runs command in the container as kubectl exec does: WebSocket first, SPDY where the
// API server lacks it. stdout and stderr are written from different goroutines: two writers.
func podExec(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns, pod, container string, command []string, stdout, stderr io.Writer) error {
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: command, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return err
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return err
	}
	return executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
}
