package shared

import (
	"strings"
	"testing"
)

func TestParseKeep(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want KeepPolicy
	}{
		{"7", KeepPolicy{Last: 7}},
		{"1000", KeepPolicy{Last: 1000}},
		{"last=3", KeepPolicy{Last: 3}},
		{"daily=7", KeepPolicy{Daily: 7}},
		{"last=3 hourly=24 daily=7 weekly=4 monthly=12 yearly=3", KeepPolicy{3, 24, 7, 4, 12, 3}},
		{"  yearly=1\tdaily=1 ", KeepPolicy{Daily: 1, Yearly: 1}},
	} {
		got, err := parseKeep(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseKeep(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if again, err := parseKeep(got.String()); err != nil || again != got {
			t.Errorf("String() of %q = %q does not parse back: %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

func TestParseKeepErrorsNameTheBadWord(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"0", []string{"1 to 1000", "last=3"}},
		{"1001", []string{"1 to 1000"}},
		{"seven", []string{`"seven"`, "rule=n"}},
		{"daly=7", []string{`"daly"`, `did you mean "daily"`, "last=3 hourly=24"}},
		{"daily=0", []string{`"daily=0"`, "1 to 1000"}},
		{"daily=1001", []string{`"daily=1001"`}},
		{"daily=x", []string{`"daily=x"`}},
		{"daily=7 daily=3", []string{`"daily" twice`}},
		{"last=3 weekly", []string{`"weekly"`, "rule=n"}},
	} {
		_, err := parseKeep(tc.in)
		if err == nil {
			t.Errorf("parseKeep(%q) accepted", tc.in)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseKeep(%q) error %q does not contain %q", tc.in, err, w)
			}
		}
	}
}

func TestNewKeysAreValidated(t *testing.T) {
	for _, tc := range []struct {
		key, value, want string
	}{
		{KeyBackupAllowEmpty, "yes", `"true" or "false"`},
		{KeyOffsite, "My_Secret", "Secret name"},
		{KeyBackupKeep, "dayly=3", `did you mean "daily"`},
	} {
		_, err := Parse(map[string]string{Prefix + tc.key: tc.value})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), Prefix+tc.key) {
			t.Errorf("%s=%q: error %v, want it to name the key and say %q", tc.key, tc.value, err, tc.want)
		}
	}
	spec, err := Parse(map[string]string{Prefix + KeyBackupVerify: "tar -tf x", Prefix + KeyBackupAllowEmpty: "true", Prefix + KeyOffsite: "kab-offsite"})
	if err != nil || spec.Verify != "tar -tf x" || !spec.AllowEmpty || spec.Offsite != "kab-offsite" {
		t.Errorf("spec = %+v, %v", spec, err)
	}
}
