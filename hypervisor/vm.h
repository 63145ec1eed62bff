/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtual machine: KVM VM fd, guest RAM, the I/O buses devices register on, and the
 * machine-wide exit request.
 *
 * Threads: the main (VMM) thread creates everything before any vCPU runs and owns the
 * event loop; vCPU threads call the I/O handlers. Buses are only changed under their
 * rwlock (PCI BAR moves happen at run time); each device locks its own registers.
 */
#ifndef DOMUS_VM_H
#define DOMUS_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <domus/cleanup.h>
#include <domus/vmm-exit.h>

#include "console.h"
#include "virtio_blk.h"
#include "virtio_net.h"

#define VM_MAX_DISKS 16
#define VM_MAX_NICS 8

struct vcpu;
struct uart;
struct pci_bus;
struct pm;
struct testdev;
struct vrng;
struct vballoon;
struct lazy;

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem_size;
	unsigned int nr_vcpus;
	struct console_config console;
	bool test_device;
	bool allow_no_hwvirt;
	struct vblk_config disks[VM_MAX_DISKS];	/* opened by the option parser */
	unsigned int nr_disks;
	struct vnet_config nets[VM_MAX_NICS];	/* taps opened by the option parser */
	unsigned int nr_nets;
	bool rng;
	bool balloon;
	uint64_t balloon_target;	/* bytes the guest should keep; 0: all of mem_size */
	int kvm_fd;			/* --kvm-fd: inherited /dev/kvm, or -1 to open it */
};

/*
 * An I/O handler. @data holds @len bytes: filled by the handler on reads, the guest's value
 * on writes. @addr is the port or guest-physical address; @vcpu_id who accessed it.
 */
typedef void (*io_handler_fn)(void *opaque, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
			      unsigned int len, bool is_write);

struct io_range {
	uint64_t base;
	uint64_t len;
	io_handler_fn fn;
	void *opaque;
};

struct io_bus {
	pthread_rwlock_t lock;
	struct io_range *ranges;	/* sorted by base, never overlapping */
	size_t nr, cap;
	uint64_t unhandled;		/* accesses nobody decoded (reads return all-ones) */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;			/* mmap size of each vCPU's struct kvm_run */
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, adjusted per vCPU */
	uint32_t *state_msrs;		/* msr_state_list(): built at the first save */
	int nr_state_msrs;

	int ram_fd;			/* memfd: shareable for save/restore and migration */
	uint8_t *ram;			/* low RAM at 0, the rest at ram + lowmem (GPA 4 GiB) */
	uint64_t mem_size;
	uint64_t lowmem;
	struct lazy *lazy;		/* a lazy restore serves RAM (lazy.h), or NULL */

	struct io_bus pio;
	struct io_bus mmio;

	unsigned int nr_vcpus;
	struct vcpu **vcpus;

	struct console *console;
	struct uart *uart;
	struct pci_bus *pci;
	struct pm *pm;
	struct testdev *testdev;
	struct vblk *disks[VM_MAX_DISKS];
	unsigned int nr_disks;
	struct vnet *nets[VM_MAX_NICS];
	unsigned int nr_nets;
	struct vrng *rng;
	struct vballoon *balloon;

	/* GSI routing: KVM_SET_GSI_ROUTING replaces the whole table, so we keep all of it. */
	pthread_mutex_t routing_lock;
	struct kvm_irq_routing_entry *routes;	/* under routing_lock */
	unsigned int nr_routes;
	uint32_t next_msi_gsi;

	/*
	 * Dirty tracking for live migration (vm_dirty_*): KVM logs what vCPUs write, the VMM
	 * marks what its device threads write into guest memory (vm_mark_dirty).
	 */
	bool dirty_on;			/* atomic: marking is wanted */
	uint64_t *vmm_dirty;		/* one bit per page of the RAM file, atomic ORs */
	uint64_t *kvm_dirty;		/* KVM_GET_DIRTY_LOG's bitmap of one slot */

	/* Machine exit request: set once by whoever ends the machine, read by the main thread. */
	pthread_mutex_t exit_lock;
	bool exit_requested;		/* under exit_lock */
	enum domus_vmm_exit exit_status; /* under exit_lock */
	char exit_reason[256];		/* under exit_lock */
	int exit_event_fd;		/* eventfd the main loop waits on */
	/* A control client asked for a reboot: the guest's next poweroff counts as one. */
	bool reboot_on_poweroff;	/* under exit_lock */
};

/* The VM-wide in-kernel state (both PICs, IOAPIC, PIT, kvmclock): saved and restored as is. */
struct vm_state {
	struct kvm_irqchip pic_master;
	struct kvm_irqchip pic_slave;
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

int vm_create(const struct vm_config *cfg, struct vm **out) _must_check_;
/* Only while every vCPU is paused or stopped. */
int vm_save_state(struct vm *vm, struct vm_state *st) _must_check_;
int vm_load_state(struct vm *vm, const struct vm_state *st) _must_check_;
void vm_free(struct vm *vm);

/* Ask the main thread to end the machine; the first request wins. Thread-safe. */
void vm_request_exit(struct vm *vm, enum domus_vmm_exit status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Live migration's dirty tracking (main thread). start: KVM logs writes to every memory
 * slot and device writes are marked; collect: OR what was written since the last collect
 * (or start) into @bitmap (one bit per page of the RAM file) and start afresh; stop: back
 * to normal.
 */
int vm_dirty_start(struct vm *vm) _must_check_;
int vm_dirty_collect(struct vm *vm, uint64_t *bitmap) _must_check_;
void vm_dirty_stop(struct vm *vm);

/* A device thread wrote [hva, hva+len) of guest RAM (a no-op unless tracking). */
void vm_mark_dirty_slow(struct vm *vm, const void *hva, size_t len);
static inline void vm_mark_dirty(struct vm *vm, const void *hva, size_t len)
{
	if (__atomic_load_n(&vm->dirty_on, __ATOMIC_ACQUIRE))
		vm_mark_dirty_slow(vm, hva, len);
}

/* Host pointer for guest-physical [gpa, gpa+len), or NULL if not entirely in RAM. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
/* A GSI for one MSI vector, with an eventfd bound to it (irqfd). Return: gsi or -errno. */
int vm_msi_irqfd_create(struct vm *vm, int *fd_out) _must_check_;
/* Point @gsi's route at MSI address/data (called whenever the guest reprograms a vector). */
int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
int vm_irq_pulse(struct vm *vm, uint32_t gsi);

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn,
		    void *opaque) _must_check_;
int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque);
/* Dispatch one access; unclaimed reads return all-ones. Return: true if a handler took it. */
bool io_bus_access(struct io_bus *bus, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
		   unsigned int len, bool is_write);

#endif
