#!/usr/bin/env python3
"""Generates meshsim's shipped scenarios (schema: sim/PORTS.md, "Scenario files").

    python3 sim/scenarios/gen.py            rewrites small.json, office.json, building.json

The output is deterministic (fixed seeds), so regenerating changes nothing
unless this script changes.  Placement rules, checked here and again by
tests/sim/test_scenario.c with meshsim's own propagation model:
  * small: 5 devices within direct range of the native (gateway) port.
  * office: 60 devices on 3 floors; every device reachable from the gateway
    port through relays, some of them 4 or more hops away; every device is
    in direct range of a Remote Provisioning Server device.
  * building: 1,000 devices on 5 floors, same rules.
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
CID = 0x05F1  # Linux Foundation company identifier, used for all simulated products

CONFIG_SERVER = 0x0000
HEALTH_SERVER = 0x0002
RPR_SERVER = 0x0004
ONOFF_SERVER = 0x1000
ONOFF_CLIENT = 0x1001


def uuid4(rng):
    b = bytearray(rng.getrandbits(8) for _ in range(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    return b.hex()


def hexval(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n)).hex()


def composition(kind, rpr=False, relay=True, proxy=False, pid=1):
    el0 = [CONFIG_SERVER, HEALTH_SERVER]
    if rpr:
        el0.append(RPR_SERVER)
    vendor = []
    if kind == "light":
        el0.append(ONOFF_SERVER)
    elif kind == "switch":
        el0.append(ONOFF_CLIENT)
    elif kind == "sensor":
        vendor.append({"cid": "0x05f1", "id": "0x0001"})
    elements = [{"location": "0x0100", "models": ["0x%04x" % m for m in el0],
                 "vendor_models": vendor}]
    if kind == "light":
        # A dual-channel light: the second element has its own OnOff server.
        elements.append({"location": "0x0101", "models": ["0x1000"]})
    return {"cid": "0x%04x" % CID, "pid": "0x%04x" % pid, "vid": "0x0001", "crpl": 64,
            "features": {"relay": relay, "proxy": proxy, "friend": False, "low_power": False},
            "elements": elements}


AUTHS = ["none", "static16", "static32", "output", "input"]


def oob(rng, auth):
    if auth == "none":
        return {}, ["cmac"]
    if auth == "static16":
        return {"static": hexval(rng, 16), "info": "0x0020"}, ["cmac", "hmac"]
    if auth == "static32":
        return {"static": hexval(rng, 32), "info": "0x0020"}, ["cmac", "hmac"]
    if auth == "output":
        return {"output": {"size": 4, "actions": ["blink", "numeric"]}}, ["cmac"]
    return {"input": {"size": 4, "actions": ["push", "numeric"]}}, ["cmac", "hmac"]


def device(rng, name, kind, pos, auth, relay=False, rpr=False, pid=1):
    o, algs = oob(rng, auth)
    d = {"name": name, "uuid": uuid4(rng),
         "position": {"x": pos[0], "y": pos[1], "z": pos[2]},
         "algorithms": algs,
         "composition": composition(kind, rpr=rpr, relay=True, pid=pid),
         "relay": relay, "beacon": True}
    if o:
        d["oob"] = o
    if rpr:
        d["rpr_server"] = True
    return d


# --- meshsim's propagation model (sim/air.c), to check placements -----------

AIR = {"range_m": 14.0, "floor_height_m": 3.0, "floor_loss_db": 12.0,
       "path_loss_exponent": 2.5, "rssi_1m_dbm": -40.0}


def in_range(a, b, air):
    d = max(math.dist(a, b), 0.1)
    floors = abs(math.floor(a[2] / air["floor_height_m"] + 1e-9) -
                 math.floor(b[2] / air["floor_height_m"] + 1e-9))
    n = air["path_loss_exponent"]
    rx = air["rssi_1m_dbm"] - 10 * n * math.log10(d) - floors * air["floor_loss_db"]
    return rx >= air["rssi_1m_dbm"] - 10 * n * math.log10(air["range_m"])


def pos_of(d):
    p = d["position"]
    return (p["x"], p["y"], p["z"])


def hops_from(gw, devs, air):
    """Hop counts from the gateway when only relays forward (None: unreachable)."""
    hops = [None] * len(devs)
    frontier = [i for i, d in enumerate(devs) if in_range(gw, pos_of(d), air)]
    for i in frontier:
        hops[i] = 1
    while frontier:
        nxt = []
        for i in frontier:
            if not devs[i]["relay"]:
                continue
            for j, d in enumerate(devs):
                if hops[j] is None and in_range(pos_of(devs[i]), pos_of(d), air):
                    hops[j] = hops[i] + 1
                    nxt.append(j)
        frontier = nxt
    return hops


def place_rpr(devs, air, gw):
    """Greedy cover: every device within range of some rpr_server (margin 0.75); then
    bridges so that every server can itself be provisioned: heard by the gateway or by
    a server that can (remote provisioning works ring by ring).  Servers relay."""
    tight = dict(air, range_m=air["range_m"] * 0.75)
    servers = []
    for i, d in enumerate(devs):
        if any(in_range(pos_of(devs[s]), pos_of(d), tight) for s in servers):
            continue
        # The farthest device along x that still covers d, so coverage reaches ahead.
        cands = [j for j, e in enumerate(devs) if in_range(pos_of(e), pos_of(d), tight)]
        best = max(cands, key=lambda j: (pos_of(devs[j])[0], pos_of(devs[j])[1]))
        servers.append(best)
    servers = set(servers)

    def reached():
        """Servers provisionable from the gateway, ring by ring."""
        got = {s for s in servers if in_range(gw, pos_of(devs[s]), tight)}
        grow = True
        while grow:
            more = {s for s in servers - got
                    if any(in_range(pos_of(devs[g]), pos_of(devs[s]), tight) for g in got)}
            grow = bool(more)
            got |= more
        return got

    while True:
        got = reached()
        missing = servers - got
        if not missing:
            break
        # Promote the device heard by the gateway or a reached server that is closest to
        # a missing server: it becomes a bridge server.
        cands = [j for j in range(len(devs)) if j not in servers and
                 (in_range(gw, pos_of(devs[j]), tight) or
                  any(in_range(pos_of(devs[g]), pos_of(devs[j]), tight) for g in got))]
        best = min(cands, key=lambda j: min(math.dist(pos_of(devs[j]), pos_of(devs[m]))
                                            for m in missing))
        servers.add(best)
    for s in sorted(servers):
        d = devs[s]
        d["rpr_server"] = True
        d["relay"] = True
        d["composition"]["elements"][0]["models"].insert(2, "0x%04x" % RPR_SERVER)
    return sorted(servers)


def grid_building(rng, floors, nx, ny, dx, dy, gw, relay_every):
    devs = []
    kinds = ["light", "light", "light", "switch", "sensor"]
    for f in range(floors):
        for i in range(nx):
            for j in range(ny):
                kind = kinds[rng.randrange(len(kinds))]
                pos = (round(3 + i * dx, 2), round(2 + j * dy, 2), f * 3 + 1.0)
                relay = (i % relay_every == 0) or (j == 0 and i % 2 == 1)
                auth = AUTHS[rng.randrange(len(AUTHS))]
                devs.append(device(rng, "f%d-%s-%02d-%02d" % (f, kind, i, j), kind, pos, auth,
                                   relay=relay, pid=0x10 + kinds.index(kind)))
    place_rpr(devs, AIR, gw)
    hops = hops_from(gw, devs, AIR)
    assert all(h is not None for h in hops), "unreachable device"
    assert max(hops) >= 4, "nothing 4 hops away"
    return devs, hops


def scenario(desc, air, gw, devs):
    return {"meshsim": 1, "description": desc, "air": air,
            "ports": {"native": {"path": "/tmp/meshsim.sock",
                                 "position": {"x": gw[0], "y": gw[1], "z": gw[2]}}},
            "devices": devs}


def small():
    rng = random.Random(5)
    gw = (0.0, 0.0, 1.0)
    specs = [("light-noob", "light", (2.0, 1.0, 1.0), "none"),
             ("light-static16", "light", (4.0, -2.0, 1.0), "static16"),
             ("sensor-static32", "sensor", (-3.0, 2.5, 1.0), "static32"),
             ("switch-output", "switch", (1.5, 4.0, 1.0), "output"),
             ("panel-input", "light", (-2.0, -3.0, 1.5), "input")]
    devs = [device(rng, n, k, p, a, relay=True, pid=0x10 + i)
            for i, (n, k, p, a) in enumerate(specs)]
    devs[4]["uri"] = "https://example.com/meshsim/panel"
    page128 = composition("light", relay=True, pid=0x14)
    page128["vid"] = "0x0002"
    page128["elements"][0]["vendor_models"] = [{"cid": "0x05f1", "id": "0x0002"}]
    devs[4]["composition_128"] = page128
    devs[0]["state_file"] = "/tmp/meshsim-small-light-noob.json"
    air = {"range_m": 30, "loss": 0.0, "edge_loss": 0.0, "latency_ms": 1, "duplication": 0.0,
           "seed": 1, "time_scale": 1.0}
    for d in devs:
        assert in_range(gw, pos_of(d), dict(AIR, range_m=30.0))
    return scenario("Five devices in direct range of the gateway port, one per "
                    "authentication method (No OOB, Static OOB 16 and 32 octets, "
                    "Output OOB, Input OOB).", air, gw, devs)


def office():
    rng = random.Random(60)
    gw = (0.0, 5.0, 1.0)
    devs, hops = grid_building(rng, floors=3, nx=10, ny=2, dx=6.0, dy=6.0, gw=gw,
                               relay_every=2)
    air = dict(AIR, loss=0.0, edge_loss=0.05, latency_ms=1, duplication=0.0, seed=60,
               time_scale=1.0)
    return scenario("Office: 60 devices on 3 floors along a 60 m corridor; the far end "
                    "is %d relay hops from the gateway port." % max(hops), air, gw, devs)


def building():
    rng = random.Random(1000)
    gw = (0.0, 0.0, 1.0)
    devs, hops = grid_building(rng, floors=5, nx=20, ny=10, dx=5.0, dy=5.0, gw=gw,
                               relay_every=2)
    air = dict(AIR, loss=0.0, edge_loss=0.05, latency_ms=1, duplication=0.0, seed=1000,
               time_scale=1.0)
    return scenario("Building: 1,000 devices on 5 floors (20 x 10 grid, 5 m apart); up to "
                    "%d relay hops from the gateway port." % max(hops), air, gw, devs)


def main():
    for name, fn in (("small", small), ("office", office), ("building", building)):
        s = fn()
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            if len(s["devices"]) < 100:
                json.dump(s, f, indent=1)
            else:
                # One device per line keeps the big file small and diffable.
                devs = s.pop("devices")
                head = json.dumps(s, indent=1)[:-2]
                f.write(head + ',\n "devices": [\n')
                f.write(",\n".join(json.dumps(d, separators=(",", ":")) for d in devs))
                f.write("\n ]\n}")
            f.write("\n")


if __name__ == "__main__":
    main()
