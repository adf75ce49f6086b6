#!/usr/bin/env bash
# Turns a fresh Raspberry Pi OS (bookworm) or Debian machine into a scan
# station. Idempotent: run it again after an update, and only what changed is
# written; an edited /etc/scanstation/station.toml is never replaced.
#
#   sudo firmware_config/provision.sh                 the whole station
#   sudo firmware_config/provision.sh --root DIR --no-packages --no-venv --no-enable
#                                                     lay the files into DIR (an image, a test)
#
# Steps: system packages (scripts/setup-system.sh, plus cage for the kiosk);
# users and groups; the code in /opt/scanstation with its venv; the config;
# the systemd units; SANE, udev, journald and watchdog settings; the Raspberry
# Pi boot fragment; then the services are enabled.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
root=/
packages=1
venv=1
enable=1

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a folder}; shift 2 ;;
    --no-packages) packages=0; shift ;;
    --no-venv) venv=0; shift ;;
    --no-enable) enable=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "provision.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "provision.sh: run as root (sudo)" >&2
  exit 1
fi
root=$(cd "$root" && pwd)
changes=0

# a path inside the target root
at() { printf '%s%s' "${root%/}" "$1"; }

say() { printf '  %s\n' "$*"; }

# the numeric id of a user or group in the target root
id_of() {
  awk -F: -v name="$2" '$1 == name { print $3 }' "$(at "/etc/$1")"
}

# place SRC at DEST (inside the root) with MODE and OWNER:GROUP, unless it is already so
place() {
  local from=$1 to=$2 mode=$3 owner=${4:-root} group=${5:-root}
  local dest
  dest=$(at "$to")
  if [ -f "$dest" ] && cmp -s "$from" "$dest"; then
    return 0
  fi
  install -D -m "$mode" "$from" "$dest"
  chown "$(id_of passwd "$owner")":"$(id_of group "$group")" "$dest"
  say "wrote $to"
  changes=$((changes + 1))
}

ensure_group() {
  if [ -z "$(id_of group "$1")" ]; then
    groupadd --root "$root" --system "$1"
    say "group $1"
    changes=$((changes + 1))
  fi
}

ensure_user() {
  local name=$1 home=$2 groups=$3
  if [ -z "$(id_of passwd "$name")" ]; then
    useradd --root "$root" --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --groups "$groups" "$name"
    say "user $name ($groups)"
    changes=$((changes + 1))
  fi
}

echo "scan station: provisioning ${root}"

# 1. system packages
if [ "$packages" -eq 1 ]; then
  "$src/scripts/setup-system.sh"
  if ! dpkg-query -W -f='${db:Status-Status}' cage 2>/dev/null | grep -q installed; then
    apt-get install -y -q --no-install-recommends cage rsync
  fi
fi

# 2. users: the service's own, and the kiosk's
for group in scanner gpio video input render; do
  ensure_group "$group"
done
ensure_user scanstation /var/lib/scanstation scanner,gpio
ensure_user kiosk /var/lib/scanstation-kiosk video,input,render

# 3. the code and its environment
code=$(at /opt/scanstation)
mkdir -p "$code"
if command -v rsync >/dev/null 2>&1; then
  # .git is a folder in a clone and a file in a worktree; the caches of the
  # tools and the tests are not the station's code
  copied=$(rsync -a --delete --itemize-changes \
    --exclude '/.git' --exclude '.venv/' --exclude 'test-artifacts/' --exclude '__pycache__/' \
    --exclude '.pytest_cache/' --exclude '.mypy_cache/' --exclude '.ruff_cache/' \
    --exclude '.hypothesis/' --exclude '.import_linter_cache/' \
    --exclude '*.egg-info/' --exclude 'bench/results/*.json' \
    "$src/" "$code/" | wc -l)
else
  tar -C "$src" --exclude=./.git --exclude=.venv --exclude=test-artifacts --exclude=__pycache__ \
    --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache --exclude=.hypothesis \
    --exclude=.import_linter_cache --exclude='*.egg-info' \
    -cf - . | tar -C "$code" -xf -
  copied=0
fi
if [ "$copied" -gt 0 ]; then
  say "code in /opt/scanstation ($copied changes)"
  changes=$((changes + 1))
fi
if [ "$venv" -eq 1 ]; then
  if [ ! -x "$code/.venv/bin/python" ]; then
    python3 -m venv "$code/.venv"
  fi
  "$code/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$code/.venv/bin/python" -m pip install --quiet "${code}[pi]"
fi

# 4. the config: the example the first time, the installer's edits after that
if [ ! -f "$(at /etc/scanstation/station.toml)" ]; then
  place "$here/station.example.toml" /etc/scanstation/station.toml 0640 root scanstation
  say "EDIT /etc/scanstation/station.toml: station id, unit, scanner, broker and its files"
fi
chmod 0750 "$(at /etc/scanstation)"
chown 0:"$(id_of group scanstation)" "$(at /etc/scanstation)"

# 5. systemd units and settings
for unit in "$src"/systemd/*.service; do
  place "$unit" "/etc/systemd/system/$(basename "$unit")" 0644
done
place "$here/systemd/scanstation-watchdog.conf" \
  /etc/systemd/system.conf.d/scanstation-watchdog.conf 0644
place "$here/journald/scanstation.conf" /etc/systemd/journald.conf.d/scanstation.conf 0644

# 6. scanners and buttons
if [ -f "$(at /etc/sane.d/dll.conf)" ] && [ ! -f "$(at /etc/sane.d/dll.conf.orig)" ]; then
  cp -p "$(at /etc/sane.d/dll.conf)" "$(at /etc/sane.d/dll.conf.orig)"
fi
place "$here/sane.d/dll.conf" /etc/sane.d/dll.conf 0644
place "$here/sane.d/airscan.conf" /etc/sane.d/airscan.conf 0644
place "$here/udev/60-scanstation.rules" /etc/udev/rules.d/60-scanstation.rules 0644

# 7. Raspberry Pi firmware: watchdog and display
boot=$(at /boot/firmware)
if [ -f "$boot/config.txt" ]; then
  place "$here/boot/config-scanstation.txt" /boot/firmware/config-scanstation.txt 0644
  if ! grep -qx 'include config-scanstation.txt' "$boot/config.txt"; then
    printf '\n# scan station (firmware_config/provision.sh)\ninclude config-scanstation.txt\n' \
      >>"$boot/config.txt"
    say "config.txt includes config-scanstation.txt"
    changes=$((changes + 1))
  fi
fi

# 8. start on boot
if [ "$enable" -eq 1 ] && [ "$root" = / ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  udevadm control --reload-rules || true
  systemctl enable scanstation.service scanstation-kiosk.service
  systemctl restart scanstation.service
fi

if [ "$changes" -eq 0 ]; then
  echo "scan station: nothing to change"
else
  echo "scan station: $changes changes"
fi
