// SPDX-License-Identifier: GPL-2.0-or-later
/* Test device for tiny guests: exit codes, reports, interrupt pulses, an MMIO scratch page. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "log.h"
#include "testdev.h"
#include "vm.h"

#define TESTDEV_NR_GSIS 24	/* IOAPIC pins */

struct testdev {
	struct vm *vm;
	pthread_mutex_t lock;	/* protects scratch and mmio_writes */
	uint8_t scratch[8];
	uint32_t mmio_writes;
};

static uint32_t value_of(const uint8_t *data, unsigned int len)
{
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	return v;
}

static void testdev_pio(void *opaque, unsigned int vcpu_id, uint64_t port, uint8_t *data,
			unsigned int len, bool is_write)
{
	struct testdev *td = opaque;
	uint32_t v = value_of(data, len);

	if (!is_write) {
		memset(data, 0xff, len);
		if (port == PORT_TESTDEV_REPORT)
			memcpy(data, &vcpu_id, len < 4 ? len : 4);
		return;
	}
	switch (port) {
	case PORT_TESTDEV_EXIT:
		pr_info("testdev: exit %u", v);
		vm_request_exit(td->vm, DOMUS_EXIT_TEST_BASE + (v & 63), "test device exit %u", v);
		break;
	case PORT_TESTDEV_REPORT:
		pr_info("testdev: report vcpu=%u value=0x%x", vcpu_id, v);
		break;
	case PORT_TESTDEV_IRQ:
		if ((v & 0xff) < TESTDEV_NR_GSIS)
			vm_irq_pulse(td->vm, v & 0xff);
		break;
	}
}

static void testdev_mmio(void *opaque, unsigned int vcpu_id, uint64_t addr, uint8_t *data,
			 unsigned int len, bool is_write)
{
	struct testdev *td = opaque;
	uint64_t off = addr - TESTDEV_MMIO_GPA;

	pthread_mutex_lock(&td->lock);
	if (is_write) {
		td->mmio_writes++;
		if (off + len <= sizeof(td->scratch))
			memcpy(&td->scratch[off], data, len);
	} else if (off + len <= sizeof(td->scratch)) {
		memcpy(data, &td->scratch[off], len);
	} else if (off == 8 && len <= 4) {
		memcpy(data, &td->mmio_writes, len);
	} else {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&td->lock);
}

int testdev_create(struct vm *vm, struct testdev **out)
{
	struct testdev *td = calloc(1, sizeof(*td));
	int ret;

	if (!td)
		return -ENOMEM;
	td->vm = vm;
	pthread_mutex_init(&td->lock, NULL);
	ret = io_bus_register(&vm->pio, PORT_TESTDEV_EXIT, 8, testdev_pio, td);
	if (!ret)
		ret = io_bus_register(&vm->mmio, TESTDEV_MMIO_GPA, TESTDEV_MMIO_SIZE, testdev_mmio,
				      td);
	if (ret) {
		testdev_free(td);
		return ret;
	}
	*out = td;
	return 0;
}

void testdev_free(struct testdev *td)
{
	if (!td)
		return;
	pthread_mutex_destroy(&td->lock);
	free(td);
}

void testdev_get_scratch(struct testdev *td, uint8_t scratch[8])
{
	pthread_mutex_lock(&td->lock);
	memcpy(scratch, td->scratch, 8);
	pthread_mutex_unlock(&td->lock);
}

void testdev_set_scratch(struct testdev *td, const uint8_t scratch[8])
{
	pthread_mutex_lock(&td->lock);
	memcpy(td->scratch, scratch, 8);
	pthread_mutex_unlock(&td->lock);
}
