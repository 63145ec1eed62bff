#!/usr/bin/python3
"""python3-libvirt (Debian's, unmodified) managing a real Domus domain through virtdomusd.

  python-test.py --virtdomusd PATH --vmm PATH --schemas DIR [--flavour cloud|generic]

virtdomusd runs on the real /run/libvirt sockets with the registry and definitions in a
scratch directory; a Debian guest is defined, created, looked up every way, driven over a
console stream (its boot read, a shell command written and answered), ballooned, its vCPUs
counted and pinned, its scheduler and statistics read, paused, resumed and shut down, with
the lifecycle events received through virEventRegisterDefaultImpl; a transient domain is
created and destroyed; libvirt's error codes are checked. Needs root and /dev/kvm with
hardware virtualization (the linux suite runs it in tests/hwvirt/run).
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--virtdomusd", required=True)
ap.add_argument("--vmm", required=True)
ap.add_argument("--schemas", required=True)
ap.add_argument("--flavour", default="cloud")
args = ap.parse_args()


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


try:
    import libvirt
except ImportError:
    skip("no python3-libvirt")

here = os.path.dirname(os.path.abspath(__file__))
guest = os.environ.get("DOMUS_GUEST_DIR", os.path.join(here, "../../build/guest"))
kernel = os.path.realpath(os.path.join(guest, f"vmlinuz-{args.flavour}"))
initrd = os.path.realpath(os.path.join(guest, f"initrd-{args.flavour}.img"))
if os.geteuid() != 0:
    skip("needs root (/run/libvirt, cgroups)")
if not os.access("/dev/kvm", os.R_OK):
    skip("no /dev/kvm")
if not re.search(r"\b(vmx|svm)\b", open("/proc/cpuinfo").read()):
    skip("this CPU has no vmx/svm: run the linux suite inside tests/hwvirt/run")
if not (os.path.isfile(kernel) and os.path.isfile(initrd)):
    skip(f"no guest image in {guest}")
if os.path.exists("/run/libvirt/virtdomusd-sock"):
    try:
        libvirt.open("domus:///system").close()
        skip("a virtdomusd already serves /run/libvirt")
    except libvirt.libvirtError:
        pass

work = tempfile.mkdtemp(prefix="python-test.")
env = dict(os.environ, DOMUS_RUN_DIR=f"{work}/run", DOMUS_VMM=args.vmm,
           DOMUS_SCHEMA_DIR=args.schemas)
os.makedirs(f"{work}/defs")
with open(f"{work}/virtdomusd.conf", "w") as f:
    f.write(f"[virtdomusd]\ndomain_dir = {work}/defs\n")
ctrl = open("/sys/fs/cgroup/cgroup.controllers").read() if os.path.exists(
    "/sys/fs/cgroup/cgroup.controllers") else ""
if "cpu" not in ctrl.split() and " cpu" not in open("/proc/self/mountinfo").read():
    if subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"]).returncode:
        skip("no cpu cgroup controller")

log = open(f"{work}/daemon.log", "w")
daemon = subprocess.Popen([args.virtdomusd, "--system", "--verbose", "--config",
                           f"{work}/virtdomusd.conf", "--pidfile", f"{work}/pid"],
                          stdout=log, stderr=subprocess.STDOUT, env=env)


def cleanup():
    try:
        c = libvirt.open("domus:///system")
        for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            d.destroy()
    except libvirt.libvirtError:
        pass
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(10)
    except subprocess.TimeoutExpired:
        daemon.kill()
    shutil.rmtree(work, ignore_errors=True)


def fail(msg):
    print(f"FAIL: {msg}")
    log.flush()
    print("--- daemon log ---")
    print("".join(open(f"{work}/daemon.log").readlines()[-40:]))
    # Last, so that a log cut to its tail still has them: what the console stream carried
    # and what each VMM said.
    console = globals().get("out")
    if console is not None:
        print("--- console stream (last 1500 bytes) ---")
        print(bytes(console[-1500:]).decode(errors="replace").replace("\r", ""))
    for vlog in sorted(glob.glob(f"{work}/run/virtdomusd/*.log")):
        print(f"--- {vlog} ---")
        print("".join(open(vlog, errors="replace").readlines()[-15:]))
    print(f"FAIL: {msg}")
    cleanup()
    sys.exit(1)


def until(cond, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


until(lambda: os.path.exists("/run/libvirt/virtdomusd-sock") or daemon.poll() is not None, 10,
      "the daemon's socket")
if daemon.poll() is not None:
    fail("virtdomusd exited at start")

libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
conn = libvirt.open("domus:///system")
events = []
lock = threading.Lock()


def on_lifecycle(c, dom, event, detail, opaque):
    with lock:
        events.append((dom.name(), event, detail))


def on_reboot(c, dom, opaque):
    with lock:
        events.append((dom.name(), "reboot", 0))


conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, on_reboot, None)
E = libvirt


def expect_event(name, event, detail):
    until(lambda: (name, event, detail) in events, 60, f"event {event}/{detail} of {name}")


def expect_error(code, fn, *a):
    try:
        fn(*a)
    except libvirt.libvirtError as e:
        if e.get_error_code() != code:
            fail(f"{fn.__name__}: error code {e.get_error_code()} ({e}), expected {code}")
        return str(e)
    fail(f"{fn.__name__} succeeded, expected error {code}")


def xml(name, cmdline, extra=""):
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 panic=-1 {cmdline}</cmdline></os>
  <features><acpi/></features>
  <devices><serial type='pty'/><memballoon model='virtio'/>{extra}</devices>
</domain>"""


# ---- errors ----
expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "nosuch")
expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByUUIDString, "00000000-0000-4000-8000-000000000000")
msg = expect_error(E.VIR_ERR_CONFIG_UNSUPPORTED, conn.defineXML,
                   xml("bad", "x", "<graphics type='vnc'/>"))
if "<graphics>" not in msg:
    fail(f"the refusal does not name <graphics>: {msg}")

# ---- define, lookup ----
dom = conn.defineXML(xml("py", "domus.test=shell"))
expect_event("py", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)
if dom.isActive() or not dom.isPersistent() or dom.ID() != -1:
    fail("a defined domain is active or not persistent")
if conn.lookupByUUIDString(dom.UUIDString()).name() != "py":
    fail("lookupByUUIDString")
if dom.state() != [E.VIR_DOMAIN_SHUTOFF, 0]:
    fail(f"state of a new definition: {dom.state()}")
if "py" not in conn.listDefinedDomains():
    fail("listDefinedDomains")

# ---- create, console stream ----
dom.create()
expect_event("py", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
dom = conn.lookupByName("py")
if dom.state() != [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED] or dom.ID() <= 0:
    fail(f"after create: state {dom.state()}, id {dom.ID()}")
if conn.lookupByID(dom.ID()).name() != "py":
    fail("lookupByID")
expect_error(E.VIR_ERR_OPERATION_INVALID, dom.create)

out = bytearray()
eof = threading.Event()


def on_console(stream, evs, opaque):
    while True:
        try:
            data = stream.recv(65536)
        except libvirt.libvirtError:
            eof.set()
            return
        if data == -2:
            return
        if not data:
            eof.set()
            stream.eventRemoveCallback()
            return
        with lock:
            out.extend(data)


st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
dom.openConsole(None, st, 0)
st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_HANGUP |
                    libvirt.VIR_STREAM_EVENT_ERROR, on_console, None)
until(lambda: b"DOMUS-GUEST-READY" in out, 180, "the guest's boot on the console stream")
if b"DOMUS-GUEST cpus=2" not in out:
    fail("the guest does not see 2 vCPUs")
time.sleep(1)
st.send(b"echo py-$((3 * 7))-done\n")
until(lambda: b"py-21-done" in out, 30, "the shell's answer on the console stream")
print("console stream: boot output read, a command written and answered")

# ---- memory ----
info = dom.info()
if info[1] != 262144 or info[3] != 2:
    fail(f"info(): {info}")
dom.setMemory(200 * 1024)
until(lambda: dom.memoryStats().get("actual") == 200 * 1024, 60, "the balloon at 200 MiB")
if dom.info()[2] != 200 * 1024:
    fail(f"info() memory after setMemory: {dom.info()}")
if "rss" not in dom.memoryStats():
    fail(f"memoryStats: {dom.memoryStats()}")
print("setMemory: the balloon reached 200 MiB")

# ---- vCPUs, scheduler ----
vcpus = dom.vcpus()
if len(vcpus[0]) != 2 or len(vcpus[1]) != 2:
    fail(f"vcpus(): {vcpus}")
if dom.vcpusFlags(E.VIR_DOMAIN_VCPU_MAXIMUM) != 2:
    fail("vcpusFlags(MAXIMUM)")
ncpu = conn.getInfo()[2]
dom.pinVcpu(1, tuple(i == 0 for i in range(ncpu)))
if dom.vcpuPinInfo(E.VIR_DOMAIN_AFFECT_LIVE)[1] != tuple(i == 0 for i in range(ncpu)):
    fail(f"vcpuPinInfo: {dom.vcpuPinInfo(E.VIR_DOMAIN_AFFECT_LIVE)}")
dom.setVcpusFlags(1, E.VIR_DOMAIN_AFFECT_CONFIG)
if "current=\"1\"" not in dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE):
    fail("setVcpusFlags(CONFIG) not in the inactive XML")
if dom.vcpusFlags(E.VIR_DOMAIN_AFFECT_CONFIG) != 1:
    fail("vcpusFlags(CONFIG)")
expect_error(E.VIR_ERR_OPERATION_UNSUPPORTED, dom.setVcpusFlags, 1, E.VIR_DOMAIN_AFFECT_LIVE)
if list(dom.schedulerType()) != ["credit", 2]:
    fail(f"schedulerType: {dom.schedulerType()}")
if dom.schedulerParameters() != {"weight": 256, "cap": 0}:
    fail(f"schedulerParameters: {dom.schedulerParameters()}")
dom.setSchedulerParameters({"weight": 1000, "cap": 80})
if dom.schedulerParameters() != {"weight": 1000, "cap": 80}:
    fail(f"after setSchedulerParameters: {dom.schedulerParameters()}")
print("vcpus, pinVcpu, vcpuPinInfo, setVcpusFlags, scheduler weight and cap: ok")

# ---- stats ----
recs = conn.domainListGetStats([dom], 0)
st_ = recs[0][1]
for k, v in (("state.state", 1), ("vcpu.current", 2), ("balloon.maximum", 262144)):
    if st_.get(k) != v:
        fail(f"domstats {k} = {st_.get(k)}, expected {v}: {st_}")
if "cpu.time" not in st_ or "vcpu.0.time" not in st_:
    fail(f"domstats: {st_}")
if not any(d.name() == "py" for d, _ in conn.getAllDomainStats(E.VIR_DOMAIN_STATS_STATE)):
    fail("getAllDomainStats")
print("statistics: ok")

# ---- suspend, resume, reboot ----
dom.suspend()
expect_event("py", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)
if dom.state() != [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER]:
    fail(f"state after suspend: {dom.state()}")
dom.resume()
expect_event("py", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)
# The console stream goes on through a reboot: the new boot shows on the same stream.
domid = dom.ID()
with lock:
    seen = len(out)
dom.reboot(E.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)
expect_event("py", "reboot", 0)
until(lambda: b"DOMUS-GUEST-READY" in out[seen:], 180, "the new boot on the same console stream")
if eof.is_set() or dom.ID() != domid:
    fail(f"after reboot: stream ended {eof.is_set()}, id {dom.ID()} (was {domid})")
time.sleep(1)
st.send(b"echo py-$((5 * 5))-again\n")
until(lambda: b"py-25-again" in out, 30, "the shell's answer after the reboot")
print("suspend, resume, reboot: events; the console stream carried on through the reboot")

# ---- a transient domain ----
tr = conn.createXML(xml("pytr", "domus.test=wait-button"), 0)
expect_event("pytr", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
if tr.isPersistent() or not tr.isActive():
    fail("a created domain is persistent or inactive")
expect_error(E.VIR_ERR_DOM_EXIST, conn.createXML, xml("pytr", "x"), 0)
tr.destroy()
expect_event("pytr", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "pytr")
print("createXML (transient), destroy: gone afterwards")

# ---- shutdown ----
dom.shutdown()
expect_event("py", E.VIR_DOMAIN_EVENT_SHUTDOWN, E.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED)
expect_event("py", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
if dom.state() != [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SHUTDOWN]:
    fail(f"state after shutdown: {dom.state()}")
until(eof.is_set, 30, "the end of the console stream")
expect_error(E.VIR_ERR_OPERATION_INVALID, dom.suspend)
dom.undefine()
expect_event("py", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
if conn.listAllDomains():
    fail(f"domains left: {[d.name() for d in conn.listAllDomains()]}")
print("shutdown: events, shut off (shutdown), the console stream ended; undefine")
conn.close()
cleanup()
print("PASS: python3-libvirt drives Domus domains end to end")
