#!/usr/bin/env bash
# setup.sh: what deploy/compose.yaml needs before its first `up`, made once
# (what exists is kept):
#
#   deploy/compose/pki/      a local CA and token-signing key pair
#                            (tools/pki/make-local-pki.sh), and per service a
#                            certificate the CA signed: CN=<service>, valid for
#                            <service>, suishin-service (--tls_server_name),
#                            localhost and 127.0.0.1 (the health checks), for
#                            server and client authentication (mutual TLS);
#                            webhook-secret.key, the key notification-service's
#                            replicas seal webhook secrets with (one for both)
#   deploy/.env              the PostgreSQL passwords compose puts in place of
#                            ${POSTGRES_PASSWORD} and ${SERVICE_DB_PASSWORD},
#                            and the uid/gid `suishinctl` runs as (HOST_UID,
#                            HOST_GID: yours, so it reads the signing key)
#
# The folder stays 0700; the files the containers read (user 10001) are
# 0644 inside it. A real installation uses its own CA and identity provider.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pki="$here/pki"

"$root/tools/pki/make-local-pki.sh" "$pki"
cd "$pki"
umask 077
for name in plan-service kpi-service notification-service gateway; do
  [[ -s $name.pem && -s $name.key ]] && continue
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -keyout "$name.key" -out "$name.csr" -subj "/O=Suishin/CN=$name" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$name,DNS:suishin-service,DNS:localhost,IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth,clientAuth" "keyUsage=critical,digitalSignature" \
    "basicConstraints=critical,CA:FALSE" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days 825 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext" ca.srl
done
[[ -s webhook-secret.key ]] || openssl rand -base64 32 >webhook-secret.key
chmod 0644 ca.pem token-signing.pub webhook-secret.key \
  plan-service.pem plan-service.key kpi-service.pem kpi-service.key \
  notification-service.pem notification-service.key gateway.pem gateway.key

env_file="$root/deploy/.env"
if [[ ! -s $env_file ]]; then
  cat >"$env_file" <<ENV
# Made by deploy/compose/setup.sh; read by docker compose (deploy/compose.yaml).
POSTGRES_PASSWORD=$(openssl rand -hex 24)
SERVICE_DB_PASSWORD=$(openssl rand -hex 24)
HOST_UID=$(id -u)
HOST_GID=$(id -g)
ENV
fi
echo "deploy/compose is set up: $pki, $env_file"
