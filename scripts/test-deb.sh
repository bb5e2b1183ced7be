#!/usr/bin/env bash
# The Debian package, built from the tree and installed into a clean Debian bookworm root:
#
#   1. scripts/build-deb.sh: dpkg-buildpackage (debian/) on a copy of the tree (the daemon
#      only: the tests run in scripts/test.sh's own steps);
#   2. lintian on the .deb: no tag of any level except the overrides explained in
#      debian/*.lintian-overrides;
#   3. a bookworm root made by mmdebstrap, cached as build/deb/bookworm.tar (delete it to make
#      a new one; MESHGW_DEB_CACHE=DIR keeps the caches there), unpacked afresh into
#      build/deb/root on every run;
#   4. in it, the package's Depends from Debian's archive (apt), then dpkg -i; the files with
#      their owners and modes, the conffile, the user and the state directory made by the
#      sysusers and tmpfiles entries (the postinst runs them; run again here after the
#      directory is removed), systemd-analyze verify on the unit, and meshgw -n as the
#      meshgw user;
#   5. `systemctl start meshgw` with systemd as PID 1: systemd-nspawn boots the root into a
#      test unit that starts the service and checks it from inside (scripts/test-deb-unit.sh):
#      active, /healthz and the web page answer (the bearer may be down: the packaged hci:0
#      has no controller here, and says so), the sandbox is in effect on the process, the
#      inventory and master key are created 0600, `systemctl stop` ends it with status 0.
#
# Runs as root (mmdebstrap, chroot, unshare, systemd-nspawn).  Prints the time of each part.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
# mmdebstrap, chroot and unshare need root (CI runs as root).
[ "$(id -u)" -eq 0 ] || exec sudo -- "$0" "$@"
scripts/deps.sh deb

work=$top/build/deb
root=$work/root
# The caches (root tarball, downloaded .debs, ccache) live in build/deb unless MESHGW_DEB_CACHE
# names a directory that outlives the tree (a fresh clone starts cold: about 4 minutes more).
cache=$(realpath -m "${MESHGW_DEB_CACHE:-$work}")
export MESHGW_DEB_CACHE=$cache
tarball=$cache/bookworm.tar
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
t0=$SECONDS
mark=$SECONDS
lap() { printf -- '-- %s: %ds\n' "$1" $((SECONDS - mark)); mark=$SECONDS; }
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
mkdir -p "$work" "$cache"

# 1. The package (the file the README's install command names).
# MESHGW_DEB=FILE checks that package instead of building one.
deb=${MESHGW_DEB:-$(scripts/build-deb.sh)}
echo "package: $deb"
readme_deb="./build/deb/meshgw_$(dpkg-deb -f "$deb" Version)_*.deb"
grep -qF "apt-get install $readme_deb" README.md || fail "README does not install $readme_deb"
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
lap "package build"

# 2. lintian: --fail-on reaches down to pedantic (experimental tags are shown too); as root
# it says that it "is not recommended": the package is only read.
lintian --info --display-info --pedantic --display-experimental \
	--fail-on error,warning,info,pedantic "$deb" || fail "lintian"
echo "lintian: clean"
lap "lintian"

# 3. The clean root.
if [ ! -s "$tarball" ]; then
	echo "making the bookworm root (cached as ${tarball#$top/})"
	mmdebstrap --quiet --format=tar --variant=apt --skip=cleanup/apt/lists bookworm "$tarball.tmp" "$mirror"
	mv "$tarball.tmp" "$tarball"
fi
rm -rf "$root"
mkdir -p "$root" "$cache/apt-archives/partial"
tar -xf "$tarball" -C "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/meshgw.deb"
lap "root"

# Runs a script in the root, in a mount namespace of its own (the mounts go with it):
# /proc, /dev, and the .deb cache kept between runs (apt-archives).
in_root() {
	unshare --mount --fork --propagation private bash -euo pipefail -c '
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		mount --bind "$0" "$r/var/cache/apt/archives"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"' \
		"$cache/apt-archives" "$root" "$@"
}

# 4. Install: the Depends first (apt, from Debian's archive; first alternative of each),
# then dpkg -i, which must then configure without help.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/ //g' |
	grep . | tr '\n' ' ')
# systemd itself (the first alternative of the sysusers dependency, named here because step 5
# boots it).
depends="$depends systemd"
echo "Depends from the archive: $depends"
in_root sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $depends \
	>/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }" || fail "apt-get install $depends"
in_root dpkg -i /tmp/meshgw.deb || fail "dpkg -i"
lap "install"

check_stat() { # PATH OWNER:GROUP MODE
	local got
	got=$(in_root stat -c '%U:%G %a' "$1" 2>/dev/null) || fail "$1 missing" # the root's names
	[ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
	echo "ok $1 $got"
}
[ "$(in_root dpkg-query -W -f='${db:Status-Status}' meshgw)" = installed ] || fail "not installed"
check_stat /usr/sbin/meshgw root:root 755
check_stat /etc/meshgw root:root 755
check_stat /etc/meshgw/meshgw.conf root:root 644
check_stat /usr/share/meshgw/web/index.html root:root 644
check_stat /usr/share/meshgw/web/app.js root:root 644
check_stat /lib/systemd/system/meshgw.service root:root 644
check_stat /usr/lib/sysusers.d/meshgw.conf root:root 644
check_stat /usr/lib/tmpfiles.d/meshgw.conf root:root 644
check_stat /usr/share/man/man8/meshgw.8.gz root:root 644
cmp "$root/etc/meshgw/meshgw.conf" deploy/meshgw.conf || fail "meshgw.conf differs"
in_root dpkg-query -W -f='${Conffiles}\n' meshgw | grep -q '^ /etc/meshgw/meshgw.conf ' ||
	fail "/etc/meshgw/meshgw.conf is not a conffile"
echo "ok /etc/meshgw/meshgw.conf is a conffile"
[ ! -e "$root/usr/share/meshgw/web/README.md" ] || fail "web/README.md installed"

# The user and the state directory, made by the postinst (systemd-sysusers, systemd-tmpfiles)...
check_user() {
	local pw
	pw=$(in_root getent passwd meshgw) || fail "no meshgw user"
	IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
	((uid < 1000)) || fail "meshgw is not a system user (uid $uid)"
	[ "$home" = /var/lib/meshgw ] && [ "$shell" = /usr/sbin/nologin ] || fail "meshgw: $pw"
	in_root getent group meshgw >/dev/null || fail "no meshgw group"
	echo "ok user: $pw"
}
check_user
check_stat /var/lib/meshgw meshgw:meshgw 700
# ... and by the entries themselves, run as systemctl's boot would (no PID 1 here).
in_root sh -c 'rm -rf /var/lib/meshgw && systemd-sysusers && systemd-tmpfiles --create' ||
	fail "systemd-sysusers / systemd-tmpfiles --create"
check_user
check_stat /var/lib/meshgw meshgw:meshgw 700
# The unit parses and names existing programs and directives known to bookworm's systemd
# (its Documentation=, man:meshgw(8), would need man-db in the root: the page is checked below).
in_root systemd-analyze verify --man=no /lib/systemd/system/meshgw.service ||
	fail "systemd-analyze verify"
echo "ok systemd-analyze verify meshgw.service"
out=$(in_root runuser -u meshgw -- meshgw -n -f /etc/meshgw/meshgw.conf) || fail "meshgw -n: $out"
[ "$out" = "configuration OK" ] || fail "meshgw -n said: $out"
echo "ok meshgw -n as meshgw: $out"
zcat "$root/usr/share/man/man8/meshgw.8.gz" | cmp -s - deploy/meshgw.8 || fail "meshgw(8) differs"
echo "ok meshgw(8) (lintian has run groff on it)"
lap "checks"

# 5. `systemctl start meshgw` with systemd as PID 1: systemd-nspawn boots the root (a network
# namespace of its own, loopback only, so port 8080 is ours) straight into one test unit,
# which runs scripts/test-deb-unit.sh there: start, is-active, /healthz and the web page, the
# sandbox read off the running process (Seccomp, NoNewPrivs, capabilities, read-only /), the
# inventory and master key 0600, stop with exit status 0.  The unit's exit status is the
# container's (FailureAction=exit-force), hence systemd-nspawn's.  About 5 s.
install -m 0644 scripts/test-deb-unit.sh "$root/root/test-deb-unit.sh"
cat >"$root/etc/systemd/system/meshgw-pkgtest.service" <<'EOF'
[Unit]
Description=meshgw package test: systemctl start meshgw, then the checks
After=basic.target
SuccessAction=exit-force
FailureAction=exit-force

[Service]
Type=oneshot
ExecStart=/bin/bash /root/test-deb-unit.sh
StandardOutput=truncate:/root/pkgtest.log
StandardError=inherit
EOF
rc=0
timeout 300 systemd-nspawn --quiet --directory="$root" --private-network --register=no \
	--keep-unit --boot systemd.unit=meshgw-pkgtest.service >"$work/nspawn.log" 2>&1 || rc=$?
cat "$root/root/pkgtest.log" 2>/dev/null || true
if [ "$rc" -ne 0 ] || ! grep -q '^pkgtest: all checks passed$' "$root/root/pkgtest.log"; then
	tail -40 "$work/nspawn.log"
	fail "systemctl start meshgw in the booted root (systemd-nspawn exit $rc)"
fi
lap "systemctl start meshgw under systemd-nspawn"
printf 'test-deb: all checks passed in %ds\n' $((SECONDS - t0))
