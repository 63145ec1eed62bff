#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""python3-libvirt (Debian's 9.0) against the real virtdomusd."""
import os
import threading
import time

from rpctest import Daemon, Tap, skip_all

try:
    import libvirt
except ImportError:
    skip_all("python3-libvirt not installed")

libvirt.registerErrorHandler(lambda ctx, err: None, None)	# errors come as exceptions
libvirt.virEventRegisterDefaultImpl()
stop_loop = False


def event_loop():
    while not stop_loop:
        libvirt.virEventRunDefaultImpl()


loop = threading.Thread(target=event_loop, daemon=True)
loop.start()

t = Tap()
d = Daemon(config="[virtdomusd]\nkeepalive_interval = 1\nkeepalive_count = 3\n")
conn = libvirt.open(d.uri)


@t.test
def connection_facts():
    assert conn.getType() == "DOMUS"
    assert conn.getLibVersion() == 9000000
    assert conn.getVersion() >= 1000
    assert conn.getHostname() == os.uname().nodename
    assert conn.getMaxVcpus("kvm") == 255
    assert conn.isAlive() == 1
    assert conn.isSecure() == 1


@t.test
def node_info():
    model, mem_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    assert model == os.uname().machine
    assert cpus == os.cpu_count() and nodes * sockets * cores * threads == cpus
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    assert mem_mib == total_kib // 1024
    assert 0 < conn.getFreeMemory() <= total_kib * 1024
    cells = conn.getCellsFreeMemory(0, 1)
    assert len(cells) == 1 and cells[0] > 0
    stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
    assert set(stats) == {"kernel", "user", "idle", "iowait"} and stats["idle"] > 0, stats
    mem = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
    assert mem["total"] == total_kib and 0 < mem["free"] <= mem["total"], mem
    ncpu, cpumap, online = conn.getCPUMap()
    assert ncpu >= cpus and online == cpus and sum(cpumap) == cpus


@t.test
def capabilities():
    caps = conn.getCapabilities()
    assert "<os_type>hvm</os_type>" in caps and "<domain type='kvm'/>" in caps
    dc = conn.getDomainCapabilities(None, "x86_64", "pc", "kvm")
    assert "<domainCapabilities>" in dc
    try:
        conn.getDomainCapabilities(None, "aarch64", None, None)
        raise AssertionError("an unsupported arch was accepted")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED, e
    assert "<sysinfo type='smbios'>" in conn.getSysinfo()


@t.test
def list_domains():
    assert conn.listAllDomains() == []
    assert conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
    assert conn.numOfDomains() == 0 and conn.listDomainsID() == []
    assert conn.numOfDefinedDomains() == 0 and conn.listDefinedDomains() == []


@t.test
def lookup_errors():
    for lookup, arg in ((conn.lookupByName, "nope"), (conn.lookupByID, 7),
                        (conn.lookupByUUIDString, "9c1e2a44-45ce-4f0e-9f2a-000000000001")):
        try:
            lookup(arg)
            raise AssertionError(f"{lookup.__name__} found a domain")
        except libvirt.libvirtError as e:
            assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e
            assert str(e).startswith("Domain not found: no domain with matching"), str(e)


@t.test
def unsupported_errors():
    try:
        conn.defineXML("<domain type='kvm'><name>a</name></domain>")
        raise AssertionError("defineXML succeeded with no backend")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, e
        assert e.get_error_domain() == libvirt.VIR_FROM_DOMAIN, e.get_error_domain()
        assert "virDomainDefineXML" in str(e), str(e)
    try:
        conn.listAllNetworks()
        raise AssertionError("networks listed")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, e


@t.test
def event_registration():
    seen = []
    cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                     lambda *a: seen.append(a), None)
    cb2 = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                      lambda *a: seen.append(a), None)
    assert cb >= 0 and cb2 >= 0 and cb != cb2
    try:
        conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG,
                                    lambda *a: None, None)
        raise AssertionError("watchdog events accepted")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, e
    conn.domainEventDeregisterAny(cb2)
    conn.domainEventDeregisterAny(cb)
    try:
        conn.domainEventDeregisterAny(cb)
        raise AssertionError("a callback was deregistered twice")
    except libvirt.libvirtError:
        pass
    assert conn.isAlive()


@t.test
def close_callback():
    conn.registerCloseCallback(lambda *a: None, None)
    conn.unregisterCloseCallback()


@t.test
def keepalive():
    """Client keepalive (1 s × 2) and the daemon's own PINGs (1 s × 3) over 6 idle seconds."""
    c2 = libvirt.open(d.uri)
    c2.setKeepAlive(1, 2)
    time.sleep(6)
    assert c2.isAlive() == 1
    assert c2.getType() == "DOMUS"
    c2.close()


@t.test
def many_connections():
    conns = [libvirt.open(d.uri) for _ in range(40)]
    errors = []

    def worker(c):
        try:
            for _ in range(20):
                assert c.getInfo()[1] > 0 and c.listAllDomains() == []
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for c in conns:
        c.close()
    assert not errors, errors


@t.test
def readonly_open():
    ro = libvirt.openReadOnly(d.uri_ro)
    assert ro.getType() == "DOMUS" and ro.listAllDomains() == []
    ro.close()


try:
    t.run()
finally:
    conn.close()
    stop_loop = True
    d.close()
