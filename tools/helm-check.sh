#!/usr/bin/env bash
# Checks the Helm chart offline: helm lint (with values.schema.json), helm template with the default
# and the ci/ value sets, and every rendered manifest validated against the Kubernetes 1.36 schemas
# (kubernetes-validate bundles them; no cluster, no network beyond the package registries).
# Installs helm (go install, from the Go module proxy) and kubernetes-validate (PyPI) into .cache/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IM_CACHE_DIR:-$ROOT/.cache}
HELM_VERSION=v3.21.4
KUBE=1.36.0
CHART="$ROOT/helm/im-platform"
HELM="$CACHE/bin/helm"
VENV="$CACHE/venv-k8s"

if ! { [ -x "$HELM" ] && "$HELM" version --short 2>/dev/null | grep -q "$HELM_VERSION"; }; then
  echo "[helm-check] building helm $HELM_VERSION from the Go module proxy (first run only)" >&2
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS="-trimpath -modcacherw" \
    go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36 \
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$CACHE/helm-install.log" 2>&1 ||
    { tail -20 "$CACHE/helm-install.log" >&2; exit 1; }
fi
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  echo "[helm-check] installing kubernetes-validate from PyPI (first run only)" >&2
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q kubernetes-validate >"$CACHE/kv-install.log" 2>&1 ||
    { tail -20 "$CACHE/kv-install.log" >&2; exit 1; }
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# the values without a default: the Secret with the key that encrypts signing keys at rest, and the
# services' logins to NATS (with the operator's, for the buckets), Cassandra and Kafka
LOGINS=(--set infrastructure.nats.existingSecret=nats-credentials --set infrastructure.nats.operatorSecret=nats-operator
  --set infrastructure.cassandra.existingSecret=cassandra-credentials
  --set infrastructure.kafka.existingSecret=kafka-credentials)
KEK=(--set auth.keyEncryptionKey.secretName=im-auth-kek "${LOGINS[@]}")
"$HELM" lint "$CHART" --strict --kube-version "$KUBE" "${KEK[@]}"
"$HELM" lint "$CHART" --strict --kube-version "$KUBE" -f "$CHART/ci/full-values.yaml"
"$HELM" template im "$CHART" --kube-version "$KUBE" "${KEK[@]}" >"$out/default.yaml"
"$HELM" template im "$CHART" --kube-version "$KUBE" -f "$CHART/ci/full-values.yaml" >"$out/full.yaml"
for f in "$out"/*.yaml; do
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBE" "$f"
  node "$ROOT/tools/helm-env-check.mjs" <"$f"
  node "$ROOT/tools/helm-netpol-check.mjs" <"$f"
  node "$ROOT/tools/helm-grpc-tls-check.mjs" <"$f"
done
"$HELM" template im "$CHART" "${KEK[@]}" --set grpcTls.enabled=false | node "$ROOT/tools/helm-grpc-tls-check.mjs" --plaintext
"$HELM" template im "$CHART" "${KEK[@]}" --set grpcTls.certManager.enabled=false |
  node "$ROOT/tools/helm-grpc-tls-check.mjs" --own-secrets
"$HELM" template im "$CHART" "${KEK[@]}" --set networkPolicy.enabled=false | node "$ROOT/tools/helm-netpol-check.mjs" --none
# signing keys are never kept in clear by accident
if "$HELM" template im "$CHART" "${LOGINS[@]}" >/dev/null 2>&1; then
  echo "[helm-check] rendered without auth.keyEncryptionKey.secretName" >&2
  exit 1
fi
# nor does a service connect without its own login by accident
for c in nats cassandra kafka; do
  refusal=$("$HELM" template im "$CHART" "${KEK[@]}" --set "infrastructure.$c.existingSecret=" 2>&1 || true)
  if ! grep -q "infrastructure.$c.existingSecret is required" <<<"$refusal"; then
    echo "[helm-check] rendered without infrastructure.$c.existingSecret" >&2
    exit 1
  fi
done
# a throwaway cluster's render without any login is still a valid one
"$HELM" template im "$CHART" --set auth.keyEncryptionKey.secretName=im-auth-kek \
  --set infrastructure.allowUnauthenticated=true >"$out/anonymous.yaml"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBE" "$out/anonymous.yaml"
node "$ROOT/tools/helm-env-check.mjs" <"$out/anonymous.yaml"
# services on their own NATS users need an operator's user to provision the buckets (ADR 0023)
if "$HELM" template im "$CHART" "${KEK[@]}" --set infrastructure.nats.operatorSecret= >/dev/null 2>&1; then
  echo "[helm-check] rendered NATS users without infrastructure.nats.operatorSecret" >&2
  exit 1
fi
# the schema refuses what it should
if "$HELM" template im "$CHART" "${KEK[@]}" --set logLevel=loud >/dev/null 2>&1; then
  echo "[helm-check] values.schema.json accepted logLevel=loud" >&2
  exit 1
fi
if "$HELM" template im "$CHART" "${KEK[@]}" --set services.gatway.enabled=true >/dev/null 2>&1; then
  echo "[helm-check] values.schema.json accepted a misspelt service" >&2
  exit 1
fi
echo "[helm-check] chart lints, renders $(grep -c '^kind:' "$out/default.yaml") + $(grep -c '^kind:' "$out/full.yaml") valid manifests, schema refuses bad values"
