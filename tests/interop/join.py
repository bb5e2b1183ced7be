#!/usr/bin/python3
"""Make bluetooth-meshd an unprovisioned device: export a mesh application
(Application1, one Element1, ProvisionAgent1) on the bus, call
org.bluez.mesh.Network1.Join(app, uuid), and report the outcome.

Prints one line per event, flushed, for the harness to wait on:
  JOIN-REQUESTED <uuid>
  JOIN-ERROR <reason>        the Join call itself failed (exit 1)
  PROMPT-STATIC <type>       the provisioner chose Static OOB
  DISPLAY-NUMERIC <type> <n> / DISPLAY-STRING <s>   Output OOB values
  JOIN-COMPLETE <token hex>  (exit 0)
  JOIN-FAILED <reason>       (exit 1)
It exits 2 after --timeout seconds without an outcome.

Uses Debian's /usr/bin/python3 with python3-dbus and python3-gi; the bus is
the system bus, so point DBUS_SYSTEM_BUS_ADDRESS at the private test bus
(tests/interop/run_meshd.sh does).  Interfaces: BlueZ doc/mesh-api.txt.
"""
import argparse
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MESH = "org.bluez.mesh"
NETWORK = "org.bluez.mesh.Network1"
APP = "org.bluez.mesh.Application1"
ELEMENT = "org.bluez.mesh.Element1"
AGENT = "org.bluez.mesh.ProvisionAgent1"
OM = "org.freedesktop.DBus.ObjectManager"

ROOT = "/meshgw/interop"


def say(*words):
    print(*words, flush=True)


class Element(dbus.service.Object):
    """Primary element: the daemon hosts the Config Server itself; we add a
    Generic OnOff Server (0x1000) so the composition has an application model."""

    def __init__(self, bus, path, models):
        self.path = path
        self.models = models
        super().__init__(bus, path)

    def props(self):
        return {ELEMENT: {
            "Index": dbus.Byte(0),
            "Location": dbus.UInt16(0x0100),
            "Models": dbus.Array([(dbus.UInt16(m), dbus.Dictionary({}, signature="sv"))
                                  for m in self.models], signature="(qa{sv})"),
            "VendorModels": dbus.Array([], signature="(qqa{sv})"),
        }}

    @dbus.service.method(ELEMENT, in_signature="qqvay", out_signature="")
    def MessageReceived(self, source, key_index, destination, data):
        say("MESSAGE", int(source), bytes(data).hex())

    @dbus.service.method(ELEMENT, in_signature="qqvay", out_signature="")
    def DevKeyMessageReceived(self, source, remote, net_index, data):
        say("DEVKEY-MESSAGE", int(source), bytes(data).hex())

    @dbus.service.method(ELEMENT, in_signature="qa{sv}", out_signature="")
    def UpdateModelConfiguration(self, model_id, config):
        say("MODEL-CONFIG", "0x%04x" % int(model_id))


class Agent(dbus.service.Object):
    def __init__(self, bus, path, caps, static_oob):
        self.path = path
        self.caps = caps
        self.static_oob = static_oob
        super().__init__(bus, path)

    def props(self):
        return {AGENT: {
            "Capabilities": dbus.Array(self.caps, signature="s"),
            "OutOfBandInfo": dbus.Array([], signature="s"),
        }}

    @dbus.service.method(AGENT, in_signature="s", out_signature="ay")
    def PromptStatic(self, kind):
        say("PROMPT-STATIC", kind)
        if self.static_oob is None:
            raise dbus.exceptions.DBusException("org.bluez.mesh.Error.NotSupported",
                                                "no static OOB value configured")
        return dbus.ByteArray(self.static_oob)

    @dbus.service.method(AGENT, in_signature="s", out_signature="u")
    def PromptNumeric(self, kind):
        say("PROMPT-NUMERIC", kind)
        raise dbus.exceptions.DBusException("org.bluez.mesh.Error.NotSupported", "no input")

    @dbus.service.method(AGENT, in_signature="su", out_signature="")
    def DisplayNumeric(self, kind, number):
        say("DISPLAY-NUMERIC", kind, int(number))

    @dbus.service.method(AGENT, in_signature="s", out_signature="")
    def DisplayString(self, value):
        say("DISPLAY-STRING", value)

    @dbus.service.method(AGENT, in_signature="", out_signature="")
    def Cancel(self):
        say("AGENT-CANCEL")


class Application(dbus.service.Object):
    def __init__(self, bus, loop, args):
        self.loop = loop
        self.result = 2
        self.element = Element(bus, ROOT + "/ele00", [0x1000])
        self.agent = Agent(bus, ROOT + "/agent", args.caps, args.static_oob)
        self.cid, self.pid, self.vid = args.cid, args.pid, args.vid
        super().__init__(bus, ROOT)

    @dbus.service.method(OM, in_signature="", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        objs = {
            dbus.ObjectPath(ROOT): {APP: {
                "CompanyID": dbus.UInt16(self.cid),
                "ProductID": dbus.UInt16(self.pid),
                "VersionID": dbus.UInt16(self.vid),
                "CRPL": dbus.UInt16(0x7fff),
            }},
            dbus.ObjectPath(self.element.path): self.element.props(),
            dbus.ObjectPath(self.agent.path): self.agent.props(),
        }
        return objs

    @dbus.service.method(APP, in_signature="t", out_signature="")
    def JoinComplete(self, token):
        say("JOIN-COMPLETE", "%016x" % int(token))
        self.result = 0
        self.loop.quit()

    @dbus.service.method(APP, in_signature="s", out_signature="")
    def JoinFailed(self, reason):
        say("JOIN-FAILED", reason)
        self.result = 1
        self.loop.quit()


def uuid_bytes(text):
    raw = bytes.fromhex(text.replace("-", ""))
    if len(raw) != 16:
        raise argparse.ArgumentTypeError("a UUID is 16 octets")
    # bluetooth-meshd refuses anything but an RFC 4122 UUID ("Bad device UUID").
    if not 1 <= raw[6] >> 4 <= 5 or raw[8] >> 6 != 2:
        raise argparse.ArgumentTypeError("not an RFC 4122 UUID (version 1-5, variant 10)")
    return raw


def static_bytes(text):
    raw = bytes.fromhex(text)
    if len(raw) != 16:
        raise argparse.ArgumentTypeError("the daemon takes a 16-octet static OOB value")
    return raw


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uuid", type=uuid_bytes, required=True)
    ap.add_argument("--static-oob", type=static_bytes, default=None,
                    help="16 octets of hex; adds the static-oob capability")
    ap.add_argument("--caps", nargs="*", default=None,
                    help="agent capabilities (default: static-oob if --static-oob)")
    ap.add_argument("--cid", type=lambda s: int(s, 0), default=0x05f1)
    ap.add_argument("--pid", type=lambda s: int(s, 0), default=0x0001)
    ap.add_argument("--vid", type=lambda s: int(s, 0), default=0x0001)
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    if args.caps is None:
        args.caps = ["static-oob"] if args.static_oob is not None else []

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    loop = GLib.MainLoop()
    app = Application(bus, loop, args)

    def join_error(err):
        say("JOIN-ERROR", err.get_dbus_name(), err.get_dbus_message())
        app.result = 1
        loop.quit()

    def timeout():
        say("TIMEOUT")
        loop.quit()
        return False

    net = dbus.Interface(bus.get_object(MESH, "/org/bluez/mesh"), NETWORK)
    net.Join(dbus.ObjectPath(ROOT), dbus.Array(args.uuid, signature="y"),
             reply_handler=lambda: say("JOIN-REQUESTED", args.uuid.hex()),
             error_handler=join_error)
    GLib.timeout_add(int(args.timeout * 1000), timeout)
    loop.run()
    return app.result


if __name__ == "__main__":
    sys.exit(main())
