{{- define "topic-operator.extraArgs" -}}
- --delete-topics={{ .Values.deleteTopics }}
{{- end }}
