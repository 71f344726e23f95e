# shellcheck shell=bash
# Sourced by scripts/sandbox: the sandbox's TLS material (a CA, a server and a client
# certificate) in DIR/tls, shared by every server.

gen_tls() {
  local t=$DIR/tls
  mkdir -p "$t"
  (
    cd "$t"
    umask 077
    cat >openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = replproxy sandbox
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
    openssl req -config openssl.cnf -x509 -newkey rsa:2048 -nodes -days 3650 \
      -subj "/CN=replproxy sandbox CA" -keyout ca-key.pem -out ca.pem -extensions ca_ext
    local kind cn
    for kind in server client; do
      if [[ $kind == server ]]; then cn=localhost; else cn=app; fi
      openssl req -config openssl.cnf -newkey rsa:2048 -nodes -subj "/CN=$cn" \
        -keyout "$kind-key.pem" -out "$kind.csr"
      openssl x509 -req -in "$kind.csr" -CA ca.pem -CAkey ca-key.pem \
        -set_serial "0x$(openssl rand -hex 8)" -days 3650 \
        -extfile openssl.cnf -extensions "${kind}_ext" -out "$kind-cert.pem"
      rm -f "$kind.csr"
    done
    chmod 644 ./*.pem
    chmod 600 ./*-key.pem
  ) >"$DIR/tls.log" 2>&1
}
