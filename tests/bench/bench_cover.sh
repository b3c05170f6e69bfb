#!/usr/bin/env bash
# Benchmark for `soundsticker cover` against ffmpeg encoding the same rendered frames (libwebp_anim for
# WhatsApp WebP, libvpx-vp9 for Telegram WebM, palettegen + apng for Discord APNG). Run by `make bench`;
# not a test.
#
# ours: render + fit under the platform cap (all encodes included). ffmpeg: one encode per quality
# setting, swept to find the bytes it needs for the SSIM we reached (interpolated on log-bytes), and the
# time of its encode at that setting.
set -euo pipefail
set -f  # no pathname expansion: the ffmpeg filter graphs below hold [labels], which are glob patterns
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/soundsticker}
SSIM=target/release/examples/ssim
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
now() { date +%s.%N; }

ffmpeg -v error -f lavfi -i "mandelbrot=s=1200x1200:maxiter=300" -frames:v 1 -q:v 2 "$OUT/photo.jpg"
"$BIN" clip assets/demo/master.flac -o "$OUT/clip.ogg" --start 15 --duration 3 2>/dev/null

# The same job for ffmpeg as a user would script it: bisect its quality setting until the file fits the
# cap (best quality that fits), one full encode per step. Prints "seconds encodes bytes setting".
ffmpeg_fit() { # frames_dir ext fps template lo hi better(up|down) cap
  local dir=$1 ext=$2 fps=$3 template=$4 lo=$5 hi=$6 better=$7 cap=$8
  local t0 t1 n=0 best_bytes=0 best_q=none q size
  t0=$(now)
  while [ "$lo" -le "$hi" ]; do
    q=$(( (lo + hi) / 2 ))
    local args=${template//Q/$q}
    # shellcheck disable=SC2086
    ffmpeg -v error -y -framerate "$fps" -i "$dir/%04d.png" -r "$RATE" $args "$OUT/fit.$ext"
    n=$((n + 1))
    size=$(stat -c %s "$OUT/fit.$ext")
    if [ "$size" -le "$cap" ]; then
      best_bytes=$size; best_q=$q
      if [ "$better" = up ]; then lo=$((q + 1)); else hi=$((q - 1)); fi
    else
      if [ "$better" = up ]; then hi=$((q - 1)); else lo=$((q + 1)); fi
    fi
  done
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $n $best_bytes $best_q"
}

# What to measure a file by: the file itself where our reader reads it (WebP, with the frame rate and
# step that line its frames up with the reference), else its frames
# as ffmpeg decodes them (our readers only read our own WebM muxing and APNG blend and dispose modes;
# VP9 through libvpx, for its alpha).
judged() { # file
  case $1 in
    *.webp) echo "$1 $fps $STEP" ;;
    *)
      rm -rf "$OUT/ffdec" && mkdir -p "$OUT/ffdec"
      if [[ $1 == *.webm ]]; then
        ffmpeg -v error -c:v libvpx-vp9 -i "$1" "$OUT/ffdec/%04d.png"
      else
        ffmpeg -v error -i "$1" "$OUT/ffdec/%04d.png"
      fi
      echo "$OUT/ffdec" ;;
  esac
}

run_case() { # name ext platform fps ffmpeg-args-template(with Q) qualities...
  local name=$1 ext=$2 platform=$3 fps=$4 template=$5; shift 5
  local t0 t1
  t0=$(now)
  /usr/bin/time -f %M -o "$OUT/rss" "$BIN" --json cover "$OUT/photo.jpg" --audio "$OUT/clip.ogg" --style pulse \
    --platform "$platform" -o "$OUT/ours.$ext" --save-frames "$OUT/frames-$name" > "$OUT/ours.json"
  t1=$(now)
  local ours_bytes ours_ssim ours_time ours_rss
  ours_bytes=$(stat -c %s "$OUT/ours.$ext")
  # ffmpeg keeps the frames ours kept: where the fit lowered the frame rate, ffmpeg's output runs at it.
  RATE=$(sed -n 's/.*"fps": \([0-9.]*\).*/\1/p' "$OUT/ours.json" | head -1)
  STEP=$(echo "$fps / $RATE + 0.5" | bc -l | cut -d. -f1)
  # shellcheck disable=SC2046  # judged prints the file and, for WebP, the frame rate and step
  ours_ssim=$("$SSIM" "$OUT/frames-$name" $(judged "$OUT/ours.$ext"))
  ours_time=$(echo "$t1 - $t0" | bc -l)
  ours_rss=$(awk '{printf "%.0f", $1/1024}' "$OUT/rss")
  : > "$OUT/sweep"
  for q in "$@"; do
    local args=${template//Q/$q}
    t0=$(now)
    # shellcheck disable=SC2086
    ffmpeg -v error -y -framerate "$fps" -i "$OUT/frames-$name/%04d.png" -r "$RATE" $args "$OUT/ff.$ext"
    t1=$(now)
    echo "$q $(stat -c %s "$OUT/ff.$ext") $("$SSIM" "$OUT/frames-$name" $(judged "$OUT/ff.$ext")) $(echo "$t1 - $t0" | bc -l)" >> "$OUT/sweep"
  done
  # ffmpeg bytes and time at our SSIM: interpolate between the sweep points around it.
  # "reached" is 0 when no setting of the sweep reaches our SSIM: its best is reported instead.
  read -r ff_bytes ff_time reached best_ssim < <(sort -k3 -g "$OUT/sweep" | awk -v s="$ours_ssim" '
    { q[NR]=$1; b[NR]=$2; v[NR]=$3; t[NR]=$4 }
    END {
      for (i = 1; i < NR; i++) if (v[i] <= s && v[i+1] >= s) {
        f = (v[i+1] > v[i]) ? (s - v[i]) / (v[i+1] - v[i]) : 0
        printf "%.0f %.3f 1 %s\n", exp(log(b[i]) + f * (log(b[i+1]) - log(b[i]))), t[i] + f * (t[i+1] - t[i]), v[NR]; exit
      }
      if (s > v[NR]) printf "%.0f %.3f 0 %s\n", b[NR], t[NR], v[NR]; else printf "%.0f %.3f 1 %s\n", b[1], t[1], v[NR]
    }')
  local side
  side=$(sed -n 's/.*"width": \([0-9]*\).*/\1/p' "$OUT/ours.json" | head -1)
  printf '\n%s (pulse, %sx%s, 3 s, %s fps, photo cover), fitted by soundsticker to the %s cap (at %s fps):\n' "$name" "$side" "$side" "$fps" "$platform" "$RATE"
  printf '  soundsticker: %7d bytes, SSIM %s, %.2f s (render + fit, all encodes), peak RSS %s MB\n' "$ours_bytes" "$ours_ssim" "$ours_time" "$ours_rss"
  if [ "$reached" = 1 ]; then
    printf '  ffmpeg:       %7d bytes at the same SSIM, %.2f s for one encode at that setting\n' "$ff_bytes" "$ff_time"
  else
    printf '  ffmpeg:       never reaches that SSIM; its best setting: %d bytes at SSIM %s, %.2f s\n' "$ff_bytes" "$best_ssim" "$ff_time"
  fi
  printf '  bytes: soundsticker/ffmpeg%s = %.2f; sweep (quality bytes ssim seconds):\n' \
    "$([ "$reached" = 1 ] || echo "'s best")" "$(echo "$ours_bytes / $ff_bytes" | bc -l)"
  sed 's/^/    /' "$OUT/sweep"
  local cap
  cap=$(sed -n 's/.*"max_bytes": \([0-9]*\).*/\1/p' "$OUT/ours.json" | head -1)
  read -r fit_s fit_n fit_bytes fit_q < <(ffmpeg_fit "$OUT/frames-$name" "$ext" "$fps" "$template" "$FIT_LO" "$FIT_HI" "$FIT_BETTER" "$cap")
  if [ "$fit_q" = none ]; then
    printf '  same job (fit under %s bytes by bisecting its setting): ffmpeg found no setting that fits, %.2f s, %s encodes\n' "$cap" "$fit_s" "$fit_n"
  else
    printf '  same job (fit under %s bytes by bisecting its setting): ffmpeg %.2f s, %s encodes, %s bytes at setting %s, SSIM %s; time ratio soundsticker/ffmpeg = %.2f\n' \
      "$cap" "$fit_s" "$fit_n" "$fit_bytes" "$fit_q" "$("$SSIM" "$OUT/frames-$name" $(judged "$OUT/fit.$ext"))" \
      "$(echo "$ours_time / $fit_s" | bc -l)"
  fi
}

FIT_LO=0 FIT_HI=100 FIT_BETTER=up \
run_case "WhatsApp animated WebP" webp whatsapp 20 "-c:v libwebp_anim -lossless 0 -q:v Q -compression_level 4 -loop 0" 10 20 30 40 50 60 70 80 90
FIT_LO=4 FIT_HI=63 FIT_BETTER=down \
run_case "Telegram WebM/VP9" webm telegram 30 "-c:v libvpx-vp9 -pix_fmt yuva420p -b:v 0 -crf Q -deadline good -cpu-used 4 -auto-alt-ref 0 -an" 50 45 40 35 30 25 20
# Colours of one palette for the clip (one transparent), no dithering (as ours), ffmpeg's APNG encoder
# choosing each frame's blend and dispose modes.
FIT_LO=16 FIT_HI=255 FIT_BETTER=up \
run_case "Discord APNG" png discord 20 "-vf split[a][b];[a]palettegen=max_colors=Q:reserve_transparent=1[p];[b][p]paletteuse=dither=none -plays 0 -f apng" 16 32 64 96 128 192 255
