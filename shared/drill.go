package shared

import (
	"fmt"
	"regexp"
)

// EnvDrillSource is where kab-drill-copy finds the live backup folder (mounted read-only).
const EnvDrillSource = "KAB_DRILL_SOURCE"

// DrillLatest asks a restore drill for the backup `latest` points to (seed mode: the folder).
const DrillLatest = "latest"

// StampPattern is a snapshot folder's name (DESIGN §6): the run's UTC start time,
// 20061102T150405.000Z. The agent writes it; the drill and the plugin only read it.
var StampPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$`)

// parseDrill accepts what a restore drill may copy: latest or one snapshot stamp. It becomes
// a folder name under snapshots/, so nothing else may pass.
func parseDrill(v string) (string, error) {
	if v == DrillLatest || StampPattern.MatchString(v) {
		return v, nil
	}
	return "", fmt.Errorf("is not a snapshot; use %q or a stamp such as %q", DrillLatest, "20261205T020000.000Z")
}
