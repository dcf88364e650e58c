// Package shared holds kab's one table of pod annotations: their keys, defaults, parsers and
// docs, the typed Spec they parse into, and the KAB_* environment through which the injector
// hands a Spec to the agent. The injector, the agent and the README all read this table, so a
// key, a default or a rule is written down exactly once.
package shared

// Importing the zone database here embeds it in every kab binary: the images are FROM scratch,
// and a CRON_TZ=Europe/Oslo schedule must validate in the injector and run in the agent alike.
import _ "time/tzdata"
