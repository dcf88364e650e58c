package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// podStartCmd creates the same app pod with and without kab's annotations, alternately, and
// times create → Ready from this process (a watch, no polling). The breakdown is when the
// watch first saw each container start, finish or turn ready — the kubelet's status updates,
// to the millisecond, where the pod's own timestamps have whole seconds only.
func podStartCmd(args []string) error {
	var c cluster
	var plainFile, kabFile string
	fs := flag.NewFlagSet("podstart", flag.ExitOnError)
	c.flags(fs)
	fs.StringVar(&plainFile, "plain", "", "manifest of the plain pod (required)")
	fs.StringVar(&kabFile, "kab", "", "manifest of the same pod with kab annotations (required)")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long one pod may take to become Ready")
	_ = fs.Parse(args)
	_, cs, err := c.client()
	if err != nil {
		return err
	}
	plain, err := readPod(plainFile)
	if err != nil {
		return err
	}
	kab, err := readPod(kabFile)
	if err != nil {
		return err
	}
	variants := []struct {
		name string
		pod  *corev1.Pod
		runs []map[string]time.Duration
	}{{name: "plain", pod: plain}, {name: "kab", pod: kab}}
	for i := range c.n {
		// Alternate which variant goes first, so neither always follows the other's deletion.
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, v := range order {
			pod := variants[v].pod.DeepCopy()
			pod.Name = fmt.Sprintf("%s-%d", pod.Name, i)
			m, err := startOnce(cs, c.namespace, pod, *timeout)
			if err != nil {
				return fmt.Errorf("%s pod %s: %w", variants[v].name, pod.Name, err)
			}
			variants[v].runs = append(variants[v].runs, m)
			fmt.Printf("sample %d %s: Ready after %s\n", i+1, variants[v].name, ms(m["Ready"]))
		}
	}
	plainReady, kabReady := summarize(column(variants[0].runs, "Ready")), summarize(column(variants[1].runs, "Ready"))
	fmt.Printf("\nRESULT podstart plain create→Ready: %s\n", plainReady)
	fmt.Printf("RESULT podstart kab   create→Ready: %s\n", kabReady)
	fmt.Printf("RESULT podstart ratio kab/plain (medians): %s\n", ratio(kabReady, plainReady))
	for _, v := range variants {
		fmt.Printf("\nbreakdown %s (time after create when the watch first saw it):\n", v.name)
		for _, key := range milestoneOrder(v.runs) {
			fmt.Printf("  %-40s %s\n", key, summarize(column(v.runs, key)))
		}
	}
	return nil
}

func readPod(file string) (*corev1.Pod, error) {
	if file == "" {
		return nil, fmt.Errorf("--plain and --kab name the two pod manifests")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(raw, &pod); err != nil {
		return nil, fmt.Errorf("%s: not a Pod manifest: %w", file, err)
	}
	return &pod, nil
}

// startOnce creates pod, waits until it is Ready, records the milestones, then deletes it and
// waits until it is gone (untimed), so the next sample starts on a quiet node.
func startOnce(cs kubernetes.Interface, ns string, pod *corev1.Pod, timeout time.Duration) (map[string]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pods := cs.CoreV1().Pods(ns)
	w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", pod.Name).String()})
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	start := time.Now()
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	seen := map[string]time.Duration{}
	mark := func(key string) {
		if _, ok := seen[key]; !ok {
			seen[key] = time.Since(start)
		}
	}
	for ev := range w.ResultChan() {
		if ev.Type == watch.Error {
			return nil, fmt.Errorf("watch: %v", apierrors.FromObject(ev.Object))
		}
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		if milestones(p, mark) {
			break
		}
	}
	if _, ok := seen["Ready"]; !ok {
		return nil, fmt.Errorf("not Ready within %s (%v)", timeout, ctx.Err())
	}
	return seen, deletePod(cs, ns, pod.Name)
}

// milestones marks what p's status shows and reports whether the pod is Ready.
func milestones(p *corev1.Pod, mark func(string)) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionTrue {
			mark("scheduled")
		}
	}
	for _, st := range p.Status.InitContainerStatuses {
		containerMilestones("init "+st.Name, st, mark)
	}
	for _, st := range p.Status.ContainerStatuses {
		containerMilestones(st.Name, st, mark)
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			mark("Ready")
			return true
		}
	}
	return false
}

func containerMilestones(name string, st corev1.ContainerStatus, mark func(string)) {
	if st.State.Running != nil || st.State.Terminated != nil {
		mark(name + " running")
	}
	if st.State.Terminated != nil {
		mark(name + " exited")
	}
	if st.Started != nil && *st.Started {
		mark(name + " started")
	}
	if st.Ready {
		mark(name + " ready")
	}
}

func deletePod(cs kubernetes.Interface, ns, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	grace := int64(1)
	if err := cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	for {
		_, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pod %s not gone after 2 minutes", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// column is one milestone across the runs that reached it.
func column(runs []map[string]time.Duration, key string) []time.Duration {
	var out []time.Duration
	for _, r := range runs {
		if d, ok := r[key]; ok {
			out = append(out, d)
		}
	}
	return out
}

// milestoneOrder lists every milestone seen, by median time.
func milestoneOrder(runs []map[string]time.Duration) []string {
	keys := map[string]bool{}
	for _, r := range runs {
		for k := range r {
			keys[k] = true
		}
	}
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int {
		return int(summarize(column(runs, a)).median - summarize(column(runs, b)).median)
	})
	return out
}
