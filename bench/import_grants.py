#!/usr/bin/env python3
"""Imports one grant per user (user-0 .. user-N-1) through the admin API, over one keep-alive
connection: usage import_grants.py ADMIN_PORT CONNECTION USERS (admin token in ADMIN_TOKEN)."""
import http.client
import json
import os
import sys


def main() -> int:
    port, connection, users = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    headers = {
        "Authorization": "Bearer " + os.environ["ADMIN_TOKEN"],
        "Content-Type": "application/json",
    }
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(users):
        body = json.dumps({"access_token": f"bench-token-{i}", "expires_in": 86400})
        path = f"/v1/connections/{connection}/grants/user-{i}"
        try:
            client.request("PUT", path, body=body, headers=headers)
            response = client.getresponse()
        except (http.client.HTTPException, OSError):
            # The admin server may close a keep-alive connection: retry once on a new one.
            client.close()
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("PUT", path, body=body, headers=headers)
            response = client.getresponse()
        response.read()
        if response.status // 100 != 2:
            print(f"grant import for user-{i} answered {response.status}", file=sys.stderr)
            return 1
        if response.getheader("Connection", "").lower() == "close":
            client.close()
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
