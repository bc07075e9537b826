"""A paho-mqtt (MQTT 3.1.1) subscriber for tests/demo_paho.rs.

usage: paho_sub.py [--client-id ID] [--persistent] HOST PORT FILTER...

Subscribes at QoS 1 to each FILTER (clean session), one SUBSCRIBE per filter so a
broker that refuses one filter cannot hide the others. With --persistent the
session is not clean: after a drop (e.g. a broker restart) it reconnects, the broker
resumes the session and sends what it queued meanwhile (tests/agent_crash.rs).
--client-id defaults to `paho-demo-test`. Output, one line each:

  granted <filter>             SUBACK granted QoS 1
  refused <filter> <why>       SUBACK refused it, or the broker closed the
                               connection instead of answering (then we reconnect
                               and subscribe to the remaining filters)
  subscribed                   every filter was granted or refused
  msg {"topic": ..., "payload_b64": ..., "qos": ..., "retain": ..., "dup": ...}
  disconnected <reason>        the connection dropped after `subscribed`
  resumed                      --persistent only: reconnected after `subscribed` and
                               the broker still had the session
  error <text>                 anything else that went wrong

Exits when stdin reaches end of file (or after a 180 s safety limit).
"""

import base64
import json
import sys
import threading

import paho.mqtt.client as mqtt

out_lock = threading.Lock()


def emit(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main():
    args = sys.argv[1:]
    client_id, persistent = "paho-demo-test", False
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--persistent":
            persistent = True
        elif opt == "--client-id" and args:
            client_id = args.pop(0)
        else:
            emit("error unknown option %s" % opt)
            return 2
    if len(args) < 3:
        emit("error usage: paho_sub.py [--client-id ID] [--persistent] HOST PORT FILTER...")
        return 2
    host, port, filters = args[0], int(args[1]), args[2:]
    state = {
        "pending": list(filters),
        "granted": [],
        "current": None,  # (filter, mid) waiting for its SUBACK
        "resubscribe": set(),  # mids of re-subscriptions after a reconnect
        "done": False,
    }
    lock = threading.Lock()

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=not persistent,
    )
    client.reconnect_delay_set(min_delay=1, max_delay=1)

    def next_filter(c):
        # Called with `lock` held: asks for the next filter, or says `subscribed`
        # once nothing waits for a SUBACK any more.
        if state["current"] is not None:
            return
        if state["pending"]:
            f = state["pending"].pop(0)
            _, mid = c.subscribe(f, qos=1)
            state["current"] = (f, mid)
        elif not state["resubscribe"] and not state["done"]:
            state["done"] = True
            emit("subscribed")

    def on_connect(c, _userdata, flags, reason_code, _properties):
        if reason_code.is_failure:
            emit("error CONNACK refused: %s" % reason_code)
            return
        with lock:
            if state["done"] and persistent:
                if flags.session_present:
                    emit("resumed")
                else:
                    emit("error reconnected without the session: messages may be lost")
                return
            if state["done"]:
                emit("error reconnected after `subscribed`: messages may be lost")
                return
            # Clean session: the filters granted before a drop must be asked again.
            for f in state["granted"]:
                _, mid = c.subscribe(f, qos=1)
                state["resubscribe"].add(mid)
            next_filter(c)

    def on_subscribe(c, _userdata, mid, reason_codes, _properties):
        ok = len(reason_codes) == 1 and not reason_codes[0].is_failure and reason_codes[0].value == 1
        with lock:
            if mid in state["resubscribe"]:
                state["resubscribe"].discard(mid)
                if not ok:
                    emit("error re-subscription refused: %s" % reason_codes)
                next_filter(c)
                return
            if state["current"] is None or state["current"][1] != mid:
                emit("error unexpected SUBACK mid %d" % mid)
                return
            f = state["current"][0]
            state["current"] = None
            if ok:
                state["granted"].append(f)
                emit("granted " + f)
            else:
                emit("refused %s SUBACK %s" % (f, reason_codes))
            next_filter(c)

    def on_disconnect(_c, _userdata, _flags, reason_code, _properties):
        with lock:
            if state["current"] is not None:
                f = state["current"][0]
                state["current"] = None
                emit(
                    "refused %s the broker closed the connection instead of sending SUBACK (%s)"
                    % (f, reason_code)
                )
            elif state["done"]:
                emit("disconnected %s" % reason_code)

    def on_message(_c, _userdata, msg):
        emit(
            "msg "
            + json.dumps(
                {
                    "topic": msg.topic,
                    "payload_b64": base64.b64encode(msg.payload).decode("ascii"),
                    "qos": msg.qos,
                    "retain": bool(msg.retain),
                    "dup": bool(msg.dup),
                }
            )
        )

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=30)
    except OSError as e:
        emit("error connect to %s:%d: %s" % (host, port, e))
        return 1
    client.loop_start()

    # The test closes our stdin when it has what it needs.
    stdin_closed = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stdin_closed.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stdin_closed.wait(180)
    with lock:
        state["done"] = True
        state["current"] = None
    client.on_disconnect = None
    client.disconnect()
    client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
