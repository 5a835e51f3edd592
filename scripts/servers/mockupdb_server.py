"""A MongoDB wire-protocol emulator for tests/real/mongodb.rs, built on PyPI's MockupDB
(the MongoDB Python driver team's test server, https://github.com/mongodb-labs/mongo-mockup-db).

    python mockupdb_server.py PORT open|auth

MockupDB answers what it is told to and nothing else, so this script declares the replies of
a MongoDB 6.0 standalone: hello/isMaster, buildInfo, and either a listing (`open`: database
ajar_probe_db with collection customers) or MongoDB's Unauthorized error (`auth`: code 13,
"command listDatabases requires authentication", as mongod 4.0+ words it). Every other
command gets CommandNotFound (code 59), as mongod answers an unknown command, so a probe
never waits on a request MockupDB would otherwise queue for a test to answer.
"""

import sys
import time

from mockupdb import Matcher, MockupDB

UNAUTHORIZED = {"ok": 0, "code": 13, "codeName": "Unauthorized"}


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    server = MockupDB(port=port, request_timeout=5)
    server.autoresponds(Matcher(), lambda r: r.command_err(59, "no such command", codeName="CommandNotFound"))
    hello = {
        "isWritablePrimary": True,
        "ismaster": True,
        "maxBsonObjectSize": 16777216,
        "maxMessageSizeBytes": 48000000,
        "maxWriteBatchSize": 100000,
        "minWireVersion": 0,
        "maxWireVersion": 17,
        "readOnly": False,
    }
    server.autoresponds("hello", hello)
    server.autoresponds("ismaster", hello)
    server.autoresponds("isMaster", hello)
    server.autoresponds("buildInfo", version="6.0.5", versionArray=[6, 0, 5, 0])
    server.autoresponds("buildinfo", version="6.0.5", versionArray=[6, 0, 5, 0])
    if mode == "open":
        server.autoresponds(
            "listDatabases",
            databases=[
                {"name": "admin", "sizeOnDisk": 40960, "empty": False},
                {"name": "ajar_probe_db", "sizeOnDisk": 73728, "empty": False},
            ],
            totalSize=114688,
        )
        server.autoresponds(
            "listCollections",
            cursor={"id": 0, "ns": "ajar_probe_db.$cmd.listCollections",
                    "firstBatch": [{"name": "customers", "type": "collection"}]},
        )
    else:
        for name in ("listDatabases", "listCollections", "dbStats", "collStats"):
            server.autoresponds(
                name,
                dict(UNAUTHORIZED, errmsg=f"command {name} requires authentication"),
            )
    server.run()
    print(f"mockupdb {mode} on {server.uri}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
