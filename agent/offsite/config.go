// Package offsite keeps encrypted copies of good backups in S3-compatible storage and fetches
// them back (DESIGN.md §10): tar → zstd → age streamed into one object per run, a plaintext
// manifest beside it, remote retention, and restore with the same standard formats a person can
// read with `age -d | zstd -d | tar -x`.
package offsite

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// MountDir is where the injector mounts the offsite Secret into kab-agent and kab-fetch.
const MountDir = "/var/run/kab/offsite"

// The Secret's keys (DESIGN.md §10).
const (
	KeyEndpoint        = "endpoint"
	KeyBucket          = "bucket"
	KeyAccessKeyID     = "accessKeyID"
	KeySecretAccessKey = "secretAccessKey"
	KeyRegion          = "region"
	KeyPrefix          = "prefix"
	KeyCABundle        = "caBundle"
	KeyRecipients      = "recipients"
	KeyIdentity        = "identity"
)

// Config is the offsite Secret, read from its mounted files and checked.
type Config struct {
	Secret          string // the Secret's name, for messages
	Endpoint        string // host[:port]
	Secure          bool   // https (the default) or http
	Bucket          string
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	Prefix          string // without leading or trailing '/'
	CABundle        []byte
	Recipients      []age.Recipient
	Identities      []age.Identity // only when loaded for restore
}

// ConfigError names the Secret and the key that is wrong, and what would be right.
type ConfigError struct {
	Secret, Key, Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("offsite Secret %q: key %q %s", e.Secret, e.Key, e.Reason)
}

// ErrNoIdentity is wrapped when a restore needs the identity and the Secret has none.
var ErrNoIdentity = errors.New("no age identity")

// Load reads the Secret mounted at dir. withIdentity: the identity is required (restore);
// otherwise it is not read at all (kab-agent does not get it mounted).
func Load(dir, secret string, withIdentity bool) (*Config, error) {
	read := func(key string, required bool) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, key))
		if errors.Is(err, os.ErrNotExist) {
			if required {
				return "", &ConfigError{secret, key, fmt.Sprintf("is missing (no file %s); add it to the Secret", filepath.Join(dir, key))}
			}
			return "", nil
		}
		if err != nil {
			return "", &ConfigError{secret, key, fmt.Sprintf("cannot be read: %v", err)}
		}
		v := strings.TrimSpace(string(b))
		if v == "" && required {
			return "", &ConfigError{secret, key, "is empty; give it a value"}
		}
		return v, nil
	}
	c := &Config{Secret: secret}
	var err error
	var endpoint, recipients string
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{KeyEndpoint, &endpoint, true}, {KeyBucket, &c.Bucket, true},
		{KeyAccessKeyID, &c.AccessKeyID, true}, {KeySecretAccessKey, &c.SecretAccessKey, true},
		{KeyRegion, &c.Region, false}, {KeyPrefix, &c.Prefix, false}, {KeyRecipients, &recipients, true},
	} {
		if *f.dst, err = read(f.key, f.required); err != nil {
			return nil, err
		}
	}
	if c.Endpoint, c.Secure, err = parseEndpoint(endpoint); err != nil {
		return nil, &ConfigError{secret, KeyEndpoint, fmt.Sprintf("%q %v", endpoint, err)}
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if strings.Contains(c.Prefix, "//") || strings.Contains("/"+c.Prefix+"/", "/../") {
		return nil, &ConfigError{secret, KeyPrefix, fmt.Sprintf("%q is not a clean object prefix; use e.g. %q", c.Prefix, "kab/home")}
	}
	if ca, err := read(KeyCABundle, false); err != nil {
		return nil, err
	} else if ca != "" {
		c.CABundle = []byte(ca)
	}
	if c.Recipients, err = age.ParseRecipients(strings.NewReader(recipients)); err != nil {
		return nil, &ConfigError{secret, KeyRecipients, fmt.Sprintf("is not a list of age public keys, one a line (age1…): %v", err)}
	}
	if withIdentity {
		id, err := read(KeyIdentity, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoIdentity, err)
		}
		if c.Identities, err = age.ParseIdentities(bytes.NewReader([]byte(id))); err != nil {
			return nil, &ConfigError{secret, KeyIdentity, fmt.Sprintf("is not an age private key (AGE-SECRET-KEY-1…): %v", err)}
		}
	}
	return c, nil
}

// parseEndpoint accepts "https://host[:port]", "http://host[:port]" or "host[:port]" (https).
func parseEndpoint(s string) (hostPort string, secure bool, err error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false, fmt.Errorf("is not a URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", false, errors.New("has an unknown scheme; use https://host[:port] or http://host[:port]")
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, errors.New("must be only a scheme, host and port, e.g. https://s3.example.net or http://10.0.0.5:8333")
	}
	return u.Host, u.Scheme == "https", nil
}

// URL is the endpoint as a person would write it, for messages.
func (c *Config) URL() string {
	if c.Secure {
		return "https://" + c.Endpoint
	}
	return "http://" + c.Endpoint
}
