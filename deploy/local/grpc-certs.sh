#!/usr/bin/env bash
# Makes a private CA and one mTLS certificate per name for the internal gRPC plane:
#   <dir>/<name>/{ca.crt,tls.crt,tls.key}  (the layout of a cert-manager Secret)
# CN and DNS SAN are the name (the service); usable as server and client certificate.
# Idempotent: an existing CA and existing certificates are kept.
# usage: grpc-certs.sh <dir> <name>...
set -euo pipefail
dir=$1; shift
mkdir -p "$dir/ca"
umask 077
if [[ ! -s $dir/ca/ca.crt ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca/ca.key" -subj "/CN=im-internal-ca" -days 3650 -out "$dir/ca/ca.crt.tmp" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  mv "$dir/ca/ca.crt.tmp" "$dir/ca/ca.crt"
fi
for name in "$@"; do
  out=$dir/$name
  [[ -s $out/tls.crt ]] && continue
  mkdir -p "$out"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tls.key" 2>/dev/null
  openssl req -new -key "$out/tls.key" -subj "/CN=$name" -out "$out/tls.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$name" > "$out/ext.cnf"
  openssl x509 -req -in "$out/tls.csr" -CA "$dir/ca/ca.crt" -CAkey "$dir/ca/ca.key" -CAcreateserial \
    -days 825 -extfile "$out/ext.cnf" -out "$out/tls.crt.tmp" 2>/dev/null
  cp "$dir/ca/ca.crt" "$out/ca.crt"
  rm -f "$out/tls.csr" "$out/ext.cnf"
  mv "$out/tls.crt.tmp" "$out/tls.crt"
done
