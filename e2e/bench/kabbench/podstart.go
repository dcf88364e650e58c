package main

import (
	"cmp"
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

// podStartCmd creates the same app pod in two or three variants — plain, with kab's annotations,
// and optionally the plain pod given kab's shape by hand (a regular init container and a native
// sidecar from the app's image, no kab) — one at a time with the order rotated, and times
// create → Ready from this process (a watch, no polling). The shape variant separates what the
// pinned pod shape costs (the kubelet starts init containers one after another) from what kab's
// own containers add. The breakdown is when the watch first saw each container start, finish or
// turn ready — the kubelet's status updates, to the millisecond, where the pod's own timestamps
// have whole seconds only.
func podStartCmd(args []string) error {
	var c cluster
	var plainFile, kabFile, shapeFile string
	fs := flag.NewFlagSet("podstart", flag.ExitOnError)
	c.flags(fs)
	fs.StringVar(&plainFile, "plain", "", "manifest of the plain pod (required)")
	fs.StringVar(&kabFile, "kab", "", "manifest of the same pod with kab annotations (required)")
	fs.StringVar(&shapeFile, "shape", "", "manifest of the plain pod with kab's pod shape built by hand, no kab (optional)")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long one pod may take to become Ready")
	_ = fs.Parse(args)
	if plainFile == "" || kabFile == "" {
		return fmt.Errorf("--plain and --kab name the pod manifests (--shape adds a third)")
	}
	_, cs, err := c.client()
	if err != nil {
		return err
	}
	files := []struct{ name, file string }{{"plain", plainFile}, {"kab", kabFile}}
	if shapeFile != "" {
		files = append(files, struct{ name, file string }{"shape", shapeFile})
	}
	variants := make([]podVariant, len(files))
	for i, f := range files {
		pod, err := readPod(f.file)
		if err != nil {
			return err
		}
		variants[i] = podVariant{name: f.name, pod: pod}
	}
	for i := range c.n {
		// Rotate which variant goes first, so none always follows another's deletion.
		for _, v := range rotation(i, len(variants)) {
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
	ready := make([]summary, len(variants))
	fmt.Println()
	for i, v := range variants {
		ready[i] = summarize(column(v.runs, "Ready"))
		fmt.Printf("RESULT podstart %-5s create→Ready: %s\n", v.name, ready[i])
	}
	fmt.Printf("RESULT podstart ratio kab/plain (medians): %s\n", ratio(ready[1], ready[0]))
	if len(variants) == 3 {
		fmt.Printf("RESULT podstart ratio shape/plain (medians): %s\n", ratio(ready[2], ready[0]))
		fmt.Printf("RESULT podstart ratio kab/shape (medians): %s\n", ratio(ready[1], ready[2]))
	}
	for _, v := range variants {
		fmt.Printf("\nbreakdown %s (when the watch first saw it, after create; step = median over runs of the time since the run's previous milestone):\n", v.name)
		steps := stepsPerRun(v.runs)
		for _, key := range milestoneOrder(v.runs) {
			fmt.Printf("  %-40s %-50s step %s\n", key, summarize(column(v.runs, key)), ms(summarize(column(steps, key)).median))
		}
	}
	return nil
}

// podVariant is one pod manifest and its samples.
type podVariant struct {
	name string
	pod  *corev1.Pod
	runs []map[string]time.Duration
}

// rotation is the order of n variants in sample i: 0 1 2, then 1 2 0, then 2 0 1, …
func rotation(i, n int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = (i + k) % n
	}
	return order
}

// stepsPerRun turns each run's milestones into the time since that run's previous milestone
// (the first one counts from create), so a step's median is not the difference of two medians.
func stepsPerRun(runs []map[string]time.Duration) []map[string]time.Duration {
	out := make([]map[string]time.Duration, len(runs))
	for i, r := range runs {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(r[a], r[b]) })
		out[i] = map[string]time.Duration{}
		var prev time.Duration
		for _, k := range keys {
			out[i][k] = r[k] - prev
			prev = r[k]
		}
	}
	return out
}

func readPod(file string) (*corev1.Pod, error) {
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
		return cmp.Compare(summarize(column(runs, a)).median, summarize(column(runs, b)).median)
	})
	return out
}
