#!/usr/bin/env bash
# make-local-pki.sh DIR: a private certificate authority and one certificate
# for the suite's services, for a single machine (./suishin up, the tests).
#
# Makes what is missing in DIR (mode 0700), keeps what is there:
#   ca.pem, ca.key            the local CA (EC P-256, 10 years)
#   service.pem, service.key  a certificate the CA signed for localhost,
#                             127.0.0.1 and ::1, good as a server's and as a
#                             client's (the services call each other with it:
#                             mutual TLS)
#   token-signing.key/.pub    a key pair for signing identity tokens
#                             (suishinctl token issue) and checking them
#                             (--auth_keys)
# A real installation uses certificates from its own CA and its identity
# provider's keys instead (README, "TLS and identity").
set -euo pipefail
dir=${1:?usage: make-local-pki.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077
if [[ ! -s ca.pem || ! -s ca.key ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -keyout ca.key -out ca.pem -days 3650 -subj "/O=Suishin/CN=Suishin local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  rm -f service.pem service.key
fi
if [[ ! -s service.pem || ! -s service.key ]]; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -keyout service.key -out service.csr -subj "/O=Suishin/CN=suishin-service" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    "extendedKeyUsage=serverAuth,clientAuth" "keyUsage=critical,digitalSignature" \
    "basicConstraints=critical,CA:FALSE" >service.ext
  openssl x509 -req -in service.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days 3650 -extfile service.ext -out service.pem 2>/dev/null
  rm -f service.csr service.ext ca.srl
fi
if [[ ! -s token-signing.key || ! -s token-signing.pub ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out token-signing.key 2>/dev/null
  openssl pkey -in token-signing.key -pubout -out token-signing.pub 2>/dev/null
fi
