package mutation

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAgentCapabilities(t *testing.T) {
	base := []corev1.Capability{"CHOWN", "SYS_CHROOT", "SETUID", "SETGID", "KILL"}
	yes := true
	tests := []struct {
		name        string
		sc          *corev1.SecurityContext
		allowPtrace bool
		wantAdd     []corev1.Capability
		wantDrop    []corev1.Capability
		wantErr     string
	}{
		{name: "no security context keeps runtime defaults", wantAdd: base},
		{name: "drop ALL is mirrored", sc: caps(nil, "ALL"), wantAdd: base, wantDrop: []corev1.Capability{"ALL"}},
		{name: "lower-case all is still ALL", sc: caps(nil, "all"), wantAdd: base, wantDrop: []corev1.Capability{"ALL"}},
		{name: "dropping some keeps defaults", sc: caps(nil, "NET_RAW"), wantAdd: base},
		{name: "adds are mirrored once, normalized", sc: caps([]string{"CAP_NET_ADMIN", "chown", "NET_ADMIN"}),
			wantAdd: append(append([]corev1.Capability{}, base...), "NET_ADMIN")},
		{name: "privileged denied", sc: &corev1.SecurityContext{Privileged: &yes}, wantErr: `"app" is privileged`},
		{name: "SYS_ADMIN denied", sc: caps([]string{"SYS_ADMIN"}), wantErr: "adds SYS_ADMIN"},
		{name: "CAP_SYS_PTRACE denied", sc: caps([]string{"CAP_SYS_PTRACE"}), wantErr: "adds SYS_PTRACE"},
		{name: "add ALL denied", sc: caps([]string{"ALL"}), wantErr: "adds ALL"},
		{name: "privileged with allowPtrace", sc: &corev1.SecurityContext{Privileged: &yes}, allowPtrace: true,
			wantAdd: append(append([]corev1.Capability{}, base...), "SYS_PTRACE")},
		{name: "SYS_ADMIN with allowPtrace gets PTRACE, not SYS_ADMIN", sc: caps([]string{"SYS_ADMIN", "NET_ADMIN"}, "ALL"), allowPtrace: true,
			wantAdd: append(append([]corev1.Capability{}, base...), "NET_ADMIN", "SYS_PTRACE"), wantDrop: []corev1.Capability{"ALL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agentCapabilities(&corev1.Container{Name: "app", SecurityContext: tt.sc}, tt.allowPtrace)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Add, tt.wantAdd) || !reflect.DeepEqual(got.Drop, tt.wantDrop) {
				t.Fatalf("add %v drop %v, want add %v drop %v", got.Add, got.Drop, tt.wantAdd, tt.wantDrop)
			}
		})
	}
}

func caps(add []string, drop ...string) *corev1.SecurityContext {
	c := &corev1.Capabilities{}
	for _, a := range add {
		c.Add = append(c.Add, corev1.Capability(a))
	}
	for _, d := range drop {
		c.Drop = append(c.Drop, corev1.Capability(d))
	}
	return &corev1.SecurityContext{Capabilities: c}
}
