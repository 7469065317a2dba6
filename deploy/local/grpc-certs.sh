#!/usr/bin/env bash
# Makes a private CA and one mTLS certificate per name for the internal gRPC plane:
#   <dir>/<name>/{ca.crt,tls.crt,tls.key}  (the layout of a cert-manager Secret)
# CN and DNS SAN are the name (the service); usable as server and client certificate.
# CERTS_EXTRA_SAN (e.g. IP:127.0.0.1) is added to the SAN of certificates made by this call.
# Idempotent: the CA and certificates are kept while they verify against the CA for 30 more days;
# others are made again.
# usage: grpc-certs.sh <dir> <name>...
set -euo pipefail
command -v openssl >/dev/null || { echo "grpc-certs: openssl is needed (apt-get install openssl)" >&2; exit 1; }
dir=$1; shift
umask 077
mkdir -p "$dir/ca"
ca=$dir/ca/ca.crt
month=$((30 * 86400))
if ! { [[ -s $ca ]] && openssl x509 -in "$ca" -noout -checkend "$month" >/dev/null 2>&1; }; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca/ca.key"
  openssl req -x509 -new -key "$dir/ca/ca.key" -subj "/CN=im-internal-ca" -days 3650 -out "$ca.tmp" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  mv "$ca.tmp" "$ca"
fi
for name in "$@"; do
  out=$dir/$name
  if [[ -s $out/tls.crt ]] && cmp -s "$ca" "$out/ca.crt" &&
    openssl verify -CAfile "$ca" "$out/tls.crt" >/dev/null 2>&1 &&
    openssl x509 -in "$out/tls.crt" -noout -checkend "$month" >/dev/null 2>&1; then
    continue
  fi
  mkdir -p "$out"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tls.key"
  openssl req -new -key "$out/tls.key" -subj "/CN=$name" -out "$out/tls.csr"
  printf 'subjectAltName=DNS:%s%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$name" "${CERTS_EXTRA_SAN:+,$CERTS_EXTRA_SAN}" >"$out/ext.cnf"
  openssl x509 -req -in "$out/tls.csr" -CA "$ca" -CAkey "$dir/ca/ca.key" -CAcreateserial \
    -days 825 -extfile "$out/ext.cnf" -out "$out/tls.crt.tmp" 2>/dev/null
  cp "$ca" "$out/ca.crt"
  rm -f "$out/tls.csr" "$out/ext.cnf"
  mv "$out/tls.crt.tmp" "$out/tls.crt"
done
