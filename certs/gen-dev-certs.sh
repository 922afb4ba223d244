#!/usr/bin/env bash
# Makes a throwaway development CA and a serving certificate for the webhook with openssl.
#
#   certs/gen-dev-certs.sh [OUT_DIR]          (default: certs/out, ignored by git)
#
# Writes OUT_DIR/ca.crt, ca.key, tls.crt, tls.key (the cert-manager Secret layout, so the server's
# Webhook__Tls__CertificateFile/KeyFile can point at it) and prints the CA as a base64 caBundle on
# stdout, last and alone; progress goes to stderr. So:  CA_BUNDLE=$(certs/gen-dev-certs.sh)
#
# Idempotent: an existing CA is kept, and the serving certificate is kept while it still verifies
# against that CA, names every expected host and has more than a week left. FORCE=1 starts over.
# SERVICE and NAMESPACE (default egress-webhook/egress-webhook) name the in-cluster Service.
# Development only: real clusters get their certificate from cert-manager (deploy/components).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${1:-"$script_dir/out"}
service=${SERVICE:-egress-webhook}
namespace=${NAMESPACE:-egress-webhook}
ca_days=${CA_DAYS:-3650}
tls_days=${TLS_DAYS:-365}
min_seconds_left=$((7 * 24 * 3600))

dns_names=(localhost "$service.$namespace.svc" "$service.$namespace.svc.cluster.local")
ip_addresses=(127.0.0.1 ::1)

log() { printf '%s\n' "$*" >&2; }

command -v openssl >/dev/null || { log "gen-dev-certs: openssl is not on PATH"; exit 1; }

mkdir -p "$out_dir"
cd "$out_dir"
# Keys are readable by the owner only; nothing else written here is secret.
umask 077

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ "${FORCE:-0}" == 1 ]]; then
    rm -f ca.crt ca.key tls.crt tls.key
fi

ca_ok() {
    [[ -s ca.crt && -s ca.key ]] &&
        openssl x509 -in ca.crt -noout -checkend "$min_seconds_left" >/dev/null 2>&1 &&
        [[ "$(openssl x509 -in ca.crt -noout -pubkey)" == "$(openssl pkey -in ca.key -pubout)" ]]
}

tls_ok() {
    [[ -s tls.crt && -s tls.key ]] || return 1
    openssl verify -CAfile ca.crt tls.crt >/dev/null 2>&1 || return 1
    openssl x509 -in tls.crt -noout -checkend "$min_seconds_left" >/dev/null 2>&1 || return 1
    [[ "$(openssl x509 -in tls.crt -noout -pubkey)" == "$(openssl pkey -in tls.key -pubout)" ]] || return 1
    local name
    for name in "${dns_names[@]}"; do
        openssl x509 -in tls.crt -noout -checkhost "$name" | grep -q ' does match' || return 1
    done
    for name in "${ip_addresses[@]}"; do
        openssl x509 -in tls.crt -noout -checkip "$name" | grep -q ' does match' || return 1
    done
}

new_key() {
    # ECDSA P-256 in PKCS#8 ("PRIVATE KEY"), as cert-manager is configured to issue.
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

if ! ca_ok; then
    log "gen-dev-certs: new development CA in $out_dir"
    new_key ca.key
    openssl req -x509 -new -key ca.key -sha256 -days "$ca_days" \
        -subj "/CN=egress-webhook development CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out ca.crt
    rm -f tls.crt tls.key
fi

if ! tls_ok; then
    log "gen-dev-certs: new serving certificate for ${dns_names[*]} ${ip_addresses[*]}"
    sans=""
    for name in "${dns_names[@]}"; do sans+="${sans:+,}DNS:$name"; done
    for name in "${ip_addresses[@]}"; do sans+="${sans:+,}IP:$name"; done
    cat >"$work/tls.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=$sans
EXT
    new_key "$work/tls.key"
    openssl req -new -key "$work/tls.key" -subj "/CN=$service.$namespace.svc" -out "$work/tls.csr"
    openssl x509 -req -in "$work/tls.csr" -CA ca.crt -CAkey ca.key \
        -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$tls_days" \
        -extfile "$work/tls.ext" -out "$work/tls.crt" 2>/dev/null
    # Move into place only when both exist, so that an interrupted run leaves no half pair.
    mv "$work/tls.key" tls.key
    mv "$work/tls.crt" tls.crt
else
    log "gen-dev-certs: kept the serving certificate in $out_dir"
fi

chmod 600 ca.key tls.key
chmod 644 ca.crt tls.crt
openssl base64 -A -in ca.crt
echo
