"""A scripted Realtime (GA) WebSocket peer for ioto-cloud's socket wiring test.

No registry package serves the Realtime API, so this replays a GA session with the
Python `websockets` server and checks what the client sends:
  - the upgrade carries `Authorization: Bearer ...` and NO `OpenAI-Beta` header;
  - `session.update` has `session.type == "realtime"` and declares tools;
  - after two parallel function calls, both `function_call_output` items come back
    with the matching call ids before `response.create`.
Any violation is reported as an `error` event (and fails the Rust test).
Prints "PORT <n>" first. Loopback only.
"""
import asyncio
import json

from websockets.asyncio.server import serve


def ev(kind, **fields):
    return json.dumps({"type": kind, "event_id": f"evt_{kind}", **fields})


async def handler(ws):
    req = ws.request
    if "openai-beta" in {k.lower() for k in req.headers.keys()}:
        await ws.send(ev("error", error={"type": "invalid_request_error", "code": "beta_header", "message": "GA takes no OpenAI-Beta"}))
        return
    if not req.headers.get("Authorization", "").startswith("Bearer ") or "model=" not in req.path:
        await ws.send(ev("error", error={"type": "invalid_request_error", "code": "auth", "message": "no bearer/model"}))
        return
    await ws.send(ev("session.created", session={"id": "sess_1", "type": "realtime"}))
    items, responses = [], 0
    async for raw in ws:
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "session.update":
            s = msg.get("session", {})
            ok = s.get("type") == "realtime" and len(s.get("tools", [])) == 2
            await ws.send(ev("session.updated", session=s) if ok else ev("error", error={"code": "bad_session", "message": json.dumps(s)[:200]}))
        elif kind == "conversation.item.create":
            items.append(msg["item"])
        elif kind == "response.create":
            responses += 1
            await ws.send(ev("response.created", response={"id": f"resp_{responses}", "status": "in_progress"}))
            if responses == 1:
                await ws.send(ev("response.output_text.delta", response_id="resp_1", item_id="i1", output_index=0, content_index=0, delta="Checking. "))
                await ws.send(ev("response.function_call_arguments.done", response_id="resp_1", item_id="fc1", output_index=1, call_id="call_r1", name="read_sensor", arguments='{"sensor":"vibration"}'))
                await ws.send(ev("response.function_call_arguments.done", response_id="resp_1", item_id="fc2", output_index=2, call_id="call_r2", name="set_actuator", arguments='{"actuator":"fan","value":900}'))
            else:
                outs = {i["call_id"]: i["output"] for i in items if i.get("type") == "function_call_output"}
                if set(outs) != {"call_r1", "call_r2"} or "0.73" not in outs["call_r1"]:
                    await ws.send(ev("error", error={"code": "bad_outputs", "message": json.dumps(outs)[:200]}))
                    continue
                await ws.send(ev("response.output_text.delta", response_id="resp_2", item_id="i2", output_index=0, content_index=0, delta="Vibration 0.73, fan at 900."))
            await ws.send(ev("response.done", response={"id": f"resp_{responses}", "status": "completed"}))


async def main():
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
