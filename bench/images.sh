#!/usr/bin/env bash
# Image rendition throughput and memory (issue 15). COUNT generated photo-like JPEGs of WIDTH x HEIGHT (default 200 of
# 3000x2000, cached under ~/.cache/emporium) are uploaded to the service on the embedded default (SQLite, local folder,
# Jobs:Concurrency=2, so two images are processed at once) in requests of 10 files, and the clock runs from the first
# upload until every image is ready: the four default renditions (1280, 640, 320, 160 px) as WebP and JPEG each.
# Baseline, the library's own tool on the same files in the same run: Debian's vipsthumbnail making the same eight
# renditions, each step one vipsthumbnail process over all files, two ways:
#   independent - every rendition from the original (8 passes over the originals);
#   chained     - large from the original (2 passes), the smaller ones from the large JPEG (6 cheap passes), the same
#                 shortcut the service takes (it decodes each original once, at the largest size).
# Prints both baselines, the service's time, the ratio to the faster baseline, and the service's peak RSS (VmHWM).
#   bench/images.sh [count=200] [width=3000] [height=2000]        BENCH_KEEP=1 keeps the scratch folder
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
width="${2:-3000}"
height="${3:-2000}"
source scripts/lib/services.sh
app_pid=""
work="$(mktemp -d /tmp/emporium-images-bench.XXXXXX)"
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  if [ -n "${BENCH_KEEP:-}" ]; then echo "[bench] kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

if ! command -v vipsthumbnail >/dev/null; then
  echo "[bench] installing libvips-tools (vipsthumbnail) from Debian" >&2
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libvips-tools >/dev/null
fi

photos="${XDG_CACHE_HOME:-$HOME/.cache}/emporium/bench-photos-${width}x${height}"
dotnet run --file bench/lib/make-photos.cs -c Release -- "$photos" "$count" "$width" "$height"
mapfile -t files < <(find "$photos" -name 'photo-*.jpg' | sort | head -n "$count")
[ "${#files[@]}" -eq "$count" ] || { echo "[bench] expected $count photos in $photos" >&2; exit 1; }
echo "[bench] $count photos, $(du -ch "${files[@]}" | tail -1 | cut -f1) in all; vipsthumbnail $(vips --version)" >&2

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
webp='[Q=80,strip]'
jpeg='[Q=82,strip,optimize_coding,interlace]'

# Baseline 1: every rendition from the originals.
out="$work/independent"; mkdir -p "$out"
start=$(now)
for size in large:1280 medium:640 small:320 thumb:160; do
  name="${size%%:*}"; px="${size##*:}"
  vipsthumbnail "${files[@]}" -s "${px}x${px}>" -o "$out/%s_$name.webp$webp"
  vipsthumbnail "${files[@]}" -s "${px}x${px}>" -o "$out/%s_$name.jpg$jpeg"
done
independent=$(elapsed "$start" "$(now)")

# Baseline 2: large from the originals, the rest from the large JPEG.
out="$work/chained"; mkdir -p "$out"
start=$(now)
vipsthumbnail "${files[@]}" -s "1280x1280>" -o "$out/%s_large.webp$webp"
vipsthumbnail "${files[@]}" -s "1280x1280>" -o "$out/%s_large.jpg$jpeg"
for size in medium:640 small:320 thumb:160; do
  name="${size%%:*}"; px="${size##*:}"
  vipsthumbnail "$out"/*_large.jpg -s "${px}x${px}>" -o "$out/%s_$name.webp$webp"
  vipsthumbnail "$out"/*_large.jpg -s "${px}x${px}>" -o "$out/%s_$name.jpg$jpeg"
done
chained=$(elapsed "$start" "$(now)")
echo "[bench] vipsthumbnail: independent ${independent} s, chained ${chained} s ($(find "$out" -type f | wc -l) files)" >&2

# The service, as an operator runs it: one process, API and worker, two jobs at a time.
port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$work/data"
export Logging__LogLevel__Default=Warning RateLimiting__Auth__PermitLimit=100000 MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export Jobs__Concurrency=2 Media__MaxImagesPerProduct=1000
unset DATABASE_URL
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$work/app.log" 2>&1 &
app_pid=$!
base="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 120); do curl -fs "$base/health/ready" >/dev/null && { ready=1; break; }; sleep 0.5; done
[ -n "$ready" ] || { echo "[bench] the service did not become ready:" >&2; cat "$work/app.log" >&2; exit 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
token=$(curl -fs -H 'Content-Type: application/json' -d '{"email":"admin@bench.local","password":"bench-password-123"}' "$base/api/auth/login" | json_field access_token)
product=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"sku":"IMG-BENCH","name":"Image bench","price":1}' "$base/api/products" | json_field id)
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$app_pid/status")

start=$(now)
for ((i = 0; i < count; i += 10)); do
  args=()
  for file in "${files[@]:i:10}"; do args+=(-F "file=@$file;type=image/jpeg"); done
  curl -fs -o /dev/null -H "Authorization: Bearer $token" "${args[@]}" "$base/api/products/$product/images"
done
uploaded=$(elapsed "$start" "$(now)")
until python3 - "$base/api/products/$product/images" "$token" "$count" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
images = json.load(urllib.request.urlopen(request))
settled = [i for i in images if i["status"] in ("ready", "failed")]
failed = [i for i in images if i["status"] == "failed"]
if failed:
    sys.exit("[bench] failed: " + failed[0]["failure_reason"])
sys.exit(0 if len(settled) == int(sys.argv[3]) else 1)
PY
do sleep 0.2; done
service=$(elapsed "$start" "$(now)")
peak=$(awk '/VmHWM/ {print $2}' "/proc/$app_pid/status")
files_made=$(find "$work/data/files/images" -type f ! -name 'original.*' | wc -l)

python3 - "$count" "$independent" "$chained" "$service" "$uploaded" "$peak" "$rss_before" "$files_made" <<'PY'
import sys
count, independent, chained, service, uploaded = int(sys.argv[1]), *map(float, sys.argv[2:6])
peak, before, made = int(sys.argv[6]) / 1024, int(sys.argv[7]) / 1024, int(sys.argv[8])
best = min(independent, chained)
print(f"photos: {count}; renditions written by the service: {made}")
print(f"vipsthumbnail independent: {independent:.2f} s ({count / independent:.1f} photos/s)")
print(f"vipsthumbnail chained:     {chained:.2f} s ({count / chained:.1f} photos/s)")
print(f"service, upload to ready:  {service:.2f} s ({count / service:.1f} photos/s; the uploads alone took {uploaded:.2f} s)")
print(f"ratio to the faster baseline: {service / best:.2f}")
print(f"service peak RSS (VmHWM): {peak:.0f} MB (RSS {before:.0f} MB before the first upload)")
PY
