#!/usr/bin/python3
"""virsh migrate --live between two virtdomusd on the host, each in its own network namespace.

  migrate-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-xcmig-guest.elf

Two "hosts": network namespaces joined by a veth pair (10.77.0.1 and 10.77.0.2), a
virtdomusd in each (own sockets, registry, definitions; TCP listener with auth_tcp =
"none"), the memory-busy test guest of tests/kvm (12 MiB of non-zero pages, so a 1 MiB/s
migration takes seconds). Stock virsh runs in the source namespace: managed migration (the
guest runs on at the destination, state running/migrated, events on both sides), --p2p,
--persistent --undefinesource, migrate-setmaxdowntime / migrate-setspeed and domjobinfo
while a bandwidth-limited migration runs, domjobabort (the guest runs on at the source),
the destination daemon's VMM killed halfway and the link dropped halfway (the source keeps
running, the migration fails with an error in bounded time), hostile input on the wire, and
the source or the destination daemon killed halfway (exactly one copy runs once it is
back).

One machine posing as two: libxc names a domain's cgroup <domid>-<uuid>, so the same
domain must not get the same domid in both registries at once; a filler domain on the
destination keeps domid 1 busy there (on two real hosts there is nothing to avoid).
"""
import os
import re
import shutil
import struct
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
import e2elib  # noqa: E402
from e2elib import E, args, ok, skip, until, work, xml  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rpc"))
from rpctest import OK, Raw, decode_error, xdr_string  # noqa: E402

if not shutil.which("ip") or not shutil.which("nsenter"):
    skip("no ip or nsenter")
tag = str(os.getpid())
NS = {"src": f"dmig-s{tag}", "dst": f"dmig-d{tag}"}
ADDR = {"src": "10.77.0.1", "dst": "10.77.0.2"}
daemons = {}
events = []


def sh(*a, check=True):
    return subprocess.run(a, capture_output=True, text=True, check=check)


def teardown():
    for side, d in daemons.items():
        if d.poll() is None:
            d.kill()
    for side in NS:
        run = f"{work}/{side}/run"
        for rec in (os.listdir(run) if os.path.isdir(run) else []):
            try:
                pid = [ln for ln in open(f"{run}/{rec}/domain") if ln.startswith("pid=")]
                os.kill(int(pid[0][4:]), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                pass
        sh("ip", "netns", "del", NS[side], check=False)


def fail(msg):
    for side in NS:
        log = f"{work}/{side}/daemon.log"
        print(f"# {side} daemon log:")
        for line in (open(log).readlines()[-25:] if os.path.exists(log) else []):
            print("# " + line.rstrip())
    teardown()
    _fail(msg)


_fail = e2elib.fail
e2elib.fail = fail      # until() and friends fail through here too
sys.excepthook = lambda k, v, tb: (__import__("traceback").print_exception(k, v, tb),
                                   fail(f"{k.__name__}: {v}"))


def setup_net():
    for side in NS:
        if sh("ip", "netns", "add", NS[side], check=False).returncode:
            skip("cannot create network namespaces")
    sh("ip", "link", "add", f"vs{tag}", "type", "veth", "peer", "name", f"vd{tag}")
    for side, dev in (("src", f"vs{tag}"), ("dst", f"vd{tag}")):
        sh("ip", "link", "set", dev, "netns", NS[side])
        sh("ip", "-n", NS[side], "addr", "add", f"{ADDR[side]}/24", "dev", dev)
        sh("ip", "-n", NS[side], "link", "set", dev, "up")
        sh("ip", "-n", NS[side], "link", "set", "lo", "up")


def start(side):
    d = f"{work}/{side}"
    os.makedirs(f"{d}/defs", exist_ok=True)
    with open(f"{d}/conf", "w") as f:
        f.write(f"[virtdomusd]\ndomain_dir = {d}/defs\nlisten_tcp = 1\nauth_tcp = \"none\"\n"
                f"listen_addr = {ADDR[side]}\n")
    if os.path.exists(f"{d}/virtdomusd-sock"):     # a killed daemon's
        os.unlink(f"{d}/virtdomusd-sock")
    env = dict(os.environ, DOMUS_RUN_DIR=f"{d}/run", DOMUS_VMM=args.vmm,
               DOMUS_SCHEMA_DIR=args.schemas)
    daemons[side] = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{NS[side]}", args.virtdomusd, "--system", "--verbose",
         "--socket-dir", d, "--pidfile", f"{d}/pid", "--config", f"{d}/conf"],
        stdout=subprocess.DEVNULL, stderr=open(f"{d}/daemon.log", "a"), env=env)
    until(lambda: os.path.exists(f"{d}/virtdomusd-sock") or daemons[side].poll() is not None,
          10, f"the {side} daemon")
    if daemons[side].poll() is not None:
        fail(f"the {side} virtdomusd exited at start")


def local(side):
    return f"domus+unix:///system?socket={work}/{side}/virtdomusd-sock"


DST = f"domus+tcp://{ADDR['dst']}/system"


def virsh(side, *a, check=True, timeout=90):
    r = subprocess.run(["nsenter", f"--net=/run/netns/{NS[side]}", "virsh", "-c", local(side),
                        *a], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        fail(f"virsh {' '.join(a)} on {side}: {r.stderr.strip()}")
    return r


def connect(side):
    c = e2elib.libvirt.open(local(side))
    c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                             lambda c, d, e, det, o: events.append((side, d.name(), e, det)),
                             None)
    return c


def expect_event(side, name, event, detail):
    until(lambda: (side, name, event, detail) in events, 20,
          f"event {event}/{detail} of {name} on {side}")
    events.remove((side, name, event, detail))


def cpu_ns(side, name):
    try:
        return conn[side].lookupByName(name).info()[4]
    except e2elib.libvirt.libvirtError:
        return 0


def busy(side, name):
    """Until the guest uses CPU time on @side: it runs there."""
    t = cpu_ns(side, name)
    until(lambda: cpu_ns(side, name) > t + 50_000_000, 10, f"{name} running on {side}")


def boot(name, mem_mib=64, persistent=False):
    # A disk on "shared storage": the destination's VMM opens it while the source's still
    # holds its lock.
    disk = f"{work}/{name}.img"
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    x = xml(name, mem_mib=mem_mib).replace(
        "<devices>", f"<devices><disk type='file' device='disk'><source file='{disk}'/>"
        "<target dev='vda' bus='virtio'/></disk>")
    if persistent:
        d = conn["src"].defineXML(x)
        d.create()
    else:
        d = conn["src"].createXML(x, 0)
    expect_event("src", name, E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
    busy("src", name)
    return d


def running(side, name):
    try:
        return conn[side].lookupByName(name).state()[0] == E.VIR_DOMAIN_RUNNING
    except e2elib.libvirt.libvirtError:
        return False


def migrate_bg(name, *extra, opts=()):
    return subprocess.Popen(["nsenter", f"--net=/run/netns/{NS['src']}", "virsh", *opts, "-c",
                             local("src"), "migrate", "--live", *extra, name, DST],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_job(name, seconds=10):
    """Until the source reports the migration job running."""
    until(lambda: conn["src"].lookupByName(name).jobInfo()[0] != E.VIR_DOMAIN_JOB_NONE,
          seconds, f"{name}'s migration job")


print("1..12")
setup_net()
start("src")
start("dst")
conn = {"src": connect("src"), "dst": connect("dst")}
conn["dst"].createXML(xml("filler"), 0)

def completed(side, name, keep=True):
    flags = E.VIR_DOMAIN_JOB_STATS_COMPLETED
    if keep:
        flags |= E.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED
    return conn[side].lookupByName(name).jobStats(flags)


# 1. Managed migration: the guest's count goes on at the destination where it stopped.
boot("m1", persistent=True)
virsh("src", "migrate", "--live", "--verbose", "m1", DST)
expect_event("src", "m1", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED)
expect_event("src", "m1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_MIGRATED)
expect_event("dst", "m1", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_MIGRATED)
expect_event("dst", "m1", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
if conn["src"].lookupByName("m1").isActive():
    fail("m1 still runs on the source")
if conn["dst"].lookupByName("m1").state() != [E.VIR_DOMAIN_RUNNING,
                                               E.VIR_DOMAIN_RUNNING_MIGRATED]:
    fail(f"m1 on the destination: {conn['dst'].lookupByName('m1').state()}")
busy("dst", "m1")
# virsh domjobinfo --completed on both sides (libvirt: out here, in there, the source's
# figures on both).
info = virsh("src", "domjobinfo", "m1", "--completed", "--keep-completed").stdout
out_stats, in_stats = completed("src", "m1"), completed("dst", "m1")
if not re.search(r"Job type: +Completed", info) or \
        not re.search(r"Operation: +Outgoing migration", info) or \
        not re.search(r"Total downtime: +\d+ +ms", info):
    fail(f"domjobinfo --completed at the source: {info}")
if out_stats.get("type") != E.VIR_DOMAIN_JOB_COMPLETED or \
        out_stats.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT or \
        out_stats.get("data_processed", 0) < 12 << 20 or \
        out_stats.get("memory_total") != 64 << 20 or \
        not out_stats.get("memory_iteration") or "setup_time" not in out_stats or \
        not out_stats.get("success"):
    fail(f"completed migration statistics at the source: {out_stats}")
if in_stats.get("type") != E.VIR_DOMAIN_JOB_COMPLETED or \
        in_stats.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN or \
        in_stats.get("data_processed") != out_stats["data_processed"] or \
        in_stats.get("downtime") != out_stats["downtime"]:
    fail(f"completed migration statistics at the destination: {in_stats} "
         f"(source: {out_stats})")
conn["dst"].lookupByName("m1").destroy()
conn["src"].lookupByName("m1").undefine()
ok("virsh migrate --live: the guest runs on at the destination (running, migrated), shut "
   "off at the source; source SUSPENDED/STOPPED MIGRATED, destination STARTED/RESUMED "
   f"MIGRATED; domjobinfo --completed: out here, in there ({out_stats['data_processed']} "
   f"bytes, downtime {out_stats['downtime']} ms)")

# 2. Peer to peer, persistent on the destination, undefined on the source.
conn["src"].defineXML(xml("m2"))
conn["src"].lookupByName("m2").create()
busy("src", "m2")
virsh("src", "migrate", "--live", "--p2p", "--persistent", "--undefinesource", "m2", DST)
expect_event("src", "m2", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_MIGRATED)
expect_event("src", "m2", E.VIR_DOMAIN_EVENT_UNDEFINED, 0)
expect_event("dst", "m2", E.VIR_DOMAIN_EVENT_DEFINED, 0)
d2 = conn["dst"].lookupByName("m2")
if not d2.isPersistent() or not d2.isActive() or \
        "m2" in [d.name() for d in conn["src"].listAllDomains(0)]:
    fail("--persistent --undefinesource: not persistent there or still defined here")
busy("dst", "m2")
in_stats = completed("dst", "m2")
if in_stats.get("operation") != E.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN or \
        in_stats.get("data_processed", 0) < 12 << 20 or "downtime" not in in_stats:
    fail(f"completed statistics of a p2p migration at the destination: {in_stats}")
d2.destroy()
d2.undefine()
ok("--p2p --persistent --undefinesource: defined and running there, undefined here")

# 3. Limits: a slow migration (1 MiB/s) is sped up from another virsh while it runs.
boot("m3")
virsh("src", "migrate-setmaxdowntime", "m3", "50")
if virsh("src", "migrate-getmaxdowntime", "m3").stdout.strip() != "50":
    fail("migrate-getmaxdowntime")
mig = migrate_bg("m3", "--verbose", "--bandwidth", "1")
wait_job("m3")
time.sleep(1)
info = virsh("src", "domjobinfo", "m3").stdout
# virDomainGetJobStats: libvirt's names for the operation, the rounds, the limits.
if not re.search(r"Job type: +Unbounded", info) or \
        not re.search(r"Operation: +Outgoing migration", info) or \
        not re.search(r"Iteration: +\d+", info) or "Memory processed" not in info:
    fail(f"domjobinfo during the migration: {info}")
if virsh("src", "migrate-getspeed", "m3").stdout.strip() != "1":
    fail("migrate-getspeed during the migration")
virsh("src", "migrate-setspeed", "m3", "0")
try:
    out, err = mig.communicate(timeout=30)
except subprocess.TimeoutExpired:
    fail("migrate-setspeed 0 did not lift the 1 MiB/s limit")
if mig.returncode or "Migration: [100" not in out + err:
    fail(f"the limited migration: rc {mig.returncode} {out} {err}")
expect_event("dst", "m3", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
conn["dst"].lookupByName("m3").destroy()
ok("migrate-setmaxdowntime/getmaxdowntime, domjobinfo and migrate-setspeed while a "
   "1 MiB/s migration runs; --verbose shows progress")

# 4. domjobabort: the guest runs on at the source, nothing is left at the destination.
boot("m4")
mig = migrate_bg("m4", "--bandwidth", "1")
wait_job("m4")
virsh("src", "domjobabort", "m4")
out, err = mig.communicate(timeout=30)
if mig.returncode == 0 or "cancel" not in err:
    fail(f"an aborted migration: rc {mig.returncode} {err}")
busy("src", "m4")
if not running("src", "m4") or "m4" in [d.name() for d in conn["dst"].listAllDomains(0)]:
    fail("after the abort: not running at the source, or left at the destination")
aborted = completed("src", "m4")
if aborted.get("type") != E.VIR_DOMAIN_JOB_CANCELLED or aborted.get("success") is not False:
    fail(f"completed statistics of the aborted migration: {aborted}")
ok(f"domjobabort: virsh says '{err.strip().splitlines()[-1][:60]}…'; the guest runs on "
   "at the source, nothing left at the destination")

# 5. The destination's VMM killed halfway: the source keeps the guest.
mig = migrate_bg("m4", "--bandwidth", "1")
wait_job("m4")
until(lambda: "m4" in [d.name() for d in conn["dst"].listAllDomains(0)] and
      conn["dst"].lookupByName("m4").ID() > 0, 10, "m4 arriving at the destination")
rec = f"{work}/dst/run/{conn['dst'].lookupByName('m4').ID()}/domain"
os.kill(int([ln for ln in open(rec) if ln.startswith("pid=")][0][4:]), signal.SIGKILL)
out, err = mig.communicate(timeout=60)
if mig.returncode == 0:
    fail("a migration whose destination died succeeded")
busy("src", "m4")
ok("the destination's VMM killed halfway: the migration fails, the guest runs on at the source")

# 5b. virsh destroy of the domain still arriving at the destination: it ends the incoming
# VMM at once (not when the 1 MiB/s migration would have ended) and the migration fails
# cleanly: the guest runs on at the source, nothing is left at the destination.
mig = migrate_bg("m4", "--bandwidth", "1")
wait_job("m4")
until(lambda: "m4" in [d.name() for d in conn["dst"].listAllDomains(0)] and
      conn["dst"].lookupByName("m4").ID() > 0, 10, "m4 arriving at the destination")
arriving = conn["dst"].lookupByName("m4").ID()
pid = int([ln for ln in open(f"{work}/dst/run/{arriving}/domain")
           if ln.startswith("pid=")][0][4:])
t0 = time.monotonic()
virsh("dst", "destroy", "m4", timeout=30)
took = time.monotonic() - t0
out, err = mig.communicate(timeout=60)
if mig.returncode == 0:
    fail("a migration whose arriving domain was destroyed succeeded")
if took > 5:
    fail(f"virsh destroy of an arriving domain took {took:.1f} s")


def alive(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


if alive(pid):
    fail("the arriving VMM survived virsh destroy")
expect_event("dst", "m4", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
busy("src", "m4")
if not running("src", "m4") or "m4" in [d.name() for d in conn["dst"].listAllDomains(0)]:
    fail("after destroying the arriving domain: not running at the source, or left at the "
         "destination")
ok(f"virsh destroy of a domain still arriving: done in {took:.1f} s, its VMM ended, "
   f"STOPPED DESTROYED there; the migration fails ('{err.strip().splitlines()[-1][:50]}…'), "
   "the guest runs on at the source")

# 6. The link dropped halfway: the migration fails within a bounded time. The memory
# stream's and the daemons' TCP connections give a dead peer up after
# XC_MIGRATE_DEAD_PEER_MS (10 s) of unacknowledged data; a managed migration's client also
# waits for its own connection to the destination, which its keepalive settings bound
# (virsh -k/-K; by default 5 s x 6). Peer to peer, the bound is the daemons' alone.
def drop_link(extra, opts, bound):
    mig = migrate_bg("m4", "--bandwidth", "1", *extra, opts=opts)
    wait_job("m4")
    t0 = time.monotonic()
    sh("ip", "-n", NS["src"], "link", "set", f"vs{tag}", "down")
    try:
        out, err = mig.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        fail("the migration over a dropped link did not end within 120 s")
    took = time.monotonic() - t0
    sh("ip", "-n", NS["src"], "link", "set", f"vs{tag}", "up")
    if mig.returncode == 0:
        fail("a migration over a dropped link succeeded")
    if took > bound:
        fail(f"a migration over a dropped link took {took:.0f} s to fail (bound {bound} s): "
             f"{err.strip()}")
    busy("src", "m4")
    # The destination gave up too: nothing of m4 is left there.
    until(lambda: "m4" not in [d.name() for d in conn["dst"].listAllDomains(0)], 30,
          "m4 gone from the destination")
    return took, err


managed, err = drop_link((), ("-k", "2", "-K", "3"), 25)
p2p, _ = drop_link(("--p2p",), (), 25)
ok(f"link dropped halfway: failed after {managed:.0f} s managed (virsh -k 2 -K 3), "
   f"{p2p:.0f} s peer to peer, both within 25 s "
   f"('{err.strip().splitlines()[-1][:60]}…'); the guest runs on at the source")
conn["src"].lookupByName("m4").destroy()

# 7. Hostile input: unsupported flags and params, a foreign cookie.
boot("m5")
r = virsh("src", "migrate", "--live", "--copy-storage-all", "m5", DST, check=False)
if r.returncode == 0 or "shared storage" not in r.stderr:
    fail(f"--copy-storage-all: {r.stderr}")
r = virsh("src", "migrate", "--live", "--tunnelled", "--p2p", "m5", DST, check=False)
if r.returncode == 0 or "tunnelled" not in r.stderr:
    fail(f"--tunnelled: {r.stderr}")
dom = conn["src"].lookupByName("m5")
try:
    dom.migrate3(conn["dst"], {"compression": "xbzrle"}, E.VIR_MIGRATE_LIVE)
    fail("an unknown migration parameter was taken")
except e2elib.libvirt.libvirtError as e:
    if "compression" not in str(e):
        fail(f"unknown parameter: {e}")
if not running("src", "m5"):
    fail("m5 stopped after refused migrations")
ok("--copy-storage-all, --tunnelled and an unknown parameter refused with clear errors; the "
   "guest runs on")

# 8. Hostile input straight on the wire: every step checks its params, flags and cookie.
def tp(name, t, v):
    return xdr_string(name) + struct.pack(">i", t) + v


def params(*ps):
    return struct.pack(">I", len(ps)) + b"".join(ps)


def opaque(b):
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def cookie(step, uuid, version=1, extra=""):
    return f"domus-migration {version}\nstep {step}\nuuid {uuid}\nname hx\n{extra}".encode()


def wire_dom(d):
    return xdr_string(d.name()) + d.UUID() + struct.pack(">i", d.ID())


def refused(raw, proc, payload, text):
    hdr, body = raw.call(proc, payload)
    if hdr[5] == OK:
        fail(f"procedure {proc} took hostile input (expected '{text}')")
    msg = decode_error(body)[2] or ""
    if text not in msg:
        fail(f"procedure {proc}: '{msg}', expected '{text}'")


HX = "0b0e5a1e-0000-4000-8000-00000000feed"
hx_xml = xml("hx").replace("<name>hx</name>", f"<name>hx</name><uuid>{HX}</uuid>")
other_xml = xml("hy")
dst_raw, src_raw = Raw(f"{work}/dst/virtdomusd-sock"), Raw(f"{work}/src/virtdomusd-sock")
dst_raw.open()
src_raw.open()
X = tp("destination_xml", 7, xdr_string(hx_xml))
begin = opaque(cookie("begin", HX))
F = struct.pack(">I", 1)
for pl, text in (
        (params(X) + opaque(b"") + F, "is missing"),
        (params(X) + opaque(b"<qemu-migration/>") + F, "does not come from a Domus daemon"),
        (params(X) + opaque(cookie("begin", HX, 2)) + F, "has version 2"),
        (params(X) + opaque(cookie("prepare", HX)) + F, "written by another step"),
        (params(X) + opaque(cookie("begin", "zz")) + F, "uuid is malformed"),
        (params(X) + opaque(b"domus-migration 1\0") + F, "not text"),
        (params() + begin + F, "'destination_xml' is missing"),
        (params(X, tp("compression", 7, xdr_string("xbzrle"))) + begin + F,
         "'compression' is not supported"),
        (params(tp("destination_xml", 4, struct.pack(">Q", 1))) + begin + F, "must be a string"),
        (params(X, X) + begin + F, "given twice"),
        (params(tp("bandwidth", 7, xdr_string("fast")), X) + begin + F, "unsigned long long"),
        (params(tp("destination_xml", 7, xdr_string("<domain"))) + begin + F, ""),
        (params(tp("destination_xml", 7, xdr_string(other_xml))) + begin + F,
         "another domain (UUID)"),
        (params(X, tp("destination_name", 7, xdr_string("renamed"))) + begin + F, "--dname"),
        (params(X, tp("migrate_uri", 7, xdr_string("http://x/"))) + begin + F,
         "only the tcp scheme"),
        (params(X, tp("migrate_uri", 7, xdr_string("tcp:x:99999"))) + begin + F, "1 to 65535"),
        (params(X) + begin + struct.pack(">I", 1 | 4), "tunnelled"),
        (params(X) + begin + struct.pack(">I", 1 << 30), "unsupported flags")):
    refused(dst_raw, 303, pl, text)
# A prepare nobody sends to: cancelled by finish, nothing left behind.
hdr, body = dst_raw.call(303, params(X) + begin + F)
if hdr[5] != OK or b"tcp:" not in body:
    fail(f"a valid prepare: {decode_error(body) if hdr[5] else body}")
until(lambda: "hx" in [d.name() for d in conn["dst"].listAllDomains(0)], 5, "hx reserved")
refused(dst_raw, 306, params() + opaque(cookie("perform", HX)) + F + struct.pack(">i", 1),
        "cancelled before the source connected")
if "hx" in [d.name() for d in conn["dst"].listAllDomains(0)]:
    fail("a cancelled prepare left its domain behind")
refused(dst_raw, 306, params() + opaque(cookie("perform", HX)) + F + struct.pack(">i", 0),
        "no incoming migration")
# The source's steps, on the running m5.
m5 = conn["src"].lookupByName("m5")
u5 = m5.UUIDString()
refused(src_raw, 307, wire_dom(m5) + params() + opaque(cookie("finish", u5)) + F +
        struct.pack(">i", 0), "was not migrated")
refused(src_raw, 307, wire_dom(m5) + params() + opaque(cookie("finish", HX)) + F +
        struct.pack(">i", 0), "about domain")
refused(src_raw, 305, wire_dom(m5) + struct.pack(">I", 0) +
        params(tp("migrate_uri", 7, xdr_string("tcp:10.77.0.2"))) +
        opaque(cookie("prepare", u5)) + F, "no port")
refused(src_raw, 305, wire_dom(m5) + struct.pack(">I", 0) + params() +
        opaque(cookie("prepare", u5)) + F, "no migration URI")
refused(src_raw, 305, wire_dom(m5) + struct.pack(">I", 1) + xdr_string("qemu:///system") +
        params() + opaque(b"") + struct.pack(">I", 3), "domus+tcp")
refused(src_raw, 166, wire_dom(m5) + struct.pack(">QI", 0, 0), "from 1 to")
refused(src_raw, 207, wire_dom(m5) + struct.pack(">QI", 1, 1), "unsupported flags")
for d in daemons.values():
    if d.poll() is not None:
        fail("a daemon died of hostile migration input")
if not running("src", "m5"):
    fail("m5 stopped after hostile input")
dst_raw.close()
src_raw.close()
ok("hostile prepare/finish/perform/confirm/limits input refused with errors that say what "
   "is wrong (cookie missing, foreign, other version, step or domain; params; flags; URIs); "
   "a cancelled prepare leaves nothing behind")

# 9. After all that, a migration still works (with the auto-converge throttle allowed).
virsh("src", "migrate", "--live", "--auto-converge", "m5", DST)
expect_event("dst", "m5", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
if not running("dst", "m5") or running("src", "m5"):
    fail("m5 after a migration following refused ones")
ok("a migration (--auto-converge) after refused ones succeeds")

# 10. The source daemon SIGKILLed halfway: the VMMs go on without it; the restarted daemon
# finds the domain, sees the job and lifts the 1 MiB/s limit; exactly one copy runs after.
boot("m6")
mig = migrate_bg("m6", "--bandwidth", "1")
wait_job("m6")
daemons["src"].kill()
daemons["src"].wait()
start("src")
conn["src"] = connect("src")
if conn["src"].lookupByName("m6").jobInfo()[0] == E.VIR_DOMAIN_JOB_NONE:
    fail("the restarted daemon does not see the running migration")
virsh("src", "migrate-setspeed", "m6", "0")
# virsh may well report success: the destination's finish answers with the domain (it
# arrived), and libvirt ignores a confirm that cannot reach the source.
mig.communicate(timeout=60)


def copies():
    return [side for side in ("src", "dst") if running(side, "m6")]


until(lambda: len(copies()) == 1 and not any(
    d.name() == "m6" and d.isActive() and d.state()[0] != E.VIR_DOMAIN_RUNNING
    for side in ("src", "dst") for d in conn[side].listAllDomains(0)), 60,
    "exactly one running copy of m6")
where = copies()[0]
busy(where, "m6")
time.sleep(2)
if copies() != [where]:
    fail(f"m6 runs on {copies()} after the source daemon came back")
ok(f"the source daemon killed halfway: once it is back, m6 runs exactly once (on {where})")

# 11. The destination daemon SIGKILLed halfway: the arriving VMM goes on without it; the
# source lifts the limit, the domain arrives; the client cannot finish, so it tells the
# source the migration was cancelled, which the source cannot undo: it says so and ends its
# copy. The restarted destination daemon finds the domain running: exactly one copy.
boot("m7")
mig = migrate_bg("m7", "--bandwidth", "1")
wait_job("m7")
# Once its VMM is started and recorded (a daemon killed inside xc_domain_create() leaves a
# VMM its successor cannot find: see docs/virtdomusd.md).
until(lambda: "m7" in [d.name() for d in conn["dst"].listAllDomains(0)] and
      conn["dst"].lookupByName("m7").ID() > 0, 10, "m7 arriving at the destination")
daemons["dst"].kill()
daemons["dst"].wait()
virsh("src", "migrate-setspeed", "m7", "0")
out, err = mig.communicate(timeout=60)
start("dst")
conn["dst"] = connect("dst")
until(lambda: running("dst", "m7") and not running("src", "m7"), 30,
      "m7 running at the destination only")
busy("dst", "m7")
if "m7" in [d.name() for d in conn["src"].listAllDomains(0)]:
    fail("the transient m7 is still listed at the source")
ok(f"the destination daemon killed halfway: m7 runs exactly once, at the destination, "
   f"found again by the restarted daemon (virsh: '{(err or out).strip().splitlines()[-1][:60]}…')")

teardown()
shutil.rmtree(work, ignore_errors=True)
