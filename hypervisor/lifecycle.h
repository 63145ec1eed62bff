/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What happens around the machine rather than inside it: the exit record libxc reads after
 * the VMM is gone, vCPU pinning, and the restart after a guest reboot.
 *
 * A reboot (the guest resets, or a control client asks for a reset) ends the machine. With
 * --on-reboot restart the VMM then execs itself again with the same command line: same
 * pid, same control socket, same disks and taps (the descriptors it inherited stay open
 * across the exec), and a machine built from scratch, as Xen rebuilds a domain on reboot.
 * Nothing of the old machine can leak into the new one: every descriptor the VMM opened
 * itself is close-on-exec, and the new image starts with fresh memory.
 */
#ifndef DOMUS_LIFECYCLE_H
#define DOMUS_LIFECYCLE_H

#include <sched.h>
#include <stdbool.h>

#include <domus/cleanup.h>

struct vm;

struct vcpu_pin {
	unsigned int vcpu;
	cpu_set_t cpus;
};

/* "0-3,6" into @set. Return: 0, -EINVAL for a malformed list or a CPU over CPU_SETSIZE. */
int cpulist_parse(const char *s, cpu_set_t *set) _must_check_;

/* --vcpu-pin I=CPULIST. Return: 0 or -EINVAL. */
int vcpu_pin_parse(const char *arg, struct vcpu_pin *pin) _must_check_;

/* Pin the vCPU threads (started, so their thread ids are known). Logs its errors. */
int vcpu_pins_apply(struct vm *vm, const struct vcpu_pin *pins, unsigned int nr) _must_check_;

/*
 * Write the exit record to @fd (--exit-fd): "status=N", "reason=N" (the control protocol's
 * reason: it tells saved and migrated from destroyed) and "message=TEXT" lines, replacing
 * what the file held. libxc reads it to tell how the domain ended once the VMM is gone; a
 * VMM that dies without writing it (SIGKILL, a crash of its own) is reported as crashed.
 */
void exit_record_write(int fd, int status, unsigned int reason, const char *message);

/*
 * Remember each vCPU thread's affinity (while the threads still exist), so that a restart
 * keeps the pinning a control client or --vcpu-pin set.
 */
void restart_capture_affinity(struct vm *vm);

/*
 * Exec the VMM again with @argv (main's), without --paused, --restore and --incoming (the
 * new machine boots the kernel) and with the captured vCPU affinities as --vcpu-pin options. Return: only on failure, -errno (logged).
 */
int restart_exec(struct vm *vm, int argc, char **argv);

#endif
