# shellcheck shell=bash
# MongoDB wire-protocol emulators from PyPI, for tests/real/mongodb.rs (Debian packages no
# MongoDB server). Sourced by scripts/servers/start.sh, which calls start_mongoemu.
#
# Ports (127.0.0.1 only):
#   17240  MONGO_NX_OPEN      NX-27017 0.8.1 (a MongoDB server backed by SQLite, no
#                             authentication), in memory; database ajar_probe_db with
#                             collection people, written through pymongo at start
#   17241  MONGO_MOCKUP_OPEN  MockupDB 1.8.1 replying as an open MongoDB 6.0.5
#                             (scripts/servers/mockupdb_server.py open)
#   17242  MONGO_MOCKUP_AUTH  MockupDB replying as a MongoDB 6.0.5 with authorization on
# Neither emulator answers HTTP, so each is also the case of a MongoDB silent to the HTTP
# probe on a port that is not 27017.
#
# The packages go into a virtualenv kept between runs in $AJAR_CACHE_DIR (default
# ~/.cache/ajar), made with the python3 on PATH; versions are pinned. It also holds
# jsonschema, which tests/sarif.rs validates SARIF with (scripts/test.sh sets AJAR_PYTHON).

_MONGOEMU_PKGS="pymongo==4.20.1 mockupdb==1.8.1 nx-27017==0.8.1 neosqlite==1.17.2 jsonschema==4.26.0 PyYAML==6.0.3"

# _mongoemu_venv: makes (once) the virtualenv and prints its path.
_mongoemu_venv() {
    local v=${AJAR_CACHE_DIR:-$HOME/.cache/ajar}/venv-mongoemu
    if [ ! -e "$v/.ajar-installed" ] || [ "$(cat "$v/.ajar-installed")" != "$_MONGOEMU_PKGS" ]; then
        rm -rf "$v"
        echo "servers: installing $_MONGOEMU_PKGS from PyPI" >&2
        # shellcheck disable=SC2086
        python3 -m venv "$v" >&2 && "$v/bin/pip" install -q --disable-pip-version-check \
            $_MONGOEMU_PKGS >&2 && echo "$_MONGOEMU_PKGS" >"$v/.ajar-installed" || return 1
    fi
    echo "$v"
}

# start_mongoemu: installs the emulators, starts them and seeds NX-27017.
start_mongoemu() {
    local v here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    if ! command -v python3 >/dev/null || ! v=$(_mongoemu_venv); then
        server_failed mongoemu "python3 -m venv / pip install failed"
        return 0
    fi
    start_bg mongoemu-nx "$v/bin/nx-27017" --db memory --host 127.0.0.1 -p 17240
    start_bg mongoemu-mockup-open "$v/bin/python" "$here/mockupdb_server.py" 17241 open
    start_bg mongoemu-mockup-auth "$v/bin/python" "$here/mockupdb_server.py" 17242 auth
    # Set-up only (the probe never writes): one document, so the database exists.
    if wait_port 17240 30 && "$v/bin/python" -c '
import pymongo
c = pymongo.MongoClient("mongodb://127.0.0.1:17240/", serverSelectionTimeoutMS=10000)
c.ajar_probe_db.people.insert_one({"email": "nobody@example.invalid"})
assert "ajar_probe_db" in c.list_database_names()
' >"$AJAR_SERVERS_DIR/mongoemu-seed.log" 2>&1; then
        export_server MONGO_NX_OPEN 17240
    else
        srv_fail mongoemu-nx "not up or not seeded (see mongoemu-seed.log)"
    fi
    if wait_port 17241 30; then export_server MONGO_MOCKUP_OPEN 17241; else srv_fail mongoemu-mockup-open "not listening"; fi
    if wait_port 17242 30; then export_server MONGO_MOCKUP_AUTH 17242; else srv_fail mongoemu-mockup-auth "not listening"; fi
    return 0
}
