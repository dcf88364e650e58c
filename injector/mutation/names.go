package mutation

// Names kab gives to what it adds to a pod. They are reserved: a pod that already uses one is
// denied rather than silently merged with kab's own.
const (
	BackupVolumeName     = "kab-backup"
	AgentContainerName   = "kab-agent"
	RestoreContainerName = "kab-restore"
	// UserRestoreContainerName is the init container a user may bring to restore with their
	// own image; kab gives it the backup mount and env instead of cloning the app.
	UserRestoreContainerName = "kab-restorer"
	MetricsPortName          = "kab-metrics"
	// HealthPath is the agent's liveness and readiness endpoint: it reflects only the agent
	// process, never the last backup, so a failing backup cannot take the app out of its Service.
	HealthPath = "/healthz"
)
