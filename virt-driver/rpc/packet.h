/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Framing of the libvirt RPC: a packet is a big-endian u32 length (counting itself), the
 * 24-byte header (rp_header) and an XDR or raw payload. Encoding goes through the
 * rpcgen-generated XDR routines of protocol/domus_remote.x.
 */
#ifndef VIRTD_PACKET_H
#define VIRTD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "domus_remote.h"
#include "verr.h"

#define RP_LEN_WORD 4
#define RP_HEADER_LEN 24
#define RP_PACKET_MIN (RP_LEN_WORD + RP_HEADER_LEN)
#define RP_PACKET_MAX (RP_LEN_WORD + RP_MESSAGE_MAX)

/*
 * rp_frame_length_check() - validate the length word of an incoming packet.
 * Return: 0, or -1 with @err saying why the length cannot be a libvirt packet.
 */
int rp_frame_length_check(uint32_t len, struct verr *err);

/* Decode the header of a complete packet (@buf starts at the length word). Return: 0 or -1. */
int rp_header_decode(const uint8_t *buf, size_t len, rp_header *hdr);

/*
 * rp_payload_decode() - decode the XDR payload of a complete packet into @out (zeroed
 * first), starting @skip bytes after the header (for the fd count of CALL_WITH_FDS).
 * Trailing bytes after the payload are an error. Return: 0, or -1 with @out freed.
 */
int rp_payload_decode(const uint8_t *buf, size_t len, size_t skip, xdrproc_t proc, void *out);

/*
 * rp_packet_encode() - a complete packet: @hdr plus @data encoded with @proc (@proc NULL:
 * empty payload). Return: the packet, or NULL with @err set when it would exceed the
 * protocol's size limit.
 */
GBytes *rp_packet_encode(const rp_header *hdr, xdrproc_t proc, const void *data,
			 struct verr *err);

/* A complete packet with a raw (stream data) payload of @len bytes. */
GBytes *rp_packet_raw(const rp_header *hdr, const void *data, size_t len);

/* An error packet of @type (REPLY or STREAM), status ERROR, echoing @call's prog, vers,
 * proc and serial. */
GBytes *rp_packet_error(const rp_header *call, int type, const struct verr *err);

/* A keepalive PING or PONG (@proc RP_KEEPALIVE_PING/PONG). */
GBytes *rp_packet_keepalive(int proc);

/* Fill @hdr as the answer to @call: same prog, vers, proc and serial. */
void rp_header_answer(rp_header *hdr, const rp_header *call, int type, int status);

#endif
