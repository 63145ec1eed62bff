// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPU affinity, the credit scheduler's weight and cap, and statistics. Affinity is set on
 * the vCPU threads directly (their ids come from GET_INFO); the VMM carries it over a
 * reboot. Weight and cap live in the domain's cgroup (xc_cgroup.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xc_private.h"

/* The host thread of vCPU @vcpu. */
static int vcpu_thread(xc_interface *xch, xc_domain *dom, unsigned int vcpu, const char *what,
		       pid_t *tid)
{
	xc_dominfo info;
	int ret;

	xc_dominfo_init(&info);
	ret = xc_domain_getinfo(xch, dom, &info);
	if (ret)
		return ret;
	if (info.state == XC_DOMSTATE_SHUTDOWN || info.state == XC_DOMSTATE_CRASHED)
		ret = xc__error(xch, -ESRCH, "%s: the domain is not running", what);
	else if (vcpu >= info.nr_vcpus)
		ret = xc__error(xch, -EINVAL, "%s: vCPU %u: the domain has %u", what, vcpu,
				info.nr_vcpus);
	else if (!(*tid = info.vcpus[vcpu].tid))
		ret = xc__error(xch, -ESRCH, "%s: vCPU %u has no thread", what, vcpu);
	xc_dominfo_dispose(&info);
	return ret;
}

int xc_vcpu_setaffinity(xc_interface *xch, xc_domain *dom, unsigned int vcpu,
			const cpu_set_t *cpus)
{
	pid_t tid;
	int ret;

	if (!CPU_COUNT(cpus))
		return xc__error(xch, -EINVAL, "vcpu affinity: an empty set of CPUs");
	ret = vcpu_thread(xch, dom, vcpu, "vcpu affinity", &tid);
	if (ret)
		return ret;
	if (sched_setaffinity(tid, sizeof(*cpus), cpus))
		return xc__error(xch, -errno, "vcpu affinity: vCPU %u: %m%s", vcpu,
				 errno == EINVAL ? " (none of those CPUs is online)" : "");
	return 0;
}

int xc_vcpu_getaffinity(xc_interface *xch, xc_domain *dom, unsigned int vcpu, cpu_set_t *cpus)
{
	pid_t tid;
	int ret = vcpu_thread(xch, dom, vcpu, "vcpu affinity", &tid);

	if (ret)
		return ret;
	if (sched_getaffinity(tid, sizeof(*cpus), cpus))
		return xc__error(xch, -errno, "vcpu affinity: vCPU %u: %m", vcpu);
	return 0;
}

static int credit_record(xc_interface *xch, xc_domain *dom, struct xc__record *rec)
{
	int ret;

	if (!dom->domid)
		return xc__error(xch, -EOPNOTSUPP, "scheduler: only for domains from the registry");
	ret = xc__record_read(xch, dom->domid, rec);
	if (ret)
		return xc__error(xch, -ESRCH, "scheduler: domain %" PRIu32 " is gone", dom->domid);
	if (!rec->cgroup[0])
		return xc__error(xch, -EOPNOTSUPP, "scheduler: domain %" PRIu32 " has no cpu "
				 "cgroup (the host has no cpu controller)", dom->domid);
	return 0;
}

int xc_sched_credit_set(xc_interface *xch, xc_domain *dom, const xc_sched_credit *sc)
{
	struct xc__record rec;
	int lock, ret;

	lock = xc__registry_lock(xch);
	if (lock < 0)
		return lock;
	ret = credit_record(xch, dom, &rec);
	if (!ret)
		ret = xc__cgroup_set_credit(xch, rec.cgroup, sc);
	if (!ret) {
		rec.weight = sc->weight;
		rec.cap = sc->cap;
		ret = xc__record_write(xch, &rec);
	}
	close(lock);
	return ret;
}

int xc_sched_credit_get(xc_interface *xch, xc_domain *dom, xc_sched_credit *sc)
{
	struct xc__record rec;
	int ret = credit_record(xch, dom, &rec);

	if (ret)
		return ret;
	/* The cgroup is the truth; the record only refines v2's rounded weight. */
	ret = xc__cgroup_get_credit(xch, rec.cgroup, sc);
	if (!ret && rec.weight && (sc->weight > rec.weight ? sc->weight - rec.weight
							   : rec.weight - sc->weight) <= 2)
		sc->weight = rec.weight;
	return ret;
}

void xc_domstats_dispose(xc_domstats *st)
{
	free(st->disks);
	free(st->nics);
	memset(st, 0, sizeof(*st));
}

static void fill_stats(const struct xc__reply *r, const struct domus_ctl_stats *hdr,
		       xc_domstats *st)
{
	const uint8_t *p = r->payload + sizeof(*hdr);

	for (unsigned int i = 0; i < hdr->nr_disks; i++, p += sizeof(struct domus_ctl_blk_stats)) {
		struct domus_ctl_blk_stats b;

		memcpy(&b, p, sizeof(b));
		st->disks[i] = (xc_blk_stats){
			.rd_reqs = b.reads, .rd_bytes = b.read_bytes, .wr_reqs = b.writes,
			.wr_bytes = b.write_bytes, .flush_reqs = b.flushes,
			.discard_reqs = b.discards + b.write_zeroes, .errors = b.errors,
		};
	}
	for (unsigned int i = 0; i < hdr->nr_nics; i++, p += sizeof(struct domus_ctl_net_stats)) {
		struct domus_ctl_net_stats n;

		memcpy(&n, p, sizeof(n));
		st->nics[i] = (xc_net_stats){
			.rx_bytes = n.rx_bytes, .rx_packets = n.rx_packets,
			.rx_errors = n.rx_errors, .rx_drops = n.rx_dropped,
			.tx_bytes = n.tx_bytes, .tx_packets = n.tx_packets,
			.tx_errors = n.tx_errors, .tx_drops = n.tx_dropped,
		};
		memcpy(st->nics[i].ifname, n.ifname, sizeof(n.ifname));
		st->nics[i].ifname[sizeof(st->nics[i].ifname) - 1] = '\0';
		memcpy(st->nics[i].mac, n.mac, 6);
	}
	st->balloon_valid = hdr->balloon_valid;
	memcpy(st->balloon, hdr->balloon, sizeof(st->balloon));
	st->balloon_age_ns = hdr->balloon_updated_ns;
}

int xc_domain_get_stats(xc_interface *xch, xc_domain *dom, xc_domstats *st)
{
	struct domus_ctl_stats hdr;
	struct xc__reply r;
	int ret;

	xc_domstats_dispose(st);
	ret = xc__call(xch, dom, "stats", DOMUS_CTL_GET_STATS, NULL, 0, &r);
	if (ret)
		return ret;
	ret = xc__reply_check(xch, "stats", &r, sizeof(hdr));
	if (ret)
		goto out;
	ret = -EPROTO;
	memcpy(&hdr, r.payload, sizeof(hdr));
	if (hdr.nr_disks > 64 || hdr.nr_nics > 64 ||
	    r.payload_len < sizeof(hdr) + hdr.nr_disks * sizeof(struct domus_ctl_blk_stats) +
				    hdr.nr_nics * sizeof(struct domus_ctl_net_stats))
		goto bad;
	st->disks = calloc(hdr.nr_disks + 1, sizeof(*st->disks));
	st->nics = calloc(hdr.nr_nics + 1, sizeof(*st->nics));
	if (!st->disks || !st->nics) {
		xc_domstats_dispose(st);
		ret = xc__error(xch, -ENOMEM, "stats: out of memory");
		goto out;
	}
	st->nr_disks = hdr.nr_disks;
	st->nr_nics = hdr.nr_nics;
	fill_stats(&r, &hdr, st);
	ret = 0;
	goto out;
bad:
	xc__error(xch, ret, "stats: malformed reply");
out:
	xc__reply_dispose(&r);
	return ret;
}
