#!/usr/bin/env bash
# Install this mediaclean bundle for the current user: the bundle goes to ~/.local/lib/mediaclean,
# mediaclean and mediaclean-gui are linked into ~/.local/bin (where the README's systemd units look),
# and the desktop entry, icons and metainfo go to ~/.local/share. Run it again to update;
# ./install.sh --uninstall removes all of it (your catalog and settings stay).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
LIB="$HOME/.local/lib/mediaclean" BIN="$HOME/.local/bin" SHARE="${XDG_DATA_HOME:-$HOME/.local/share}"
FILES=(applications/mediaclean.desktop metainfo/io.github.mediaclean.metainfo.xml
       icons/hicolor/scalable/apps/mediaclean.svg)
for n in 16 22 24 32 48 64 128 256 512; do FILES+=("icons/hicolor/${n}x${n}/apps/mediaclean.png"); done

rm -rf "$LIB.new"
if [ "${1:-}" = --uninstall ]; then
  rm -rf "$LIB"
  rm -f "$BIN/mediaclean" "$BIN/mediaclean-gui"
  for f in "${FILES[@]}"; do rm -f "$SHARE/$f"; done
  echo "mediaclean removed (the catalog in ${XDG_DATA_HOME:-$HOME/.local/share}/mediaclean is kept)"
  exit 0
fi
mkdir -p "$BIN" "$(dirname "$LIB")"
cp -a "$HERE/mediaclean" "$LIB.new"
rm -rf "$LIB" && mv "$LIB.new" "$LIB"
ln -sfn "$LIB/mediaclean" "$BIN/mediaclean"
ln -sfn "$LIB/mediaclean-gui" "$BIN/mediaclean-gui"
quoted="\"$(printf '%s' "$BIN/mediaclean-gui" | sed 's/[\\"`$]/\\&/g')\""
for f in "${FILES[@]}"; do
  mkdir -p "$(dirname "$SHARE/$f")"
  cp "$HERE/share/$f" "$SHARE/$f"
done
sed -i -e "s|^Exec=mediaclean-gui |Exec=$quoted |" -e "s|^TryExec=.*|TryExec=$BIN/mediaclean-gui|" \
  "$SHARE/applications/mediaclean.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
echo "mediaclean installed: $BIN/mediaclean, $BIN/mediaclean-gui and a menu entry"
case ":$PATH:" in *":$BIN:"*) ;; *) echo "Add $BIN to your PATH to type mediaclean in a terminal." ;; esac
