{{/* Fail early, naming what is allowed, when the environment is not one the chart carries. */}}
{{- define "hyperscale-platform.environment" -}}
{{- $env := required "set environment (sandbox, staging or prod), e.g. -f values-prod.yaml" .Values.environment -}}
{{- if not (has $env (list "sandbox" "staging" "prod")) -}}
{{- fail (printf "environment %q: the chart carries sandbox, staging and prod" $env) -}}
{{- end -}}
{{- $env -}}
{{- end -}}
