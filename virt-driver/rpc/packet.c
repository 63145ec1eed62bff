// SPDX-License-Identifier: GPL-2.0-or-later
/* Packet framing and XDR encode/decode (see packet.h). */
#include <string.h>

#include <rpc/xdr.h>

#include "packet.h"

int rp_frame_length_check(uint32_t len, struct verr *err)
{
	if (len < RP_PACKET_MIN)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC,
				"packet length %u is shorter than the %u-byte header", len,
				RP_PACKET_MIN);
	if (len > RP_PACKET_MAX)
		return verr_set(err, VERR_RPC, VERR_FROM_RPC,
				"packet length %u exceeds the maximum of %u bytes", len,
				RP_PACKET_MAX);
	return 0;
}

int rp_header_decode(const uint8_t *buf, size_t len, rp_header *hdr)
{
	XDR xdr;
	int ok;

	if (len < RP_PACKET_MIN)
		return -1;
	xdrmem_create(&xdr, (char *)buf + RP_LEN_WORD, RP_HEADER_LEN, XDR_DECODE);
	ok = xdr_rp_header(&xdr, hdr);
	xdr_destroy(&xdr);
	return ok ? 0 : -1;
}

int rp_payload_decode(const uint8_t *buf, size_t len, size_t skip, xdrproc_t proc, void *out)
{
	size_t off = RP_PACKET_MIN + skip;
	XDR xdr;
	bool ok;

	if (len < off)
		return -1;
	xdrmem_create(&xdr, (char *)buf + off, len - off, XDR_DECODE);
	ok = proc(&xdr, out, 0) && xdr_getpos(&xdr) == len - off;
	xdr_destroy(&xdr);
	if (!ok) {
		xdr_free(proc, out);
		return -1;
	}
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

GBytes *rp_packet_encode(const rp_header *hdr, xdrproc_t proc, const void *data, struct verr *err)
{
	unsigned long payload = proc ? xdr_sizeof(proc, (void *)data) : 0;
	size_t total;
	uint8_t *buf;
	XDR xdr;
	bool ok;

	if (payload > RP_MESSAGE_PAYLOAD_MAX) {
		verr_set(err, VERR_RPC, VERR_FROM_RPC,
			 "reply of %lu bytes exceeds the protocol limit of %u bytes", payload,
			 RP_MESSAGE_PAYLOAD_MAX);
		return NULL;
	}
	total = RP_PACKET_MIN + payload;
	buf = g_malloc(total);
	put_be32(buf, total);
	xdrmem_create(&xdr, (char *)buf + RP_LEN_WORD, total - RP_LEN_WORD, XDR_ENCODE);
	ok = xdr_rp_header(&xdr, (rp_header *)hdr) && (!proc || proc(&xdr, (void *)data, 0));
	xdr_destroy(&xdr);
	if (!ok) {
		g_free(buf);
		verr_set(err, VERR_RPC, VERR_FROM_RPC, "unable to encode message payload");
		return NULL;
	}
	return g_bytes_new_take(buf, total);
}

GBytes *rp_packet_raw(const rp_header *hdr, const void *data, size_t len)
{
	size_t total = RP_PACKET_MIN + len;
	uint8_t *buf = g_malloc(total);
	XDR xdr;

	put_be32(buf, total);
	xdrmem_create(&xdr, (char *)buf + RP_LEN_WORD, RP_HEADER_LEN, XDR_ENCODE);
	xdr_rp_header(&xdr, (rp_header *)hdr);
	xdr_destroy(&xdr);
	if (len)
		memcpy(buf + RP_PACKET_MIN, data, len);
	return g_bytes_new_take(buf, total);
}

void rp_header_answer(rp_header *hdr, const rp_header *call, int type, int status)
{
	hdr->prog = call->prog;
	hdr->vers = call->vers;
	hdr->proc = call->proc;
	hdr->serial = call->serial;
	hdr->type = type;
	hdr->status = status;
}

GBytes *rp_packet_error(const rp_header *call, int type, const struct verr *err)
{
	char *msg = (char *)err->message;
	rp_error e = {
		.code = err->code ? err->code : VERR_INTERNAL_ERROR,
		.domain = err->domain,
		.message = &msg,
		.level = 2,	/* VIR_ERR_ERROR */
		.str1 = &msg,
		.int1 = -1,
		.int2 = -1,
	};
	struct verr ignored = { 0 };
	rp_header hdr;

	rp_header_answer(&hdr, call, type, RP_ERROR);
	/* The message is at most VERR_MSG_MAX bytes: this cannot exceed the limit. */
	return rp_packet_encode(&hdr, (xdrproc_t)xdr_rp_error, &e, &ignored);
}

GBytes *rp_packet_keepalive(int proc)
{
	rp_header hdr = {
		.prog = RP_KEEPALIVE_PROGRAM,
		.vers = RP_KEEPALIVE_VERSION,
		.proc = proc,
		.type = RP_MESSAGE,
		.serial = 0,
		.status = RP_OK,
	};

	return rp_packet_raw(&hdr, NULL, 0);
}
