#!/usr/bin/python3
"""A minimal client of meshsim's native port (framing: sim/PORTS.md), written
independently of sim/port.c so that it also checks the documentation.

Joins the air at a position, then waits for an Unprovisioned Device beacon
(AD type 0x2B, beacon type 0x00) carrying --uuid.  Prints
  WELCOME <participant id>
  BEACON <uuid hex> oob=<oob info hex> rssi=<dBm> t=<sim us>
and exits 0 on the beacon, 1 on a timeout or an ERROR message.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

VERSION = 0x01
HELLO, WELCOME, ADV_TX, ADV_RX, DETACH, MOVE, ERROR = range(1, 8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True, help="meshsim's native port path")
    ap.add_argument("--me", required=True, help="this client's own socket path")
    ap.add_argument("--uuid", required=True)
    ap.add_argument("--pos", default="0,0,0", help="x,y,z metres")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    want = bytes.fromhex(args.uuid.replace("-", ""))
    x, y, z = (round(float(v) * 1000) for v in args.pos.split(","))

    if os.path.exists(args.me):
        os.unlink(args.me)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.me)
    name = b"native_listen"
    s.sendto(struct.pack("<BBiiiB", VERSION, HELLO, x, y, z, len(name)) + name, args.port)
    end = time.monotonic() + args.timeout
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                print("TIMEOUT", flush=True)
                return 1
            d = s.recv(256)
            if len(d) < 2 or d[0] != VERSION:
                print("MALFORMED", d.hex(), flush=True)
                return 1
            if d[1] == WELCOME and len(d) == 6:
                print("WELCOME", struct.unpack("<I", d[2:6])[0], flush=True)
            elif d[1] == ERROR and len(d) == 4:
                print("ERROR errno=%d kind=%d" % (d[2], d[3]), flush=True)
                return 1
            elif d[1] == ADV_RX and len(d) >= 13:
                rssi, t, ad_type, n = struct.unpack("<bQBB", d[2:13])
                data = d[13:]
                if len(data) != n:
                    print("MALFORMED", d.hex(), flush=True)
                    return 1
                if ad_type == 0x2B and n >= 19 and data[0] == 0x00 and data[1:17] == want:
                    print("BEACON %s oob=%s rssi=%d t=%d" % (data[1:17].hex(), data[17:19].hex(),
                                                            rssi, t), flush=True)
                    s.sendto(bytes([VERSION, DETACH]), args.port)
                    return 0
    finally:
        s.close()
        os.unlink(args.me)


if __name__ == "__main__":
    sys.exit(main())
