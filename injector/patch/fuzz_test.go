package patch

import (
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/boanu/kab/injector/internal/podcase"
)

// FuzzBetween edits a golden pod in ways the mutation could and could not (insert, remove and
// reorder containers, env and volumes; set, empty and nil out fields; odd map keys; values with
// their own JSON encoding) and checks the walked patch against the generic diff both ways:
// checkAgainstGeneric's property.
func FuzzBetween(f *testing.F) {
	inputs, err := filepath.Glob("../mutation/testdata/*.pod.yaml")
	if err != nil || len(inputs) == 0 {
		f.Fatalf("no golden inputs: %v", err)
	}
	var pods [][]byte
	for _, in := range inputs {
		pods = append(pods, podcase.JSON(f, in))
	}
	for i := range byte(len(edits)) {
		f.Add([]byte{0, i, 1, i, 2})
	}
	f.Add([]byte{3, 0, 0, 1, 1, 4, 4, 9, 2, 5, 7, 11, 11})
	f.Add([]byte{7, 12, 13, 14, 15, 16, 17, 18, 19, 20})

	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 {
			return
		}
		raw := pods[int(script[0])%len(pods)]
		a := podcase.Pod(t, raw)
		b := a.DeepCopy()
		for i := 1; i+1 < len(script); i += 2 {
			edits[int(script[i])%len(edits)](b, int(script[i+1]))
		}
		checkAgainstGeneric(t, a, b, raw)
		checkAgainstGeneric(t, b, a, nil)
	})
}

// edits change a pod; n picks an index or a value.
var edits = []func(p *corev1.Pod, n int){
	func(p *corev1.Pod, n int) { // prepend or insert a container
		c := corev1.Container{Name: "new", Image: "busybox", Args: []string{"x"}}
		p.Spec.Containers = insertAt(p.Spec.Containers, n, c)
	},
	func(p *corev1.Pod, n int) { // remove a container
		if len(p.Spec.Containers) > 0 {
			i := n % len(p.Spec.Containers)
			p.Spec.Containers = append(p.Spec.Containers[:i:i], p.Spec.Containers[i+1:]...)
		}
	},
	func(p *corev1.Pod, n int) { // add an env var to some container
		if len(p.Spec.Containers) > 0 {
			c := &p.Spec.Containers[n%len(p.Spec.Containers)]
			c.Env = insertAt(c.Env, n/3, corev1.EnvVar{Name: "KAB", Value: string(rune('a' + n%26))})
		}
	},
	func(p *corev1.Pod, n int) { // annotation with keys that need escaping in a pointer or a string
		keys := []string{"kab.boa.nu/status", "a~b", "x/y~1", "<&>", "bad\xffutf8", "line\nbreak", "\u2028", ""}
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[keys[n%len(keys)]] = keys[(n/8)%len(keys)]
	},
	func(p *corev1.Pod, n int) { // drop an annotation, or all of them, or make the map empty
		switch n % 3 {
		case 0:
			for k := range p.Annotations {
				delete(p.Annotations, k)
				return
			}
		case 1:
			p.Annotations = nil
		default:
			p.Annotations = map[string]string{}
		}
	},
	func(p *corev1.Pod, n int) { // pointer field: set, flip, nil
		switch n % 3 {
		case 0:
			p.Spec.ShareProcessNamespace = ptr.To(true)
		case 1:
			p.Spec.ShareProcessNamespace = ptr.To(false)
		default:
			p.Spec.ShareProcessNamespace = nil
		}
	},
	func(p *corev1.Pod, n int) { // values with their own encoding: quantities, int-or-string
		if len(p.Spec.Containers) == 0 {
			return
		}
		c := &p.Spec.Containers[n%len(p.Spec.Containers)]
		if c.Resources.Limits == nil {
			c.Resources.Limits = corev1.ResourceList{}
		}
		c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse([]string{"64Mi", "1Gi", "9007199254740993"}[n%3])
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Port: []intstr.IntOrString{intstr.FromInt32(8080), intstr.FromString("http")}[n%2]}}}
	},
	func(p *corev1.Pod, n int) { // creationTimestamp (omitzero) and deletion grace (int64 pointer)
		if n%2 == 0 {
			p.CreationTimestamp = metav1.Unix(int64(n)*1000, 0)
		} else {
			p.CreationTimestamp = metav1.Time{}
		}
		p.DeletionGracePeriodSeconds = ptr.To(int64(1) << 62)
	},
	func(p *corev1.Pod, n int) { // a volume at the front, or none at all, or an empty list
		switch n % 3 {
		case 0:
			p.Spec.Volumes = insertAt(p.Spec.Volumes, 0, corev1.Volume{Name: "kab-backup",
				VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		case 1:
			p.Spec.Volumes = nil
		default:
			p.Spec.Volumes = []corev1.Volume{}
		}
	},
	func(p *corev1.Pod, n int) { // swap two containers
		if l := len(p.Spec.Containers); l > 1 {
			i, j := n%l, (n/l)%l
			p.Spec.Containers[i], p.Spec.Containers[j] = p.Spec.Containers[j], p.Spec.Containers[i]
		}
	},
	func(p *corev1.Pod, n int) { // an init container cloned from the app, as kab-restore is
		if len(p.Spec.Containers) > 0 {
			c := *p.Spec.Containers[0].DeepCopy()
			c.Name = "kab-restore"
			c.Args = nil
			p.Spec.InitContainers = insertAt(p.Spec.InitContainers, n, c)
		}
	},
	func(p *corev1.Pod, n int) { // a label
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels["kab.boa.nu/injected"] = []string{"true", "false", ""}[n%3]
	},
	func(p *corev1.Pod, n int) { // security context, a struct behind a pointer, made or dropped
		if n%2 == 0 {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To(int64(n))}
		} else {
			p.Spec.SecurityContext = nil
		}
	},
	func(p *corev1.Pod, n int) { // change a string deep inside a list
		if len(p.Spec.Containers) > 0 {
			c := &p.Spec.Containers[n%len(p.Spec.Containers)]
			c.Command = append(c.Command, "sh", "-c", "echo \"<quoted>\"")
		}
	},
	func(p *corev1.Pod, n int) { // kind and apiVersion (inlined TypeMeta)
		p.Kind = []string{"", "Pod"}[n%2]
		p.APIVersion = []string{"", "v1"}[n/2%2]
	},
	func(p *corev1.Pod, n int) { // status (omitempty on a struct: always written)
		p.Status.Phase = corev1.PodPhase([]string{"", "Pending"}[n%2])
	},
	func(p *corev1.Pod, n int) { // an empty, non-nil list where a nil one was (both omitted)
		if len(p.Spec.Containers) > 0 {
			c := &p.Spec.Containers[n%len(p.Spec.Containers)]
			if c.VolumeMounts == nil {
				c.VolumeMounts = []corev1.VolumeMount{}
			} else {
				c.VolumeMounts = nil
			}
		}
	},
	func(p *corev1.Pod, n int) { // remove an init container
		if l := len(p.Spec.InitContainers); l > 0 {
			i := n % l
			p.Spec.InitContainers = append(p.Spec.InitContainers[:i:i], p.Spec.InitContainers[i+1:]...)
		}
	},
	func(p *corev1.Pod, n int) { // an unsigned-free int field in a list element
		if len(p.Spec.Containers) > 0 {
			c := &p.Spec.Containers[n%len(p.Spec.Containers)]
			c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(n)})
		}
	},
	func(p *corev1.Pod, n int) { // node selector, a map created from nothing
		p.Spec.NodeSelector = map[string]string{"k": string(rune('a' + n%26))}
	},
}

func insertAt[T any](list []T, n int, v T) []T {
	i := n % (len(list) + 1)
	out := append(list[:i:i], v)
	return append(out, list[i:]...)
}
