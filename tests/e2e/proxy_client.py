#!/usr/bin/env python3
"""Sends one request through an HTTP proxy the way Python programs do, and prints the answer as
one JSON line: {"status": N, "headers": [[name, value], ...], "body": "..."}.

    proxy_client.py --proxy HOST:PORT [--client http.client|requests] [--method GET]
                    [-H "Name: value"]... [--data TEXT] URL

--client http.client (the default) writes the absolute-form request line itself
(`GET https://host/path HTTP/1.1`), as SPEC.md says plugin runners do, for http:// and https://
URLs alike. --client requests uses the requests library with proxies={"http": ...}, which sends
absolute-form for http:// URLs (for https:// URLs requests would open a CONNECT tunnel, so they
are refused here). Exits 0 whenever an answer came back, 2 on a connection failure.
"""

import argparse
import http.client
import json
import sys


def with_http_client(args, headers):
    host, port = args.proxy.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=args.timeout)
    body = args.data.encode("utf-8") if args.data is not None else None
    # skip_host: the Host header must name the origin, not the proxy (RFC 9112 3.2.2).
    connection.putrequest(args.method, args.url, skip_host=True, skip_accept_encoding=True)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", http.client.urlsplit(args.url).netloc))
    for name, value in headers:
        connection.putheader(name, value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, response.getheaders(), response.read()


def with_requests(args, headers):
    import requests

    if not args.url.startswith("http://"):
        raise SystemExit("--client requests: only http:// URLs go through the proxy unencrypted")
    response = requests.request(args.method, args.url, headers=dict(headers), data=args.data,
                                proxies={"http": f"http://{args.proxy}"}, timeout=args.timeout,
                                allow_redirects=False)
    return response.status_code, list(response.headers.items()), response.content


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--client", choices=["http.client", "requests"], default="http.client")
    parser.add_argument("--method", default="GET")
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--data")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("url")
    args = parser.parse_args()
    headers = [tuple(part.strip() for part in h.split(":", 1)) for h in args.header]

    send = with_requests if args.client == "requests" else with_http_client
    try:
        status, response_headers, body = send(args, headers)
    except OSError as error:
        print(f"proxy_client: {type(error).__name__}", file=sys.stderr)
        return 2
    print(json.dumps({"status": status, "headers": [list(h) for h in response_headers],
                      "body": body.decode("utf-8", errors="replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
