# shellcheck shell=bash
# Docker Registry 2.8.2 (Debian docker-registry, github.com/docker/distribution) for
# tests/real/servers.rs. Sourced by scripts/servers/start.sh, which calls start_registry.
#
# Ports (127.0.0.1 only):
#   17040  REGISTRY_OPEN  no auth section; repository ajar_probe/repo with tag v1
#   17041  REGISTRY_AUTH  htpasswd auth (user ajar_admin, a random password, bcrypt as the
#                         registry requires; Debian's own config.yml has this section too);
#                         the same repository
# No docker daemon: the image (an empty layer and its config) is pushed with curl through
# the registry's upload API (POST an upload, PUT the blob with its digest, PUT the manifest).

# _registry_start NAME PORT [AUTH YAML]: one registry storing into $AJAR_SERVERS_DIR/registry-NAME.
_registry_start() {
    local name=$1 port=$2 auth=${3:-} d=$AJAR_SERVERS_DIR/registry-$1
    mkdir -p "$d"
    cat >"$d/config.yml" <<EOF
version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $d/data
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
$auth
EOF
    start_bg "registry-$name" docker-registry serve "$d/config.yml"
}

# _registry_blob BASE FILE DIGEST [CURL ARGS...]: uploads FILE as one blob of ajar_probe/repo.
_registry_blob() {
    local base=$1 file=$2 digest=$3 location sep
    shift 3
    location=$(curl -s -o /dev/null --max-time 10 -w '%header{location}' "$@" \
        -X POST "$base/v2/ajar_probe/repo/blobs/uploads/") || return 1
    [ -n "$location" ] || return 1
    case $location in /*) location=$base$location ;; esac
    case $location in *\?*) sep='&' ;; *) sep='?' ;; esac
    [ "$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" -X PUT \
        -H 'Content-Type: application/octet-stream' --data-binary "@$file" \
        "$location${sep}digest=$digest")" = 201 ]
}

# _registry_push BASE [CURL ARGS...]: pushes ajar_probe/repo:v1, a one-layer image whose layer
# is an empty tar.
_registry_push() {
    local base=$1 tmp layer config diff_id layer_digest config_digest manifest
    shift
    tmp=$(mktemp -d "$AJAR_SERVERS_DIR/push.XXXXXX")
    layer=$tmp/layer.tar.gz config=$tmp/config.json manifest=$tmp/manifest.json
    tar -C "$tmp" -cf - --files-from /dev/null | gzip -n >"$layer"
    diff_id=sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$diff_id" >"$config"
    layer_digest=sha256:$(sha256sum "$layer" | cut -d' ' -f1)
    config_digest=sha256:$(sha256sum "$config" | cut -d' ' -f1)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%s,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%s,"digest":"%s"}]}' \
        "$(stat -c %s "$config")" "$config_digest" "$(stat -c %s "$layer")" "$layer_digest" >"$manifest"
    _registry_blob "$base" "$layer" "$layer_digest" "$@" &&
        _registry_blob "$base" "$config" "$config_digest" "$@" &&
        [ "$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@" -X PUT \
            -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
            --data-binary "@$manifest" "$base/v2/ajar_probe/repo/manifests/v1")" = 201 ]
    local ok=$?
    rm -rf "$tmp"
    return $ok
}

# start_registry: installs the registry (and htpasswd), starts both, pushes the image.
start_registry() {
    local d=$AJAR_SERVERS_DIR/registry-auth pass
    if ! need_pkgs docker-registry apache2-utils; then
        server_failed registry "apt-get install failed"
        return 0
    fi
    mkdir -p "$d"
    pass=$(srv_secret)
    htpasswd -cbB "$d/htpasswd" ajar_admin "$pass" 2>/dev/null
    _registry_start open 17040
    _registry_start auth 17041 "auth:
  htpasswd:
    realm: basic-realm
    path: $d/htpasswd"
    if wait_http http://127.0.0.1:17040/v2/ 60 && _registry_push http://127.0.0.1:17040; then
        srv_expect REGISTRY_OPEN http://127.0.0.1:17040/v2/_catalog 200
    else
        srv_fail registry-open "ajar_probe/repo not pushed"
    fi
    if wait_http http://127.0.0.1:17041/v2/ 60 &&
        _registry_push http://127.0.0.1:17041 -u "ajar_admin:$pass"; then
        srv_expect REGISTRY_AUTH http://127.0.0.1:17041/v2/_catalog 401
    else
        srv_fail registry-auth "ajar_probe/repo not pushed"
    fi
    return 0
}
