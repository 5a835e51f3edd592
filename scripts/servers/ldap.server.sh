# shellcheck shell=bash
# OpenLDAP slapd 2.5.13 (Debian bookworm slapd) for tests/real/ldap.rs. Sourced by
# scripts/servers/start.sh, which calls start_ldap.
#
# Ports (127.0.0.1 only):
#   17220  LDAP_ANON   no access directives, so slapd's default ACL (`access to * by * read`)
#                      lets anonymous clients read the directory
#   17221  LDAP_AUTHC  `disallow bind_anon` and `require authc`: anonymous bind refused and
#                      every operation needs an authenticated identity
# Both hold the same five entries under suffix dc=ajar,dc=test, loaded with slapadd before
# start: the base entry, ou=people, and three inetOrgPerson entries under it. mdb backend,
# slapd.conf-style config (-f), everything under $AJAR_SERVERS_DIR/ldap-NAME. No rootpw:
# nothing ever binds as the root DN, and nothing is written over LDAP.

# _ldap_ldif: the five entries both servers hold.
_ldap_ldif() {
    cat <<'EOF'
dn: dc=ajar,dc=test
objectClass: dcObject
objectClass: organization
o: ajar test
dc: ajar

dn: ou=people,dc=ajar,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=ajar_probe_a,ou=people,dc=ajar,dc=test
objectClass: inetOrgPerson
uid: ajar_probe_a
cn: Ajar Probe A
sn: A

dn: uid=ajar_probe_b,ou=people,dc=ajar,dc=test
objectClass: inetOrgPerson
uid: ajar_probe_b
cn: Ajar Probe B
sn: B

dn: uid=ajar_probe_c,ou=people,dc=ajar,dc=test
objectClass: inetOrgPerson
uid: ajar_probe_c
cn: Ajar Probe C
sn: C
EOF
}

# _ldap_start NAME PORT [EXTRA-GLOBAL-LINES]: one slapd with its config, data and LDIF in
# $AJAR_SERVERS_DIR/ldap-NAME, loaded with slapadd, then started in the foreground.
_ldap_start() {
    local name=$1 port=$2 extra=${3:-} d=$AJAR_SERVERS_DIR/ldap-$1
    mkdir -p "$d/db"
    {
        echo "include /etc/ldap/schema/core.schema"
        echo "include /etc/ldap/schema/cosine.schema"
        echo "include /etc/ldap/schema/inetorgperson.schema"
        echo "pidfile $d/slapd.pid"
        echo "argsfile $d/slapd.args"
        echo "modulepath /usr/lib/ldap"
        echo "moduleload back_mdb"
        [ -n "$extra" ] && printf '%s\n' "$extra"
        echo "database mdb"
        echo "maxsize 10485760"
        echo "suffix \"dc=ajar,dc=test\""
        echo "rootdn \"cn=admin,dc=ajar,dc=test\""
        echo "directory $d/db"
    } >"$d/slapd.conf"
    _ldap_ldif >"$d/entries.ldif"
    if ! slapadd -q -f "$d/slapd.conf" -l "$d/entries.ldif" >"$d/slapadd.log" 2>&1; then
        return 1
    fi
    start_bg "ldap-$name" slapd -d 0 -h "ldap://127.0.0.1:$port/" -f "$d/slapd.conf"
    wait_port "$port" 30
}

# start_ldap: installs slapd and ldap-utils, starts both servers, and publishes each only
# once it answers as the tests expect.
start_ldap() {
    if ! need_pkgs slapd ldap-utils; then
        server_failed ldap "apt-get install failed"
        return 0
    fi
    if _ldap_start anon 17220 &&
        [ "$(ldapsearch -x -LLL -H ldap://127.0.0.1:17220/ -b dc=ajar,dc=test -s sub 1.1 2>/dev/null | grep -c '^dn:')" = 5 ]; then
        export_server LDAP_ANON 17220
    else
        server_failed ldap-anon "not up, or the five entries not readable anonymously"
    fi
    if _ldap_start authc 17221 "$(printf 'disallow bind_anon\nrequire authc')" &&
        ! ldapsearch -x -LLL -H ldap://127.0.0.1:17221/ -b dc=ajar,dc=test -s sub 1.1 >/dev/null 2>&1; then
        export_server LDAP_AUTHC 17221
    else
        server_failed ldap-authc "not up, or anonymous search not refused"
    fi
    return 0
}
