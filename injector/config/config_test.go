package config

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte("agentImage: kab-agent:dev\nvolume:\n  nfs: {server: nas.lan, path: /data/backup}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AgentPort != 9779 || cfg.AllowPtrace {
		t.Errorf("port %d allowPtrace %v, want 9779 false", cfg.AgentPort, cfg.AllowPtrace)
	}
	for _, c := range []struct {
		list corev1.ResourceList
		name corev1.ResourceName
		want string
	}{
		{cfg.AgentResources.Requests, corev1.ResourceCPU, "10m"},
		{cfg.AgentResources.Requests, corev1.ResourceMemory, "32Mi"},
		{cfg.AgentResources.Limits, corev1.ResourceMemory, "512Mi"},
	} {
		if q := c.list[c.name]; q.String() != c.want {
			t.Errorf("%s = %s, want %s", c.name, q.String(), c.want)
		}
	}
}

func TestParsePartialResourcesKeepsOtherDefaults(t *testing.T) {
	cfg, err := Parse([]byte("agentImage: a\nvolume: {hostPath: {path: /var/lib/kab}}\nagentResources: {limits: {cpu: 500m}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q := cfg.AgentResources.Limits[corev1.ResourceMemory]; q.String() != "512Mi" {
		t.Errorf("memory limit %s, want the default 512Mi", q.String())
	}
	if q := cfg.AgentResources.Limits[corev1.ResourceCPU]; q.String() != "500m" {
		t.Errorf("cpu limit %s, want 500m", q.String())
	}
	if cfg.Volume.HostPath.Type == nil || *cfg.Volume.HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("hostPath type %v, want DirectoryOrCreate", cfg.Volume.HostPath.Type)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{"agentImage: is required", "volume: set exactly one of nfs"}},
		{"two volumes", "agentImage: a\nvolume: {nfs: {server: s, path: /p}, hostPath: {path: /h}}", []string{"volume: set exactly one", "2 are set"}},
		{"nfs without server", "agentImage: a\nvolume: {nfs: {path: p}}", []string{"volume.nfs.server: is required", `volume.nfs.path: "p" must be an absolute path`}},
		{"relative hostPath", "agentImage: a\nvolume: {hostPath: {path: kab}}", []string{`volume.hostPath.path: "kab"`}},
		{"pvc without claim", "agentImage: a\nvolume: {persistentVolumeClaim: {}}", []string{"volume.persistentVolumeClaim.claimName: is required"}},
		{"bad port", "agentImage: a\nvolume: {hostPath: {path: /h}}\nagentPort: 70000", []string{"agentPort: 70000 is not a port"}},
		{"control port", "agentImage: a\nvolume: {hostPath: {path: /h}}\nagentPort: 9780", []string{"agentPort: 9780 is the agent's control port"}},
		{"request above limit", "agentImage: a\nvolume: {hostPath: {path: /h}}\nagentResources: {requests: {memory: 1Gi}}", []string{"agentResources.requests.memory: 1Gi is above its limit 512Mi"}},
		{"zero limit", "agentImage: a\nvolume: {hostPath: {path: /h}}\nagentResources: {limits: {memory: \"0\"}}", []string{"agentResources.limits.memory: 0 must be above zero"}},
		{"unknown key", "agentImage: a\nvolume: {hostPath: {path: /h}}\nallowPtrac: true", []string{`unknown field "allowPtrac"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
