#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What stock clients never send: malformed, oversized, out-of-order and fd-carrying
packets, pipelined calls, keepalive, against the real virtdomusd. Another client stays
connected throughout and must not notice."""
import os
import socket
import struct
import time

from rpctest import (CALL, CALL_WITH_FDS, CONTINUE, ERROR, KEEPALIVE_PROGRAM, MESSAGE, OK,
                     REMOTE_PROGRAM, REPLY, STREAM, Daemon, Raw, Tap, decode_error, packet,
                     xdr_string)

t = Tap()
d = Daemon(config="[virtdomusd]\nkeepalive_interval = 1\nkeepalive_count = 2\n")
bystander = Raw(d.sock)
bystander.open()

AUTH_LIST, OPEN, CLOSE, GET_TYPE, HOSTNAME, FEATURE, NODE_INFO = 66, 1, 2, 3, 59, 60, 6


def opened():
    r = Raw(d.sock)
    r.open()
    return r


def bystander_ok():
    hdr, body = bystander.call(GET_TYPE)
    assert hdr[5] == OK and body == xdr_string("DOMUS"), (hdr, body)


def expect_error(hdr, body, code, domain=None, text=None):
    assert hdr[3] == REPLY and hdr[5] == ERROR, hdr
    c, dom, msg = decode_error(body)
    assert c == code, (c, dom, msg)
    assert domain is None or dom == domain, (c, dom, msg)
    assert text is None or text in msg, msg


@t.test
def auth_list_bytes():
    r = Raw(d.sock)
    r.send(bytes.fromhex("0000001c200080860000000100000042000000000000000000000000"))
    (length,) = struct.unpack(">I", r.recv_exact(4))
    raw = struct.pack(">I", length) + r.recv_exact(length - 4)
    assert raw.hex() == "00000024200080860000000100000042000000010000000000000000" \
                        "0000000100000000", raw.hex()
    r.close()


@t.test
def before_open():
    r = Raw(d.sock)
    hdr, body = r.call(FEATURE, struct.pack(">i", 10))
    assert hdr[5] == OK and body == struct.pack(">i", 1)
    expect_error(*r.call(FEATURE, struct.pack(">i", 14)), 1, 7, "hypervisor connection not open")
    expect_error(*r.call(HOSTNAME), 1, 7, "hypervisor connection not open")
    r.close()


@t.test
def open_checks():
    r = Raw(d.sock)
    expect_error(*r.call(OPEN, struct.pack(">I", 1) + xdr_string("qemu:///system") +
                         struct.pack(">I", 0)), 5)
    expect_error(*r.call(OPEN, struct.pack(">I", 1) + xdr_string("domus:///session") +
                         struct.pack(">I", 0)), 5, text="this is the system daemon")
    r.open()
    expect_error(*r.call(OPEN, struct.pack(">I", 0) + struct.pack(">I", 0)), 1,
                 text="connection already open")
    r.close()


@t.test
def probe_open_and_uri():
    r = Raw(d.sock)
    hdr, _ = r.call(OPEN, struct.pack(">II", 0, 0))     # no name: the client probes
    assert hdr[5] == OK
    hdr, body = r.call(110)
    assert body == xdr_string("domus:///system"), body
    r.close()


@t.test
def unknown_program_and_procedures():
    r = opened()
    expect_error(*r.call(1, prog=0x20008087), 39, 7, "Cannot find program")
    expect_error(*r.call(9999), 39, 7, "unknown procedure: 9999")
    expect_error(*r.call(-5), 39, 7, "unknown procedure: -5")
    expect_error(*r.call(53, xdr_string("x")), 3, 20,
                 "this function is not supported by the connection driver: virDomainCoreDump")
    expect_error(*r.call(52), 3, 0, "virConnectNumOfNetworks")
    hdr, body = r.call(GET_TYPE)
    assert hdr[5] == OK
    r.close()


@t.test
def bad_payloads():
    r = opened()
    expect_error(*r.call(FEATURE, b"\0\0"), 39, 7, "Unable to decode message payload")
    expect_error(*r.call(FEATURE, struct.pack(">ii", 10, 99)), 39, 7, "Unable to decode")
    expect_error(*r.call(HOSTNAME, b"junk"), 39, 7, "takes no arguments")
    # a string length far past the end of the packet
    expect_error(*r.call(23, struct.pack(">I", 0x7fffffff)), 39, 7, "Unable to decode")
    # a domain list count over the protocol's bound
    expect_error(*r.call(344, struct.pack(">III", 16385, 0, 0)), 39, 7, "Unable to decode")
    bystander_ok()
    r.close()


@t.test
def call_with_bad_status():
    r = opened()
    r.send(packet(REMOTE_PROGRAM, GET_TYPE, 77, status=CONTINUE))
    hdr, body = r.recv()
    expect_error(hdr, body, 39, 7, "status")
    r.close()


@t.test
def garbage_closes_only_that_connection():
    for junk in (b"\0\0\0\x05hello", b"\xff" * 64, struct.pack(">I", 27) + b"\0" * 23):
        r = Raw(d.sock)
        r.send(junk)
        assert r.closed(), junk
        r.close()
    bystander_ok()


@t.test
def oversized_packet_closes():
    r = opened()
    r.send(struct.pack(">I", 16777216 + 5) + b"\0" * 1024)
    assert r.closed()
    bystander_ok()


@t.test
def largest_legal_packet():
    r = opened()
    body_len = 16777216 - 24
    # CONNECT_SUPPORTS_FEATURE with 16 MiB of arguments: an error, not a closed connection.
    r.send(packet(REMOTE_PROGRAM, FEATURE, 5, payload=b"\0" * body_len))
    hdr, body = r.recv()
    expect_error(hdr, body, 39, 7, "Unable to decode")
    bystander_ok()
    r.close()


@t.test
def client_sends_a_reply():
    r = opened()
    r.send(packet(REMOTE_PROGRAM, GET_TYPE, 3, ptype=REPLY))
    assert r.closed()
    bystander_ok()


@t.test
def truncated_then_gone():
    r = opened()
    r.send(packet(REMOTE_PROGRAM, HOSTNAME, 9)[:15])
    r.close()
    bystander_ok()


@t.test
def stray_stream_packets_are_dropped():
    r = opened()
    r.send(packet(REMOTE_PROGRAM, 201, 42, ptype=STREAM, status=CONTINUE, payload=b"abc"))
    r.send(packet(REMOTE_PROGRAM, 201, 42, ptype=STREAM, status=OK))
    hdr, _ = r.call(GET_TYPE)
    assert hdr[5] == OK
    r.close()


@t.test
def fds_are_refused_and_stream_stays_in_sync():
    r = opened()
    rfd, wfd = os.pipe()
    pkt = packet(REMOTE_PROGRAM, 443, 50, ptype=CALL_WITH_FDS, payload=struct.pack(">I", 2))
    r.send(pkt)
    for _ in range(2):
        socket.send_fds(r.s, [b"\0"], [rfd])
    hdr, body = r.recv()
    assert hdr[4] == 50, hdr
    expect_error(hdr, body, 3, text="passing file descriptors")
    hdr, _ = r.call(GET_TYPE)
    assert hdr[5] == OK
    os.close(rfd)
    os.close(wfd)
    # more fds than a message may carry: the connection goes
    r.send(packet(REMOTE_PROGRAM, 443, 51, ptype=CALL_WITH_FDS, payload=struct.pack(">I", 33)))
    assert r.closed()
    bystander_ok()


@t.test
def pipelined_calls():
    r = opened()
    n = 300
    r.send(b"".join(packet(REMOTE_PROGRAM, (HOSTNAME, NODE_INFO, GET_TYPE)[i % 3], 1000 + i)
                    for i in range(n)))
    seen = set()
    while len(seen) < n:
        hdr, body = r.recv()
        assert hdr[3] == REPLY and hdr[5] == OK, (hdr, body)
        assert hdr[4] not in seen
        assert hdr[2] == (HOSTNAME, NODE_INFO, GET_TYPE)[(hdr[4] - 1000) % 3], hdr
        seen.add(hdr[4])
    r.close()


@t.test
def call_flood_is_held_back_not_lost():
    """3000 worker calls at once: the daemon stops reading while too many wait, and still
    answers every one."""
    r = opened()
    n = 3000
    r.send(b"".join(packet(REMOTE_PROGRAM, NODE_INFO, 5000 + i) for i in range(n)))
    seen = set()
    while len(seen) < n:
        hdr, _ = r.recv()
        assert hdr[5] == OK and hdr[4] not in seen, hdr
        seen.add(hdr[4])
    bystander_ok()
    r.close()


@t.test
def ping_not_queued_behind_calls():
    """A PING sent behind 40 calls, followed by 2000 more, is answered long before the
    calls are: keepalive never waits for a worker."""
    r = opened()
    head = b"".join(packet(REMOTE_PROGRAM, NODE_INFO, 2000 + i) for i in range(40))
    tail = b"".join(packet(REMOTE_PROGRAM, NODE_INFO, 3000 + i) for i in range(2000))
    r.send(head + packet(KEEPALIVE_PROGRAM, 1, 0, ptype=MESSAGE) + tail)
    pong_after = None
    replies = 0
    while replies < 2040 or pong_after is None:
        hdr, _ = r.recv()
        if hdr[0] == KEEPALIVE_PROGRAM:
            assert hdr[2] == 2 and hdr[3] == MESSAGE, hdr
            pong_after = replies
        else:
            replies += 1
    print(f"# PONG after {pong_after} of 2040 replies")
    assert pong_after < 1000, f"the PONG came after {pong_after} replies"
    r.close()


@t.test
def silent_client_is_pinged_then_dropped():
    r = Raw(d.sock)
    r.call(FEATURE, struct.pack(">i", 10))      # asks for keepalive
    r.open()
    start = time.monotonic()
    hdr, _ = r.recv()
    assert hdr[0] == KEEPALIVE_PROGRAM and hdr[2] == 1, hdr     # a PING
    assert r.closed(timeout=10), "a client that never answers PINGs was kept"
    assert time.monotonic() - start < 8
    bystander_ok()


@t.test
def close_closes():
    r = opened()
    hdr, _ = r.call(CLOSE)
    assert hdr[5] == OK
    assert r.closed()


@t.test
def many_raw_clients():
    clients = [Raw(d.sock) for _ in range(150)]
    for c in clients:
        c.open()
    for c in clients:
        hdr, _ = c.call(HOSTNAME)
        assert hdr[5] == OK
    for c in clients:
        c.close()
    bystander_ok()


# Every procedure that changes something, by libvirt's name and number (not read from our
# table: a procedure that lost its PROC_MUTATING flag must fail here).
MUTATING = {
    "virDomainDefineXML": 11, "virDomainDefineXMLFlags": 350, "virDomainCreateXML": 10,
    "virDomainUndefine": 35, "virDomainUndefineFlags": 231, "virDomainCreate": 9,
    "virDomainCreateWithFlags": 196, "virDomainDestroy": 12, "virDomainDestroyFlags": 234,
    "virDomainShutdown": 33, "virDomainShutdownFlags": 258, "virDomainReboot": 27,
    "virDomainReset": 245, "virDomainSuspend": 34, "virDomainResume": 28,
    "virDomainSetAutostart": 29, "virDomainSetMemory": 31, "virDomainSetMaxMemory": 30,
    "virDomainSetMemoryFlags": 204, "virDomainSetVcpus": 32, "virDomainSetVcpusFlags": 199,
    "virDomainPinVcpu": 26, "virDomainPinVcpuFlags": 225,
    "virDomainSetSchedulerParameters": 58, "virDomainSetSchedulerParametersFlags": 219,
    "virDomainOpenConsole": 201, "virDomainSave": 55, "virDomainSaveFlags": 232,
    "virDomainRestore": 54, "virDomainRestoreFlags": 233,
    "virDomainSaveImageGetXMLDesc": 235, "virDomainManagedSave": 182,
    "virDomainManagedSaveRemove": 184, "virDomainAbortJob": 164,
}


@t.test
def readonly_refuses_every_mutating_procedure():
    # The read-only socket without the RO flag, and the read-write one with it: refused
    # before the arguments are even decoded (an empty payload would not decode).
    ro_sock = Raw(d.sock_ro)
    ro_sock.open()
    ro_flag = Raw(d.sock)
    ro_flag.open(flags=1)
    for r in (ro_sock, ro_flag):
        for api, proc in MUTATING.items():
            expect_error(*r.call(proc), 29, text=f"read only access prevents {api}")
        # Reading stays allowed: job info gets past the check (and fails on decoding).
        expect_error(*r.call(163), 39, 7, "Unable to decode message payload of virDomainGetJobInfo")
        r.close()
    bystander_ok()


@t.test
def daemon_survived():
    assert d.alive(), d.logtext()
    bystander_ok()


try:
    t.run()
finally:
    bystander.close()
    d.close()
