"""WebSocket peer for ioto-transport's WebSocket client tests (websockets, pinned in
python/requirements.txt).

Listens on 127.0.0.1 on an ephemeral port and prints `LISTENING <port>`; after each
connection it prints `CLOSE_RCVD <path> <code>` with the close code the client sent
(`none` if it sent none). Paths:
  /echo                 echoes every message (text stays text, binary stays binary);
                        messages over 1 MiB make the server close with 1009
  /fragments            sends fragmented messages: text, binary, and text whose fragments
                        split a UTF-8 sequence; then waits for one message and closes 1000
  /bad-utf8             sends a text message whose second fragment is not UTF-8
  /bad-utf8-split       first fragment ends in an incomplete sequence the second breaks
  /ping                 pings the client, waits for its pong, then sends "pong ok"
  /close?code=C&reason=R  closes with code C and reason R
  /big?size=N           sends one binary frame of N bytes, then waits for the client
  /reject               refuses the handshake with 403
Subprotocols "ioto.v1" and "chat" are accepted if the client offers them.
`--tls CERT KEY` serves wss:// (TLS 1.3 only) with that certificate chain and key.
"""

import asyncio
import http
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve

from peer_tls import tls_context


def report(path, ws):
    rcvd = ws.protocol.close_rcvd
    code = rcvd.code if rcvd is not None else "none"
    print(f"CLOSE_RCVD {path} {code}", flush=True)


async def wait_closed(ws):
    try:
        async for _ in ws:
            pass
    except Exception:
        pass


async def handler(ws):
    parts = urlsplit(ws.request.path)
    path, query = parts.path, parse_qs(parts.query)
    try:
        if path == "/echo":
            async for message in ws:
                await ws.send(message)
        elif path == "/fragments":
            await ws.send(["Hel", "lo ", "wor", "ld"])
            await ws.send([b"\x00\x01", b"\x02\x03\x04", b"\x05"])
            # U+20AC EURO SIGN (e2 82 ac) split across fragments.
            await ws.send([b"price: \xe2\x82", b"\xac", b"42 \xe2", b"\x98\x83"], text=True)
            await ws.recv()
            await ws.close(1000, "done")
        elif path == "/bad-utf8":
            await ws.send([b"ok ", b"\xff\xfe"], text=True)
            await wait_closed(ws)
        elif path == "/bad-utf8-split":
            await ws.send([b"ok \xe2\x82", b"A"], text=True)
            await wait_closed(ws)
        elif path == "/ping":
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, timeout=5)
            await ws.send("pong ok")
            await wait_closed(ws)
        elif path == "/close":
            code = int(query.get("code", ["1000"])[0])
            await ws.close(code, query.get("reason", [""])[0])
        elif path == "/big":
            await ws.send(bytes(int(query.get("size", ["100000"])[0])))
            await wait_closed(ws)
    except Exception:
        pass
    finally:
        await ws.wait_closed()
        report(path, ws)


def select_subprotocol(connection, offered):
    for name in ("ioto.v1", "chat"):
        if name in offered:
            return name
    return None


def process_request(connection, request):
    if request.path == "/reject":
        return connection.respond(http.HTTPStatus.FORBIDDEN, "no\n")
    return None


async def main():
    async with serve(
        handler,
        "127.0.0.1",
        0,
        select_subprotocol=select_subprotocol,
        process_request=process_request,
        max_size=1 << 20,
        ping_interval=None,
        compression=None,
        ssl=tls_context(sys.argv),
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"LISTENING {port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
