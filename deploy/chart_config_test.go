package deploy

import (
	"reflect"
	"testing"

	"github.com/boanu/kab/injector/config"
)

// TestChartTenancyConfig covers the options no kustomize overlay ships (layout namespaced,
// namespaces allow/deny, heal off): the injector must read from the chart's config what the
// values say, and a config change must rename the ConfigMap so the Deployment rolls.
func TestChartTenancyConfig(t *testing.T) {
	helm := helmBinary(t)
	render := func(set ...string) (string, *config.Config, []object) {
		args := []string{"template", "kab", "chart"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		objs := parseObjects(t, "helm template", runHelm(t, helm, args...))
		for _, o := range objs {
			meta, _ := o["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if o.kind() != "ConfigMap" || !generatedConfigName.MatchString(name) {
				continue
			}
			data, _ := o["data"].(map[string]any)
			text, _ := data["config.yaml"].(string)
			cfg, err := config.Parse([]byte(text))
			if err != nil {
				t.Fatalf("helm template %v: the injector refuses its config.yaml: %v\n%s", set, err, text)
			}
			return name, cfg, objs
		}
		t.Fatalf("helm template %v: no kab-injector-config-<hash> ConfigMap", set)
		return "", nil, nil
	}

	defaultName, def, _ := render()
	name, cfg, objs := render("layout=namespaced", "namespaces.allow={team-a,env=prod}", "namespaces.deny={team-b}", "heal.enabled=false")
	if cfg.Layout != config.LayoutNamespaced {
		t.Errorf("layout=namespaced: the injector reads layout %q", cfg.Layout)
	}
	if want := []string{"team-a", "env=prod"}; !reflect.DeepEqual(cfg.Namespaces.Allow, want) {
		t.Errorf("namespaces.allow: the injector reads %q, want %q", cfg.Namespaces.Allow, want)
	}
	if want := []string{"team-b"}; !reflect.DeepEqual(cfg.Namespaces.Deny, want) {
		t.Errorf("namespaces.deny: the injector reads %q, want %q", cfg.Namespaces.Deny, want)
	}
	if cfg.Heal.Enabled || !def.Heal.Enabled {
		t.Errorf("heal: the injector reads enabled=%v with heal.enabled=false and %v by default", cfg.Heal.Enabled, def.Heal.Enabled)
	}
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if n, _ := meta["name"].(string); n == "kab-injector-heal" || n == "kab-injector-heal-probe" {
			t.Errorf("heal.enabled=false still renders heal's %s %s: its RBAC belongs only to an install that heals", o.kind(), n)
		}
	}
	if name == defaultName {
		t.Errorf("a different config keeps the ConfigMap name %s: the Deployment would not roll", name)
	}
}
