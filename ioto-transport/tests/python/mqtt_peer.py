"""paho-mqtt peer for the ioto-transport MQTT tests (a second, independent client).

  mqtt_peer.py sub  PORT PROTOCOL FILTER QOS COUNT   -> prints READY after SUBACK, then
                                                       one line per message: topic<TAB>payload
  mqtt_peer.py pub  PORT PROTOCOL TOPIC QOS PAYLOAD... -> publishes each payload, waits for acks
"""
import sys
import threading

import paho.mqtt.client as mqtt


def make_client(protocol):
    proto = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=proto)


def sub(port, protocol, flt, qos, count):
    c = make_client(protocol)
    got = []
    done = threading.Event()
    subscribed = threading.Event()

    def on_connect(client, userdata, flags, reason, props):
        client.subscribe(flt, qos=qos)

    def on_subscribe(client, userdata, mid, reasons, props):
        subscribed.set()

    def on_message(client, userdata, msg):
        extra = ""
        if protocol == "5" and msg.properties is not None:
            ups = getattr(msg.properties, "UserProperty", None) or []
            ct = getattr(msg.properties, "ContentType", None)
            extra = "\t" + ",".join(f"{k}={v}" for k, v in ups) + "\t" + (ct or "")
        print(f"{msg.topic}\t{msg.payload.decode()}\t{msg.qos}{extra}", flush=True)
        got.append(msg)
        if len(got) >= count:
            done.set()

    c.on_connect = on_connect
    c.on_subscribe = on_subscribe
    c.on_message = on_message
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    if not subscribed.wait(10):
        sys.exit("no SUBACK")
    print("READY", flush=True)
    ok = done.wait(30)
    c.loop_stop()
    c.disconnect()
    sys.exit(0 if ok else "timeout")


def pub(port, protocol, topic, qos, payloads):
    c = make_client(protocol)
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    infos = [c.publish(topic, p, qos=qos) for p in payloads]
    for info in infos:
        info.wait_for_publish(10)
    c.loop_stop()
    c.disconnect()


def main():
    mode, port, protocol = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "sub":
        sub(port, protocol, sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        pub(port, protocol, sys.argv[4], int(sys.argv[5]), sys.argv[6:])


if __name__ == "__main__":
    main()
