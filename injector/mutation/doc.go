// Package mutation is the injector's pure core: Mutate turns a pod and the injector's config
// into the pod kab wants admitted (DESIGN §4), or into a denial that tells a person what to
// change. It does no I/O and never modifies its input, so the HTTP layer, the golden tests, the
// fuzz targets and the benchmarks all exercise exactly the code the API server talks to.
//
// The steps, each in its own file:
//   - deny.go:         what kab cannot serve (hostPID, Windows, clashes with kab's names)
//   - app.go:          which container is the app
//   - volume.go:       the kab-backup volume and its mount (subPath = backup-name)
//   - restore.go:      the kab-restore clone, or the user's own kab-restorer
//   - agent.go:        the kab-agent native sidecar
//   - capabilities.go: the agent's capabilities, derived from the app's (DESIGN §6)
//   - resources.go:    pod-level resources raised by the agent's
//
// The JSON patch for the API server is not built here: package patch diffs the input and the
// output of Mutate.
package mutation
