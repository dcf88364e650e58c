package config

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Heal is the injector's controller that evicts kab pods admitted without injection.
type Heal struct {
	// Enabled starts heal's pod watch and the kab_injector_uninjected_pods gauge.
	Enabled bool `json:"enabled,omitempty"`
	// Evict acts on what the watch finds (evictions, Events, one replica by a Lease); it needs
	// the RBAC of deploy/components/heal. false only watches and counts, on every replica,
	// with pods list/watch alone (deploy/components/uninjected-watch). Unset means true, so
	// `heal: {enabled: true}` keeps meaning full heal.
	Evict *bool `json:"evict,omitempty"`
}

// Evicts reports whether heal acts on un-injected pods, not just counts them.
func (h Heal) Evicts() bool {
	return h.Enabled && (h.Evict == nil || *h.Evict)
}

// WatchOnly reports whether heal only counts un-injected pods (heal: {enabled: true, evict: false}).
func (h Heal) WatchOnly() bool {
	return h.Enabled && !h.Evicts()
}

func (h Heal) validate() []error {
	if !h.Enabled && h.Evict != nil {
		return []error{fmt.Errorf("heal.evict: %v is set but heal.enabled is false; set heal.enabled: true (evict: false only watches and counts un-injected pods) or remove heal.evict", *h.Evict)}
	}
	return nil
}

// Layout says where a pod's folder sits on the backup volume (DESIGN §11).
type Layout string

const (
	// LayoutFlat is the seed's layout: <root>/<backup-name>. A backup-name belongs to the
	// first namespace that uses it.
	LayoutFlat Layout = "flat"
	// LayoutNamespaced is <root>/<namespace>/<backup-name>: namespaces cannot name each
	// other's folders.
	LayoutNamespaced Layout = "namespaced"
)

func (l Layout) validate() []error {
	if l != LayoutFlat && l != LayoutNamespaced {
		return []error{fmt.Errorf("layout: %q is not a layout; use %s (<root>/<backup-name>, the default) or %s (<root>/<namespace>/<backup-name>)", string(l), LayoutFlat, LayoutNamespaced)}
	}
	return nil
}

// Namespaces decides which namespaces may use kab. Each entry is a namespace name (team-a) or
// a label selector, told apart by the selector's operators (=, !=, in, notin, !key):
// "kab=on", "env in (prod,staging)". Deny wins over allow; an empty allow list allows all.
type Namespaces struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// NamespaceMatcher is one allow or deny entry, parsed.
type NamespaceMatcher struct {
	Entry    string
	Name     string          // set for a name entry
	Selector labels.Selector // set for a selector entry
}

// Matches reports whether the namespace (its name and labels) is the one the entry means.
func (m NamespaceMatcher) Matches(name string, nsLabels map[string]string) bool {
	if m.Selector != nil {
		return m.Selector.Matches(labels.Set(nsLabels))
	}
	return m.Name == name
}

// ParseNamespaceEntry reads one allow/deny entry: a name, or a label selector when it holds a
// selector operator.
func ParseNamespaceEntry(entry string) (NamespaceMatcher, error) {
	if !strings.ContainsAny(entry, "=!(, ") {
		if errs := validation.IsDNS1123Label(entry); len(errs) > 0 {
			return NamespaceMatcher{}, fmt.Errorf("%q is neither a namespace name (%s) nor a label selector such as kab=on", entry, strings.Join(errs, "; "))
		}
		return NamespaceMatcher{Entry: entry, Name: entry}, nil
	}
	sel, err := labels.Parse(entry)
	if err != nil {
		return NamespaceMatcher{}, fmt.Errorf("%q is not a label selector (e.g. kab=on, env in (prod,staging)): %w", entry, err)
	}
	return NamespaceMatcher{Entry: entry, Selector: sel}, nil
}

// Matchers parses the allow and deny lists; Validate has checked they parse.
func (n Namespaces) Matchers() (allow, deny []NamespaceMatcher) {
	for _, e := range n.Allow {
		m, _ := ParseNamespaceEntry(e)
		allow = append(allow, m)
	}
	for _, e := range n.Deny {
		m, _ := ParseNamespaceEntry(e)
		deny = append(deny, m)
	}
	return allow, deny
}

// HasSelectors reports whether an entry needs the namespace's labels (a namespace lister).
func (n Namespaces) HasSelectors() bool {
	allow, deny := n.Matchers()
	for _, m := range append(allow, deny...) {
		if m.Selector != nil {
			return true
		}
	}
	return false
}

func (n Namespaces) validate() []error {
	var errs []error
	for _, list := range []struct {
		field   string
		entries []string
	}{{"namespaces.allow", n.Allow}, {"namespaces.deny", n.Deny}} {
		for i, e := range list.entries {
			if _, err := ParseNamespaceEntry(e); err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", list.field, i, err))
			}
		}
	}
	return errs
}
