package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/boanu/kab/injector/mutation"
)

// FollowRun prints the agent's log lines of one run (the JSON lines whose run_id is id)
// until ctx ends, as "level msg key=value…"; the backup command's own output appears as its
// lines, indented.
func FollowRun(ctx context.Context, cs kubernetes.Interface, namespace, pod string, since metav1.Time, id string, out io.Writer) error {
	stream, err := cs.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: mutation.AgentContainerName, Follow: true, SinceTime: &since,
	}).Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return Explain(err, "get", "pods/log", namespace)
	}
	defer stream.Close()
	scanner := bufio.NewScanner(stream)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		printRunLine(out, scanner.Text(), id)
	}
	return nil
}

func printRunLine(out io.Writer, line, runID string) {
	var entry map[string]any
	if json.Unmarshal([]byte(line), &entry) != nil || entry["run_id"] != runID {
		return
	}
	if text, ok := entry["line"].(string); ok && entry["msg"] == "backup output" {
		fmt.Fprintf(out, "  | %s\n", text)
		return
	}
	var attrs []string
	for k, v := range entry {
		switch k {
		case "time", "level", "msg", "run_id":
			continue
		}
		attrs = append(attrs, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(attrs)
	fmt.Fprintf(out, "%s %v %s\n", strings.ToLower(fmt.Sprint(entry["level"])), entry["msg"], strings.Join(attrs, " "))
}
