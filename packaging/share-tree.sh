#!/usr/bin/env bash
# Write the desktop files of mediaclean as a standard share/ tree under DEST (e.g. ~/.local/share):
#   applications/mediaclean.desktop, metainfo/io.github.mediaclean.metainfo.xml,
#   icons/hicolor/scalable/apps/mediaclean.svg and icons/hicolor/NxN/apps/mediaclean.png (N = 16 … 512).
# With EXEC (the full path of mediaclean-gui), the desktop entry starts that file instead of looking
# for mediaclean-gui on PATH (a menu started before ~/.local/bin existed does not have it).
#   packaging/share-tree.sh DEST [EXEC]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ICONS="$HERE/../mediaclean_gui/resources/icons"
DEST="$1" EXEC="${2:-}"
mkdir -p "$DEST/applications" "$DEST/metainfo" "$DEST/icons/hicolor/scalable/apps"
if [ -n "$EXEC" ]; then
  quoted="\"$(printf '%s' "$EXEC" | sed 's/[\\"`$]/\\&/g')\""
  sed -e "s|^Exec=mediaclean-gui |Exec=$quoted |" -e "s|^TryExec=.*|TryExec=$EXEC|" \
    "$HERE/mediaclean.desktop" >"$DEST/applications/mediaclean.desktop"
else
  cp "$HERE/mediaclean.desktop" "$DEST/applications/mediaclean.desktop"
fi
cp "$HERE/io.github.mediaclean.metainfo.xml" "$DEST/metainfo/"
cp "$ICONS/mediaclean.svg" "$DEST/icons/hicolor/scalable/apps/mediaclean.svg"
for png in "$ICONS"/mediaclean-*.png; do
  n="$(basename "$png" .png)"; n="${n#mediaclean-}"
  mkdir -p "$DEST/icons/hicolor/${n}x${n}/apps"
  cp "$png" "$DEST/icons/hicolor/${n}x${n}/apps/mediaclean.png"
done
