#!/usr/bin/env bash
# Debian packages Arena needs: chromium (browser tests), wordnet-base (search corpus), fluidsynth + GM soundfonts
# (music demo models). Idempotent: installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium fonts-noto-color-emoji)
[ -d /usr/share/wordnet ] || need+=(wordnet-base)
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -e /usr/share/sounds/sf2/TimGM6mb.sf2 ] || need+=(timgm6mb-soundfont)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${need[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
