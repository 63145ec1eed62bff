// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-vmm: one process per domain. Builds the machine (memory, vCPUs, ACPI, devices),
 * loads the kernel, runs the vCPU threads and waits in the main loop for the console, for
 * signals and for the machine to end; the exit status says how it ended (vmm-exit.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

#include <domus/xc.h>

#include "fdarg.h"
#include "config.h"
#include "acpi.h"
#include "boot.h"
#include "control.h"
#include "layout.h"
#include "lifecycle.h"
#include "log.h"
#include "pci.h"
#include "migrate.h"
#include "pm.h"
#include "save.h"
#include "testdev.h"
#include "uart.h"
#include "vcpu.h"
#include "virtio_balloon.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "syscall_filter.h"
#include "virtio_rng.h"
#include "vm.h"

#define DEFAULT_MEM_SIZE	(256ULL << 20)
#define MIN_MEM_SIZE		(2ULL << 20)
#define MAX_VCPUS		255	/* xAPIC ids in the MADT */
#define DEFAULT_CMDLINE		"console=ttyS0 panic=-1"

int log_verbose;
static struct ctl_config control_cfg = { .listen_fd = -1 };
static struct ctl_server *control;

/* How the process lives around the machine (lifecycle.h). */
static struct {
	bool restart_on_reboot;		/* --on-reboot restart */
	int exit_fd;			/* --exit-fd: where the exit record goes, or -1 */
	struct vcpu_pin *pins;		/* --vcpu-pin */
	unsigned int nr_pins;
	bool no_seccomp;		/* --no-seccomp */
} life = { .exit_fd = -1 };

/* --restore and --paused (save.h, docs/savestate.md). */
static struct restore_opts {
	const char *arg;		/* FILE or fd=N */
	bool paused;			/* start with the vCPUs paused */
	bool incoming;			/* --incoming: a migration stream, then the handshake */
	bool eager;			/* --restore-eager: no lazy restore (lazy.h) */
	bool mem_given, vcpus_given;	/* must then match the saved machine */
} restore_opts;

struct mapped_file {
	void *data;
	size_t size;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: domus-vmm --kernel PATH [options]\n"
		"Run one virtual machine (a Domus domain) on /dev/kvm.\n"
		"\n"
		"  -k, --kernel PATH      Linux bzImage, or an ELF64 image (tiny test guests);\n"
		"                         fd=N for an inherited descriptor\n"
		"  -i, --initrd PATH      initial ramdisk for a Linux kernel (or fd=N)\n"
		"  -c, --cmdline STRING   kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
		"  -m, --memory SIZE      guest RAM: bytes with a K, M or G suffix, a plain number\n"
		"                         is MiB (default 256M)\n"
		"  -p, --vcpus N          number of vCPUs, 1-%d (default 1)\n"
		"      --console KIND     where the serial console (COM1) goes: stdio (default),\n"
		"                         file:PATH (append), pty (path printed on stderr),\n"
		"                         socket:PATH (Unix socket, one client), none\n"
		"      --disk path=FILE[,readonly=on][,serial=S]\n"
		"                         a virtio disk (VBD) backed by a raw image or block\n"
		"                         device; fd=N instead of path= for an inherited fd;\n"
		"                         repeat for more disks (vda, vdb, ... in order)\n"
		"      --net tap=NAME[,mac=MAC][,bridge=BR]\n"
		"                         a virtio NIC (VIF) on the tap NAME (created if needed),\n"
		"                         attached to bridge BR if given; fd=N instead of tap=\n"
		"                         for an inherited tap fd; repeat for more NICs\n"
		"      --rng              a virtio entropy device fed from the host's getrandom\n"
		"      --balloon [target=SIZE]\n"
		"                         a virtio memory balloon asking the guest to keep SIZE\n"
		"                         of its memory (default: all of it)\n"
		"      --control PATH     serve the control protocol (libxc, domus-xc) on a Unix\n"
		"                         socket at PATH, mode 0600, removed at exit\n"
		"      --control-fd N     serve it on the inherited listening socket N\n"
		"      --on-reboot ACTION exit (default: exit status 2) or restart: build the\n"
		"                         machine afresh in the same process when the guest\n"
		"                         reboots or a control client resets it\n"
		"      --vcpu-pin I=CPUS  run vCPU I only on the host CPUs CPUS (\"0-3,6\")\n"
		"      --kvm-fd N         use the inherited /dev/kvm descriptor N\n"
		"      --exit-fd N        write how the machine ended (the exit record) to the\n"
		"                         inherited file N\n"
		"      --restore FILE     continue a saved domain (a file from the control\n"
		"                         protocol's SAVE; fd=N for an inherited descriptor)\n"
		"                         with the same device options; no --kernel. From a\n"
		"                         file the memory is read as the guest touches it\n"
		"      --restore-eager    ... or all of it before the guest runs\n"
		"      --incoming fd=N    receive a live migration on the inherited socket N\n"
		"                         (control MIGRATE_SEND on the source); device options\n"
		"                         as for --restore\n"
		"      --paused           start with the vCPUs paused (control UNPAUSE runs them)\n"
		"      --no-seccomp       do not install the seccomp filter that denies the\n"
		"                         system calls a VMM never needs (docs/domus-vmm.md)\n"
		"      --test-device      enable the test device used by tiny test guests\n"
		"      --allow-no-hwvirt  boot a kernel even where the CPU has no vmx/svm\n"
		"  -v, --verbose          more messages on stderr\n"
		"  -h, --help             this help\n"
		"  -V, --version          print the version\n"
		"\n"
		"On the stdio console, Ctrl-A x stops the machine, Ctrl-A p presses the power\n"
		"button, Ctrl-A Ctrl-A sends Ctrl-A. SIGTERM or SIGINT presses the ACPI power\n"
		"button (the guest shuts down); a second one stops the machine at once.\n"
		"\n"
		"Exit status: 0 the guest powered off, 1 host error or bad usage, 2 the guest\n"
		"rebooted, 3 the guest crashed (triple fault, KVM internal error), 4 stopped by\n"
		"the host or saved, 64+N the test device's exit N.\n",
		MAX_VCPUS);
}

static int parse_disk(struct vm_config *cfg, const char *arg)
{
	char err[256] = "";

	if (cfg->nr_disks == VM_MAX_DISKS) {
		pr_err("--disk %s: at most %d disks", arg, VM_MAX_DISKS);
		return -1;
	}
	if (vblk_parse_option(arg, &cfg->disks[cfg->nr_disks], err, sizeof(err))) {
		pr_err("--disk %s: %s", arg, err);
		return -1;
	}
	cfg->nr_disks++;
	return 0;
}

/* --balloon [target=SIZE]; SIZE as for --memory, whole pages. */
static int parse_balloon(struct vm_config *cfg, const char *arg)
{
	cfg->balloon = true;
	cfg->balloon_target = 0;
	if (!arg || !*arg)
		return 0;
	if (strncmp(arg, "target=", 7) || xc_parse_size(arg + 7, &cfg->balloon_target) ||
	    !cfg->balloon_target || (cfg->balloon_target & 0xfff)) {
		pr_err("--balloon %s: expected target=SIZE in whole pages, like target=128M", arg);
		return -1;
	}
	return 0;
}

static int parse_net(struct vm_config *cfg, const char *arg)
{
	char err[256] = "";

	if (cfg->nr_nets == VM_MAX_NICS) {
		pr_err("--net %s: at most %d network interfaces", arg, VM_MAX_NICS);
		return -1;
	}
	if (vnet_parse_option(arg, &cfg->nets[cfg->nr_nets], err, sizeof(err))) {
		pr_err("--net %s: %s", arg, err);
		return -1;
	}
	cfg->nr_nets++;
	return 0;
}

static int parse_pin(const char *arg)
{
	struct vcpu_pin *pins = reallocarray(life.pins, life.nr_pins + 1, sizeof(*pins));

	if (!pins)
		return -1;
	life.pins = pins;
	if (vcpu_pin_parse(arg, &pins[life.nr_pins])) {
		pr_err("--vcpu-pin %s: expected VCPU=CPULIST, like 0=2 or 1=0-3,6", arg);
		return -1;
	}
	life.nr_pins++;
	return 0;
}

static void release_config(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		vblk_config_release(&cfg->disks[i]);
	cfg->nr_disks = 0;
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		vnet_config_release(&cfg->nets[i]);
	cfg->nr_nets = 0;
}

/*
 * Lock every disk image; for @wait_ms retry an image another process holds (the source
 * of a migration, exiting). Return: 0 or -1 (logged).
 */
static int lock_disks(const struct vm_config *cfg, int wait_ms)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		char err[256] = "";
		int ret;

		/* 1 ms steps: a migration's source lets go just after GO (vblk_hand_over). */
		for (int waited = 0;; waited++) {
			ret = vblk_config_lock(&cfg->disks[i], err, sizeof(err));
			if (ret != -EBUSY || waited >= wait_ms)
				break;
			usleep(1000);
		}
		if (ret) {
			if (wait_ms)
				pr_warn("--disk: %s", err);
			else
				pr_err("--disk: %s", err);
			return -1;
		}
	}
	return 0;
}

/* Parse argv into @cfg. Return: 0, 1 to exit successfully (help), -1 on a usage error. */
static int parse_args(int argc, char **argv, struct vm_config *cfg)
{
	enum { OPT_CONSOLE = 256, OPT_TEST_DEVICE, OPT_ALLOW_NO_HWVIRT, OPT_DISK, OPT_RNG,
	       OPT_BALLOON, OPT_NET };
	enum { OPT_CONTROL = 512, OPT_CONTROL_FD, OPT_ON_REBOOT, OPT_VCPU_PIN,
	       OPT_KVM_FD, OPT_EXIT_FD };
	enum { OPT_RESTORE = 768, OPT_PAUSED, OPT_INCOMING, OPT_RESTORE_EAGER, OPT_NO_SECCOMP,
	       OPT_CONSOLE_FDS };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'p' },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "console-fds", required_argument, NULL, OPT_CONSOLE_FDS },	/* restart only */
		{ "test-device", no_argument, NULL, OPT_TEST_DEVICE },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "balloon", optional_argument, NULL, OPT_BALLOON },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
		{ "allow-no-hwvirt", no_argument, NULL, OPT_ALLOW_NO_HWVIRT },
		{ "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
		{ "vcpu-pin", required_argument, NULL, OPT_VCPU_PIN },
		{ "kvm-fd", required_argument, NULL, OPT_KVM_FD },
		{ "exit-fd", required_argument, NULL, OPT_EXIT_FD },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "paused", no_argument, NULL, OPT_PAUSED },
		{ "restore-eager", no_argument, NULL, OPT_RESTORE_EAGER },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c;

	*cfg = (struct vm_config){ .cmdline = DEFAULT_CMDLINE, .mem_size = DEFAULT_MEM_SIZE,
				   .nr_vcpus = 1, .kvm_fd = -1 };
	while ((c = getopt_long(argc, argv, "k:i:c:m:p:vhV", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'k': cfg->kernel = optarg; break;
		case OPT_RESTORE: restore_opts.arg = optarg; break;
		case OPT_PAUSED: restore_opts.paused = true; break;
		case OPT_RESTORE_EAGER: restore_opts.eager = true; break;
		case OPT_NO_SECCOMP: life.no_seccomp = true; break;
		case OPT_INCOMING:
			if (strncmp(optarg, "fd=", 3)) {
				pr_err("--incoming %s: expected fd=N, a connected socket", optarg);
				return -1;
			}
			restore_opts.arg = optarg;
			restore_opts.incoming = true;
			break;
		case 'i': cfg->initrd = optarg; break;
		case 'c': cfg->cmdline = optarg; break;
		case 'm':
			if (xc_parse_size(optarg, &cfg->mem_size) || cfg->mem_size < MIN_MEM_SIZE ||
			    (cfg->mem_size & 0xfff)) {
				pr_err("--memory %s: expected a size of at least 2M in whole pages, "
				       "like 256M or 1G", optarg);
				return -1;
			}
			restore_opts.mem_given = true;
			break;
		case 'p':
			cfg->nr_vcpus = strtoul(optarg, &end, 10);
			if (*end || !*optarg || cfg->nr_vcpus < 1 || cfg->nr_vcpus > MAX_VCPUS) {
				pr_err("--vcpus %s: expected a number from 1 to %d", optarg,
				       MAX_VCPUS);
				return -1;
			}
			restore_opts.vcpus_given = true;
			break;
		case OPT_CONSOLE:
			if (console_parse(optarg, &cfg->console)) {
				pr_err("--console %s: expected stdio, file:PATH, pty, socket:PATH "
				       "or none", optarg);
				return -1;
			}
			break;
		case OPT_CONSOLE_FDS:
			if (console_parse_fds(optarg, &cfg->console)) {
				pr_err("--console-fds %s: expected two open descriptors A,B (given "
				       "by a restart, not by hand)", optarg);
				return -1;
			}
			break;
		case OPT_TEST_DEVICE: cfg->test_device = true; break;
		case OPT_RNG: cfg->rng = true; break;
		case OPT_BALLOON:
			/* "--balloon target=128M" as well as "--balloon=target=128M". */
			if (!optarg && optind < argc && !strncmp(argv[optind], "target=", 7))
				optarg = argv[optind++];
			if (parse_balloon(cfg, optarg))
				return -1;
			break;
		case OPT_DISK:
			if (parse_disk(cfg, optarg))
				return -1;
			break;
		case OPT_NET:
			if (parse_net(cfg, optarg))
				return -1;
			break;
		case OPT_CONTROL: control_cfg.path = optarg; break;
		case OPT_CONTROL_FD:
			if (fdarg_parse(optarg, &control_cfg.listen_fd)) {
				pr_err("--control-fd %s: expected a file descriptor number", optarg);
				return -1;
			}
			break;
		case OPT_ALLOW_NO_HWVIRT: cfg->allow_no_hwvirt = true; break;
		case OPT_ON_REBOOT:
			if (strcmp(optarg, "exit") && strcmp(optarg, "restart")) {
				pr_err("--on-reboot %s: expected exit or restart", optarg);
				return -1;
			}
			life.restart_on_reboot = !strcmp(optarg, "restart");
			break;
		case OPT_VCPU_PIN:
			if (parse_pin(optarg))
				return -1;
			break;
		case OPT_KVM_FD:
		case OPT_EXIT_FD:
			if (fdarg_parse(optarg, c == OPT_KVM_FD ? &cfg->kvm_fd : &life.exit_fd) ||
			    fcntl(c == OPT_KVM_FD ? cfg->kvm_fd : life.exit_fd, F_GETFD) < 0) {
				pr_err("--%s %s: expected an open file descriptor",
				       c == OPT_KVM_FD ? "kvm-fd" : "exit-fd", optarg);
				return -1;
			}
			break;
		case 'v': log_verbose = 1; break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("domus-vmm %s\n", DOMUS_VERSION); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	/* With --on-reboot restart they are for the machine after the guest's next reboot. */
	if (restore_opts.arg && (cfg->kernel || cfg->initrd) && !life.restart_on_reboot) {
		pr_err("%s continues a saved domain: --kernel and --initrd do not apply (but "
		       "for the reboot, with --on-reboot restart)",
		       restore_opts.incoming ? "--incoming" : "--restore");
		return -1;
	}
	if (!cfg->kernel && !restore_opts.arg) {
		pr_err("no kernel given: use --kernel PATH (see --help)");
		return -1;
	}
	if (restore_opts.paused && !control_cfg.path && control_cfg.listen_fd < 0) {
		pr_err("--paused needs --control or --control-fd: nothing could unpause it");
		return -1;
	}
	/* An incoming domain's disks are still the source's: locked after the handshake. */
	return restore_opts.incoming ? 0 : lock_disks(cfg, 0);
}

/* "fd=N": a descriptor libxc opened for us (the VMM may not be allowed to open the path). */
static int open_file(const char *path)
{
	int fd;

	if (strncmp(path, "fd=", 3))
		return open(path, O_RDONLY | O_CLOEXEC);
	if (fdarg_parse(path + 3, &fd)) {
		errno = EINVAL;
		return -1;
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static int map_file(const char *path, const char *what, struct mapped_file *f)
{
	struct stat st;
	int fd __close = open_file(path);

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("cannot open %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		pr_err("%s %s is not a regular, non-empty file", what, path);
		return -EINVAL;
	}
	f->size = st.st_size;
	f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->data == MAP_FAILED) {
		f->data = NULL;
		pr_err("cannot map %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->size);
}

/* Without vmx/svm, KVM emulates every guest kernel-mode instruction: Linux cannot boot. */
static bool host_has_hwvirt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];
	bool found = false;

	if (!f)
		return true;	/* cannot tell: do not stand in the way */
	while (!found && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm");
	}
	fclose(f);
	return found;
}

static int load_kernel(struct vm *vm, const struct vm_config *cfg, struct boot_entry *entry)
{
	struct mapped_file kernel = {}, initrd = {};
	char err[BOOT_ERR_MAX] = "";
	int ret;

	ret = map_file(cfg->kernel, "kernel", &kernel);
	if (ret)
		return ret;
	if (boot_is_elf(kernel.data, kernel.size)) {
		if (cfg->initrd)
			pr_warn("--initrd is ignored for an ELF image");
		ret = boot_load_elf(vm->ram, vm->mem_size, kernel.data, kernel.size, entry, err);
	} else {
		if (!host_has_hwvirt() && !cfg->allow_no_hwvirt) {
			pr_err("this host's CPU has no hardware virtualization (no vmx/svm flag): "
			       "KVM would emulate every kernel-mode instruction, so an unmodified "
			       "Linux kernel cannot run here (use a host with VT-x/AMD-V, or the "
			       "tests/hwvirt sandbox; --allow-no-hwvirt tries anyway)");
			ret = -ENOTSUP;
			goto out;
		}
		ret = cfg->initrd ? map_file(cfg->initrd, "initrd", &initrd) : 0;
		if (!ret)
			ret = boot_load_linux(vm->ram, vm->mem_size, kernel.data, kernel.size,
					      cfg->cmdline, initrd.data, initrd.size, ACPI_GPA,
					      entry, err);
	}
	if (ret && err[0])
		pr_err("cannot load %s: %s", cfg->kernel, err);
out:
	unmap_file(&initrd);
	unmap_file(&kernel);
	return ret;
}

static int build_acpi(struct vm *vm)
{
	struct acpi_config acfg = {
		.nr_vcpus = vm->nr_vcpus,
		.pm_port = PORT_ACPI_PM,
		.reset_value = ACPI_RESET_VALUE,
		.s5_slp_typ = ACPI_S5_SLP_TYP,
		.ged_gsi = GSI_GED,
		.com1_gsi = GSI_COM1,
		.ioapic_addr = IOAPIC_GPA,
		.lapic_addr = LAPIC_GPA,
		.pci_mmio32_base = PCI_MMIO32_START,
		.pci_mmio32_size = PCI_MMIO32_SIZE,
		.pci_mmio64_base = ALIGN_UP(RAM_ABOVE_4G_START + vm->mem_size, 1ULL << 30),
		.pci_mmio64_size = PCI_MMIO64_SIZE,
		.pci_slots = PCI_MAX_SLOTS - 1,
		.pci_first_gsi = GSI_PCI_FIRST,
	};
	ssize_t n = acpi_build_tables(&acfg, vm->ram + ACPI_GPA, ACPI_SIZE, ACPI_GPA);

	if (n < 0) {
		pr_err("cannot build the ACPI tables: %s", strerror((int)-n));
		return (int)n;
	}
	return 0;
}

/* Virtio devices take PCI slots in this order: disks, NICs as given, the rng, the balloon. */
static int create_virtio_devices(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		ret = vblk_create(vm, &cfg->disks[i], &vm->disks[i]);
		if (ret) {
			pr_err("cannot create disk %s: %s",
			       cfg->disks[i].path ? cfg->disks[i].path : "(fd)", strerror(-ret));
			return ret;
		}
		vm->nr_disks++;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		ret = vnet_create(vm, &cfg->nets[i], &vm->nets[i]);
		if (ret) {
			pr_err("cannot create network interface %s: %s", cfg->nets[i].ifname,
			       strerror(-ret));
			return ret;
		}
		vm->nr_nets++;
	}
	if (cfg->rng) {
		ret = vrng_create(vm, &vm->rng);
		if (ret) {
			pr_err("cannot create the rng device: %s", strerror(-ret));
			return ret;
		}
	}
	if (cfg->balloon) {
		ret = vballoon_create(vm, cfg->balloon_target ? : cfg->mem_size, &vm->balloon);
		if (ret == -ERANGE)
			pr_err("--balloon: the target is more than the guest's %llu MiB",
			       (unsigned long long)(cfg->mem_size >> 20));
		else if (ret)
			pr_err("cannot create the balloon device: %s", strerror(-ret));
		if (ret)
			return ret;
	}
	return 0;
}

static int create_devices(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	ret = console_open(&cfg->console, &vm->console);
	if (ret) {
		pr_err("cannot open the console (%s): %s",
		       cfg->console.path ? cfg->console.path : "stdio", strerror(-ret));
		return ret;
	}
	ret = uart_create(vm, PORT_COM1, GSI_COM1, &vm->uart);
	if (!ret)
		ret = pci_bus_create(vm, &vm->pci);
	if (!ret)
		ret = pm_create(vm, &vm->pm);
	if (!ret && cfg->test_device)
		ret = testdev_create(vm, &vm->testdev);
	if (ret) {
		pr_err("cannot create the devices: %s", strerror(-ret));
		return ret;
	}
	return create_virtio_devices(vm, cfg);
}

static int create_vcpus(struct vm *vm, const struct boot_entry *entry)
{
	int ret;

	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, i, &vm->vcpus[i]);
		if (!ret)
			ret = vcpu_setup(vm->vcpus[i], entry);
		if (ret) {
			pr_err("cannot set up vcpu %u: %s", i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void deliver_console_input(void *opaque, const char *buf, size_t len)
{
	struct vm *vm = opaque;
	size_t taken = uart_receive(vm->uart, buf, len);

	if (taken < len)
		pr_debug("console input: UART FIFO full, %zu bytes dropped", len - taken);
}

static void shutdown_request(struct vm *vm, int *presses, const char *why)
{
	if ((*presses)++) {
		vm_request_exit(vm, DOMUS_EXIT_STOPPED, "stopped by the host (%s)", why);
		return;
	}
	pr_info("%s: pressing the ACPI power button (again to stop at once)", why);
	if (pm_press_power_button(vm->pm))
		vm_request_exit(vm, DOMUS_EXIT_HOST_ERROR, "cannot press the power button");
}

static void handle_signal(struct vm *vm, int sfd, int *presses)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	shutdown_request(vm, presses, strsignal(si.ssi_signo));
}

static void handle_console(struct vm *vm, int fd, int *presses)
{
	switch (console_read_input(vm->console, fd, deliver_console_input, vm)) {
	case CONSOLE_CMD_QUIT:
		vm_request_exit(vm, DOMUS_EXIT_STOPPED, "stopped from the console (Ctrl-A x)");
		break;
	case CONSOLE_CMD_POWER_BUTTON:
		*presses = 0;
		shutdown_request(vm, presses, "console (Ctrl-A p)");
		break;
	case CONSOLE_CMD_NONE:
		break;
	}
}

/*
 * Guest RAM is a memfd mapped MAP_NORESERVE: nothing would stop a size the host can never
 * back until the guest touches it and the OOM killer comes. More than the host's RAM and
 * swap together (a typo like 64T, or a crafted saved state) is refused up front.
 */
static int check_mem_size(uint64_t size, const char *what)
{
	struct sysinfo si;
	uint64_t host;

	if (sysinfo(&si) < 0)
		return 0;
	host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
	if (size <= host)
		return 0;
	pr_err("%s: %llu MiB of guest RAM is more than this host has (%llu MiB of RAM and swap)",
	       what, (unsigned long long)(size >> 20), (unsigned long long)(host >> 20));
	return -1;
}

/* --restore's stream, from its MACHINE record until the machine is built. */
struct restore_src {
	int fd;
	char name[64];
	struct ss_reader r;
	struct restore_machine rm;
};

/* Open FILE or fd=N and read what the machine must look like; adjust @cfg to it. */
static int restore_open(struct vm_config *cfg, struct restore_src *src)
{
	const char *arg = restore_opts.arg;
	int ret;

	if (!strncmp(arg, "fd=", 3)) {
		char err[64];

		if (fdarg_adopt(arg + 3, &src->fd, err, sizeof(err)) < 0) {
			pr_err("--restore: %s", err);
			return -EBADF;
		}
	} else if ((src->fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0) {
		pr_err("--restore %s: %s", arg, strerror(errno));
		return -errno;
	}
	snprintf(src->name, sizeof(src->name), "%s", arg);
	if (restore_opts.incoming) {
		/* A source that stops sending must not leave us waiting for ever. */
		struct timeval tmo = { .tv_sec = SS_RECV_TIMEOUT_S };

		if (setsockopt(src->fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0) {
			pr_err("--incoming %s: not a connected socket (%s)", arg, strerror(errno));
			return -ENOTSOCK;
		}
	}
	ss_reader_init(&src->r, src->fd, src->name);
	ret = restore_begin(&src->r, &src->rm);
	if (ret) {
		pr_err("cannot restore: %s", src->r.err);
		return ret;
	}
	if ((restore_opts.mem_given && cfg->mem_size != src->rm.m.mem_size) ||
	    (restore_opts.vcpus_given && cfg->nr_vcpus != src->rm.m.nr_vcpus)) {
		pr_err("cannot restore: %s holds a machine with %llu MiB and %u vCPUs; --memory "
		       "and --vcpus may be left out, but not differ", arg,
		       (unsigned long long)(src->rm.m.mem_size >> 20), src->rm.m.nr_vcpus);
		return -EINVAL;
	}
	cfg->mem_size = src->rm.m.mem_size;
	cfg->nr_vcpus = src->rm.m.nr_vcpus;
	return 0;
}

/* When the restored machine was complete, and when it may run (the incoming's GO). */
static struct timespec t_main, t_end, t_go, t_ctl, t_seccomp;

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static int restore_run(struct vm *vm, const struct vm_config *cfg, struct restore_src *src)
{
	struct timespec t0, t1;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = restore_machine(vm, &src->r, &src->rm, restore_opts.eager);
	if (ret) {
		pr_err("cannot restore: %s", src->r.err);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t_end);
	if (restore_opts.incoming) {
		char err[256];

		ret = migrate_incoming_confirm(src->fd, err, sizeof(err));
		if (ret) {
			pr_err("incoming migration: %s", err);
			return ret;
		}
		/*
		 * The source has let go of the domain and is ending: its locks go with it.
		 * Should one outlive the wait, run unlocked rather than lose the domain.
		 */
		clock_gettime(CLOCK_MONOTONIC, &t_go);
		if (lock_disks(cfg, MIGRATE_DISK_WAIT_MS))
			pr_warn("running the migrated domain with that image unlocked");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("%s %s (%llu MiB of stream, written by domus-vmm %s) in %lld ms",
		restore_opts.incoming ? "migration received on" : "restored from", src->name,
		(unsigned long long)(src->r.offset >> 20), src->rm.m.vmm_version,
		(long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return 0;
}

static void restore_close(struct restore_src *src)
{
	ss_reader_release(&src->r);
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

/* The VMM thread: wait for signals, console input and the end of the machine. */
static void main_loop(struct vm *vm, int sfd)
{
	int presses = 0;

	for (;;) {
		struct console *con = vm->console;
		struct pollfd fds[4 + CTL_MAX_POLLFDS] = {
			{ .fd = vm->exit_event_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = con->in_fd, .events = POLLIN },
			{ .fd = con->listen_fd, .events = POLLIN },
		};
		unsigned int nctl = ctl_poll_fill(control, fds + 4);

		if (poll(fds, 4 + nctl, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (fds[1].revents)
			handle_signal(vm, sfd, &presses);
		for (int i = 2; i < 4; i++)
			if (fds[i].revents)
				handle_console(vm, fds[i].fd, &presses);
		ctl_poll_dispatch(control, fds + 4, nctl);
	}
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Every thread created from here on inherits the mask: only signalfd sees these. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int run_machine(struct vm *vm, int sfd)
{
	int status;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int ret = vcpu_start_as(vm->vcpus[i],
					restore_opts.paused ? VCPU_PAUSED : VCPU_RUNNING);

		if (ret) {
			vm_request_exit(vm, DOMUS_EXIT_HOST_ERROR, "cannot start vcpu %u: %s", i,
					strerror(-ret));
			break;
		}
	}
	if (restore_opts.arg) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		/* tests/bench/save splits a whole restore with it. */
		pr_info("restore: vCPUs started %.1f ms after the VMM's main()",
			ms_between(&t_main, &now));
	}
	if (restore_opts.incoming) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		pr_info("migration: READY sent, GO %.1f ms later, vCPUs started %.1f ms after GO "
			"(disk locks and control socket %.1f ms, seccomp %.1f ms, vCPU threads "
			"%.1f ms; at %.6f s)", ms_between(&t_end, &t_go), ms_between(&t_go, &now),
			ms_between(&t_go, &t_ctl), ms_between(&t_ctl, &t_seccomp),
			ms_between(&t_seccomp, &now), now.tv_sec + now.tv_nsec / 1e9);
	}
	if (vcpu_pins_apply(vm, life.pins, life.nr_pins))
		vm_request_exit(vm, DOMUS_EXIT_HOST_ERROR, "cannot pin the vCPUs");
	main_loop(vm, sfd);
	ctl_stop_job(control);
	if (life.restart_on_reboot)
		restart_capture_affinity(vm);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_stop(vm->vcpus[i]);
	pthread_mutex_lock(&vm->exit_lock);
	status = vm->exit_requested ? (int)vm->exit_status : DOMUS_EXIT_HOST_ERROR;
	if (status == DOMUS_EXIT_HOST_ERROR || status == DOMUS_EXIT_CRASH)
		pr_err("%s", vm->exit_reason[0] ? vm->exit_reason : "main loop failed");
	else
		pr_info("%s", vm->exit_reason);
	pthread_mutex_unlock(&vm->exit_lock);
	return status;
}

static void write_exit_record(struct vm *vm, int status)
{
	uint32_t state, reason;

	if (life.exit_fd < 0)
		return;
	ctl_end_state(control, status, &state, &reason);
	if (!vm || !vm->exit_requested) {
		exit_record_write(life.exit_fd, status, reason,
				  "domus-vmm could not build the machine (see its log)");
		return;
	}
	pthread_mutex_lock(&vm->exit_lock);
	exit_record_write(life.exit_fd, status, reason, vm->exit_reason);
	pthread_mutex_unlock(&vm->exit_lock);
}

static void free_machine(struct vm *vm)
{
	if (!vm)
		return;
	for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->nr_disks; i++)
		vblk_free(vm->disks[i]);
	for (unsigned int i = 0; i < vm->nr_nets; i++)
		vnet_free(vm->nets[i]);
	vrng_free(vm->rng);
	vballoon_free(vm->balloon);
	testdev_free(vm->testdev);
	pm_free(vm->pm);
	pci_bus_free(vm->pci);
	uart_free(vm->uart);
	console_free(vm->console);
	vm_free(vm);
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct boot_entry entry = {};
	struct restore_src rs = { .fd = -1 };
	struct vm *vm = NULL;
	int sfd, status = DOMUS_EXIT_HOST_ERROR;

	clock_gettime(CLOCK_MONOTONIC, &t_main);
	switch (parse_args(argc, argv, &cfg)) {
	case 1:
		release_config(&cfg);
		return 0;
	case 0:
		break;
	default:
		release_config(&cfg);
		return DOMUS_EXIT_HOST_ERROR;
	}
	sfd = block_signals();
	if (sfd < 0 || (restore_opts.arg && restore_open(&cfg, &rs)) ||
	    check_mem_size(cfg.mem_size, restore_opts.arg && !restore_opts.mem_given ?
			   "cannot restore: the saved machine" : "--memory") ||
	    vm_create(&cfg, &vm))
		goto out;
	vm->nr_vcpus = cfg.nr_vcpus;
	if (cpuid_init(vm) || create_devices(vm, &cfg))
		goto out;
	/* A restored machine starts from zeroed RAM: the stream holds everything else. */
	if (restore_opts.arg ? create_vcpus(vm, &entry) || restore_run(vm, &cfg, &rs) :
			       build_acpi(vm) || load_kernel(vm, &cfg, &entry) ||
			       create_vcpus(vm, &entry))
		goto out;
	if (ctl_create(vm, &control_cfg, &control))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t_ctl);
	if (restore_opts.paused) {
		ctl_set_paused(control);
		pr_info("the vCPUs start paused (--paused)");
	}
	/* Built: from here on the guest runs, and the filter holds for every thread. */
	if (!life.no_seccomp && vmm_seccomp_install()) {
		pr_err("(--no-seccomp runs without it)");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t_seccomp);
	status = run_machine(vm, sfd);
	if (status == DOMUS_EXIT_REBOOT && life.restart_on_reboot) {
		ctl_machine_restarting(control);
		restart_exec(vm, argc, argv);	/* returns only on failure: exit status 2 */
	}
	ctl_machine_ended(control, status);
out:
	write_exit_record(vm, status);
	restore_close(&rs);
	control = ctl_free(control);
	free_machine(vm);
	release_config(&cfg);
	return status;
}
