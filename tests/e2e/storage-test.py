#!/usr/bin/python3
"""virtdomusd's dir storage pools through python3-libvirt and virsh, on the host.

  storage-test.py --virtdomusd PATH --vmm PATH --schemas DIR --guest test-control-guest.elf

The set-up of quick-test.py (e2elib.py). Pools: define (and what is refused, each naming
itself: other pool types, unknown elements, malformed XML, a relative path, a second pool on
a directory, a name held with another UUID), start on a missing directory, build, autostart
links, undefine of an active pool refused, the read-only socket refusing changes. Volumes:
the regular files of the directory (hidden files, directories and FIFOs left out), lookups
by name, path and key with libvirt's error codes, info, the qcow2 magic in the volume XML,
creation answered VIR_ERR_NO_SUPPORT. The XML written validates against Debian's libvirt
schemas (storagepool.rng, storagevol.rng).
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
from e2elib import E, cleanup, connect, expect_error, fail, libvirt, ok, start_daemon, \
    uri, work  # noqa: E402

libvirt.registerErrorHandler(lambda *a: None, None)   # errors are checked, not printed
start_daemon()
conn = connect()
print("1..6")
pdir = f"{work}/pool"


def pool_xml(name, path, typ="dir", extra=""):
    return (f"<pool type='{typ}'><name>{name}</name><target><path>{path}</path></target>"
            f"{extra}</pool>")


def validates(doc, schema, what):
    r = subprocess.run(["xmllint", "--noout", "--relaxng",
                        f"/usr/share/libvirt/schemas/{schema}", "-"], input=doc,
                       capture_output=True, text=True)
    if r.returncode:
        fail(f"{what} does not validate against {schema}: {r.stderr}\n{doc}")


for bad, code, text in [
        (pool_xml("lv", "/dev/vg", "logical"), E.VIR_ERR_CONFIG_UNSUPPORTED,
         "storage pool type 'logical' is not supported"),
        (pool_xml("p", pdir, extra="<source><device path='/dev/sda'/></source>"),
         E.VIR_ERR_CONFIG_UNSUPPORTED, "unsupported element <device> at line 1"),
        (pool_xml("p", pdir).replace("<target>", "<target><permissions/>"),
         E.VIR_ERR_CONFIG_UNSUPPORTED, "unsupported element <permissions>"),
        (pool_xml("p", "relative/dir"), E.VIR_ERR_XML_ERROR, "needs an absolute <target><path>"),
        (pool_xml("a/b", pdir), E.VIR_ERR_XML_ERROR, "invalid storage pool name 'a/b'"),
        (pool_xml(".p", pdir), E.VIR_ERR_XML_ERROR, "invalid storage pool name '.p'"),
        ("<pool type='dir'><name>p</name>", E.VIR_ERR_XML_ERROR, "malformed storage pool XML"),
        ("<domain/>", E.VIR_ERR_XML_ERROR, "expected <pool>, not <domain>")]:
    expect_error(code, conn.storagePoolDefineXML, bad, 0, text=text)
pool = conn.storagePoolDefineXML(pool_xml("p", pdir + "/"), 0)
expect_error(E.VIR_ERR_OPERATION_FAILED, conn.storagePoolDefineXML, pool_xml("q", pdir), 0,
             text="Storage source conflict with pool: 'p'")
expect_error(E.VIR_ERR_OPERATION_FAILED, conn.storagePoolDefineXML,
             pool_xml("p", pdir + "2").replace("</name>",
                                               "</name><uuid>" + "1" * 32 + "</uuid>"), 0,
             text="pool 'p' is already defined with uuid")
if (pool.isActive(), pool.isPersistent(), pool.autostart(), pool.info()[0]) != (0, 1, 0, 0):
    fail(f"a defined pool: {pool.isActive()} {pool.isPersistent()} {pool.info()}")
validates(pool.XMLDesc(0), "storagepool.rng", "the pool XML")
if f"<path>{pdir}</path>" not in pool.XMLDesc(0):
    fail(f"target path: {pool.XMLDesc(0)}")
ok("pool definitions: refusals name what is wrong (type, element, path, name, XML, a "
   "directory or name taken); the trailing '/' dropped; inactive, persistent")

expect_error(E.VIR_ERR_SYSTEM_ERROR, pool.create, 0, text=f"cannot open directory '{pdir}'")
pool.build(0)
pool.create(0)
expect_error(E.VIR_ERR_OPERATION_INVALID, pool.create, 0, text="is already active")
expect_error(E.VIR_ERR_OPERATION_INVALID, pool.undefine, text="is still active")
pool.setAutostart(1)
if not os.path.islink(f"{work}/defs/storage/autostart/p.xml") or not pool.autostart():
    fail("no autostart link")
if [p.name() for p in conn.listAllStoragePools(E.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE |
                                               E.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)] \
        != ["p"] or conn.listAllStoragePools(E.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE):
    fail("listing filters")
ok("build creates the directory; start, autostart link; a running pool is not started "
   "again nor undefined; listing filters")

with open(f"{pdir}/disk.img", "wb") as f:
    f.truncate(1 << 20)
with open(f"{pdir}/q.qcow2", "wb") as f:
    f.write(b"QFI\xfb" + bytes(508))
for junk in (".hidden", "sub"):
    os.mkdir(f"{pdir}/{junk}") if junk == "sub" else open(f"{pdir}/{junk}", "w").close()
os.mkfifo(f"{pdir}/fifo")
pool.refresh(0)
if sorted(pool.listVolumes()) != ["disk.img", "q.qcow2"] or pool.numOfVolumes() != 2 or \
        [v.name() for v in pool.listAllVolumes()] != ["disk.img", "q.qcow2"]:
    fail(f"volumes: {pool.listVolumes()}")
vol = pool.storageVolLookupByName("disk.img")
if (vol.key(), vol.path(), vol.info()[:2]) != (f"{pdir}/disk.img", f"{pdir}/disk.img",
                                                 [E.VIR_STORAGE_VOL_FILE, 1 << 20]):
    fail(f"volume {vol.key()} {vol.path()} {vol.info()}")
if conn.storageVolLookupByKey(vol.key()).name() != "disk.img" or \
        conn.storageVolLookupByPath(f"{pdir}/./disk.img").name() != "disk.img":
    fail("lookup by key or a non-canonical path")
validates(vol.XMLDesc(0), "storagevol.rng", "the volume XML")
if "<format type='qcow2'/>" not in conn.storageVolLookupByPath(f"{pdir}/q.qcow2").XMLDesc(0):
    fail("the qcow2 image is not said to be qcow2")
ok("volumes: regular files only (hidden, directory, FIFO left out); lookups by name, key "
   "and path; info; XML valid, qcow2 recognised")

expect_error(E.VIR_ERR_NO_STORAGE_VOL, conn.storageVolLookupByPath, f"{pdir}/none.img",
             text=f"no storage vol with matching path '{pdir}/none.img'")
expect_error(E.VIR_ERR_NO_STORAGE_VOL, conn.storageVolLookupByPath, f"{pdir}/sub",
             text="no storage vol with matching path")
expect_error(E.VIR_ERR_NO_STORAGE_VOL, pool.storageVolLookupByName, "fifo",
             text="no storage vol with matching name 'fifo'")
expect_error(E.VIR_ERR_NO_STORAGE_POOL, conn.storagePoolLookupByName, "nope",
             text="no storage pool with matching name 'nope'")
expect_error(E.VIR_ERR_NO_SUPPORT, pool.createXML,
             "<volume><name>n.img</name><capacity>1</capacity></volume>", 0,
             text="virStorageVolCreateXML")
ok("not found: NO_STORAGE_VOL / NO_STORAGE_POOL naming what was asked; volume creation is "
   "not supported")

ro = libvirt.openReadOnly(uri.replace("virtdomusd-sock", "virtdomusd-sock-ro"))
expect_error(E.VIR_ERR_OPERATION_DENIED, ro.storagePoolLookupByName("p").destroy,
             text="read only access prevents virStoragePoolDestroy")
if ro.storagePoolLookupByName("p").listVolumes() != pool.listVolumes():
    fail("read-only listing")
r = subprocess.run(["virsh", "-c", uri, "vol-list", "p"], capture_output=True, text=True)
if r.returncode or "disk.img" not in r.stdout:
    fail(f"virsh vol-list: {r.stderr}")
ok("the read-only socket lists but refuses changes; virsh vol-list")

pool.destroy()
expect_error(E.VIR_ERR_OPERATION_INVALID, pool.listVolumes, text="storage pool 'p' is not active")
pool.setAutostart(0)
pool.undefine()
if conn.listAllStoragePools() or os.listdir(f"{work}/defs/storage/autostart") or \
        [f for f in os.listdir(f"{work}/defs/storage") if f.endswith(".xml")]:
    fail("pool files left")
ok("destroy (volumes then refused), undefine: no files left")
cleanup()
