package config

import (
	"strings"
	"testing"
)

func TestHealModes(t *testing.T) {
	for _, c := range []struct {
		heal            string
		enabled, evicts bool
		watchOnly       bool
	}{
		{"", false, false, false},
		{"heal: {enabled: false}\n", false, false, false},
		// evict defaults to true, so configs written before evict existed keep their meaning.
		{"heal: {enabled: true}\n", true, true, false},
		{"heal: {enabled: true, evict: true}\n", true, true, false},
		{"heal: {enabled: true, evict: false}\n", true, false, true},
	} {
		cfg, err := Parse([]byte(base + c.heal))
		if err != nil {
			t.Errorf("%q: %v", c.heal, err)
			continue
		}
		if cfg.Heal.Enabled != c.enabled || cfg.Heal.Evicts() != c.evicts || cfg.Heal.WatchOnly() != c.watchOnly {
			t.Errorf("%q: enabled %v evicts %v watchOnly %v, want %v %v %v", c.heal,
				cfg.Heal.Enabled, cfg.Heal.Evicts(), cfg.Heal.WatchOnly(), c.enabled, c.evicts, c.watchOnly)
		}
	}
}

func TestBadHealValues(t *testing.T) {
	for _, c := range []struct {
		heal string
		want []string
	}{
		{"heal: {enabled: false, evict: false}\n", []string{"heal.evict", "heal.enabled is false", "heal.enabled: true"}},
		{"heal: {enabled: true, evict: sometimes}\n", []string{"evict", "bool"}},
		{"heal: {enabled: true, watch: true}\n", []string{`unknown field "watch"`}},
	} {
		_, err := Parse([]byte(base + c.heal))
		if err == nil {
			t.Errorf("%q accepted", c.heal)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q: error %q does not mention %q", c.heal, err, want)
			}
		}
	}
}
