#!/usr/bin/python3
"""One request through the proxy with a Python HTTP client configured only by the environment
(HTTPS_PROXY / HTTP_PROXY with the identity in the proxy URL, SSL_CERT_FILE for the CA), the way
a plugin written against that client runs. Used by tests/e2e/clients_test.sh, with Debian's
python3 (python3-httpx, python3-aiohttp).

    python_clients.py CLIENT URL AUTHORIZATION [BODY]

CLIENT is httpx or aiohttp. Sends GET, or POST with BODY as JSON text when given. Prints
{"status": N, "body": "..."} on stdout.
"""

import asyncio
import json
import sys


def with_httpx(url, authorization, body):
    import httpx

    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    with httpx.Client(timeout=10) as client:  # trust_env: proxies and SSL_CERT_FILE
        if body is None:
            response = client.get(url, headers=headers)
        else:
            response = client.post(url, headers=headers, content=body.encode())
        return response.status_code, response.text


async def with_aiohttp(url, authorization, body):
    import aiohttp

    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(trust_env=True, timeout=timeout) as session:
        method = "GET" if body is None else "POST"
        async with session.request(method, url, headers=headers, data=body) as response:
            return response.status, await response.text()


def main():
    client, url, authorization = sys.argv[1:4]
    body = sys.argv[4] if len(sys.argv) > 4 else None
    if client == "httpx":
        status, text = with_httpx(url, authorization, body)
    elif client == "aiohttp":
        status, text = asyncio.run(with_aiohttp(url, authorization, body))
    else:
        sys.exit(f"unknown client {client}")
    json.dump({"status": status, "body": text}, sys.stdout)


if __name__ == "__main__":
    main()
