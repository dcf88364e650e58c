package shared

// What the injector would otherwise rebuild from the table on every admission: each key's
// position, its full annotation name and its agent variable name. Computed once from
// Annotations, so the table stays the only source.
var (
	keyIndex       = make(map[string]int, len(Annotations)) // key without Prefix → index in Annotations
	annotationKeys = make([]string, len(Annotations))       // Prefix + key
	envNames       = make([]string, len(Annotations))       // EnvName(key)
	agentKeyCount  int                                      // entries with ToAgent
)

func init() {
	for i, a := range Annotations {
		keyIndex[a.Key] = i
		annotationKeys[i] = Prefix + a.Key
		envNames[i] = envName(a.Key)
		if a.ToAgent {
			agentKeyCount++
		}
	}
}
