{{/* Name of a component's objects: <release>-<service>, at most 63 characters. */}}
{{- define "im.componentname" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- printf "%s-%s" $root.Release.Name $svc | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "im.selectorLabels" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
app.kubernetes.io/name: im-platform
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ $svc }}
{{- end -}}

{{- define "im.labels" -}}
{{- $root := index . 0 -}}
{{ include "im.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{- end -}}

{{/* A per-service value, falling back to .Values.defaults: (list $ "gateway" "replicas"). */}}
{{- define "im.value" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}{{- $key := index . 2 -}}
{{- $own := index $root.Values.services $svc -}}
{{- if hasKey $own $key -}}{{- toYaml (index $own $key) -}}{{- else -}}{{- toYaml (index $root.Values.defaults $key) -}}{{- end -}}
{{- end -}}

{{- define "im.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Which service calls which over gRPC: the one wiring table of the chart. It gives each service its
*_GRPC_ADDR variables and each service's NetworkPolicy the pods allowed to its gRPC port.
*/}}
{{- define "im.grpcWiring" -}}
gateway: [auth, message, presence, media, notification]
auth: []
message: [auth, media]
presence: [message]
media: [message]
notification: [presence, message, auth]
{{- end -}}

{{/* gRPC address of a service: headless Service + dns resolver, so clients balance over all pods. */}}
{{- define "im.grpcAddress" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- printf "dns:///%s-grpc:50051" (include "im.componentname" (list $root $svc)) -}}
{{- end -}}

{{/* Environment of a service beyond the shared ConfigMap. */}}
{{- define "im.env" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
- name: INSTANCE_ID
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: OTEL_SERVICE_NAME
  value: {{ $svc }}
- name: SHUTDOWN_TIMEOUT_MS
  value: {{ $root.Values.defaults.shutdownTimeoutMs | quote }}
{{- if $root.Values.grpcTls.enabled }}
- { name: GRPC_TLS_DIR, value: /etc/im/grpc-tls }
{{- else }}
- { name: GRPC_ALLOW_PLAINTEXT, value: "true" }
{{- end }}
{{- /* services with a keyspace log in as their own role (ADR 0024; CASSANDRA_SERVICES in libs/platform) */}}
{{- if has $svc (list "auth" "message" "media" "notification") }}
{{- with $root.Values.infrastructure.cassandra.existingSecret }}
- name: CASSANDRA_USERNAME
  value: {{ ternary (printf "%s_%s" (replace "-" "_" $root.Values.namePrefix) $svc) $svc (ne $root.Values.namePrefix "") | quote }}
- name: CASSANDRA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ . }}, key: {{ $svc }} } }
{{- end }}
{{- end }}
{{- /* each service that uses Kafka is its own SASL user, with ACLs on its topics and groups (ADR 0028; KAFKA_ACCESS) */}}
{{- if has $svc (splitList " " (include "im.kafkaServices" $root)) }}
{{- if include "im.kafkaCaSecret" (list $root $svc) }}
- { name: KAFKA_TLS_CA_FILE, value: /etc/im/kafka-ca/ca.crt }
{{- end }}
{{- with $root.Values.infrastructure.kafka.existingSecret }}
- name: KAFKA_USERNAME
  value: {{ ternary (printf "%s-%s" $root.Values.namePrefix $svc) $svc (ne $root.Values.namePrefix "") | quote }}
- name: KAFKA_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ . }}, key: {{ $svc }} } }
{{- end }}
{{- end }}
{{- /* each service that uses NATS is its own user, limited to its subjects (ADR 0023; NATS_ACCESS) */}}
{{- if has $svc (list "gateway" "auth" "presence" "message" "notification") }}
{{- with $root.Values.infrastructure.nats.existingSecret }}
- name: NATS_USER
  value: {{ ternary (printf "%s-%s" $root.Values.namePrefix $svc) $svc (ne $root.Values.namePrefix "") | quote }}
- name: NATS_PASS
  valueFrom: { secretKeyRef: { name: {{ . }}, key: {{ $svc }} } }
{{- end }}
{{- end }}
{{- if eq $svc "gateway" }}
- { name: PUBLIC_PORT, value: {{ $root.Values.services.gateway.publicPort | quote }} }
{{- with $root.Values.services.gateway.trustedProxies }}
- { name: TRUSTED_PROXIES, value: {{ . | quote }} }
{{- end }}
{{- if $root.Values.services.gateway.webClient }}
- { name: WEB_CLIENT_DIR, value: "/app/apps/web/dist" }
{{- with (or $root.Values.infrastructure.s3.publicEndpoint $root.Values.infrastructure.s3.endpoint) }}
- { name: WEB_CLIENT_MEDIA_ORIGIN, value: {{ regexFind "^https?://[^/]+" . | quote }} }
{{- end }}
{{- end }}
{{- end }}
{{- range $dep := index (include "im.grpcWiring" $root | fromYaml) $svc }}
- { name: {{ upper $dep }}_GRPC_ADDR, value: {{ include "im.grpcAddress" (list $root $dep) | quote }} }
{{- end }}
{{- if eq $svc "message" }}
- { name: OPENSEARCH_URL, value: {{ $root.Values.infrastructure.opensearch.url | quote }} }
- { name: OPENSEARCH_INDEX_REPLICAS, value: {{ $root.Values.infrastructure.opensearch.indexReplicas | quote }} }
{{- with $root.Values.infrastructure.opensearch.existingSecret }}
- name: OPENSEARCH_USERNAME
  valueFrom: { secretKeyRef: { name: {{ . }}, key: username } }
- name: OPENSEARCH_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ . }}, key: password } }
{{- end }}
{{- end }}
{{- if eq $svc "media" }}
- { name: S3_ENDPOINT, value: {{ $root.Values.infrastructure.s3.endpoint | quote }} }
{{- with $root.Values.infrastructure.s3.publicEndpoint }}
- { name: S3_PUBLIC_ENDPOINT, value: {{ . | quote }} }
{{- end }}
{{- with $root.Values.infrastructure.s3.corsAllowedOrigins }}
- { name: S3_CORS_ALLOWED_ORIGINS, value: {{ . | quote }} }
{{- end }}
- { name: S3_REGION, value: {{ $root.Values.infrastructure.s3.region | default "us-east-1" | quote }} }
- { name: S3_BUCKET, value: {{ $root.Values.infrastructure.s3.bucket | default "im-media" | quote }} }
- name: S3_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ $root.Values.infrastructure.s3.existingSecret }}, key: accessKeyId } }
- name: S3_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ $root.Values.infrastructure.s3.existingSecret }}, key: secretAccessKey } }
{{- end }}
{{- if eq $svc "notification" }}
- { name: WEBPUSH_VAPID_SUBJECT, value: {{ dig "notification" "webPush" "subject" "mailto:admin@example.com" $root.Values.AsMap | quote }} }
{{- with dig "notification" "webPush" "vapidSecret" "" $root.Values.AsMap }}
- name: WEBPUSH_VAPID_PUBLIC_KEY
  valueFrom: { secretKeyRef: { name: {{ . }}, key: publicKey } }
- name: WEBPUSH_VAPID_PRIVATE_KEY
  valueFrom: { secretKeyRef: { name: {{ . }}, key: privateKey } }
{{- end }}
{{- with dig "notification" "apns" dict $root.Values.AsMap }}
{{- if .existingSecret }}
- { name: APNS_KEY_FILE, value: /etc/im/apns/AuthKey.p8 }
- { name: APNS_KEY_ID, value: {{ required "notification.apns.keyId is needed with existingSecret" .keyId | quote }} }
- { name: APNS_TEAM_ID, value: {{ required "notification.apns.teamId is needed with existingSecret" .teamId | quote }} }
- { name: APNS_TOPIC, value: {{ required "notification.apns.topic is needed with existingSecret" .topic | quote }} }
- { name: APNS_PRODUCTION, value: {{ .production | quote }} }
{{- end }}
{{- end }}
{{- if dig "notification" "fcm" "existingSecret" "" $root.Values.AsMap }}
- { name: FCM_CREDENTIALS_FILE, value: /etc/im/fcm/service-account.json }
{{- end }}
{{- end }}
{{- if and (eq $svc "auth") (dig "auth" "operatorToken" "secretName" "" $root.Values.AsMap) }}
- name: AUTH_OPERATOR_TOKEN
  valueFrom: { secretKeyRef: { name: {{ $root.Values.auth.operatorToken.secretName }}, key: {{ $root.Values.auth.operatorToken.secretKey | default "token" }} } }
{{- end }}
{{- if and (eq $svc "auth") (dig "auth" "smtp" "secretName" "" $root.Values.AsMap) }}
- name: SMTP_URL
  valueFrom: { secretKeyRef: { name: {{ $root.Values.auth.smtp.secretName }}, key: {{ $root.Values.auth.smtp.secretKey | default "url" }} } }
{{- end }}
{{- if and (eq $svc "auth") (dig "auth" "mailFrom" "" $root.Values.AsMap) }}
- { name: MAIL_FROM, value: {{ $root.Values.auth.mailFrom | quote }} }
{{- end }}
{{- if eq $svc "auth" }}
{{- if $root.Values.auth.keyEncryptionKey.secretName }}
- name: AUTH_KEY_ENCRYPTION_KEY
  valueFrom: { secretKeyRef: { name: {{ $root.Values.auth.keyEncryptionKey.secretName }}, key: {{ $root.Values.auth.keyEncryptionKey.secretKey }} } }
{{- else if $root.Values.auth.allowUnencryptedSigningKeys }}
- { name: AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS, value: "true" }
{{- else }}
{{- fail "auth.keyEncryptionKey.secretName is required: a Secret with 32 random bytes (base64url) that encrypts the token-signing keys at rest (or set auth.allowUnencryptedSigningKeys: true for a throwaway cluster)" }}
{{- end }}
{{- end }}
{{- range $k, $v := (index $root.Values.services $svc).env }}
- { name: {{ $k }}, value: {{ $v | quote }} }
{{- end }}
{{- end -}}

{{/* The services that own a Cassandra keyspace (and so run migrations). */}}
{{- define "im.cassandraServices" -}}auth message media notification{{- end -}}

{{/* The Secret with a service's (or the operators') internal-plane certificate. */}}
{{- define "im.grpcTlsSecret" -}}
{{- $root := index . 0 -}}{{- $who := index . 1 -}}
{{- printf "%s-grpc-tls" (include "im.componentname" (list $root $who)) -}}
{{- end -}}

{{- /* the services that use Kafka (KAFKA_SERVICES in libs/platform; tools/helm-env-check.mjs compares) */}}
{{- define "im.kafkaServices" -}}message media notification{{- end -}}

{{- /* the Secret with the Kafka brokers' CA, when service (list root name) uses Kafka over TLS with one */}}
{{- define "im.kafkaCaSecret" -}}
{{- $root := index . 0 }}{{- $kafka := $root.Values.infrastructure.kafka }}
{{- if and (has (index . 1) (splitList " " (include "im.kafkaServices" $root))) $kafka.tls.enabled $kafka.tls.caSecret }}
{{- $kafka.tls.caSecret }}
{{- end }}
{{- end -}}

{{/*
Mounts and volumes of the Secrets the operator supplies that a service's files come from (Kafka's
CA, the push credentials): shared by its Deployment and its migration Job, which starts the same
context. Secrets the chart makes itself (cert-manager's) are not here: hooks run before them.
*/}}
{{- define "im.suppliedSecretMounts" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- if include "im.kafkaCaSecret" (list $root $svc) }}
- { name: kafka-ca, mountPath: /etc/im/kafka-ca, readOnly: true }
{{- end }}
{{- if eq $svc "notification" }}
{{- if dig "notification" "apns" "existingSecret" "" $root.Values.AsMap }}
- { name: apns, mountPath: /etc/im/apns, readOnly: true }
{{- end }}
{{- if dig "notification" "fcm" "existingSecret" "" $root.Values.AsMap }}
- { name: fcm, mountPath: /etc/im/fcm, readOnly: true }
{{- end }}
{{- end }}
{{- end -}}

{{- define "im.suppliedSecretVolumes" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- with include "im.kafkaCaSecret" (list $root $svc) }}
- { name: kafka-ca, secret: { secretName: {{ . }} } }
{{- end }}
{{- if eq $svc "notification" }}
{{- with dig "notification" "apns" "existingSecret" "" $root.Values.AsMap }}
- { name: apns, secret: { secretName: {{ . }} } }
{{- end }}
{{- with dig "notification" "fcm" "existingSecret" "" $root.Values.AsMap }}
- { name: fcm, secret: { secretName: {{ . }} } }
{{- end }}
{{- end }}
{{- end -}}

{{/* What every hook Job's pod spec shares: (list $ nodeSelector tolerations). */}}
{{- define "im.jobPodSettings" -}}
{{- $root := index . 0 -}}
restartPolicy: Never
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with index . 1 }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with index . 2 }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  seccompProfile: { type: RuntimeDefault }
{{- end -}}

{{/*
Every service logs in to NATS, Cassandra and Kafka as its own user (ADRs 0023, 0024, 0028): no
render without their Secrets, unless infrastructure.allowUnauthenticated says a throwaway cluster.
*/}}
{{- define "im.requireInfraLogins" -}}
{{- if not .Values.infrastructure.allowUnauthenticated }}
{{- range $c := list "nats" "cassandra" "kafka" }}
{{- if not (index $.Values.infrastructure $c).existingSecret }}
{{- fail (printf "infrastructure.%s.existingSecret is required: a Secret with each service's password, so that every service logs in as its own user (docs/operations.md); a throwaway cluster may set infrastructure.allowUnauthenticated: true" $c) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
