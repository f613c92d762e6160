{{- define "cluster-operator.args" -}}
- --topic-operator-image={{ .Values.topicOperatorImage | default (printf "%s/topic-operator:%s" .Values.global.image.registry (.Values.global.image.tag | default .Chart.AppVersion)) }}
- --user-operator-image={{ .Values.userOperatorImage | default (printf "%s/user-operator:%s" .Values.global.image.registry (.Values.global.image.tag | default .Chart.AppVersion)) }}
- --jmx-exporter-image={{ .Values.jmxExporterImage | default (printf "%s/jmx-exporter:%s" .Values.global.image.registry (.Values.global.image.tag | default .Chart.AppVersion)) }}
{{- with .Values.jmxExporterJar }}
- --jmx-exporter-jar={{ . }}
{{- end }}
{{- end }}
{{- define "cluster-operator.volumeMounts" -}}{{- end }}
{{- define "cluster-operator.volumes" -}}{{- end }}
