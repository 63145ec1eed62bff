#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""domus-dbusd against libvirt's test:///default on a private system-like bus: the
interfaces as introspected, every Connect/Domain/DomainSnapshot method it implements,
properties, signals within 2 s, errors (checked against python3-libvirt's own messages)
and the bus policy it installs."""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import busenv  # noqa: E402

busenv.need_modules()

import dbus  # noqa: E402
import libvirt  # noqa: E402
import pytest  # noqa: E402
from dbus.mainloop.glib import DBusGMainLoop  # noqa: E402
from gi.repository import GLib  # noqa: E402

DBusGMainLoop(set_as_default=True)

TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
DOM_PATH = busenv.TEST_PATH + "/domain/_" + TEST_UUID.replace("-", "_")
NOT_SUPPORTED = "this function is not supported by the connection driver"
ERR = "org.libvirt.Error"
NEW_DOMAIN = """<domain type='test'><name>extra</name><memory>8192</memory>
<os><type>hvm</type></os></domain>"""

libvirt.registerErrorHandler(lambda ctx, err: None, None)


class Client:
    def __init__(self, env):
        self.bus = dbus.bus.BusConnection(env.system.address)
        obj = self.bus.get_object(busenv.SERVICE, busenv.TEST_PATH)
        self.connect = dbus.Interface(obj, "org.libvirt.Connect")
        self.connect_props = dbus.Interface(obj, dbus.PROPERTIES_IFACE)

    def domain(self, path=DOM_PATH):
        obj = self.bus.get_object(busenv.SERVICE, path)
        return dbus.Interface(obj, "org.libvirt.Domain"), dbus.Interface(obj, dbus.PROPERTIES_IFACE)

    def wait_signal(self, member, iface, path, trigger, match=lambda *a: True, timeout=2.0):
        got = []
        loop = GLib.MainLoop()

        def handler(*args):
            if match(*args):
                got.append(args)
                loop.quit()
        rcv = self.bus.add_signal_receiver(handler, member, iface, busenv.SERVICE, path)
        trigger()
        GLib.timeout_add(int(timeout * 1000), loop.quit)
        loop.run()
        rcv.remove()
        assert got, f"no {iface}.{member} on {path} within {timeout} s"
        return got[0]


@pytest.fixture
def client(env):
    env.start_service()
    return Client(env)


def libvirt_error(fn):
    """The message python3-libvirt gets for the same call on a fresh test:///default."""
    conn = libvirt.open("test:///default")
    try:
        fn(conn)
    except libvirt.libvirtError as e:
        return e.get_error_message()
    finally:
        conn.close()
    raise AssertionError("expected a libvirt error")


def expect_error(call, *args, contains=None, equals=None):
    with pytest.raises(dbus.DBusException) as ei:
        call(*args)
    assert ei.value.get_dbus_name() == ERR
    msg = ei.value.get_dbus_message()
    if contains:
        assert contains in msg
    if equals:
        assert msg == equals
    return msg


def introspect(bus, path):
    obj = bus.get_object(busenv.SERVICE, path)
    return ET.fromstring(obj.Introspect(dbus_interface=dbus.INTROSPECTABLE_IFACE))


def test_introspection_matches_installed_xml(client):
    for path, iface in [(busenv.TEST_PATH, "Connect"), (DOM_PATH, "Domain")]:
        node = introspect(client.bus, path)
        served = node.find(f"interface[@name='org.libvirt.{iface}']")
        ours = ET.parse(os.path.join(busenv.SRC, "dbus-service", "interfaces",
                                     f"org.libvirt.{iface}.xml")).getroot()[0]

        def sigs(i):
            return sorted((m.tag, m.get("name"), tuple(a.get("type") for a in m.findall("arg")))
                          for m in i if m.tag in ("method", "signal", "property"))
        assert sigs(served) == sigs(ours)
    assert len(ours.findall("method")) == 93
    children = [n.get("name") for n in introspect(client.bus, busenv.TEST_PATH + "/domain")
                .findall("node")]
    assert children == ["_" + TEST_UUID.replace("-", "_")]


def test_connect_properties(client):
    props = client.connect_props.GetAll("org.libvirt.Connect")
    conn = libvirt.open("test:///default")
    assert props["LibVersion"] == conn.getLibVersion()
    assert isinstance(props["LibVersion"], dbus.UInt64)
    assert props["Version"] == conn.getVersion()
    assert props["Hostname"] == conn.getHostname()
    assert props["Encrypted"] == bool(conn.isEncrypted())
    assert props["Secure"] == bool(conn.isSecure())
    conn.close()
    with pytest.raises(dbus.DBusException) as ei:  # GDBus itself refuses it
        client.connect_props.Set("org.libvirt.Connect", "Hostname", "x")
    assert "not writable" in ei.value.get_dbus_message()


def test_connect_methods(client):
    c = client.connect
    doms = c.ListDomains(0)
    assert doms == [DOM_PATH]
    assert c.DomainLookupByName("test") == DOM_PATH
    assert c.DomainLookupByUUID(TEST_UUID) == DOM_PATH
    assert c.DomainLookupByID(1) == DOM_PATH
    assert "<capabilities>" in c.GetCapabilities()
    assert "<sysinfo" in c.GetSysinfo(0)
    assert len(c.GetCPUModelNames("x86_64", 0)) > 0
    assert c.NodeGetFreeMemory() > 0
    assert len(c.NodeGetCPUMap(0)) == 8  # the test driver's host has 8 CPUs
    assert "user" in c.NodeGetCPUStats(-1, 0) or len(c.NodeGetCPUStats(-1, 0)) > 0
    expect_error(c.NodeGetMemoryStats, -1, 0,
                 equals=libvirt_error(lambda c: c.getMemoryStats(-1, 0)))
    assert isinstance(c.FindStoragePoolSources("logical", "", 0), dbus.String)
    model = c.NodeGetSecurityModel()
    assert len(model) == 2
    stats = c.GetAllDomainStats(0, 0)
    assert [name for name, _ in stats] == ["test"]
    assert stats[0][1]["state.state"] == 1
    path = c.DomainDefineXML(NEW_DOMAIN)
    assert path == c.DomainLookupByName("extra")
    d, props = client.domain(path)
    assert props.Get("org.libvirt.Domain", "Active") == False  # noqa: E712
    assert props.Get("org.libvirt.Domain", "Id") == 0
    running = c.DomainCreateXML(NEW_DOMAIN.replace("extra", "transient"), 0)
    _, tprops = client.domain(running)
    assert tprops.Get("org.libvirt.Domain", "Persistent") == False  # noqa: E712


def test_connect_errors_are_libvirts(client):
    expect_error(client.connect.DomainLookupByName, "nope",
                 equals=libvirt_error(lambda c: c.lookupByName("nope")))
    expect_error(client.connect.DomainLookupByUUID, "not-a-uuid",
                 equals=libvirt_error(lambda c: c.lookupByUUIDString("not-a-uuid")))
    expect_error(client.connect.DomainDefineXML, "<domain",
                 equals=libvirt_error(lambda c: c.defineXML("<domain")))
    expect_error(client.connect.NetworkLookupByName, "nope",
                 equals=libvirt_error(lambda c: c.networkLookupByName("nope")))
    expect_error(client.connect.ListSecrets, 0,
                 equals=libvirt_error(lambda c: c.listAllSecrets(0)))
    expect_error(client.connect.NWFilterDefineXML, "<filter name='f'/>",
                 equals=libvirt_error(lambda c: c.nwfilterDefineXML("<filter name='f'/>")))
    # typed parameters from the caller: a type libvirt has not, a name longer than its field
    expect_error(client.connect.NodeSetMemoryParameters, {"x": dbus.Array([1], signature="i")},
                 0, contains="typed parameter 'x': unsupported type 'ai'")
    expect_error(client.connect.NodeSetMemoryParameters, {"k" * 200: dbus.UInt32(1)}, 0,
                 contains="too long")


def test_domain_properties(client):
    d, props = client.domain()
    p = props.GetAll("org.libvirt.Domain")
    assert p == {"Active": True, "Autostart": False, "Id": 1, "Name": "test",
                 "OSType": "linux", "Persistent": True, "SchedulerType": ("fair", 1),
                 "Updated": False, "UUID": TEST_UUID}
    assert isinstance(p["Id"], dbus.UInt32)
    props.Set("org.libvirt.Domain", "Autostart", True)
    assert props.Get("org.libvirt.Domain", "Autostart") == True  # noqa: E712
    with pytest.raises(dbus.DBusException):  # GDBus checks the value's type
        props.Set("org.libvirt.Domain", "Autostart", "yes")
    with pytest.raises(dbus.DBusException):
        props.Set("org.libvirt.Domain", "Name", "renamed")


def test_domain_methods(client):
    d, props = client.domain()
    assert "<name>test</name>" in d.GetXMLDesc(0)
    assert tuple(d.GetState(0)) == (libvirt.VIR_DOMAIN_RUNNING,
                                    libvirt.VIR_DOMAIN_RUNNING_UNKNOWN)
    assert d.GetVcpus(0) == 2
    d.SetVcpus(1, 0)
    assert d.GetVcpus(0) == 1
    assert d.GetVcpuPinInfo(0) == [[True] * 8]
    d.PinVcpu(0, [True, False, True], 0)
    assert d.GetVcpuPinInfo(0) == [[True, False, True] + [False] * 5]
    d.SetMemory(4096, 0)
    assert "<currentMemory unit='KiB'>4096</currentMemory>" in d.GetXMLDesc(0)
    d.SetMetadata(0, "a description", "", "", 0)
    assert d.GetMetadata(0, "", 0) == "a description"
    params = d.GetSchedulerParameters(0)
    assert params["weight"] == 50
    d.SetSchedulerParameters({"weight": dbus.UInt32(70)}, 0)  # test:/// accepts, keeps 50
    expect_error(d.SetSchedulerParameters, {"weight": dbus.UInt32(70)}, 1 << 30,
                 contains="unsupported flags")
    expect_error(d.SetSchedulerParameters, {"weight": dbus.Array([1], signature="i")}, 0,
                 contains="typed parameter 'weight': unsupported type 'ai'")
    d.Suspend()
    assert d.GetState(0)[0] == 3
    d.Resume()
    d.Reboot(0)
    d.Reset(0)
    d.ManagedSave(0)
    assert d.HasManagedSaveImage(0)
    d.ManagedSaveRemove(0)
    assert not d.HasManagedSaveImage(0)
    d.Create(0)
    d.Shutdown(0)
    assert d.GetState(0)[0] == 5
    d.Rename("renamed", 0)
    assert props.Get("org.libvirt.Domain", "Name") == "renamed"
    d.Undefine(0)
    expect_error(d.GetXMLDesc, 0, contains="Domain not found")


def same_as_libvirt(dbus_call, py_call, convert=None):
    """The D-Bus call gives what python3-libvirt gives on a fresh test:///default: the same
    value (through convert) or the same error message."""
    conn = libvirt.open("test:///default")
    try:
        expected = py_call(conn.lookupByName("test"))
    except libvirt.libvirtError as e:
        expect_error(dbus_call, equals=e.get_error_message())
        return
    finally:
        conn.close()
    got = dbus_call()
    if convert:
        assert convert(got) == expected


def test_domain_queries_match_libvirt(client):
    """Each query method against python3-libvirt doing the same on the same driver state:
    the results agree, or both fail with the same message (the test driver lacks many)."""
    d, _ = client.domain()
    cases = [
        (lambda: d.GetBlockIOParameters(0), lambda dom: dom.blkioParameters(0), dict),
        (lambda: d.GetMemoryParameters(0), lambda dom: dom.memoryParameters(0), dict),
        (lambda: d.GetNumaParameters(0), lambda dom: dom.numaParameters(0), dict),
        (lambda: d.GetPerfEvents(0), lambda dom: dom.perfEvents(0), dict),
        (lambda: d.MemoryStats(0), lambda dom: dom.memoryStats(), None),
        (lambda: d.GetControlInfo(0), lambda dom: dom.controlInfo(0), list),
        (lambda: d.GetJobInfo(), lambda dom: dom.jobInfo(), None),
        (lambda: d.GetJobStats(0), lambda dom: dom.jobStats(0), None),
        (lambda: d.GetTime(0), lambda dom: dom.getTime(0),
         lambda v: {"seconds": int(v[0]), "nseconds": int(v[1])}),
        (lambda: d.GetHostname(0), lambda dom: dom.hostname(0), str),
        (lambda: d.GetSecurityLabelList(), lambda dom: dom.securityLabelList(), None),
        (lambda: d.GetDiskErrors(0), lambda dom: dom.diskErrors(0),
         lambda v: {str(k): int(e) for k, e in v}),
        (lambda: d.GetEmulatorPinInfo(0), lambda dom: dom.emulatorPinInfo(0),
         lambda v: tuple(bool(x) for x in v)),
        (lambda: d.GetIOThreadInfo(0), lambda dom: dom.ioThreadInfo(0), None),
        (lambda: d.GetFSInfo(0), lambda dom: dom.fsInfo(0),
         lambda v: [(str(a), str(b), str(c), [str(x) for x in al]) for a, b, c, al in v]),
        (lambda: d.InterfaceAddresses(0, 0), lambda dom: dom.interfaceAddresses(0, 0), None),
        (lambda: d.GetBlockIOTune("vda", 0), lambda dom: dom.blockIoTune("vda", 0), dict),
        (lambda: d.GetBlockJobInfo("vda", 0), lambda dom: dom.blockJobInfo("vda", 0), None),
        (lambda: d.GetInterfaceParameters("vnet0", 0),
         lambda dom: dom.interfaceParameters("vnet0", 0), dict),
        (lambda: d.MigrateGetMaxSpeed(0), lambda dom: dom.migrateGetMaxSpeed(0), int),
        (lambda: d.BlockPeek("vda", 0, 16, 0), lambda dom: dom.blockPeek("vda", 0, 16, 0),
         bytes),
        (lambda: d.MemoryPeek(0, 16, 1), lambda dom: dom.memoryPeek(0, 16, 1),
         lambda v: bytes(bytearray(v))),
        (lambda: d.FSTrim("", 0, 0), lambda dom: dom.fSTrim(None, 0, 0), None),
        (lambda: d.InjectNMI(0), lambda dom: dom.injectNMI(0), None),
        (lambda: d.SendKey(0, 0, [30], 0), lambda dom: dom.sendKey(0, 0, [30], 1, 0), None),
        (lambda: d.AbortJob(), lambda dom: dom.abortJob(), None),
        (lambda: d.SetMemoryStatsPeriod(5, 0), lambda dom: dom.setMemoryStatsPeriod(5, 0),
         None),
        (lambda: d.GetStats(0, 0), lambda dom: dom.connect().domainListGetStats([dom])[0][1],
         dict),
    ]
    for dbus_call, py_call, convert in cases:
        same_as_libvirt(dbus_call, py_call, convert)
    # python3-libvirt hides this one's error (returns None), so only the text is checked
    expect_error(d.GetGuestVcpus, 0, contains=NOT_SUPPORTED)
    expect_error(d.MigrateGetCompressionCache, 0, contains=NOT_SUPPORTED)


def test_domain_errors(client):
    d, _ = client.domain()
    # OpenGraphicsFD: libvirt's own not-supported error from the test driver
    expect_error(d.OpenGraphicsFD, 0, 0,
                 equals=libvirt_error(lambda c: c.lookupByName("test").openGraphicsFD(0, 0)))
    expect_error(d.GetMetadata, 1, "", 0,
                 equals=libvirt_error(lambda c: c.lookupByName("test").metadata(1, None, 0)))
    expect_error(d.MemoryPeek, 0, 1 << 30, 0, contains="above the limit")
    gone, _ = client.domain(busenv.TEST_PATH + "/domain/_" + "0" * 8 + "_0000_0000_0000_" +
                            "0" * 12)
    expect_error(gone.GetXMLDesc, 0, contains="Domain not found")
    for node in ("not_a_uuid", "_" + TEST_UUID.replace("-", "_") + "_extra"):
        bad, _ = client.domain(busenv.TEST_PATH + "/domain/" + node)
        expect_error(bad.GetXMLDesc, 0, contains="no domain at object path")



def test_escaped_names_have_one_path(client):
    """A name-keyed object (an interface here) is found at its own path only: "_00" once
    decoded to a NUL that cut the name short, so eth1_00 reached eth1."""
    c = client.connect
    path = c.ListInterfaces(0)[0]
    iface = dbus.Interface(client.bus.get_object(busenv.SERVICE, path), "org.libvirt.Interface")
    iface.GetXMLDesc(0)
    for suffix in ("_00", "_31", "_2D", "_2", "_zz"):
        bad = dbus.Interface(client.bus.get_object(busenv.SERVICE, path + suffix),
                             "org.libvirt.Interface")
        expect_error(bad.GetXMLDesc, 0, contains="no interface at object path")


def gio_call(env, path, iface, method, args, fds=()):
    """A call through GDBus, which (unlike dbus-python) can send handle indices that point
    past the message's fd list."""
    from gi.repository import Gio
    bus = Gio.DBusConnection.new_for_address_sync(
        env.system.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    fdlist = Gio.UnixFDList()
    for fd in fds:
        fdlist.append(fd)
    try:
        return bus.call_with_unix_fd_list_sync(busenv.SERVICE, path, iface, method, args,
                                               None, Gio.DBusCallFlags.NONE, 5000, fdlist,
                                               None)
    finally:
        bus.close_sync(None)


def test_with_files_checks_fd_indices(env, client):
    for path, iface, method, args in (
            (DOM_PATH, "org.libvirt.Domain", "CreateWithFiles", "(ahu)"),
            (busenv.TEST_PATH, "org.libvirt.Connect", "DomainCreateXMLWithFiles", "(sahu)")):
        values = ([1, 7], 0) if args == "(ahu)" else (NEW_DOMAIN, [1, 7], 0)
        r, w = os.pipe()
        try:
            with pytest.raises(GLib.Error) as e:
                gio_call(env, path, iface, method, GLib.Variant(args, values), fds=(r, w))
        finally:
            os.close(r)
            os.close(w)
        assert ERR in e.value.message
        assert "file descriptor index 7 is not in the message" in e.value.message
    # the service closed what it had taken and still answers
    assert client.connect.DomainLookupByName("test") == DOM_PATH

def test_snapshots(client):
    d, _ = client.domain()
    path = d.SnapshotCreateXML("<domainsnapshot><name>snap 1</name></domainsnapshot>", 0)
    assert path.endswith("_snap_201")
    assert d.SnapshotLookupByName("snap 1", 0) == path
    assert d.SnapshotCurrent(0) == path
    assert d.ListDomainSnapshots(0) == [path]
    snap = dbus.Interface(client.bus.get_object(busenv.SERVICE, path),
                          "org.libvirt.DomainSnapshot")
    assert "<name>snap 1</name>" in snap.GetXMLDesc(0)
    assert snap.IsCurrent(0)
    assert snap.ListChildren(0) == []
    expect_error(snap.GetParent, 0, contains="does not have a parent")
    snap.Revert(0)
    snap.Delete(0)
    assert d.ListDomainSnapshots(0) == []


DEFAULTS = {"s": "", "b": False, "y": 0, "i": 0, "u": 0, "x": 0, "t": 0, "d": 0.0,
            "o": "/", "h": 0}


def default_args(method):
    args = []
    for a in method.findall("arg"):
        if a.get("direction", "in") != "in":
            continue
        t = a.get("type")
        if t.startswith("a{"):
            args.append(dbus.Dictionary({}, signature=t[2:-1]))
        elif t.startswith("a"):
            args.append(dbus.Array([], signature=t[1:]))
        else:
            args.append(DEFAULTS[t])
    return args


def test_every_method_is_served(env, client):
    """Call every method of every interface with zero arguments: each must reach libvirt
    (a result, or libvirt's own error) and never the service's own not-supported reply,
    which names the D-Bus method instead of a libvirt function."""
    c = client.connect
    objects = {
        "Connect": busenv.TEST_PATH,
        "Domain": c.DomainCreateXML(NEW_DOMAIN, 0),
        "Network": c.ListNetworks(0)[0],
        "StoragePool": c.ListStoragePools(0)[0],
        "Interface": c.ListInterfaces(0)[0],
        "NodeDevice": c.ListNodeDevices(0)[0],
        # test:/// has no nwfilters or secrets: calls on these paths reach libvirt's
        # lookup, which answers not-supported (checked in test_connect_errors_are_libvirts)
        "NWFilter": busenv.TEST_PATH + "/nwfilter/_" + TEST_UUID.replace("-", "_"),
        "Secret": busenv.TEST_PATH + "/secret/_" + TEST_UUID.replace("-", "_"),
    }
    pool = dbus.Interface(client.bus.get_object(busenv.SERVICE, objects["StoragePool"]),
                          "org.libvirt.StoragePool")
    objects["StorageVol"] = pool.StorageVolCreateXML(
        "<volume><name>v.img</name><capacity>1024</capacity></volume>", 0)
    dom = dbus.Interface(client.bus.get_object(busenv.SERVICE, objects["Domain"]),
                         "org.libvirt.Domain")
    objects["DomainSnapshot"] = dom.SnapshotCreateXML("<domainsnapshot/>", 0)
    calls = 0
    for iface, path in objects.items():
        xml = ET.parse(os.path.join(busenv.SRC, "dbus-service", "interfaces",
                                    f"org.libvirt.{iface}.xml")).getroot()[0]
        proxy = dbus.Interface(client.bus.get_object(busenv.SERVICE, path),
                               f"org.libvirt.{iface}")
        # destructive calls last, so that the rest still find their object
        methods = sorted(xml.findall("method"),
                         key=lambda m: m.get("name") in ("Undefine", "Delete", "Destroy"))
        for m in methods:
            name = m.get("name")
            try:
                getattr(proxy, name)(*default_args(m), timeout=10)
            except dbus.DBusException as e:
                assert e.get_dbus_name() == ERR, f"{iface}.{name}: {e}"
                assert f"org.libvirt.{iface}.{name}" not in e.get_dbus_message(), \
                    f"{iface}.{name} is not served"
            calls += 1
    assert calls == 56 + 93 + 6 + 6 + 12 + 5 + 4 + 6 + 2 + 4


def lifecycle(client, trigger, event, detail):
    return client.wait_signal("DomainEvent", "org.libvirt.Connect", busenv.TEST_PATH, trigger,
                              match=lambda p, e, dt: (e, dt) == (event, detail))


def test_lifecycle_signals(env, client):
    d, _ = client.domain()
    assert lifecycle(client, d.Suspend, 3, 0)[0] == DOM_PATH        # SUSPENDED PAUSED
    lifecycle(client, d.Resume, 4, 0)                                 # RESUMED UNPAUSED
    lifecycle(client, lambda: d.Destroy(0), 5, 1)                     # STOPPED DESTROYED
    lifecycle(client, lambda: d.Create(0), 2, 0)                      # STARTED BOOTED
    lifecycle(client, lambda: d.ManagedSave(0), 5, 4)                 # STOPPED SAVED
    lifecycle(client, lambda: d.Create(0), 2, 0)                      # STARTED BOOTED
    saved = os.path.join(env.workdir, "test.save")
    lifecycle(client, lambda: d.Save(saved, "", 0), 5, 4)             # STOPPED SAVED
    lifecycle(client, lambda: client.connect.DomainRestore(saved, "", 0), 2, 2)  # RESTORED
    lifecycle(client, lambda: d.CoreDump("/dev/null", 0, 1), 5, 2)    # STOPPED CRASHED
    lifecycle(client, lambda: client.connect.DomainDefineXML(NEW_DOMAIN), 0, 0)


def test_domain_signal_on_domain_path(client):
    d, _ = client.domain()
    args = client.wait_signal("MetadataChange", "org.libvirt.Domain", DOM_PATH,
                              lambda: d.SetMetadata(0, "x", "", "", 0))
    assert args[0] == 0


def test_policy_methods_need_root_or_group(env, client):
    """The installed policy: an ordinary user (nobody) may not call methods, but does
    receive the broadcast signals."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a client as another user")
    script = f"""
import dbus, sys
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib
DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection({env.system.address!r})
c = dbus.Interface(bus.get_object('{busenv.SERVICE}', '{busenv.TEST_PATH}'), 'org.libvirt.Connect')
try:
    c.ListDomains(0)
    print('CALLED')
except dbus.DBusException as e:
    print('DENIED', e.get_dbus_name())
got = []
loop = GLib.MainLoop()
bus.add_signal_receiver(lambda *a: (got.append(a), loop.quit()), 'DomainEvent',
                        'org.libvirt.Connect', '{busenv.SERVICE}', '{busenv.TEST_PATH}')
print('READY', flush=True)
GLib.timeout_add(3000, loop.quit)
loop.run()
print('SIGNAL' if got else 'NOSIGNAL', flush=True)
"""
    import subprocess
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    first = p.stdout.readline().split()
    assert first == ["DENIED", "org.freedesktop.DBus.Error.AccessDenied"]
    assert p.stdout.readline().strip() == "READY"
    d, _ = client.domain()
    d.Suspend()
    assert p.stdout.readline().strip() == "SIGNAL"
    p.wait(5)


def run_dbusd(env, *args):
    p = env.start("domus-dbusd-cli", [busenv.DBUSD, "--system", *args])
    try:
        p.proc.wait(5)
    except Exception:
        p.stop()
        raise
    return p.proc.returncode, p.output()


@pytest.mark.parametrize("args,message", [
    (["--connect", "test:///default"], "expected URI=PATH"),
    (["--connect", "test:///default=not/a/path"], "expected URI=PATH"),
    (["--connect", "test:///default=/a", "--connect", "test:///x=/a"],
     "object path /a is already used by test:///default"),
    (["--bus-name", ":1.5"], "is not a valid well-known D-Bus name"),
    (["--threads", "0"], "threads=0: expected 1 to 64"),
    (["--system", "--session"], "exclude each other"),
    (["--config", "/nonexistent/dbusd.conf"], "/nonexistent/dbusd.conf"),
])
def test_bad_configuration(env, args, message):
    rc, out = run_dbusd(env, *args)
    assert rc == 2
    assert message in out


def test_config_file(env):
    conf = os.path.join(env.workdir, "dbusd.conf")
    with open(conf, "w") as f:
        f.write("[dbusd]\nbus=session\nbus-name=org.example.Virt\n"
                f"connect=test:///default={busenv.TEST_PATH};test:///default=/org/example/T2\n")
    env.start("domus-dbusd-conf", [busenv.DBUSD, "--config", conf])
    busenv.wait_for(lambda: busenv.name_has_owner(env.session.address, "org.example.Virt"),
                    what="the configured bus name on the configured bus")
    bus = dbus.bus.BusConnection(env.session.address)
    for path in (busenv.TEST_PATH, "/org/example/T2"):
        c = dbus.Interface(bus.get_object("org.example.Virt", path), "org.libvirt.Connect")
        assert c.ListDomains(0) == [path + "/domain/_" + TEST_UUID.replace("-", "_")]
    with open(conf, "w") as f:
        f.write("[dbusd]\nbus=tram\n")
    rc, out = run_dbusd(env, "--config", conf)
    assert rc == 2 and "bus=tram: expected 'system' or 'session'" in out


def test_unreachable_uri_is_served_with_libvirts_error(env):
    """A URI that cannot be opened (virtdomusd not running, say) does not stop the service:
    its object answers with libvirt's error and the other URIs work."""
    env.start("domus-dbusd-two", [busenv.DBUSD, "--system", "--connect",
                                  f"test:///default={busenv.TEST_PATH}", "--connect",
                                  "test:///nonexistent.xml=/org/libvirt/Missing"])
    busenv.wait_for(lambda: busenv.name_has_owner(env.system.address, busenv.SERVICE),
                    what="domus-dbusd")
    bus = dbus.bus.BusConnection(env.system.address)
    missing = dbus.Interface(bus.get_object(busenv.SERVICE, "/org/libvirt/Missing"),
                             "org.libvirt.Connect")
    expect_error(missing.ListDomains, 0, equals=open_error("test:///nonexistent.xml"))
    ok = dbus.Interface(bus.get_object(busenv.SERVICE, busenv.TEST_PATH), "org.libvirt.Connect")
    assert len(ok.ListDomains(0)) == 1


def open_error(uri):
    try:
        libvirt.open(uri)
    except libvirt.libvirtError as e:
        return e.get_error_message()
    raise AssertionError(f"{uri} opened")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v", "-p", "no:cacheprovider"]))
