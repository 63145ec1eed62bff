#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Mutated libvirt RPC packets against the real virtdomusd for a few seconds: it must
never crash, hang or hurt a bystander connection. Seeded: FUZZ_SEED=N reproduces a run,
FUZZ_SECONDS=N runs longer."""
import os
import random
import select
import socket
import struct
import time

from rpctest import (CALL, CALL_WITH_FDS, CONTINUE, ERROR, KEEPALIVE_PROGRAM, MESSAGE, OK,
                     REMOTE_PROGRAM, STREAM, Daemon, Raw, Tap, packet, xdr_string)

SEED = int(os.environ.get("FUZZ_SEED", time.time_ns() % 1_000_000))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "8"))
rnd = random.Random(SEED)
print(f"# FUZZ_SEED={SEED}")

UUID = bytes(range(16))
DOM = xdr_string("vm") + UUID + struct.pack(">i", -1)
OPT_NONE = struct.pack(">I", 0)


def param(name, ptype, value):
    return xdr_string(name) + struct.pack(">i", ptype) + value


# (proc, args) of valid calls over many argument shapes
CORPUS = [
    (66, b""), (60, struct.pack(">i", 10)), (60, struct.pack(">i", 14)),
    (1, struct.pack(">I", 1) + xdr_string("domus:///system") + struct.pack(">I", 0)),
    (3, b""), (4, b""), (5, OPT_NONE), (6, b""), (7, b""), (59, b""), (110, b""),
    (101, struct.pack(">ii", 0, 4)), (102, b""), (122, b""), (157, b""),
    (203, struct.pack(">I", 0)), (293, struct.pack(">iiI", 1, 1, 0)),
    (342, OPT_NONE * 4 + struct.pack(">I", 0)),
    (227, struct.pack(">iiI", -1, 4, 0)), (228, struct.pack(">iiI", 4, -1, 0)),
    (273, struct.pack(">iI", 1, 3)), (37, struct.pack(">i", 10)), (21, struct.pack(">i", 10)),
    (22, struct.pack(">i", 1)), (23, xdr_string("vm")), (24, UUID),
    (16, DOM), (212, DOM + struct.pack(">I", 0)), (14, DOM + struct.pack(">I", 1)),
    (11, xdr_string("<domain/>")), (350, xdr_string("<domain/>") + struct.pack(">I", 1)),
    (20, DOM + struct.pack(">ii", 4, 1)), (230, DOM + struct.pack(">iiI", 4, 1, 0)),
    (26, DOM + struct.pack(">I", 0) + struct.pack(">I", 1) + b"\x01\0\0\0"),
    (58, DOM + struct.pack(">I", 2) + param("weight", 2, struct.pack(">I", 512)) +
     param("cap", 7, xdr_string("x"))),
    (344, struct.pack(">I", 1) + DOM + struct.pack(">II", 0, 0)),
    (159, DOM + struct.pack(">II", 13, 0)), (204, DOM + struct.pack(">QI", 1024, 1)),
    (316, struct.pack(">i", 0) + struct.pack(">I", 1) + DOM), (317, struct.pack(">i", 0)),
    (201, DOM + OPT_NONE + struct.pack(">I", 0)), (360, b""), (361, b""),
    # migration: params, cookies (the empty backend refuses them after decoding)
    (302, DOM + struct.pack(">I", 1) + param("bandwidth", 4, struct.pack(">Q", 1)) +
     struct.pack(">I", 1)),
    (303, struct.pack(">I", 1) + param("destination_xml", 7, xdr_string("<domain/>")) +
     struct.pack(">I", 4) + b"abcd" + struct.pack(">I", 1)),
    (305, DOM + struct.pack(">I", 1) + xdr_string("domus+tcp://h/system") +
     struct.pack(">III", 0, 0, 3)),
    (306, struct.pack(">IIIi", 0, 0, 1, 1)), (307, DOM + struct.pack(">IIIi", 0, 0, 1, 0)),
    (166, DOM + struct.pack(">QI", 50, 0)), (387, DOM + struct.pack(">I", 0)),
]


def mutate(proc, args):
    """One packet, valid or mangled in one of several ways."""
    kind = rnd.randrange(10)
    ptype, status, prog, vers = CALL, OK, REMOTE_PROGRAM, 1
    if kind == 0:
        args = bytes(b ^ (1 << rnd.randrange(8)) if rnd.random() < 0.1 else b for b in args)
    elif kind == 1 and args:
        args = args[:rnd.randrange(len(args))]
    elif kind == 2:
        args += os.urandom(rnd.randrange(1, 64))
    elif kind == 3:
        proc = rnd.randrange(-3, 460)
    elif kind == 4:
        ptype = rnd.choice([CALL, 1, MESSAGE, STREAM, CALL_WITH_FDS, 5, 6, 99])
        if ptype == CALL_WITH_FDS:
            args = struct.pack(">I", 0) + args
    elif kind == 5:
        status = rnd.choice([ERROR, CONTINUE, 7])
    elif kind == 6:
        prog = rnd.choice([KEEPALIVE_PROGRAM, 0x20008087, 0])
        vers = rnd.choice([1, 2])
    elif kind == 7:
        # a string or array length word somewhere made huge
        if len(args) >= 4:
            at = rnd.randrange(0, len(args) - 3) & ~3
            args = args[:at] + struct.pack(">I", rnd.choice([0xffffffff, 0x7fffffff, 4194305,
                                                               16385])) + args[at + 4:]
    pkt = packet(prog, proc, rnd.randrange(1 << 20), ptype=ptype, status=status,
                 payload=args, vers=vers)
    if kind == 8:   # a lying length word
        pkt = struct.pack(">I", rnd.choice([0, 3, 27, 29, len(pkt) + 8, 0x7fffffff])) + pkt[4:]
    return pkt


def drain(s):
    """Read what the daemon sent; False once it has closed the connection."""
    try:
        while select.select([s], [], [], 0.002)[0]:
            if not s.recv(1 << 20):
                return False
    except OSError:
        return False
    return True


t = Tap()
d = Daemon()
bystander = Raw(d.sock)
bystander.open()


def bystander_ok():
    hdr, body = bystander.call(3)
    assert hdr[5] == OK and body == xdr_string("DOMUS"), (hdr, body)


@t.test
def fuzz():
    end = time.monotonic() + SECONDS
    sent = conns = 0
    while time.monotonic() < end:
        r = Raw(d.sock)
        conns += 1
        if rnd.random() < 0.8:
            r.open()
        alive = True
        for _ in range(rnd.randrange(1, 60)):
            try:
                r.send(mutate(*rnd.choice(CORPUS)))
            except OSError:
                alive = False
                break
            sent += 1
            if not drain(r.s):
                alive = False
                break
        if alive and rnd.random() < 0.5:
            r.s.shutdown(socket.SHUT_WR)        # sometimes leave mid-packet, or half-closed
        r.close()
        if conns % 20 == 0:
            bystander_ok()
            assert d.alive(), d.logtext()
    print(f"# {sent} packets on {conns} connections")
    bystander_ok()
    assert d.alive(), d.logtext()


try:
    t.run()
finally:
    bystander.close()
    d.close()
