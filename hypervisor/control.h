/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket server (libxc/include/domus/control.h, docs/control-protocol.md).
 *
 * Threads: everything here runs on the main (VMM) thread, inside main_loop()'s poll: the
 * sockets are non-blocking, each client has its own input and output buffers, and a
 * request is handled when it is complete. PAUSE waits for the vCPUs (vcpu_pause blocks
 * until they are out of KVM_RUN), which is short and bounded. SAVE and MIGRATE_SEND run
 * as a job on a thread of their own (job.h): the main thread polls its done eventfd among
 * the clients and answers the request when the job is over.
 */
#ifndef DOMUS_CONTROL_SERVER_H
#define DOMUS_CONTROL_SERVER_H

#include <poll.h>

#include <domus/cleanup.h>

#define CTL_MAX_CLIENTS		32
#define CTL_MAX_LISTENERS	2
#define CTL_MAX_POLLFDS		(CTL_MAX_LISTENERS + CTL_MAX_CLIENTS + 1)	/* + a job */

struct vm;
struct ctl_server;

struct ctl_config {
	const char *path;	/* --control PATH: listen here (mode 0600), removed at exit */
	int listen_fd;		/* --control-fd N: an inherited listening socket, or -1 */
};

/*
 * ctl_create() - start listening as @cfg says; *@ret is NULL when @cfg names no socket.
 * Call it just before the vCPUs start (uptime counts from here). Logs its errors.
 */
int ctl_create(struct vm *vm, const struct ctl_config *cfg, struct ctl_server **ret) _must_check_;

/* Fill up to CTL_MAX_POLLFDS entries of @fds for this round of poll(). Return: how many. */
unsigned int ctl_poll_fill(struct ctl_server *ctl, struct pollfd *fds);

/* Serve what poll() reported for the @n entries ctl_poll_fill() filled. */
void ctl_poll_dispatch(struct ctl_server *ctl, const struct pollfd *fds, unsigned int n);

/*
 * ctl_machine_ended() - the machine is over (vCPUs stopped) with VMM exit status @status:
 * send the final state event to subscribers and give every client up to a second to take
 * what is queued for it.
 */
void ctl_machine_ended(struct ctl_server *ctl, int status);

/* The state and reason the machine ended with: the exit status's, or saved / migrated. */
void ctl_end_state(struct ctl_server *ctl, int status, uint32_t *state, uint32_t *reason);

/*
 * ctl_machine_restarting() - the guest rebooted and the VMM is about to exec itself again
 * (--on-reboot restart): tell subscribers (state running, reason reboot, no exit status)
 * and let them read it. Their connections end with the exec; libxc connects again.
 */
void ctl_machine_restarting(struct ctl_server *ctl);

/*
 * ctl_stop_job() - the machine is ending (main loop over): cancel a running save or
 * migration (one that already handed the domain over completes), wait for its thread and
 * queue its reply. Call before the vCPUs stop. NULL-safe.
 */
void ctl_stop_job(struct ctl_server *ctl);

/* The vCPUs were started paused (--paused): GET_INFO says so, UNPAUSE starts them. */
void ctl_set_paused(struct ctl_server *ctl);

/* Close every connection and the listening sockets, remove --control's path. NULL-safe. */
struct ctl_server *ctl_free(struct ctl_server *ctl);

#endif
