{{- define "topic-operator.args" -}}
- --bootstrap-servers={{ required "bootstrapServers is required" .Values.bootstrapServers }}
{{- with .Values.resourceLabels }}
- --resource-labels={{ . }}
{{- end }}
{{- if .Values.tls.secretName }}
- --tls-ca-file=/etc/kafkaplane/tls/{{ .Values.tls.caKey }}
{{- if .Values.tls.certKey }}
- --tls-cert-file=/etc/kafkaplane/tls/{{ .Values.tls.certKey }}
- --tls-key-file=/etc/kafkaplane/tls/{{ .Values.tls.keyKey }}
{{- end }}
{{- end }}
{{- if .Values.sasl.secretName }}
- --sasl-username={{ .Values.sasl.username }}
- --sasl-password-file=/etc/kafkaplane/sasl/{{ .Values.sasl.passwordKey }}
{{- end }}
{{ include "topic-operator.extraArgs" . }}
{{- end }}
{{- define "topic-operator.volumeMounts" -}}
volumeMounts:
{{- if .Values.tls.secretName }}
  - {name: tls, mountPath: /etc/kafkaplane/tls, readOnly: true}
{{- end }}
{{- if .Values.sasl.secretName }}
  - {name: sasl, mountPath: /etc/kafkaplane/sasl, readOnly: true}
{{- end }}
{{- end }}
{{- define "topic-operator.volumes" -}}
volumes:
{{- with .Values.tls.secretName }}
  - {name: tls, secret: {secretName: {{ . }}}}
{{- end }}
{{- with .Values.sasl.secretName }}
  - {name: sasl, secret: {secretName: {{ . }}}}
{{- end }}
{{- end }}
