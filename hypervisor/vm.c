// SPDX-License-Identifier: GPL-2.0-or-later
/* The KVM VM: /dev/kvm checks, guest RAM from a memfd, in-kernel irqchip and PIT, I/O buses. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot.h"
#include "layout.h"
#include "lazy.h"
#include "log.h"
#include "vm.h"

#define KVM_API_VERSION_EXPECTED 12

static int init_routing(struct vm *vm);

/* Capabilities the machine cannot work without. */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "user memory slots" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_EXT_CPUID, "extended CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
};

static int open_kvm(struct vm *vm, int kvm_fd)
{
	int version;

	/* An inherited descriptor (--kvm-fd) lets the VMM run without access to /dev/kvm. */
	if (kvm_fd >= 0 && fcntl(kvm_fd, F_SETFD, FD_CLOEXEC) == 0)
		vm->kvm_fd = kvm_fd;
	else if (kvm_fd >= 0)
		vm->kvm_fd = -1;
	else
		vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = -errno;

		pr_err("cannot open /dev/kvm: %s", strerror(errno));
		return err;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION_EXPECTED) {
		pr_err("/dev/kvm speaks API version %d, domus-vmm needs %d", version,
		       KVM_API_VERSION_EXPECTED);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			pr_err("KVM lacks a required capability: %s", required_caps[i].name);
			return -ENOTSUP;
		}
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return -errno;
	return 0;
}

static int set_memslot_flags(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
			     void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

static int set_memslot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
	return set_memslot_flags(vm, slot, gpa, size, hva, 0);
}

/* RAM is one memfd mapping; below the PCI hole at GPA 0, the rest at 4 GiB. */
static int create_memory(struct vm *vm, uint64_t mem_size)
{
	int ret;

	vm->mem_size = mem_size;
	vm->lowmem = boot_lowmem_size(mem_size);
	vm->ram_fd = memfd_create("domus-guest-ram", MFD_CLOEXEC);
	if (vm->ram_fd < 0)
		return -errno;
	if (ftruncate(vm->ram_fd, mem_size) < 0)
		return -errno;
	vm->ram = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       vm->ram_fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return -errno;
	}
	madvise(vm->ram, mem_size, MADV_MERGEABLE);
	ret = set_memslot(vm, 0, 0, vm->lowmem, vm->ram);
	if (!ret && mem_size > vm->lowmem)
		ret = set_memslot(vm, 1, RAM_ABOVE_4G_START, mem_size - vm->lowmem,
				  vm->ram + vm->lowmem);
	return ret;
}

static int create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_GPA;

	/* Intel needs these two regions out of the guest's way; harmless elsewhere. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return -errno;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return -errno;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP) < 0)
		return -errno;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->ram_fd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_rwlock_init(&vm->pio.lock, NULL);
	pthread_rwlock_init(&vm->mmio.lock, NULL);
	vm->exit_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = vm->exit_event_fd < 0 ? -errno : open_kvm(vm, cfg->kvm_fd);
	if (ret)
		goto fail;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	ret = create_memory(vm, cfg->mem_size);
	if (ret) {
		pr_err("cannot set up %llu MiB of guest memory: %s",
		       (unsigned long long)(cfg->mem_size >> 20), strerror(-ret));
		goto fail;
	}
	ret = create_irqchip(vm);
	if (!ret)
		ret = init_routing(vm);
	if (ret) {
		pr_err("cannot create the in-kernel irqchip/PIT: %s", strerror(-ret));
		goto fail;
	}
	*out = vm;
	return 0;
fail:
	vm_free(vm);
	return ret;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	lazy_free(vm->lazy);	/* before the RAM goes: its thread serves it */
	if (vm->ram)
		munmap(vm->ram, vm->mem_size);
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_event_fd >= 0)
		close(vm->exit_event_fd);
	free(vm->pio.ranges);
	free(vm->mmio.ranges);
	free(vm->cpuid);
	free(vm->state_msrs);
	free(vm->vmm_dirty);
	free(vm->kvm_dirty);
	free(vm->routes);
	free(vm->vcpus);
	free(vm);
}

static const unsigned int irqchip_ids[] = {
	KVM_IRQCHIP_PIC_MASTER,
	KVM_IRQCHIP_PIC_SLAVE,
	KVM_IRQCHIP_IOAPIC,
};

int vm_save_state(struct vm *vm, struct vm_state *st)
{
	struct kvm_irqchip *chips[] = { &st->pic_master, &st->pic_slave, &st->ioapic };

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < ARRAY_SIZE(chips); i++) {
		chips[i]->chip_id = irqchip_ids[i];
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, chips[i]) < 0)
			return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &st->pit) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, &st->clock) < 0)
		return -errno;
	return 0;
}

int vm_load_state(struct vm *vm, const struct vm_state *st)
{
	const struct kvm_irqchip *chips[] = { &st->pic_master, &st->pic_slave, &st->ioapic };
	struct kvm_clock_data clock = { .clock = st->clock.clock };

	for (size_t i = 0; i < ARRAY_SIZE(chips); i++) {
		if (chips[i]->chip_id != irqchip_ids[i])
			return -EINVAL;	/* a state from somewhere else: refuse, do not guess */
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, chips[i]) < 0)
			return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &st->pit) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return -errno;
	return 0;
}

void vm_request_exit(struct vm *vm, enum domus_vmm_exit status, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&vm->exit_lock);
	if (!vm->exit_requested) {
		vm->exit_requested = true;
		vm->exit_status = status;
		va_start(ap, fmt);
		vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
		va_end(ap);
		if (status == DOMUS_EXIT_POWEROFF && vm->reboot_on_poweroff) {
			vm->exit_status = DOMUS_EXIT_REBOOT;
			snprintf(vm->exit_reason, sizeof(vm->exit_reason),
				 "guest shut down for the reboot a control client asked for");
		}
	}
	pthread_mutex_unlock(&vm->exit_lock);
	if (write(vm->exit_event_fd, &one, sizeof(one)) < 0)
		pr_warn("cannot wake the main loop: %s", strerror(errno));
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (end < gpa)
		return NULL;
	if (end <= vm->lowmem)
		return vm->ram + gpa;
	if (gpa >= RAM_ABOVE_4G_START && end - RAM_ABOVE_4G_START <= vm->mem_size - vm->lowmem)
		return vm->ram + vm->lowmem + (gpa - RAM_ABOVE_4G_START);
	return NULL;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm_irq_pulse(struct vm *vm, uint32_t gsi)
{
	int ret = vm_irq_line(vm, gsi, 1);

	return ret ? ret : vm_irq_line(vm, gsi, 0);
}

#define NR_IRQCHIP_GSIS 24
#define MAX_ROUTES 1024

/* KVM's own default table: GSI n -> IOAPIC pin n, and GSI 0-15 -> the two PICs too. */
static int init_routing(struct vm *vm)
{
	vm->routes = calloc(MAX_ROUTES, sizeof(*vm->routes));
	if (!vm->routes)
		return -ENOMEM;
	pthread_mutex_init(&vm->routing_lock, NULL);
	for (uint32_t gsi = 0; gsi < NR_IRQCHIP_GSIS; gsi++) {
		vm->routes[vm->nr_routes++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi },
		};
		if (gsi < 16)
			vm->routes[vm->nr_routes++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						       KVM_IRQCHIP_PIC_SLAVE, gsi % 8 },
			};
	}
	vm->next_msi_gsi = NR_IRQCHIP_GSIS;
	return 0;
}

/* Called with routing_lock held. */
static int commit_routing(struct vm *vm)
{
	size_t size = sizeof(struct kvm_irq_routing) + vm->nr_routes * sizeof(*vm->routes);
	struct kvm_irq_routing *r __free = calloc(1, size);

	if (!r)
		return -ENOMEM;
	r->nr = vm->nr_routes;
	memcpy(r->entries, vm->routes, vm->nr_routes * sizeof(*vm->routes));
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		return -errno;
	return 0;
}

int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&vm->routing_lock);
	for (unsigned int i = 0; i < vm->nr_routes; i++) {
		struct kvm_irq_routing_entry *e = &vm->routes[i];

		if (e->gsi != gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		if (e->u.msi.address_lo == (uint32_t)addr && e->u.msi.address_hi == addr >> 32 &&
		    e->u.msi.data == data) {
			ret = 0;	/* unchanged: Linux rewrites entries often */
			break;
		}
		e->u.msi.address_lo = addr;
		e->u.msi.address_hi = addr >> 32;
		e->u.msi.data = data;
		ret = commit_routing(vm);
		break;
	}
	pthread_mutex_unlock(&vm->routing_lock);
	return ret;
}

int vm_msi_irqfd_create(struct vm *vm, int *fd_out)
{
	struct kvm_irqfd irqfd = {};
	int gsi, fd, ret;

	pthread_mutex_lock(&vm->routing_lock);
	if (vm->nr_routes == MAX_ROUTES) {
		pthread_mutex_unlock(&vm->routing_lock);
		return -ENOSPC;
	}
	gsi = vm->next_msi_gsi++;
	/* Until the guest programs the vector it points nowhere useful; it is never raised. */
	vm->routes[vm->nr_routes++] = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI, .u.msi = { .address_lo = LAPIC_GPA },
	};
	ret = commit_routing(vm);
	pthread_mutex_unlock(&vm->routing_lock);
	if (ret)
		return ret;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	irqfd.fd = fd;
	irqfd.gsi = gsi;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return gsi;
}

/* Index of the first range whose end is above @addr (binary search). */
static size_t io_bus_find(const struct io_bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (bus->ranges[mid].base + bus->ranges[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn,
		    void *opaque)
{
	size_t i;
	int ret = 0;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = io_bus_find(bus, base);
	if (i < bus->nr && bus->ranges[i].base < base + len) {
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct io_range){ base, len, fn, opaque };
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = io_bus_find(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base && bus->ranges[i].opaque == opaque) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool io_bus_access(struct io_bus *bus, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
		   unsigned int len, bool is_write)
{
	struct io_range *r = NULL;
	size_t i;

	pthread_rwlock_rdlock(&bus->lock);
	i = io_bus_find(bus, addr);
	if (i < bus->nr && bus->ranges[i].base <= addr &&
	    addr + len <= bus->ranges[i].base + bus->ranges[i].len)
		r = &bus->ranges[i];
	if (r)
		r->fn(r->opaque, vcpu_id, addr, data, len, is_write);
	pthread_rwlock_unlock(&bus->lock);
	if (!r) {
		__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
		if (!is_write)
			memset(data, 0xff, len);
	}
	return r != NULL;
}

/* --- dirty tracking (live migration) --- */

#define PAGE_SHIFT_4K 12

static uint64_t bitmap_words(uint64_t pages)
{
	return (pages + 63) / 64;
}

/* Slot 0 maps the RAM file from page 0, slot 1 (above 4 GiB) from the end of low memory. */
static int log_slots(struct vm *vm, uint32_t flags)
{
	int ret = set_memslot_flags(vm, 0, 0, vm->lowmem, vm->ram, flags);

	if (!ret && vm->mem_size > vm->lowmem)
		ret = set_memslot_flags(vm, 1, RAM_ABOVE_4G_START, vm->mem_size - vm->lowmem,
					vm->ram + vm->lowmem, flags);
	return ret;
}

int vm_dirty_start(struct vm *vm)
{
	uint64_t words = bitmap_words(vm->mem_size >> PAGE_SHIFT_4K);
	int ret;

	if (!vm->vmm_dirty)
		vm->vmm_dirty = calloc(words, sizeof(uint64_t));
	if (!vm->kvm_dirty)
		vm->kvm_dirty = calloc(words, sizeof(uint64_t));
	if (!vm->vmm_dirty || !vm->kvm_dirty)
		return -ENOMEM;
	memset(vm->vmm_dirty, 0, words * sizeof(uint64_t));
	__atomic_store_n(&vm->dirty_on, true, __ATOMIC_RELEASE);
	ret = log_slots(vm, KVM_MEM_LOG_DIRTY_PAGES);
	if (ret)
		vm_dirty_stop(vm);
	return ret;
}

void vm_dirty_stop(struct vm *vm)
{
	__atomic_store_n(&vm->dirty_on, false, __ATOMIC_RELEASE);
	if (log_slots(vm, 0))
		pr_warn("cannot switch KVM's dirty logging off: %m");
}

void vm_mark_dirty_slow(struct vm *vm, const void *hva, size_t len)
{
	uint64_t off = (const uint8_t *)hva - vm->ram;

	if ((const uint8_t *)hva < vm->ram || off >= vm->mem_size || !len)
		return;
	if (len > vm->mem_size - off)
		len = vm->mem_size - off;
	for (uint64_t p = off >> PAGE_SHIFT_4K; p <= (off + len - 1) >> PAGE_SHIFT_4K; p++)
		__atomic_or_fetch(&vm->vmm_dirty[p / 64], 1ULL << (p % 64), __ATOMIC_RELAXED);
}

/* OR one slot's log (KVM clears it as it hands it out) into @bitmap at page @first. */
static int collect_slot(struct vm *vm, uint32_t slot, uint64_t first, uint64_t pages,
			uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = vm->kvm_dirty };

	memset(vm->kvm_dirty, 0, bitmap_words(pages) * sizeof(uint64_t));
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	for (uint64_t p = 0; p < pages; p++)
		if (vm->kvm_dirty[p / 64] & (1ULL << (p % 64)))
			bitmap[(first + p) / 64] |= 1ULL << ((first + p) % 64);
	return 0;
}

int vm_dirty_collect(struct vm *vm, uint64_t *bitmap)
{
	uint64_t low = vm->lowmem >> PAGE_SHIFT_4K, all = vm->mem_size >> PAGE_SHIFT_4K;
	int ret = collect_slot(vm, 0, 0, low, bitmap);

	if (!ret && all > low)
		ret = collect_slot(vm, 1, low, all - low, bitmap);
	for (uint64_t w = 0; !ret && w < bitmap_words(all); w++)
		bitmap[w] |= __atomic_exchange_n(&vm->vmm_dirty[w], 0, __ATOMIC_RELAXED);
	return ret;
}
