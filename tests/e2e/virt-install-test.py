#!/usr/bin/python3
"""Debian's stock virt-install creating Domus domains through virtdomusd, on the host.

  virt-install-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-console.elf

The set-up of quick-test.py (e2elib.py: private sockets, python3-libvirt, a tiny ELF test
guest on the host's /dev/kvm). The guest is tests/kvm's console guest: it prints "console
ready" on COM1 and echoes what it receives. virt-install runs unmodified with
--connect domus+unix:///system?socket=…: --print-xml and --dry-run create no domain; the
typical direct kernel boot with an existing disk (--disk path=FILE) makes virt-install
define a dir storage pool for the image's directory (virt-install 4.1 resolves every path
through the storage API) and creates a persistent domain that runs, whose XML has what was
asked and whose console shows the guest's output (also through virt-install's own
autoconsole, virsh console under script(1)); invocations Domus cannot honour fail with
virtdomusd's error naming the construct and leave nothing behind; the pool survives a
daemon restart (autostart).
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # nothing written into the source tree
from e2elib import E, args, cleanup, connect, expect_event, fail, libvirt, ok, skip, \
    start_daemon, until, uri, work  # noqa: E402
import e2elib  # noqa: E402

VIRT_INSTALL = shutil.which("virt-install")
if not VIRT_INSTALL:
    skip("no virt-install (Debian package virtinst)")


def image(name, mib=16):
    path = f"{work}/images/{name}.img"
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    return path


def virt_install(*a, expect_ok=True):
    """Run the stock virt-install against the private daemon; returns (stdout, stderr)."""
    # /usr/bin/virt-install runs with the system python3 (python3-libvirt, python3-gi).
    r = subprocess.run([VIRT_INSTALL, "--connect", uri, *a], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, HOME=work))
    if expect_ok and r.returncode:
        fail(f"virt-install {' '.join(a)} exited {r.returncode}: {r.stderr.strip()}")
    if not expect_ok and not r.returncode:
        fail(f"virt-install {' '.join(a)} succeeded")
    return r.stdout, r.stderr


def common(name, disk, mem="256", vcpus="2", net="none"):
    """The typical direct-kernel-boot invocation with an existing disk."""
    return ["--name", name, "--memory", mem, "--vcpus", vcpus, "--import",
            "--disk", disk,
            "--boot", f"kernel={args.guest},initrd={initrd},"
                      "kernel_args=\"console=ttyS0 domus.test=vinst\"",
            "--network", net, "--osinfo", "detect=on,require=off",
            "--graphics", "none", "--noautoconsole"]


def check_xml(doc, disk_path, what):
    """doc (a domain XML string) has what common() asked for."""
    x = ET.fromstring(doc)
    got = {
        "memory KiB": x.findtext("memory"),
        "vcpus": x.findtext("vcpu"),
        "kernel": x.findtext("os/kernel"),
        "initrd": x.findtext("os/initrd"),
        "cmdline": x.findtext("os/cmdline"),
        "disk": [(d.get("type"), d.find("source").get("file"), d.find("target").get("dev"),
                  d.find("target").get("bus")) for d in x.findall("devices/disk")],
        "console": [c.get("type") for c in x.findall("devices/console")],
    }
    want = {
        "memory KiB": "262144", "vcpus": "2", "kernel": args.guest, "initrd": initrd,
        "cmdline": "console=ttyS0 domus.test=vinst",
        "disk": [("file", disk_path, "vda", "virtio")], "console": ["pty"],
    }
    if got != want:
        fail(f"{what}: {got}, expected {want}")
    return x


def console_session(dom):
    """virsh console's exchange over a stream: the guest's banner, then a byte echoed."""
    st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(None, st, 0)
    buf = b""

    def read_until(expect):
        def more():
            nonlocal buf
            r = st.recv(4096)
            if isinstance(r, bytes):
                buf += r
            return expect in buf
        until(more, 20, f"{expect!r} on the console (got {buf!r})")

    read_until(b"console ready")
    until(lambda: st.send(b"x") == 1, 10, "the console to take a byte")   # -2: try again
    read_until(b"got: x")
    st.finish()


start_daemon()
conn = connect()
initrd = f"{work}/initrd.img"
with open(initrd, "w") as f:
    f.write("not a real initramfs: the test guest ignores it\n")
os.makedirs(f"{work}/images")
print("1..8")


def pools():
    return sorted((p.name(), p.isActive(), p.autostart(), ET.fromstring(p.XMLDesc(0)).findtext(
        "target/path")) for p in conn.listAllStoragePools())


disk1 = image("vi1")
out, _ = virt_install(*common("vi1", f"path={disk1},bus=virtio", net="bridge=br0,model=virtio"),
                      "--print-xml")
x = check_xml(out, disk1, "--print-xml")
nics = [(n.get("type"), n.find("source").get("bridge"), n.find("model").get("type"))
        for n in x.findall("devices/interface")]
if nics != [("bridge", "br0", "virtio")]:
    fail(f"--print-xml interfaces: {nics}")
# Without the storage API: the disk given as its XML source; an OS named as libosinfo has it.
a = common("vi1", f"source.file={disk1},type=file,bus=virtio")
a[a.index("--osinfo"):a.index("--osinfo") + 2] = ["--os-variant", "linux2022"]
virt_install(*a, "--dry-run")
if conn.listAllDomains():
    fail(f"--print-xml/--dry-run left domains: {[d.name() for d in conn.listAllDomains()]}")
ok("virt-install --print-xml (memory, vCPUs, kernel, initrd, cmdline, disk, bridge) and "
   "--dry-run: no domain created")

# virt-install resolves --disk path= through the storage API: a dir pool for the directory.
if pools() != [("images", 1, 1, f"{work}/images")]:
    fail(f"storage pools after virt-install --disk path=: {pools()}")
vol = conn.storageVolLookupByPath(disk1)
if (vol.name(), vol.key(), vol.info()[:2], vol.storagePoolLookupByVolume().name()) != (
        "vi1.img", disk1, [0, 16 << 20], "images"):
    fail(f"volume {vol.name()} {vol.key()} {vol.info()}")
ok("--disk path=: virt-install defined and started an autostart dir pool for the image's "
   "directory; the image is its volume (lookup by path, info, pool)")

virt_install(*common("vi1", f"path={disk1},bus=virtio"))
expect_event("vi1", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)
expect_event("vi1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
dom = conn.lookupByName("vi1")
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED] or not dom.isPersistent():
    fail(f"vi1: state {dom.state()}, persistent {dom.isPersistent()}")
check_xml(dom.XMLDesc(0), disk1, "live XML")
check_xml(dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE), disk1, "inactive XML")
if dom.info()[1] != 262144 or dom.vcpusFlags(0) != 2:
    fail(f"vi1 info {dom.info()}, vcpus {dom.vcpusFlags(0)}")
ok("virt-install --import with direct kernel boot: a persistent domain, running (booted), "
   "its live and inactive XML as asked")

console_session(dom)
ok("the guest's console output through the console stream, input echoed")

# Without --noautoconsole virt-install runs virsh console, which needs a terminal: script(1).
cmd = [VIRT_INSTALL, "--connect", uri, *common("vi3", f"path={image('vi3')},bus=virtio")]
cmd.remove("--noautoconsole")
auto = subprocess.Popen(["script", "-qec", " ".join(shlex.quote(c) for c in cmd), "/dev/null"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        start_new_session=True, env=dict(os.environ, HOME=work))
seen = b""
os.set_blocking(auto.stdout.fileno(), False)


def autoconsole_shows_guest():
    global seen
    seen += auto.stdout.read() or b""
    return b"Connected to domain 'vi3'" in seen and b"console ready" in seen


try:
    until(autoconsole_shows_guest, 30, f"the guest on virt-install's console (got {seen!r})")
finally:
    os.killpg(auto.pid, signal.SIGKILL)
    auto.wait()
expect_event("vi3", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
conn.lookupByName("vi3").destroy()
conn.lookupByName("vi3").undefine()
ok("without --noautoconsole virt-install attaches virsh console: the guest's banner shows")

# What Domus cannot give is refused by virtdomusd, by name, and nothing is left defined.
disk2 = image("vi2")
for opt, val, text in [
        ("--network", "bridge=br0",   # virt-install's default NIC for non-QEMU URIs
         "unsupported value 'e1000' of attribute 'type' of <model>"),
        ("--graphics", "vnc", "unsupported element <input>"),
        ("--disk", f"path={disk2},bus=sata", "invalid value 'sda' of attribute 'dev' of <target>"),
        ("--disk", f"path={work}/nodir/x.img,bus=virtio",
         f"cannot open directory '{work}/nodir' of storage pool 'nodir'"),
        ("--name", "vi1", "Guest name 'vi1' is already in use")]:
    a = common("vi2", f"path={disk2},bus=virtio")
    a[a.index(opt) + 1] = val
    _, err = virt_install(*a, expect_ok=False)
    if text not in err:
        fail(f"virt-install {opt} {val}: no '{text}' in: {err.strip()}")
    if [d.name() for d in conn.listAllDomains()] != ["vi1"]:
        fail(f"a refused virt-install left domains: {[d.name() for d in conn.listAllDomains()]}")
if pools() != [("images", 1, 1, f"{work}/images")]:
    fail(f"storage pools after the refusals: {pools()}")
ok("refused: the e1000 NIC virt-install picks without model=virtio, VNC graphics, a SATA "
   "disk, a missing directory, a name in use; errors name the construct, nothing left defined")

e2elib.daemon.kill()
e2elib.daemon.wait()
start_daemon()
conn = connect()
if pools() != [("images", 1, 1, f"{work}/images")] or sorted(
        conn.storagePoolLookupByName("images").listVolumes()) != ["vi1.img", "vi2.img", "vi3.img"]:
    fail(f"after the daemon's restart: {pools()}")
ok("daemon restarted: the autostart pool is active again with its volumes")

dom = conn.lookupByName("vi1")
dom.destroy()
expect_event("vi1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
dom.undefine()
pool = conn.storagePoolLookupByName("images")
pool.destroy()
pool.undefine()
if conn.listAllDomains() or conn.listAllStoragePools():
    fail("domains or pools left")
ok("destroy, undefine; the pool destroyed and undefined")
cleanup()
