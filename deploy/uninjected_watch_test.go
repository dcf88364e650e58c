package deploy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/boanu/kab/injector/config"
)

// TestOverlaysWithoutHealWatch: every install exports kab_injector_uninjected_pods. The
// overlays that do not heal run heal's watch mode, with a ClusterRole of pods get/list/watch
// and none of heal's rights (evictions, Events, Leases). The chart matches them through
// TestChartMatchesKustomize.
func TestOverlaysWithoutHealWatch(t *testing.T) {
	for _, dir := range []string{"overlays/hostpath", "overlays/hostpath/claim"} {
		t.Run(dir, func(t *testing.T) {
			var cfg *config.Config
			var rules any
			for _, o := range kustomizeObjects(t, dir) {
				meta, _ := o["metadata"].(map[string]any)
				name, _ := meta["name"].(string)
				switch {
				case strings.HasPrefix(name, "kab-injector-heal"):
					t.Errorf("%s %s: heal's rights in an install that does not heal", o.kind(), name)
				case o.kind() == "ClusterRole" && name == "kab-injector-uninjected-watch":
					rules = o["rules"]
				case o.kind() == "ConfigMap" && generatedConfigName.MatchString(name):
					data, _ := o["data"].(map[string]any)
					text, _ := data["config.yaml"].(string)
					c, err := config.Parse([]byte(text))
					if err != nil {
						t.Fatalf("the injector refuses %s's config.yaml: %v", dir, err)
					}
					cfg = c
				}
			}
			if cfg == nil || !cfg.Heal.WatchOnly() {
				t.Errorf("config: heal %+v, want heal: {enabled: true, evict: false}", cfg)
			}
			want := []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"get", "list", "watch"}}}
			if !reflect.DeepEqual(rules, want) {
				t.Errorf("ClusterRole kab-injector-uninjected-watch rules %v, want exactly %v", rules, want)
			}
		})
	}
}
