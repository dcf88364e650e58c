package offsite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	k := newKeys(t)
	good := map[string]string{
		KeyEndpoint: "https://s3.example.net:9000", KeyBucket: "b", KeyAccessKeyID: "a", KeySecretAccessKey: "s",
		KeyRecipients: "# laptop\n" + k.recipient + "\n\n", KeyPrefix: "/kab/home/",
	}
	write := func(t *testing.T, values map[string]string) string {
		dir := t.TempDir()
		for key, v := range values {
			if err := os.WriteFile(filepath.Join(dir, key), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cfg, err := Load(write(t, good), "kab-offsite", false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "s3.example.net:9000" || !cfg.Secure || cfg.Prefix != "kab/home" || len(cfg.Recipients) != 1 || cfg.Identities != nil {
		t.Fatalf("config: %+v", cfg)
	}
	for name, c := range map[string]struct {
		change       map[string]string
		drop         string
		withIdentity bool
		key          string
		want         string
	}{
		"missing bucket":      {drop: KeyBucket, key: KeyBucket, want: "is missing"},
		"missing recipients":  {drop: KeyRecipients, key: KeyRecipients, want: "is missing"},
		"empty secret key":    {change: map[string]string{KeySecretAccessKey: "\n"}, key: KeySecretAccessKey, want: "is empty"},
		"bad recipient":       {change: map[string]string{KeyRecipients: "age1notakey\n"}, key: KeyRecipients, want: "age public keys"},
		"ssh-less garbage":    {change: map[string]string{KeyRecipients: "hello world"}, key: KeyRecipients, want: "age public keys"},
		"endpoint with path":  {change: map[string]string{KeyEndpoint: "https://s3.example.net/bucket"}, key: KeyEndpoint, want: "only a scheme, host and port"},
		"endpoint ftp":        {change: map[string]string{KeyEndpoint: "ftp://s3.example.net"}, key: KeyEndpoint, want: "unknown scheme"},
		"prefix dotdot":       {change: map[string]string{KeyPrefix: "a/../b"}, key: KeyPrefix, want: "clean object prefix"},
		"identity missing":    {withIdentity: true, key: KeyIdentity, want: "is missing"},
		"identity is garbage": {change: map[string]string{KeyIdentity: "AGE-SECRET-KEY-1NOPE"}, withIdentity: true, key: KeyIdentity, want: "age private key"},
	} {
		t.Run(name, func(t *testing.T) {
			values := map[string]string{}
			for key, v := range good {
				values[key] = v
			}
			delete(values, c.drop)
			for key, v := range c.change {
				values[key] = v
			}
			_, err := Load(write(t, values), "kab-offsite", c.withIdentity)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != c.key || ce.Secret != "kab-offsite" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v; want a ConfigError for key %q containing %q", err, c.key, c.want)
			}
			if !strings.Contains(err.Error(), `offsite Secret "kab-offsite": key "`+c.key+`"`) {
				t.Fatalf("message does not name the Secret and key: %v", err)
			}
		})
	}
	values := map[string]string{KeyIdentity: k.identity}
	for key, v := range good {
		values[key] = v
	}
	if cfg, err := Load(write(t, values), "kab-offsite", true); err != nil || len(cfg.Identities) != 1 {
		t.Fatalf("with identity: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{First: 1, Max: 10}
	for i, want := range []int{1, 2, 4, 8, 10, 10} {
		if got := b.Next(i + 1); int(got) != want {
			t.Errorf("Next(%d) = %d, want %d", i+1, got, want)
		}
	}
}
