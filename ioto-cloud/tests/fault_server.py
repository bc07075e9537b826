"""Fault-injecting OpenAI-style server for ioto-cloud's error-path tests.

Real peers (llmock) cover the happy paths; this server produces what they will not,
selected by the first path segment of the request (the client's base URL is
http://127.0.0.1:PORT/<scenario>/v1):

  s401       401 whose message echoes the bearer key (the client must scrub it)
  s429       429 + Retry-After: 1 on the first request, then a normal answer
  s429x      429 + Retry-After: 0 always
  s500       500 on the first request, then a normal answer
  scut       a chat stream cut in the middle of an event
  sbadjson   200 with a body that is not JSON
  slong      an endless-looking answer (2 MiB), streamed or whole
  sbadargs   a tool call with out-of-schema arguments, then a text answer
  sunknown   a call to an undeclared tool, then a text answer
  sprev      Responses: a function call, then a text answer only if the follow-up uses
             previous_response_id with just the function_call_output items

GET /_requests/<scenario> returns the JSON bodies and headers received so far.
Prints "PORT <n>" on its first stdout line. Loopback only.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = {}


def completion(content=None, tool_calls=None):
    msg = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in tool_calls
        ]
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 0,
        "model": "fault",
        "choices": [{"index": 0, "message": msg,
                     "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }


def chunk(delta, finish=None):
    return {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 0,
            "model": "fault", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "_requests":
            with LOCK:
                self.send(200, SEEN.get(parts[1], []))
            return
        self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        scenario = self.path.strip("/").split("/")[0]
        try:
            body = json.loads(raw)
        except ValueError:
            self.send(400, {"error": {"message": "request is not JSON"}})
            return
        with LOCK:
            seen = SEEN.setdefault(scenario, [])
            seen.append({"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
            n = len(seen)
        stream = bool(body.get("stream"))
        ok = completion("fine")
        if scenario == "s401":
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self.send(401, {"error": {"message": f"Incorrect API key provided: {key}.",
                                      "type": "invalid_request_error", "code": "invalid_api_key"}})
        elif scenario == "s429":
            if n == 1:
                self.send(429, {"error": {"message": "slow down"}}, [("Retry-After", "1")])
            else:
                self.send(200, ok)
        elif scenario == "s429x":
            self.send(429, {"error": {"message": "slow down"}}, [("Retry-After", "0")])
        elif scenario == "s500":
            if n == 1:
                self.send(500, b"<html>oops</html>")
            else:
                self.send(200, ok)
        elif scenario == "scut":
            self.start_stream()
            for piece in ("The ", "answer "):
                self.wfile.write(b"data: " + json.dumps(chunk({"content": piece})).encode() + b"\n\n")
            self.wfile.write(b'data: {"id":"chatcmpl-fault","object":"chat.compl')
            self.wfile.flush()
            self.close_connection = True
        elif scenario == "sbadjson":
            self.send(200, b'{"id": "chatcmpl-x", "choices": [ {"message": ')
        elif scenario == "slong":
            if stream:
                self.start_stream()
                piece = b"data: " + json.dumps(chunk({"content": "x" * 1000})).encode() + b"\n\n"
                try:
                    for _ in range(2048):
                        self.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
            else:
                try:
                    self.send(200, completion("y" * (2 << 20)))
                except (BrokenPipeError, ConnectionResetError):
                    pass
        elif scenario in ("sbadargs", "sunknown"):
            last = (body.get("messages") or [{}])[-1]
            if last.get("role") == "tool":
                self.send(200, completion("done"))
            elif scenario == "sbadargs":
                self.send(200, completion(tool_calls=[
                    ("call_a", "set_actuator", json.dumps({"actuator": "fan", "value": 5000})),
                    ("call_b", "read_sensor", json.dumps({"sensor": "temp", "extra": 1})),
                    ("call_c", "read_sensor", json.dumps({"sensor": "temp"})),
                ]))
            else:
                self.send(200, completion(tool_calls=[("call_x", "format_disk", "{}")]))
        elif scenario == "sprev":
            if "previous_response_id" not in body:
                call = {"type": "function_call", "id": "fc_1", "call_id": "call_p1",
                        "name": "read_sensor", "arguments": json.dumps({"sensor": "temp"}),
                        "status": "completed"}
                reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"}
                self.send(200, {"id": "resp_1", "object": "response", "status": "completed",
                                "output": [reasoning, call], "usage": {"input_tokens": 3, "output_tokens": 4}})
                return
            inputs = body.get("input") or []
            good = body["previous_response_id"] == "resp_1" and [i.get("type") for i in inputs] == ["function_call_output"] \
                and inputs[0].get("call_id") == "call_p1"
            if not good:
                self.send(400, {"error": {"message": "bad chaining: " + json.dumps(body)[:200]}})
                return
            msg = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": "21.5 C", "annotations": []}]}
            self.send(200, {"id": "resp_2", "object": "response", "status": "completed", "output": [msg],
                            "usage": {"input_tokens": 3, "output_tokens": 4}})
        else:
            self.send(404, {"error": {"message": f"unknown scenario {scenario}"}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
