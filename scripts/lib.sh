# shellcheck shell=bash
# Shared by scripts/demo and scripts/test: Debian packages, the build, the guest image.

DOMUS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOMUS_BUILD=${DOMUS_BUILD_DIR:-$DOMUS_TOP/build}

# Everything the build, the guest image, the sandbox and the tests need, from Debian.
DOMUS_PACKAGES=(
	build-essential meson ninja-build pkg-config
	qemu-system-x86 busybox-static cpio kmod zstd xz-utils
	acpica-tools hyperfine time procps python3
	libglib2.0-dev libglib2.0-dev-bin libxml2-dev libxml2-utils libvirt-dev libvirt0
	dbus python3-dbus python3-gi python3-pytest python3-libvirt libvirt-daemon
	xvfb xauth dunst imagemagick virtinst virt-manager
	libtirpc-dev rpcsvc-proto systemd libvirt-clients
	iproute2 e2fsprogs libseccomp-dev
)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
	[[ $(id -u) -eq 0 ]] || die "run this as root: it installs Debian packages with apt-get"
}

install_packages() {
	local missing=()
	for p in "${DOMUS_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	need_root
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed"
}

build_domus() {
	if [[ ! -f $DOMUS_BUILD/build.ninja ]]; then
		say "configuring the build in $DOMUS_BUILD"
		meson setup "$DOMUS_BUILD" "$DOMUS_TOP" >/dev/null || die "meson setup failed"
	fi
	say "building"
	ninja -C "$DOMUS_BUILD" >/dev/null || { ninja -C "$DOMUS_BUILD"; die "build failed"; }
}

build_guest() {
	say "preparing the guest kernels and initramfs (cached in $DOMUS_BUILD/guest)"
	DOMUS_BUILD_DIR=$DOMUS_BUILD "$DOMUS_TOP/tests/guest/build-image" --out "$DOMUS_BUILD/guest" ||
		die "tests/guest/build-image failed"
}

# True when this host's CPU has hardware virtualization (guest kernels run directly).
host_has_hwvirt() {
	grep -qwE 'vmx|svm' /proc/cpuinfo
}
