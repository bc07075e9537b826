"""HTTP peer for ioto-transport's HTTP client tests (aiohttp, pinned in python/requirements.txt).

Listens on 127.0.0.1 on an ephemeral port and prints `LISTENING <port>` once ready.
Routes:
  GET  /fixed?size=N            Content-Length body: N bytes of the pattern (i*7+3) % 251 (default N=11: "hello fixed")
  GET  /chunked?sizes=a,b,...   chunked body: chunk k has size sizes[k], same byte pattern
  GET  /toend?size=N            body delimited by connection close (no length, not chunked)
  GET  /truncated               Content-Length 100, 10 bytes sent, then the connection is closed
  GET  /slow-head?ms=N          waits N ms before sending the head
  GET  /slow-body?ms=N          sends the head and 5 of 10 body bytes, then waits N ms
  GET  /redirect?n=K            302 -> /redirect?n=K-1 ... n=0 -> 200 "landed"
  GET  /redirect-abs            301 -> absolute http://127.0.0.1:<port>/fixed
  POST /see-other               303 -> /fixed
  ANY  /echo                    200, body = request body; X-Method, X-Request-Transfer-Encoding,
                                X-Request-Content-Length, X-Request-Host, X-Custom echo the request
  GET  /sse?split=N&eol=lf|cr|crlf
                                text/event-stream, chunked, written N bytes per chunk with a pause,
                                so events arrive split at awkward byte boundaries
  GET  /status?code=N           empty body with status N

`--tls CERT KEY` serves HTTPS (TLS 1.3 only) with that certificate chain and key.
"""

import asyncio
import sys

from aiohttp import web

from peer_tls import tls_context


def pattern(n, offset=0):
    return bytes(((i + offset) * 7 + 3) % 251 for i in range(n))


SSE_EVENTS = [
    ": comment line",
    "event: greeting",
    "id: 1",
    "data: hello",
    "data: world",
    "",
    "retry: 1500",
    "data: {\"n\":2,\"text\":\"caf\u00e9 \u2603\"}",
    "",
    "event: done",
    "data:",
    "",
]


def sse_body(eol):
    sep = {"lf": "\n", "cr": "\r", "crlf": "\r\n"}[eol]
    return sep.join(SSE_EVENTS).encode() + sep.encode()


class ToEndResponse(web.StreamResponse):
    # aiohttp otherwise picks chunked encoding when no length is known.
    _length_check = False


async def fixed(request):
    n = int(request.query.get("size", "-1"))
    body = b"hello fixed" if n < 0 else pattern(n)
    return web.Response(body=body, content_type="application/octet-stream")


async def chunked(request):
    sizes = [int(s) for s in request.query.get("sizes", "5,6").split(",") if s]
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    off = 0
    for s in sizes:
        await resp.write(pattern(s, off))
        off += s
    await resp.write_eof()
    return resp


async def toend(request):
    n = int(request.query.get("size", "100"))
    resp = ToEndResponse()
    resp.force_close()
    await resp.prepare(request)
    await resp.write(pattern(n))
    await resp.write_eof()
    return resp


async def truncated(request):
    resp = web.StreamResponse()
    resp.content_length = 100
    await resp.prepare(request)
    await resp.write(pattern(10))
    await asyncio.sleep(0.05)
    request.transport.close()
    return resp


async def slow_head(request):
    await asyncio.sleep(int(request.query.get("ms", "2000")) / 1000)
    return web.Response(text="late")


async def slow_body(request):
    resp = web.StreamResponse()
    resp.content_length = 10
    await resp.prepare(request)
    await resp.write(pattern(5))
    await asyncio.sleep(int(request.query.get("ms", "2000")) / 1000)
    await resp.write(pattern(5, 5))
    return resp


async def redirect(request):
    n = int(request.query.get("n", "1"))
    if n <= 0:
        return web.Response(text="landed")
    raise web.HTTPFound(f"/redirect?n={n - 1}")


async def redirect_abs(request):
    port = request.transport.get_extra_info("sockname")[1]
    raise web.HTTPMovedPermanently(f"http://127.0.0.1:{port}/fixed")


async def see_other(request):
    await request.read()
    raise web.HTTPSeeOther("/fixed")


async def echo(request):
    body = await request.read()
    headers = {
        "X-Method": request.method,
        "X-Request-Transfer-Encoding": request.headers.get("Transfer-Encoding", "-"),
        "X-Request-Content-Length": request.headers.get("Content-Length", "-"),
        "X-Request-Host": request.headers.get("Host", "-"),
        "X-Custom": request.headers.get("X-Custom", "-"),
        "X-Authorization": request.headers.get("Authorization", "-"),
    }
    return web.Response(body=body, headers=headers, content_type="application/octet-stream")


async def sse(request):
    split = int(request.query.get("split", "1"))
    body = sse_body(request.query.get("eol", "lf"))
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(0, len(body), split):
        await resp.write(body[i : i + split])
        await asyncio.sleep(0.001)
    await resp.write_eof()
    return resp


async def status(request):
    return web.Response(status=int(request.query.get("code", "200")))


async def main():
    app = web.Application()
    app.router.add_get("/fixed", fixed)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/toend", toend)
    app.router.add_get("/truncated", truncated)
    app.router.add_get("/slow-head", slow_head)
    app.router.add_get("/slow-body", slow_body)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/redirect-abs", redirect_abs)
    app.router.add_post("/see-other", see_other)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/sse", sse)
    app.router.add_get("/status", status)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_context(sys.argv))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    if "--sse-body" in sys.argv:
        sys.stdout.buffer.write(sse_body(sys.argv[-1]))
    else:
        asyncio.run(main())
