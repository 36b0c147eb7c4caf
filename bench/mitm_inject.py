"""mitmdump addon for the bench: replaces the placeholder in every intercepted request's headers
and body with a fixed token, the reference point for the CONNECT path."""
from mitmproxy import http

PLACEHOLDER = b"{OAUTH_PLUGIN_ACCESS_TOKEN}"
TOKEN = b"bench-static-token"


def request(flow: http.HTTPFlow) -> None:
    for name, value in flow.request.headers.items(multi=True):
        if PLACEHOLDER.decode() in value:
            flow.request.headers[name] = value.replace(PLACEHOLDER.decode(), TOKEN.decode())
    if flow.request.content and PLACEHOLDER in flow.request.content:
        flow.request.content = flow.request.content.replace(PLACEHOLDER, TOKEN)
