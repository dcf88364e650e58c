package mutation

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// agentBaseCapabilities are what the agent itself needs (notes/agent-exec.md): SYS_CHROOT to
// enter the app's root, SETUID/SETGID to take the app's identity (Go's Credential always calls
// setgroups), KILL to stop a timed-out run of a non-root app, CHOWN to hand a fresh root-owned
// backup folder to a non-root app.
var agentBaseCapabilities = []corev1.Capability{"CHOWN", "SYS_CHROOT", "SETUID", "SETGID", "KILL"}

// capabilitiesTheAgentNeverHolds would let the agent — which runs commands taken from pod
// annotations — leave its container or reach the node, or (SYS_ADMIN) cannot be combined with
// allowPrivilegeEscalation: false at all. An app holding one of them is out of the agent's
// reach without SYS_PTRACE, which bypasses the kernel's capability-superset check instead.
var capabilitiesTheAgentNeverHolds = map[corev1.Capability]bool{
	"ALL": true, "SYS_ADMIN": true, "SYS_PTRACE": true, "SYS_MODULE": true, "SYS_RAWIO": true,
	"SYS_BOOT": true, "DAC_READ_SEARCH": true, "BPF": true, "PERFMON": true,
	"MAC_ADMIN": true, "MAC_OVERRIDE": true,
}

const ptrace corev1.Capability = "SYS_PTRACE"

// agentCapabilities derives the agent's capabilities from the app container's (DESIGN §6):
// the kernel lets the agent read /proc/<pid>/{environ,root,cwd} of the app only when the
// agent's effective set is a superset of the app's permitted set, or with SYS_PTRACE.
//   - app drops ALL: drop ALL, add the base five and the app's own adds;
//   - app keeps the runtime defaults: keep them too, add the base five and the app's adds;
//   - privileged app, or an add the agent never holds: SYS_PTRACE if allowed, else a denial.
func agentCapabilities(app *corev1.Container, allowPtrace bool) (*corev1.Capabilities, error) {
	var appAdds, appDrops []corev1.Capability
	privileged := false
	if sc := app.SecurityContext; sc != nil {
		privileged = sc.Privileged != nil && *sc.Privileged
		if sc.Capabilities != nil {
			appAdds = normalize(sc.Capabilities.Add)
			appDrops = normalize(sc.Capabilities.Drop)
		}
	}

	caps := &corev1.Capabilities{Add: make([]corev1.Capability, 0, len(agentBaseCapabilities)+len(appAdds)+1)}
	add := func(c corev1.Capability) {
		if !contains(caps.Add, c) {
			caps.Add = append(caps.Add, c)
		}
	}
	for _, c := range agentBaseCapabilities {
		add(c)
	}
	var outOfReach []string
	for _, c := range appAdds {
		if capabilitiesTheAgentNeverHolds[c] {
			outOfReach = append(outOfReach, string(c))
			continue
		}
		add(c)
	}
	if privileged || len(outOfReach) > 0 {
		if !allowPtrace {
			return nil, ptraceDenial(app.Name, privileged, outOfReach)
		}
		add(ptrace)
	}
	if contains(appDrops, "ALL") {
		caps.Drop = []corev1.Capability{"ALL"}
	}
	return caps, nil
}

// normalize spells capabilities as Kubernetes examples do (NET_ADMIN): runtimes accept both
// "CAP_NET_ADMIN" and "net_admin", and the superset rule must compare like with like.
func normalize(caps []corev1.Capability) []corev1.Capability {
	out := make([]corev1.Capability, 0, len(caps))
	for _, c := range caps {
		out = append(out, corev1.Capability(strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")))
	}
	return out
}

func contains(caps []corev1.Capability, c corev1.Capability) bool {
	for _, have := range caps {
		if have == c {
			return true
		}
	}
	return false
}

// ptraceDenial explains why the pod needs what the cluster admin has not granted, and what
// either side can change.
func ptraceDenial(container string, privileged bool, outOfReach []string) error {
	why := "is privileged, so it holds every capability"
	if !privileged {
		why = "adds " + strings.Join(outOfReach, ", ") + ", which kab's agent never holds"
	}
	return fmt.Errorf("container %q %s: kab's agent can read the app's processes only with a superset of the app's capabilities, or with SYS_PTRACE, which this injector does not grant (allowPtrace is false in its config); run the app without that, or ask the cluster admin to set allowPtrace: true",
		container, why)
}
