{{- define "op.name" -}}kafkaplane-{{ .Chart.Name }}{{- end }}
{{- define "op.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: kafkaplane
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- define "op.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "op.image" -}}
{{ .Values.global.image.registry }}/{{ .Chart.Name }}:{{ .Values.global.image.tag | default .Chart.AppVersion }}
{{- end }}
{{- define "op.namespaces" -}}{{ join "," .Values.global.watchNamespaces }}{{- end }}
