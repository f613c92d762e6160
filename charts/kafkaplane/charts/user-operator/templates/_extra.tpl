{{- define "user-operator.extraArgs" -}}
{{- with .Values.clientsCa.namespace }}
- --clients-ca-namespace={{ . }}
{{- end }}
{{- with .Values.clientsCa.certSecret }}
- --clients-ca-cert-secret={{ . }}
{{- end }}
{{- with .Values.clientsCa.keySecret }}
- --clients-ca-key-secret={{ . }}
{{- end }}
{{- end }}
