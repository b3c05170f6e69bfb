#!/usr/bin/env bash
# Benchmark for `soundsticker clip` against the ffmpeg pipeline a user would script instead
# (two-pass loudnorm, then libopus, as ffmpeg-normalize does it). Run by `make bench`; not a test.
#
#  1. 12 clips of 4 s from 12 generated 4-minute FLAC masters, normalised to -16 LUFS / -1 dBTP and
#     encoded to Ogg Opus at 96 kb/s: wall time and peak RSS of both pipelines, and the ratio.
#  2. One 4 s clip from a generated 60-minute FLAC (seeking): wall time and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/soundsticker}
# Generated with a fixed seed (sox -R), so every machine benchmarks the same masters; the folder's
# name changed when the seed came in, so no older unseeded master is reused.
DATA=target/bench-data/clip-seeded
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$DATA"
TIME=/usr/bin/time

now() { date +%s.%N; }
# Run a command, append its peak RSS (KiB) to $OUT/rss.
measured() { "$TIME" -f %M -a -o "$OUT/rss" "$@" >/dev/null 2>>"$OUT/log"; }
peak_rss_mb() { sort -n "$OUT/rss" | tail -1 | awk '{printf "%.1f", $1/1024}'; rm -f "$OUT/rss"; }

echo "generating masters in $DATA (cached) ..."
for i in $(seq 1 12); do
  f="$DATA/master$i.flac"
  # Written aside and renamed, so an interrupted run leaves no truncated master behind.
  [ -s "$f" ] || { sox -R -n -r 44100 -c 2 -b 24 "$f.tmp.flac" synth 240 pinknoise synth 240 sine $((110 * i)) \
    synth 240 sine amod 1.5 gain -$((6 + i)) 2>/dev/null && mv "$f.tmp.flac" "$f"; }
done
[ -s "$DATA/hour.flac" ] || { sox -R -n -r 44100 -c 2 -b 16 "$DATA/hour.tmp.flac" synth 3600 sine 440 sine 660 gain -10 &&
  mv "$DATA/hour.tmp.flac" "$DATA/hour.flac"; }

inputs=$( (cd "$DATA" && sha256sum master*.flac hour.flac) | sha256sum | cut -c1-16)
echo "inputs: sha256 $inputs ($(sox --version 2>&1 | sed 's/.*SoX //'))"

starts=(12 40 65 90 101 120 133 150 170 185 200 222)

echo "ours: soundsticker clip ..."
t0=$(now)
for i in $(seq 1 12); do
  measured "$BIN" clip "$DATA/master$i.flac" -o "$OUT/ours$i.ogg" --start "${starts[$((i-1))]}" --duration 4 \
    --loudness -16 --true-peak -1 --bitrate 96k
done
t1=$(now)
ours_rss=$(peak_rss_mb)

echo "ffmpeg: two-pass loudnorm + libopus ..."
t2=$(now)
for i in $(seq 1 12); do
  s=${starts[$((i-1))]}
  measured ffmpeg -nostdin -hide_banner -y -ss "$s" -t 4 -i "$DATA/master$i.flac" \
    -af loudnorm=I=-16:TP=-1:LRA=11:print_format=json -f null - 
  stats=$(tail -n 14 "$OUT/log")
  get() { echo "$stats" | sed -n "s/.*\"$1\" : \"\([^\"]*\)\".*/\1/p" | tail -1; }
  measured ffmpeg -nostdin -hide_banner -y -ss "$s" -t 4 -i "$DATA/master$i.flac" \
    -af "loudnorm=I=-16:TP=-1:LRA=11:measured_I=$(get input_i):measured_TP=$(get input_tp):measured_LRA=$(get input_lra):measured_thresh=$(get input_thresh):offset=$(get target_offset):linear=true" \
    -ar 48000 -c:a libopus -b:a 96k "$OUT/ff$i.ogg"
done
t3=$(now)
ff_rss=$(peak_rss_mb)

loud() { ffmpeg -nostats -hide_banner -i "$1" -af ebur128=peak=true -f null - 2>&1 | awk '/Summary/{s=1} s&&/ I:/{i=$2} s&&/Peak:/{p=$2} END{printf "%s LUFS %s dBTP", i, p}'; }

ours=$(echo "$t1 - $t0" | bc -l); ff=$(echo "$t3 - $t2" | bc -l)
printf '\n12 clips x 4 s from 4-minute FLAC masters, normalise to -16 LUFS/-1 dBTP, Opus 96 kb/s\n'
printf '  %-34s %8.2f s  peak RSS %6s MB   (clip 1: %s)\n' "soundsticker" "$ours" "$ours_rss" "$(loud "$OUT/ours1.ogg")"
printf '  %-34s %8.2f s  peak RSS %6s MB   (clip 1: %s)\n' "ffmpeg loudnorm x2 + libopus" "$ff" "$ff_rss" "$(loud "$OUT/ff1.ogg")"
printf '  speed-up: %.1fx\n' "$(echo "$ff / $ours" | bc -l)"

t4=$(now)
measured "$BIN" clip "$DATA/hour.flac" -o "$OUT/hour.ogg" --start 45:00 --duration 4
t5=$(now)
hour_rss=$(peak_rss_mb)
printf '\n4 s clip at 45:00 from a 60-minute FLAC: %.3f s, peak RSS %s MB (target: < 0.3 s, < 100 MB)\n' \
  "$(echo "$t5 - $t4" | bc -l)" "$hour_rss"
