#!/usr/bin/env bash
# Installs the system packages the scan station needs on Debian bookworm or
# Raspberry Pi OS. Idempotent: packages already present are left alone, and
# nothing is fetched when nothing is missing.
#
#   scripts/setup-system.sh            install what is missing
#   scripts/setup-system.sh --check    list what is missing, exit 1 if anything is
#   scripts/setup-system.sh --list     print the package list, one entry a line
set -euo pipefail

packages=(
  # Python environment (the venv is built from the system interpreter)
  python3 python3-venv python3-dev python3-pip gcc pkg-config
  # Scanner access: SANE library, its backends (the `test` backend included),
  # scanimage, headers to build python-sane, and driverless network scanners
  libsane1 libsane-dev sane-utils sane-airscan
  # Barcodes: ZBar for pyzbar (zxing-cpp ships in its wheel)
  libzbar0
  # OCR and PDF: Tesseract with Vietnamese and English, Ghostscript for PDF/A,
  # qpdf for repairs, poppler for rendering PDFs to images
  # (osd: the orientation data)
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd ghostscript qpdf poppler-utils
  unpaper pngquant
  # Messaging: the broker and its clients (the demo and the tests run a real one)
  mosquitto mosquitto-clients openssl
  # Fonts for rendered documents, label sheets, the register and the certified
  # copy (station/common/fonts.py names the package of every file it opens): the
  # Times-compatible serif, and DejaVu, whose slanted faces Debian ships in -extra
  fonts-liberation2 fonts-dejavu-core fonts-dejavu-extra
  # Browser for the kiosk and the UI tests (Raspberry Pi OS names it
  # chromium-browser; the first name with an install candidate is taken)
  "chromium|chromium-browser"
  # The tests check the unit files (systemd-analyze) and the provisioning
  # script (shellcheck)
  systemd shellcheck
  # provisioning copies the code with rsync
  rsync
  # SoftHSM2: a real PKCS#11 token for the signing tests
  softhsm2
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

# "a|b": the first alternative apt can install (the first one already installed,
# else the first with an install candidate, else the first).
resolve() {
  local alt
  IFS='|' read -ra alts <<<"$1"
  for alt in "${alts[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$alt" 2>/dev/null)" = "installed" ]; then
      echo "$alt"; return
    fi
  done
  [ ${#alts[@]} -eq 1 ] && { echo "$1"; return; }
  for alt in "${alts[@]}"; do
    if apt-cache policy "$alt" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      echo "$alt"; return
    fi
  done
  echo "${alts[0]}"
}

missing=()
for spec in "${packages[@]}"; do
  p=$(resolve "$spec")
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
  fi
  echo "system packages missing: ${missing[*]}"
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "need root to install: ${missing[*]} (run as root or install sudo)" >&2
    exit 1
  fi
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
