#!/usr/bin/env bash
# Assemble the HeartTwin .deb from a PyInstaller one-folder bundle.
#   packaging/linux/make_deb.sh BUNDLE_DIR VERSION OUT_DIR
# Layout: /opt/hearttwin (the bundle), /usr/bin/hearttwin (launcher),
# desktop entry, icons (app + .htwin document), shared MIME type for .htwin.
# Needs dpkg-deb only (no root: --root-owner-group).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ICONS="$HERE/../../resources/icons"
BUNDLE="$(cd "$1" && pwd)"; VERSION="$2"; OUT="$3"
[[ -x "$BUNDLE/hearttwin" ]] || { echo "make_deb: $BUNDLE/hearttwin is not an executable bundle" >&2; exit 1; }
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
DEB_VERSION="${VERSION//_/-}"
mkdir -p "$OUT"
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/hearttwin-deb.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
ROOTFS="$STAGE/hearttwin_${DEB_VERSION}_${ARCH}"

install -d "$ROOTFS/opt" "$ROOTFS/usr/bin" "$ROOTFS/usr/share/applications" \
  "$ROOTFS/usr/share/mime/packages" "$ROOTFS/usr/share/icons/hicolor/scalable/apps" \
  "$ROOTFS/usr/share/icons/hicolor/scalable/mimetypes" "$ROOTFS/usr/share/doc/hearttwin" "$ROOTFS/DEBIAN"
cp -a "$BUNDLE" "$ROOTFS/opt/hearttwin"
install -m 0755 "$HERE/hearttwin.sh" "$ROOTFS/usr/bin/hearttwin"
install -m 0644 "$HERE/hearttwin.desktop" "$ROOTFS/usr/share/applications/hearttwin.desktop"
install -m 0644 "$HERE/hearttwin-mime.xml" "$ROOTFS/usr/share/mime/packages/hearttwin.xml"
install -m 0644 "$ICONS/hearttwin.svg" "$ROOTFS/usr/share/icons/hicolor/scalable/apps/hearttwin.svg"
install -m 0644 "$ICONS/hearttwin.svg" \
  "$ROOTFS/usr/share/icons/hicolor/scalable/mimetypes/application-x-hearttwin-case.svg"
for size in 48 128 256; do
  for kind in apps mimetypes; do
    install -d "$ROOTFS/usr/share/icons/hicolor/${size}x${size}/$kind"
  done
  install -m 0644 "$ICONS/hearttwin-$size.png" "$ROOTFS/usr/share/icons/hicolor/${size}x${size}/apps/hearttwin.png"
  install -m 0644 "$ICONS/hearttwin-$size.png" \
    "$ROOTFS/usr/share/icons/hicolor/${size}x${size}/mimetypes/application-x-hearttwin-case.png"
done
[[ -f "$HERE/../../LICENSE" ]] && install -m 0644 "$HERE/../../LICENSE" "$ROOTFS/usr/share/doc/hearttwin/copyright"

INSTALLED_KB=$(du -sk --exclude=DEBIAN "$ROOTFS" | cut -f1)
cat > "$ROOTFS/DEBIAN/control" <<CONTROL
Package: hearttwin
Version: $DEB_VERSION
Section: science
Priority: optional
Architecture: $ARCH
Installed-Size: $INSTALLED_KB
Maintainer: HeartTwin project <noreply@hearttwin.invalid>
Depends: libc6 (>= 2.28), libgl1, libegl1, libosmesa6, libglib2.0-0t64 | libglib2.0-0, libdbus-1-3, libfontconfig1, libfreetype6, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libxrender1, libxext6, libxt6t64 | libxt6, libxi6, libxrandr2, libxcursor1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-xinerama0, libxcb-randr0, libxcb-render-util0, libxcb-image0, libxcb-xkb1
Recommends: shared-mime-info, desktop-file-utils
Description: plan structural heart procedures on a digital twin of the heart
 HeartTwin opens a cardiac CT, segments the heart, builds 3D models, places a
 virtual device (transcatheter valve, occluder, stent) and simulates the
 beating heart to check the fit over the cardiac cycle. Desktop application
 and command line (hearttwin --help) in one self-contained bundle; run
 "hearttwin --self-test" to check an installation. Not for clinical use.
CONTROL

for script in postinst postrm; do
  cat > "$ROOTFS/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
# refresh the desktop's MIME, menu and icon caches when their tools are installed
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true; fi
exit 0
SCRIPT
  chmod 0755 "$ROOTFS/DEBIAN/$script"
done

DEB="$OUT/hearttwin_${DEB_VERSION}_${ARCH}.deb"
# xz at level 1: every dpkg reads it, ~1/3 smaller than gzip and a few minutes faster than
# dpkg's default level 6 on this ~850 MB payload (HEARTTWIN_DEB_LEVEL=6 for the smallest file)
dpkg-deb --root-owner-group -Zxz -z"${HEARTTWIN_DEB_LEVEL:-1}" --build "$ROOTFS" "$DEB" >/dev/null
echo "$DEB"
