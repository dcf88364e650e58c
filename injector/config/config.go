// Package config reads and checks the injector's configuration file (DESIGN §5): which agent
// image to inject, where backups live, and how the agent container is sized and secured.
package config

import (
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/shared"
)

// Config is the injector's configuration file. Field names are the YAML keys.
type Config struct {
	// AgentImage is the kab-agent image the sidecar runs.
	AgentImage string `json:"agentImage"`
	// Volume is where backups live: exactly one source.
	Volume Volume `json:"volume"`
	// AgentPort serves the agent's /metrics and /healthz (named port kab-metrics).
	AgentPort int32 `json:"agentPort,omitempty"`
	// AgentResources are the agent container's requests and limits. The backup command runs in
	// the agent's cgroup, so the memory limit must leave room for it.
	AgentResources corev1.ResourceRequirements `json:"agentResources,omitempty"`
	// AllowPtrace lets the injector give the agent SYS_PTRACE where the app's capabilities are
	// not a set the agent may hold (a privileged app, SYS_ADMIN…); false denies such pods.
	AllowPtrace bool `json:"allowPtrace,omitempty"`
	// Heal evicts kab pods that started without injection (DESIGN §11), or with evict: false
	// only counts them; off by default.
	Heal Heal `json:"heal,omitempty"`
	// Layout is where each pod's folder sits on the volume: flat (<backup-name>, the default)
	// or namespaced (<namespace>/<backup-name>).
	Layout Layout `json:"layout,omitempty"`
	// Namespaces limits which namespaces may use kab at all.
	Namespaces Namespaces `json:"namespaces,omitempty"`
}

// Volume is the backup volume's source. Exactly one field is set; NFS is the usual kind.
type Volume struct {
	NFS                   *corev1.NFSVolumeSource                   `json:"nfs,omitempty"`
	HostPath              *corev1.HostPathVolumeSource              `json:"hostPath,omitempty"`
	PersistentVolumeClaim *corev1.PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
}

// Default agent sizing: small requests so the sidecar schedules anywhere, a memory limit
// generous enough for a pg_dump of a home-lab database (the dump runs in this cgroup).
var (
	DefaultRequestCPU    = resource.MustParse("10m")
	DefaultRequestMemory = resource.MustParse("32Mi")
	DefaultLimitMemory   = resource.MustParse("512Mi")
)

// Load reads a config file, fills defaults and validates it. Unknown keys are errors: a
// misspelt key silently ignored would leave a default the user meant to change.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data)
}

// Parse reads config YAML, fills defaults and validates it.
func Parse(data []byte) (*Config, error) {
	var cfg Config
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// SetDefaults fills what the user left out. Each resource default is filled on its own, so a
// config that sets only a CPU limit still gets the default requests and memory limit.
func (c *Config) SetDefaults() {
	if c.AgentPort == 0 {
		c.AgentPort = shared.DefaultAgentPort
	}
	if c.AgentResources.Requests == nil {
		c.AgentResources.Requests = corev1.ResourceList{}
	}
	if c.AgentResources.Limits == nil {
		c.AgentResources.Limits = corev1.ResourceList{}
	}
	setIfMissing(c.AgentResources.Requests, corev1.ResourceCPU, DefaultRequestCPU)
	setIfMissing(c.AgentResources.Requests, corev1.ResourceMemory, DefaultRequestMemory)
	setIfMissing(c.AgentResources.Limits, corev1.ResourceMemory, DefaultLimitMemory)
	if c.Layout == "" {
		c.Layout = LayoutFlat
	}
	if hp := c.Volume.HostPath; hp != nil && hp.Type == nil {
		// Without a type the kubelet checks nothing and a missing folder fails the mount of
		// the subPath; creating it is what a single-node or kind setup wants.
		t := corev1.HostPathDirectoryOrCreate
		hp.Type = &t
	}
}

func setIfMissing(list corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	if _, ok := list[name]; !ok {
		list[name] = q.DeepCopy()
	}
}

// Validate reports every problem at once, each naming the field and what would be valid.
func (c *Config) Validate() error {
	var errs []error
	if c.AgentImage == "" {
		errs = append(errs, errors.New("agentImage: is required; set the kab-agent image, e.g. kab-agent:dev"))
	}
	errs = append(errs, c.Volume.validate()...)
	if c.AgentPort < 1 || c.AgentPort > 65535 {
		errs = append(errs, fmt.Errorf("agentPort: %d is not a port; use 1 to 65535 (default %d)", c.AgentPort, shared.DefaultAgentPort))
	} else if c.AgentPort == ControlPort {
		errs = append(errs, fmt.Errorf("agentPort: %d is the agent's control port (%s); use another, e.g. %d", c.AgentPort, shared.DefaultControlAddr, shared.DefaultAgentPort))
	}
	errs = append(errs, validateResources(c.AgentResources)...)
	errs = append(errs, c.Layout.validate()...)
	errs = append(errs, c.Heal.validate()...)
	errs = append(errs, c.Namespaces.validate()...)
	return errors.Join(errs...)
}

// ControlPort is the port of shared.DefaultControlAddr, the agent's loopback control API; it
// shares the pod's network namespace with the app, so it is as much a clash as AgentPort.
const ControlPort = 9780

func (v Volume) validate() []error {
	set := 0
	for _, isSet := range []bool{v.NFS != nil, v.HostPath != nil, v.PersistentVolumeClaim != nil} {
		if isSet {
			set++
		}
	}
	if set != 1 {
		return []error{fmt.Errorf("volume: set exactly one of nfs (the usual kind: {server: nas.lan, path: /data/backup}), hostPath ({path: /var/lib/kab}) or persistentVolumeClaim ({claimName: kab}); %d are set", set)}
	}
	var errs []error
	switch {
	case v.NFS != nil:
		if v.NFS.Server == "" {
			errs = append(errs, errors.New("volume.nfs.server: is required; the NFS server's host name or address, e.g. nas.lan"))
		}
		if !isAbsolute(v.NFS.Path) {
			errs = append(errs, fmt.Errorf("volume.nfs.path: %q must be an absolute path exported by the server, e.g. /data/backup", v.NFS.Path))
		}
	case v.HostPath != nil:
		if !isAbsolute(v.HostPath.Path) {
			errs = append(errs, fmt.Errorf("volume.hostPath.path: %q must be an absolute path on the node, e.g. /var/lib/kab", v.HostPath.Path))
		}
	case v.PersistentVolumeClaim != nil:
		if v.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, errors.New("volume.persistentVolumeClaim.claimName: is required; a ReadWriteMany claim in each kab pod's namespace, e.g. kab"))
		}
	}
	return errs
}

func isAbsolute(p string) bool { return len(p) > 0 && p[0] == '/' }

// validateResources insists on positive values and requests within limits: the API server
// would otherwise reject every injected pod, which is worse than a failed start.
func validateResources(r corev1.ResourceRequirements) []error {
	var errs []error
	for _, part := range []struct {
		field string
		list  corev1.ResourceList
	}{{"agentResources.requests", r.Requests}, {"agentResources.limits", r.Limits}} {
		for name, q := range part.list {
			if q.Sign() <= 0 {
				errs = append(errs, fmt.Errorf("%s.%s: %s must be above zero", part.field, name, q.String()))
			}
		}
	}
	for name, req := range r.Requests {
		if limit, ok := r.Limits[name]; ok && req.Cmp(limit) > 0 {
			errs = append(errs, fmt.Errorf("agentResources.requests.%s: %s is above its limit %s; a request must not exceed the limit", name, req.String(), limit.String()))
		}
	}
	if _, ok := r.Limits[corev1.ResourceMemory]; !ok {
		errs = append(errs, fmt.Errorf("agentResources.limits.memory: is required; the backup command runs in the agent's cgroup (default %s)", DefaultLimitMemory.String()))
	}
	return errs
}
