{{/* The injector's config.yaml, from the values (DESIGN.md §5, §11). */}}
{{- define "kab.config" -}}
{{- $v := .Values -}}
{{- if not (has $v.volume.kind (list "nfs" "hostPath" "persistentVolumeClaim")) -}}
{{- fail (printf "volume.kind %q: want nfs, hostPath or persistentVolumeClaim" $v.volume.kind) -}}
{{- end -}}
{{- $cfg := dict "agentImage" $v.agentImage "volume" (dict $v.volume.kind (get $v.volume $v.volume.kind)) "agentPort" $v.agentPort "agentResources" $v.agentResources "allowPtrace" $v.allowPtrace "layout" $v.layout -}}
{{- if $v.heal.enabled -}}{{- $_ := set $cfg "heal" (dict "enabled" true) -}}{{- end -}}
{{- if and $v.heal.enabled (not $v.heal.evict) -}}{{- $_ := set $cfg "heal" (dict "enabled" true "evict" false) -}}{{- end -}}
{{- $ns := dict -}}
{{- if $v.namespaces.allow -}}{{- $_ := set $ns "allow" $v.namespaces.allow -}}{{- end -}}
{{- if $v.namespaces.deny -}}{{- $_ := set $ns "deny" $v.namespaces.deny -}}{{- end -}}
{{- if $ns -}}{{- $_ := set $cfg "namespaces" $ns -}}{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The config ConfigMap's name carries a hash of its content, as kustomize's configMapGenerator
does, so a config change rolls the Deployment (the injector reads its config at start). */}}
{{- define "kab.configName" -}}
kab-injector-config-{{ include "kab.config" . | sha256sum | trunc 10 }}
{{- end -}}

{{/* Labels of the objects the kustomize base makes (its `labels: part-of`). */}}
{{- define "kab.labels" -}}
app.kubernetes.io/name: kab-injector
app.kubernetes.io/part-of: kab
{{- end -}}

{{- define "kab.certManager" -}}
{{- if eq .Values.tls.mode "certManager" -}}true{{- else if ne .Values.tls.mode "selfManaged" -}}
{{- fail (printf "tls.mode %q: want selfManaged or certManager" .Values.tls.mode) -}}
{{- end -}}
{{- end -}}
