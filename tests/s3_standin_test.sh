#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/s3_standin_test.sh: checks scripts/s3-standin with curl against a
# throw-away bucket. Exits non-zero on any failure; the last line is
# "N passed, N failed". Needs nginx + libnginx-mod-http-lua (+ -echo for the
# fallback check) and curl; runs in a few seconds.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
standin="$here/../scripts/s3-standin"

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+ ($2)}"; }
# check NAME CMD...: passes when CMD succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
# at_least NAME SECONDS MIN_SECONDS: only a lower bound; a loaded machine may be slower.
at_least() {
  if awk -v t="$2" -v m="$3" 'BEGIN { exit !(t >= m) }'; then ok "$1 (${2}s >= ${3}s)"
  else bad "$1" "${2}s < ${3}s"; fi
}

tmp=$(mktemp -d)
st1="$tmp/state" st2="$tmp/state-latency" st3="$tmp/state-echo" st4="$tmp/state-faults"
st5="$tmp/state-scope-all"
cleanup() {
  local s
  for s in "$st1" "$st2" "$st3" "$st4" "$st5"; do "$standin" stop --state "$s" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the bucket ----------------------------------------------------------------
root="$tmp/root" b="$tmp/root/bkt"
mkdir -p "$b/nested/dir/deep" "$b/odd"
head -c 4096 /dev/urandom >"$b/blob.bin"
printf 'spaced out\n' >"$b/nested/dir/with space.txt"
printf 'deep\n' >"$b/nested/dir/deep/x.txt"
printf 'odd\n' >"$b/odd/it's & <x>+é.txt"
printf 'index\n' >"$b/nested/index.html"
# A fixed mtime makes the date conditions independent of the clock.
touch -d '2024-01-02 03:04:05 UTC' "$b/blob.bin"

# --- start / status --------------------------------------------------------------
out=$("$standin" start "$root" --port 0 --state "$st1" 2>&1) || { echo "$out"; bad "start"; }
echo "$out"
ep=$(cat "$st1/endpoint" 2>/dev/null)
check "start prints the endpoint line" \
  grep -qE "^S3 stand-in: http://127\.0\.0\.1:[0-9]+ \(root $root, latency 0 ms, pid [0-9]+\)$" <<<"$out"
check "endpoint file matches the printed URL" grep -qF "$ep " <<<"$out"
eq "status prints the endpoint" "$("$standin" status --state "$st1")" "$ep"
pid1=$(cat "$st1/nginx.pid")
out=$("$standin" start "$root" --port 0 --state "$st1")
check "start with the same settings keeps the server" grep -q "pid $pid1) already running" <<<"$out"

u="$ep/bkt/blob.bin"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hdr() { tr -d '\r' | awk -v h="$1" -F': ' 'tolower($1) == tolower(h) { print $2 }'; }

# --- GET, Range ------------------------------------------------------------------
curl -sf -o "$tmp/got" "$u"
check "full GET returns the same bytes" cmp -s "$tmp/got" "$b/blob.bin"

h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=100-199' "$u")
eq "Range: 206" "$(head -1 <<<"$h" | cut -d' ' -f2)" 206
eq "Range: Content-Range" "$(hdr content-range <<<"$h")" "bytes 100-199/4096"
check "Range: the right 100 bytes" cmp -s "$tmp/got" <(tail -c +101 "$b/blob.bin" | head -c 100)

h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=-10' "$u")
eq "suffix Range: Content-Range" "$(hdr content-range <<<"$h")" "bytes 4086-4095/4096"
check "suffix Range: the last 10 bytes" cmp -s "$tmp/got" <(tail -c 10 "$b/blob.bin")

h=$(curl -s -D - -o /dev/null -H 'Range: bytes=5000-' "$u")
eq "Range past the end: 416" "$(head -1 <<<"$h" | cut -d' ' -f2)" 416
eq "416 has Content-Range bytes */size" "$(hdr content-range <<<"$h")" "bytes */4096"

eq "multi-range answers the whole object, like S3" \
  "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=0-1,5-6' "$u")" "200 4096"

# --- HEAD and conditional requests -------------------------------------------------
h=$(curl -sI "$u")
etag=$(hdr etag <<<"$h")
check "HEAD has an ETag" grep -qE '^"[0-9a-f]+-[0-9a-f]+"$' <<<"$etag"
eq "HEAD Last-Modified is the file's mtime" "$(hdr last-modified <<<"$h")" "Tue, 02 Jan 2024 03:04:05 GMT"
eq "HEAD Accept-Ranges" "$(hdr accept-ranges <<<"$h")" bytes
eq "HEAD Content-Length" "$(hdr content-length <<<"$h")" 4096

eq "If-Match mismatch: 412" "$(code -H 'If-Match: "nope"' "$u")" 412
eq "If-Match match: 200" "$(code -H "If-Match: $etag" "$u")" 200
eq "If-None-Match match: 304" "$(code -H "If-None-Match: $etag" "$u")" 304
eq "If-None-Match mismatch: 200" "$(code -H 'If-None-Match: "nope"' "$u")" 200
eq "If-Unmodified-Since before mtime: 412" \
  "$(code -H 'If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$u")" 412
eq "If-Unmodified-Since after mtime: 200" \
  "$(code -H 'If-Unmodified-Since: Wed, 03 Jan 2024 00:00:00 GMT' "$u")" 200
eq "If-Modified-Since after mtime: 304" \
  "$(code -H 'If-Modified-Since: Wed, 03 Jan 2024 00:00:00 GMT' "$u")" 304
eq "If-Modified-Since before mtime: 200" \
  "$(code -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$u")" 200
eq "If-Match true overrides a failing If-Unmodified-Since" \
  "$(code -H "If-Match: $etag" -H 'If-Unmodified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$u")" 200
eq "If-None-Match match overrides If-Modified-Since" \
  "$(code -H "If-None-Match: $etag" -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' "$u")" 304

# --- keys, errors ------------------------------------------------------------------
check "key with a space and nested dirs" \
  cmp -s <(curl -sf "$ep/bkt/nested/dir/with%20space.txt") "$b/nested/dir/with space.txt"
check "key with ' & < + and UTF-8" \
  cmp -s <(curl -sf "$ep/bkt/odd/it%27s%20%26%20%3Cx%3E%2B%C3%A9.txt") "$b/odd/it's & <x>+é.txt"
eq "missing key: 404" "$(code "$ep/bkt/nope")" 404
check "missing key: S3 XML NoSuchKey" grep -q '<Code>NoSuchKey</Code>' <(curl -s "$ep/bkt/nope")
check "missing bucket: NoSuchBucket" grep -q '<Code>NoSuchBucket</Code>' <(curl -s "$ep/nobkt/k")
eq "HEAD of a missing key: 404" "$(code -I "$ep/bkt/nope")" 404
eq "directory listing: 403" "$(code "$ep/bkt/nested/")" 403
eq "root listing (ListBuckets): 403" "$(code "$ep/")" 403
eq "directory as a key: 404" "$(code "$ep/bkt/nested")" 404
eq "path traversal ../: 403" "$(code --path-as-is "$ep/bkt/../../etc/passwd")" 403
eq "path traversal %2e%2e: 403" "$(code --path-as-is "$ep/bkt/%2e%2e/%2e%2e/etc/passwd")" 403
eq "read-only: PUT is refused" "$(code -X PUT --data x "$ep/bkt/new")" 405
check "PUT wrote nothing" test ! -e "$b/new"

# --- latency and faults ------------------------------------------------------------
t=$(curl -s -o /dev/null -w '%{time_total}' -H 'x-floe-latency-ms: 300' "$u")
at_least "x-floe-latency-ms: 300 delays the answer" "$t" 0.27
eq "invalid x-floe-latency-ms: 400" "$(code -H 'x-floe-latency-ms: soon' "$u")" 400
eq "x-floe-fail: 503" "$(code -H 'x-floe-fail: 503' "$u")" 503
check "x-floe-fail: 503 body is S3 SlowDown" \
  grep -q '<Code>SlowDown</Code>' <(curl -s -H 'x-floe-fail: 503' "$u")
codes=""
for _ in 1 2 3; do codes+="$(code -H 'x-floe-fail: 503:2:retry-test' "$u") "; done
eq "x-floe-fail: 503:2 fails twice, then serves" "$codes" "503 503 200 "
eq "x-floe-fail outside 400-599: 400" "$(code -H 'x-floe-fail: 200' "$u")" 400

# --- keep-alive ----------------------------------------------------------------------
check "two requests on one connection (keep-alive)" \
  grep -q 'Re-using existing connection' <(curl -sv -o /dev/null -o /dev/null "$u" "$u" 2>&1)

# --- ListObjectsV2 -----------------------------------------------------------------
list() { curl -s "$ep/bkt?list-type=2&$1"; }
tags() { grep -o "<$1>[^<]*</$1>" | sed "s/<[^>]*>//g" | paste -sd'|' -; }

x=$(list 'prefix=nested/')
eq "list prefix: keys in byte order" "$(tags Key <<<"$x")" \
  "nested/dir/deep/x.txt|nested/dir/with space.txt|nested/index.html"
eq "list prefix: KeyCount" "$(tags KeyCount <<<"$x")" 3
eq "list prefix: IsTruncated" "$(tags IsTruncated <<<"$x")" false
eq "list prefix: Size" "$(tags Size <<<"$x")" "5|11|6"
check "list: LastModified in S3 form" grep -q '<LastModified>20[0-9-]*T[0-9:]*\.000Z</LastModified>' <<<"$x"

x=$(list 'delimiter=/')
eq "list delimiter: Contents" "$(tags Key <<<"$x")" "blob.bin"
eq "list delimiter: CommonPrefixes" "$(grep -o '<CommonPrefixes><Prefix>[^<]*' <<<"$x" | sed 's/.*>//' | paste -sd'|' -)" "nested/|odd/"
eq "list delimiter: KeyCount counts prefixes too" "$(tags KeyCount <<<"$x")" 3
eq "list ETag equals the object's ETag" \
  "$(grep -o '<ETag>[^<]*' <<<"$x" | sed 's/.*>//; s/&quot;/"/g')" "$etag"

x=$(list 'prefix=nested/dir/with%20sp')
eq "list URL-decodes the prefix" "$(tags Key <<<"$x")" "nested/dir/with space.txt"
x=$(list 'prefix=odd/it%27s%20%26')
eq "list escapes XML in keys" "$(tags Key <<<"$x")" "odd/it&apos;s &amp; &lt;x&gt;+é.txt"
x=$(list 'prefix=odd/&encoding-type=url')
eq "list encoding-type=url" "$(tags Key <<<"$x")" "odd/it%27s%20%26%20%3Cx%3E%2B%C3%A9.txt"

x=$(list 'prefix=nested/&max-keys=2')
tok=$(tags NextContinuationToken <<<"$x")
eq "list page 1: truncated after max-keys" "$(tags IsTruncated <<<"$x") $(tags KeyCount <<<"$x")" "true 2"
x=$(list "prefix=nested/&max-keys=2&continuation-token=$tok")
eq "list page 2: the rest" "$(tags Key <<<"$x")|$(tags IsTruncated <<<"$x")" "nested/index.html|false"
eq "list with a bad continuation token: 400" "$(code "$ep/bkt?list-type=2&continuation-token=zz")" 400
eq "list of a missing bucket: 404" "$(code "$ep/nobkt?list-type=2")" 404
eq "HEAD bucket: 200" "$(code -I "$ep/bkt")" 200
eq "list cannot leave the bucket" "$(tags KeyCount <<<"$(list 'prefix=../')")" 0

# --- default latency (second instance) -------------------------------------------
"$standin" start "$root" --port 0 --latency-ms 250 --state "$st2" >/dev/null || bad "start --latency-ms"
ep2=$(cat "$st2/endpoint")
t=$(curl -s -o /dev/null -w '%{time_total}' "$ep2/bkt/blob.bin")
at_least "--latency-ms 250 delays every request" "$t" 0.22
t=$(curl -s -o /dev/null -w '%{time_total}' -H 'x-floe-latency-ms: 400' "$ep2/bkt/blob.bin")
at_least "x-floe-latency-ms overrides the default" "$t" 0.36

# --- --faults (fourth instance) ---------------------------------------------------
# --faults-per-range 0: the same range is failed again and again.
out=$("$standin" start "$root" --port 0 --faults 503:3,drop:4,short:5 --faults-per-range 0 \
      --state "$st4" 2>&1) || { echo "$out"; bad "start --faults"; }
check "start --faults names the faults" \
  grep -qE "^S3 stand-in: http://127\.0\.0\.1:[0-9]+ \(root $root, latency 0 ms, faults 503:3,drop:4,short:5 per-range 0, pid [0-9]+\)$" <<<"$out"
ep4=$(cat "$st4/endpoint")
u4="$ep4/bkt/blob.bin"
eq "--faults: requests without Range are never failed" \
  "$(for _ in 1 2 3 4 5 6; do code "$u4"; echo -n ' '; done)" "200 200 200 200 200 200 "
eq "--faults: HEAD is never failed" "$(code -I -H 'Range: bytes=0-9' "$u4")" 206
# Ranged GETs 1..10: 3, 6, 9 answer 503; 4, 8 are dropped (curl 52, nothing
# received); 5, 10 are cut short (curl 18: half of the 100 bytes).
got=""
for _ in $(seq 10); do
  got+="$(curl -s -o "$tmp/got" -w '%{http_code}:%{size_download}' -H 'Range: bytes=100-199' "$u4"):$? "
done
got=$(sed -E 's/503:[0-9]+:/503:(body):/g' <<<"$got")
eq "--faults 503:3,drop:4,short:5: every 3rd 503, 4th dropped, 5th short" "$got" \
  "206:100:0 206:100:0 503:(body):0 000:0:52 206:50:18 503:(body):0 206:100:0 000:0:52 503:(body):0 206:50:18 "
check "--faults: a 503 has the S3 SlowDown body" \
  grep -q '<Code>SlowDown</Code>' <(curl -s -H 'Range: bytes=0-9' "$u4"; curl -s -H 'Range: bytes=0-9' "$u4")
eq "--faults: /__s3-standin/faults counts" "$(curl -s "$ep4/__s3-standin/faults" | paste -sd' ' -)" \
  "ranged 12 503 4 drop 2 short 2"
eq "--faults: every fault is logged" "$(grep -c 's3-standin fault=' "$st4/error.log")" 8
check "--faults: the log names kind, count, key and range" \
  grep -q 's3-standin fault=drop n=4 uri=/bkt/blob.bin range=bytes=100-199' "$st4/error.log"
h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=-10' "$u4")  # ranged GET 13: fine
h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=-10' "$u4")  # 14
h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=-10' "$u4")  # 15: 503 (first listed wins over short)
eq "--faults: the first listed kind wins (15: 503, not short)" "$(head -1 <<<"$h" | cut -d' ' -f2)" 503
curl -s -o /dev/null -H 'Range: bytes=0-0' "$u4"          # 16: dropped
curl -s -o /dev/null -H 'Range: bytes=0-0' "$u4"          # 17
curl -s -o /dev/null -H 'Range: bytes=0-0' "$u4"          # 18: 503
curl -s -o /dev/null -H 'Range: bytes=0-0' "$u4"          # 19
h=$(curl -s -D - -o "$tmp/got" -H 'Range: bytes=-10' "$u4")  # 20: drop (4 before 5)
eq "--faults: 20 is dropped (drop listed before short)" "$h" ""
# 21: 503, 22 and 23: no fault, 24: 503, 25: short, but there is nothing to cut short
eq "--faults: a short read of a missing key is its 404" \
  "$(for _ in 1 2 3 4 5; do code -H 'Range: bytes=0-9' "$ep4/bkt/nope"; echo -n ' '; done)" "503 404 404 503 404 "
eq "--faults: ... and not counted as a fault" "$(curl -s "$ep4/__s3-standin/faults" | paste -sd' ' -)" \
  "ranged 25 503 8 drop 4 short 2"
pid4=$(cat "$st4/nginx.pid")
out=$("$standin" start "$root" --port 0 --faults 503:3,drop:4,short:5 --faults-per-range 0 --state "$st4")
check "start with the same --faults keeps the server" grep -q "pid $pid4) already running" <<<"$out"
out=$("$standin" start "$root" --port 0 --faults 503:3,drop:4,short:5 --state "$st4")
check "start with another --faults-per-range restarts" grep -qv "already running" <<<"$out"
out=$("$standin" start "$root" --port 0 --faults 500:1 --faults-per-range 0 --state "$st4")
check "start with other --faults restarts" grep -qv "already running" <<<"$out"
ep4=$(cat "$st4/endpoint")
eq "--faults 500:1 --faults-per-range 0 fails every ranged GET, counts start afresh" \
  "$(for _ in 1 2 3; do code -H 'Range: bytes=0-9' "$ep4/bkt/blob.bin"; echo -n ' '; done)$(curl -s "$ep4/__s3-standin/faults" | paste -sd' ' -)" \
  "500 500 500 ranged 3 500 3"
check "--faults 500 has the S3 InternalError body" \
  grep -q '<Code>InternalError</Code>' <(curl -s -H 'Range: bytes=0-9' "$ep4/bkt/blob.bin")
"$standin" start "$root" --port 0 --faults 503:1 --state "$st4" >/dev/null
ep4=$(cat "$st4/endpoint")
eq "--faults 503:1 (default per-range 2): each range fails twice, then is served" \
  "$(for r in 0-9 0-9 5-9 0-9 5-9 5-9 0-9; do code -H "Range: bytes=$r" "$ep4/bkt/blob.bin"; echo -n ' '; done)" \
  "503 503 503 206 503 206 206 "
eq "--faults-per-range: served requests still count" "$(curl -s "$ep4/__s3-standin/faults" | paste -sd' ' -)" \
  "ranged 7 503 4"
out=$("$standin" start "$root" --port 0 --state "$st4")
ep4=$(cat "$st4/endpoint")
eq "start without --faults restarts without faults" \
  "$(for _ in 1 2 3; do code -H 'Range: bytes=0-9' "$ep4/bkt/blob.bin"; echo -n ' '; done)" "206 206 206 "
"$standin" start "$root" --port 0 --faults 503:1 --faults-per-range 0 --faults-prefix 'bkt/nested/dir/with sp' \
  --state "$st4" >/dev/null
ep4=$(cat "$st4/endpoint")
eq "--faults-prefix: only keys under the prefix fail and count" \
  "$(for k in blob.bin nested/index.html nested/dir/with%20space.txt; do code -H 'Range: bytes=0-1' "$ep4/bkt/$k"; echo -n ' '; done)$(curl -s "$ep4/__s3-standin/faults" | paste -sd' ' -)" \
  "206 206 503 ranged 1 503 1"
# --access-log: n=N, the order the counted requests came in, on every line
# (a 503 too, answered through error_page); "-" for the others.
"$standin" start "$root" --port 0 --faults 503:2 --access-log --state "$st4" >/dev/null
ep4=$(cat "$st4/endpoint")
for r in 0-9 0-9 5-9; do code -H "Range: bytes=$r" "$ep4/bkt/blob.bin" >/dev/null; done
code "$ep4/bkt/blob.bin" >/dev/null
eq "--access-log: each line ends with n=N (its number in the --faults count)" \
  "$(grep -v __s3-standin "$st4/access.log" | awk '{ print $(NF - 4), $NF }' | paste -sd' ' -)" \
  "206 n=1 503 n=2 206 n=3 200 n=-"
eq "--access-log: no uninitialised variable" "$(grep -c uninitialized "$st4/error.log")" 0
for spec in 503 503:0 200:5 drop:x "drop:2,,short:3" slow:4 600:2; do
  out=$("$standin" start "$root" --port 0 --faults "$spec" --state "$tmp/state-bad" 2>&1)
  eq "--faults '$spec' is refused" "$?:$(grep -c 'bad --faults' <<<"$out")" "1:1"
done
out=$("$standin" start "$root" --port 0 --faults 503:2 --faults-per-range -1 --state "$tmp/state-bad" 2>&1)
eq "--faults-per-range -1 is refused" "$?:$(grep -c 'bad --faults-per-range' <<<"$out")" "1:1"
"$standin" stop --state "$st4" >/dev/null

# --- --faults-scope all, --faults-retry-after, --rate-limit (fifth instance) ----------
# start5 OPTS...: (re)start the fifth instance; sets ep5 and u5.
start5() {
  out=$("$standin" start "$root" --port 0 --state "$st5" "$@" 2>&1) || { echo "$out"; bad "start $*"; }
  ep5=$(cat "$st5/endpoint" 2>/dev/null) u5="$ep5/bkt/blob.bin"
}
counts5() { curl -s "$ep5/__s3-standin/faults" | paste -sd' ' -; }
# st CURL_ARGS...: "STATUS:BYTES:CURL_EXIT" of one request.
st() { curl -s -o /dev/null -w '%{http_code}:%{size_download}' "$@"; echo ":$?"; }

start5 --faults 503:1 --faults-scope all --faults-per-range 1 --faults-retry-after 2 --rate-limit 1000
check "start names scope, retry-after and rate limit" \
  grep -qE "^S3 stand-in: http://127\.0\.0\.1:[0-9]+ \(root $root, latency 0 ms, faults 503:1 per-range 1 scope all retry-after 2, rate-limit 1000, pid [0-9]+\)$" <<<"$out"
# Every distinct request (method, URI, Range) fails once, then is served.
got=""
for a in "$u5" "$u5" "-I $u5" "-I $u5" "-H Range:bytes=0-9 $u5" "-H Range:bytes=0-9 $u5" \
         "-H Range:bytes=5-9 $u5" "$ep5/bkt?list-type=2" "$ep5/bkt?list-type=2" \
         "-I $ep5/bkt" "-I $ep5/bkt" "$ep5/bkt/nope" "$ep5/bkt/nope"; do
  # shellcheck disable=SC2086  # word splitting of the options is intended
  got+="$(curl -s -o /dev/null -w '%{http_code}' $a) "
done
eq "--faults-scope all: every request fails once (GET, HEAD, ranged, listing, HeadBucket, missing key)" \
  "$got" "503 200 503 200 503 206 503 503 200 503 200 503 404 "
eq "--faults-scope all: /__s3-standin/faults counts every request" "$(counts5)" \
  "requests 13 503 7 ratelimited 0"
check "--faults-scope all: a fault without Range is logged with an empty range" \
  grep -q 's3-standin fault=503 n=1 uri=/bkt/blob.bin range=,' "$st5/error.log"
check "--faults-scope all: a HEAD fault is logged" \
  grep -q 's3-standin fault=503 n=3 uri=/bkt/blob.bin range=, .*request: "HEAD ' "$st5/error.log"
h=$(curl -s -D - -o "$tmp/got" "$ep5/bkt/other-key")
eq "--faults-retry-after 2: a 503 fault carries Retry-After: 2" "$(hdr retry-after <<<"$h")" 2
check "--faults-scope all: a 503 without Range has the S3 SlowDown body" grep -q '<Code>SlowDown</Code>' "$tmp/got"
eq "--faults-scope all: a HEAD fault has no body" "$(st -I "$ep5/bkt/head-only")" "503:0:0"
h=$(curl -s -D - -o /dev/null -H 'x-floe-fail: 503' -H 'X-S3-Standin-Retry-After: 9' "$ep5/bkt/xff")
eq "Retry-After only on --faults answers, never from a client header" "$(hdr retry-after <<<"$h")" ""

start5 --faults 503:2,429:1 --faults-scope all --faults-per-range 0 --faults-retry-after 3
check "start with another --faults-scope/-retry-after restarts" grep -qv "already running" <<<"$out"
h=$(curl -s -D - -o "$tmp/got" "$u5")
eq "429 fault: status and Retry-After: 3" "$(head -1 <<<"$h" | cut -d' ' -f2) $(hdr retry-after <<<"$h")" "429 3"
check "429 fault: S3 XML TooManyRequests body" grep -q '<Code>TooManyRequests</Code>' "$tmp/got"
h=$(curl -s -D - -o /dev/null "$u5")
eq "503 fault (second request): Retry-After: 3 too" "$(head -1 <<<"$h" | cut -d' ' -f2) $(hdr retry-after <<<"$h")" "503 3"
eq "--faults-per-range 0 in scope all: the same request fails again" "$(code "$u5") $(code "$u5")" "429 503"
eq "no rate limit: /__s3-standin/faults has no ratelimited line" "$(counts5)" "requests 4 503 2 429 2"

start5 --faults drop:1 --faults-scope all --faults-per-range 1
eq "drop in scope all: a plain GET is reset (curl 52), then served" \
  "$(st "$u5") $(st "$u5")" "000:0:52 200:4096:0"
eq "drop in scope all: a HEAD is reset, then served" "$(st -I "$u5") $(st -I "$u5")" "000:0:52 200:0:0"

start5 --faults short:1 --faults-scope all --faults-per-range 0
eq "short without Range: 200, the whole Content-Length, half the bytes (curl 18)" \
  "$(st "$u5")" "200:2048:18"
h=$(curl -s -D - -o "$tmp/got" "$u5")
eq "short without Range: Content-Length of the whole object" "$(hdr content-length <<<"$h")" 4096
check "short without Range: the bytes sent are the object's first half" \
  cmp -s "$tmp/got" <(head -c 2048 "$b/blob.bin")
eq "short with Range: 206 and half of the range" "$(st -H 'Range: bytes=100-199' "$u5")" "206:50:18"
eq "short: a HEAD is served (nothing to cut)" "$(st -I "$u5")" "200:0:0"
x=$(curl -s "$ep5/bkt?list-type=2&prefix=nested/"); rc=$?
eq "short on a listing: half of the XML (curl 18)" "$rc:$(grep -c '</ListBucketResult>' <<<"$x")" "18:0"
eq "short: faults counted (HEAD not)" "$(counts5)" "requests 5 short 4"

start5 --faults 500:1 --faults-scope all --faults-per-range 0 --faults-prefix bkt/nested/
eq "--faults-prefix in scope all: objects and listings under it fail, others not" \
  "$(for a in "$u5" "$ep5/bkt/nested/index.html" "$ep5/bkt?list-type=2&prefix=nested/d" \
              "$ep5/bkt?list-type=2&prefix=odd/"; do code "$a"; echo -n ' '; done)" "200 500 500 200 "

for bad in "--faults-scope some" "--faults-retry-after soon" "--rate-limit -1" "--rate-limit 5x"; do
  # shellcheck disable=SC2086
  out=$("$standin" start "$root" --port 0 --faults 503:2 $bad --state "$tmp/state-bad" 2>&1)
  eq "$bad is refused" "$?:$(grep -c "bad ${bad%% *}" <<<"$out")" "1:1"
done

# --rate-limit 5: a burst of 12 requests at the start of a wall-clock second
# gets 5 answers and 7 503 SlowDown (a busy machine may split the burst over
# two seconds: then at most 10 pass; a stand-in that does not limit lets all 12).
start5 --rate-limit 5
check "start --rate-limit names it" grep -qE "latency 0 ms, rate-limit 5, pid [0-9]+\)$" <<<"$out"
# burst N: N GETs of u5 on one connection, one curl; their statuses, one a line.
burst() {
  local args=() i
  for ((i = 0; i < $1; i++)); do args+=(-o /dev/null "$u5"); done
  curl -s -w '%{http_code}\n' "${args[@]}"
}
ns=$(date +%N); sleep "0.$(printf '%09d' $((1000000000 - 10#$ns)))"
got=$(burst 12 | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
check "--rate-limit 5: 12 at once, 5 (at most 10) pass, the rest 503 ($got)" \
  grep -qE '^200:([5-9]|10) 503:([2-7]) $' <<<"$got"
n503=$(grep -oE '503:[0-9]+' <<<"$got" | cut -d: -f2)
eq "--rate-limit: /__s3-standin/faults counts the refused" "$(counts5)" "ranged 0 ratelimited $n503"
eq "--rate-limit: each is logged" "$(grep -c 's3-standin fault=ratelimited' "$st5/error.log")" "$n503"
sleep 1.1
eq "--rate-limit: a later second starts afresh" "$(burst 1)" 200
got=$(for _ in $(seq 12); do curl -s -D - "$u5" | tr -d '\r\0'; done)
check "--rate-limit: the 503 has the S3 SlowDown body" grep -q '<Code>SlowDown</Code>' <<<"$got"
check "--rate-limit: ... and no Retry-After" bash -c '! grep -qi "^retry-after" <<<"$1"' _ "$got"
"$standin" stop --state "$st5" >/dev/null

# --- echo fallback ---------------------------------------------------------------
if out=$(S3_STANDIN_BACKEND="echo" "$standin" start "$root" --port 0 --state "$st3" 2>&1); then
  ep3=$(cat "$st3/endpoint")
  check "echo fallback says so" grep -q 'echo fallback' <<<"$out"
  t=$(curl -s -o "$tmp/got" -w '%{time_total}' -H 'x-floe-latency-ms: 200' -H 'Range: bytes=-10' "$ep3/bkt/blob.bin")
  at_least "echo fallback: latency header" "$t" 0.18
  check "echo fallback: Range still works" cmp -s "$tmp/got" <(tail -c 10 "$b/blob.bin")
  eq "echo fallback: x-floe-fail 503" "$(code -H 'x-floe-fail: 503' "$ep3/bkt/blob.bin")" 503
  out=$(S3_STANDIN_BACKEND="echo" "$standin" start "$root" --port 0 --faults 503:2 --state "$st3" 2>&1)
  eq "echo fallback: --faults is refused" "$?:$(grep -c 'needs the lua backend' <<<"$out")" "1:1"
  out=$(S3_STANDIN_BACKEND="echo" "$standin" start "$root" --port 0 --rate-limit 5 --state "$st3" 2>&1)
  eq "echo fallback: --rate-limit is refused" "$?:$(grep -c 'needs the lua backend' <<<"$out")" "1:1"
else
  echo "$out"; bad "start the echo fallback"
fi

# --- stop ------------------------------------------------------------------------
"$standin" stop --state "$st1"; eq "stop exits 0" $? 0
# Gone or a zombie: PID 1 may reap the daemonised master a while later.
gone() { ! grep -q ') [^Z]' "/proc/$1/stat" 2>/dev/null; }
check "stop ends the process" gone "$pid1"
"$standin" status --state "$st1" >/dev/null 2>&1; eq "status after stop exits 1" $? 1
"$standin" stop --state "$st1"; eq "stop again is a no-op (exit 0)" $? 0
eq "nothing answers after stop" "$(code --max-time 2 "$u")" 000

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
