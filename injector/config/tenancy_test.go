package config

import (
	"strings"
	"testing"
)

const base = "agentImage: a\nvolume: {hostPath: {path: /var/lib/kab}}\n"

func TestLayoutDefaultsToFlat(t *testing.T) {
	cfg, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Layout != LayoutFlat || cfg.Heal.Enabled {
		t.Errorf("layout %q heal %v, want flat and heal off", cfg.Layout, cfg.Heal.Enabled)
	}
}

func TestUnknownLayoutNamesTheAllowedValues(t *testing.T) {
	_, err := Parse([]byte(base + "layout: per-namespace\n"))
	if err == nil {
		t.Fatal("layout per-namespace accepted")
	}
	for _, want := range []string{`layout: "per-namespace"`, "flat", "namespaced"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHealAndNamespacesParse(t *testing.T) {
	cfg, err := Parse([]byte(base + "layout: namespaced\nheal: {enabled: true}\nnamespaces: {allow: [team-a, 'kab=on'], deny: ['env in (sandbox)']}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Heal.Enabled || cfg.Layout != LayoutNamespaced || !cfg.Namespaces.HasSelectors() {
		t.Errorf("parsed %+v", cfg)
	}
	allow, deny := cfg.Namespaces.Matchers()
	if !allow[0].Matches("team-a", nil) || allow[0].Matches("team-b", nil) {
		t.Error("name entry team-a matches wrongly")
	}
	if !allow[1].Matches("any", map[string]string{"kab": "on"}) || allow[1].Matches("any", nil) {
		t.Error("selector entry kab=on matches wrongly")
	}
	if !deny[0].Matches("x", map[string]string{"env": "sandbox"}) {
		t.Error("selector entry env in (sandbox) does not match env=sandbox")
	}
}

func TestBadNamespaceEntries(t *testing.T) {
	_, err := Parse([]byte(base + "namespaces: {allow: [Team_A], deny: ['env in (']}\n"))
	if err == nil {
		t.Fatal("bad entries accepted")
	}
	for _, want := range []string{"namespaces.allow[0]", "Team_A", "namespaces.deny[0]", "label selector"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
