#!/usr/bin/env bash
# Benchmark for `soundsticker build` against the ffmpeg shell pipeline a user would script for the same
# pack. Run by `make bench`; not a test.
#
# A pack of $STICKERS (default 30) stickers, each cut (3-4 s) from its own generated 3-minute 44.1 kHz
# FLAC master with its own 640x640 cover, for WhatsApp + Telegram + Discord:
#  - ours: one `soundsticker build` (it also writes the canonical pack/, pack.zip, .wastickers, tray and
#    thumbnail, which are not counted in the byte totals below);
#  - ffmpeg, per sticker and platform: two-pass loudnorm (-16 LUFS, -1 dBTP, linear) + libopus at 48 kHz
#    (WhatsApp mono voice note, Telegram and Discord stereo), and from the cover a fixed-tempo scale
#    pulse (audio-independent): WhatsApp 512x512 animated WebP (libwebp_anim), Telegram 512x512 VP9
#    WebM (3 s, 30 fps, no audio), Discord 320x320 APNG; each retried once with lighter settings when
#    it is over the platform's cap, as a script would. Run one sticker after another, then two at a
#    time (xargs -P2).
# Printed: wall time, peak RSS (ffmpeg: the largest single command), bytes per output kind, how many
# files break their platform's cap, the ratios, and the loudness of one WhatsApp voice note of each.
#
# Env: BIN (default target/release/soundsticker), STICKERS (default 30), KEEP=1 keeps the outputs.
# Issue target: >= 2x faster than ffmpeg sequential, faster than ffmpeg -P2, same or smaller outputs,
# peak RSS < 500 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/soundsticker}
STICKERS=${STICKERS:-30}
[ "$STICKERS" -ge 3 ] || { echo "STICKERS=$STICKERS: a WhatsApp pack needs at least 3 stickers" >&2; exit 1; }
# Generated with fixed seeds (sox -R; ffmpeg's sources take seed=), so every machine benchmarks the
# same inputs; the folder's name changed when the seeds came in, so no older unseeded data is reused.
DATA=target/bench-data/pack-seeded
OUT=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "keeping outputs in $OUT"; else trap 'rm -rf "$OUT"' EXIT; fi
mkdir -p "$DATA"
TIME=/usr/bin/time
now() { date +%s.%N; }

# Our settings, so ffmpeg makes the same outputs (src/clip/options.rs, src/pack/settings.rs,
# src/platform.rs): pack sounds without a bitrate setting are Opus at 128 kb/s stereo, 96 kb/s mono
# (PACK_*_BPS in src/pack/settings.rs); ffmpeg encodes at those rates too (FF_STEREO_BR / FF_MONO_BR).
LUFS=-16 TP=-1 LRA=11
FF_STEREO_BR=${FF_STEREO_BR:-128k}
FF_MONO_BR=${FF_MONO_BR:-96k}
WA_CAP=500000 TG_CAP=$((256 * 1024)) DC_CAP=$((512 * 1024))  # images: WhatsApp, Telegram, Discord
SOUND_CAP=$((512 * 1024)) DC_SOUND_CAP=$((512 * 1000))       # sounds: WhatsApp/Telegram, Discord
WA_FPS=20 TG_FPS=30 DC_FPS=20                                # platform default frame rates
TG_MAX_S=3 DC_MAX_S=5 DC_SOUND_MAX_S=5.2

# Sticker i: master i, cover i, a 3-4 s range at its own offset.
id_of() { printf 'st%02d' "$1"; }
start_of() { echo "8 + ($1 * 37) % 160 + ($1 % 4) * 0.25" | bc; }
dur_of() { echo "3 + ($1 % 3) * 0.5" | bc; }
min_of() { echo "if ($1 < $2) $1 else $2" | bc; }

echo "generating $STICKERS masters and covers in $DATA (cached) ..."
waves=(sine triangle sawtooth square)
for i in $(seq 1 "$STICKERS"); do
  f=$(printf '%s/master%02d.flac' "$DATA" "$i")
  # A two-voice chord (a fifth apart, one voice per channel), a swept triangle, pink noise, a tremolo
  # and a slow swell, so the loudness differs from one offset to another.
  # Written aside and renamed, so an interrupted run leaves no truncated file in the cache.
  [ -s "$f" ] || { sox -R -n -r 44100 -c 2 -b 16 "$f.tmp.flac" \
    synth 180 "${waves[$((i % 4))]}" $((98 + 23 * i)) "${waves[$((i % 4))]}" $(((98 + 23 * i) * 3 / 2)) \
    synth 180 triangle mix $((196 + 29 * i)):$((392 + 53 * i)) \
    synth 180 pinknoise mix \
    synth 180 sine amod "$(echo "0.5 + 0.7 * ($i % 5)" | bc)" 40 \
    synth 180 sine amod "$(echo "0.02 + 0.01 * $i" | bc)" 20 \
    gain -n -$((3 + i % 8)) 2>/dev/null && mv "$f.tmp.flac" "$f"; }
  c=$(printf '%s/cover%02d.png' "$DATA" "$i")
  case $((i % 6)) in
    0) src="testsrc2=s=640x640:r=1,hue=h=$((i * 47))" ;;
    1) src="mandelbrot=s=640x640:r=1:maxiter=500:start_scale=$(echo "3 / ($i + 1)" | bc -l),hue=h=$((i * 31))" ;;
    2) src="cellauto=s=640x640:r=1:rule=$((30 + i * 4)):seed=$i:scroll=0:full=1,format=rgb24,lutrgb=r=val*$((i % 3 + 1))/3:g=val/2+$((i * 7 % 128)):b=val,gblur=sigma=1.5" ;;
    3) src="gradients=s=640x640:r=1:seed=$i:n=$((2 + i % 6)):type=$((i % 4))" ;;
    4) src="life=s=160x160:r=1:seed=$i:ratio=0.3:life_color=#$(printf '%02x%02x%02x' $((i * 53 % 256)) $((i * 97 % 256)) $((i * 151 % 256))):death_color=#202040,scale=640:640:flags=neighbor,gblur=sigma=3" ;;
    5) src="sierpinski=s=1280x1280:r=1:seed=$i:type=$((i / 6 % 2)),crop=640:640:$((i * 97 % 640)):$((i * 59 % 640)),format=rgb24,lutrgb=r=val*$((i * 37 % 200 + 55))/255+$((i * 13 % 60)):g=val*$((i * 71 % 200 + 55))/255+20:b=val*$((i * 113 % 200 + 55))/255+$((i * 29 % 90))" ;;
  esac
  [ -s "$c" ] || { ffmpeg -nostdin -v error -y -f lavfi -i "$src" -frames:v 1 "$c.tmp.png" && mv "$c.tmp.png" "$c"; }
done

# The same inputs everywhere: the SHA-256 of every master and cover, hashed again (the FLAC and PNG
# bytes also carry the encoders' versions, printed beside it).
inputs=$( (cd "$DATA" && sha256sum master*.flac cover*.png) | sha256sum | cut -c1-16)
echo "inputs: sha256 $inputs ($(sox --version 2>&1 | sed 's/.*SoX //'), $(ffmpeg -version | head -1 | cut -d' ' -f1-3))"

# The manifest: its folder links to the data, so the paths in it stay relative.
ln -s "$PWD/$DATA" "$OUT/data"
emoji=("🎵" "🎶" "🔥" "🥁" "🎸" "🎹" "🎤" "😎" "💃" "🕺" "👋" "🎧")
words=(Intro Hook Drop Riff Chorus Break Bridge Outro Groove Fill Swell Pulse)
{
  printf '{\n  "name": "Bench Pack", "identifier": "bench_pack", "publisher": "soundsticker bench",\n'
  printf '  "cover": "data/cover01.png", "platforms": ["whatsapp", "telegram", "discord"],\n'
  printf '  "telegram": { "bot_username": "soundsticker_bench_bot" },\n  "stickers": [\n'
  for i in $(seq 1 "$STICKERS"); do
    e="\"${emoji[$((i % 12))]}\""
    ((i % 2)) && e="$e, \"${emoji[$(((i * 5 + 3) % 12))]}\""
    printf '    { "id": "%s", "master": "data/master%02d.flac", "start": "%s", "duration": "%s", "cover": "data/cover%02d.png", "emojis": [%s], "title": "%s %d" }%s\n' \
      "$(id_of "$i")" "$i" "$(start_of "$i")" "$(dur_of "$i")" "$i" "$e" "${words[$((i % 12))]}" "$i" \
      "$([ "$i" -lt "$STICKERS" ] && echo ,)"
  done
  printf '  ]\n}\n'
} > "$OUT/pack.json"

# --- ours -----------------------------------------------------------------------------------------------
force=()
"$BIN" build --help | grep -q -- '--force' && force=(--force)  # never copy from a cache
load0=$(cut -d' ' -f1-3 /proc/loadavg)  # other work on the machine skews every timing below
echo "ours: soundsticker build ($STICKERS stickers) ..."
t0=$(now)
"$TIME" -f "%M %U %S" -o "$OUT/ours.rss" "$BIN" build "$OUT/pack.json" --out "$OUT/ours" --quiet "${force[@]}" \
  >/dev/null 2>"$OUT/ours.log" || { cat "$OUT/ours.log" >&2; exit 1; }
t1=$(now)
ours_t=$(echo "$t1 - $t0" | bc -l)
ours_rss=$(awk '{printf "%.0f", $1/1024}' "$OUT/ours.rss")
ours_cpu=$(awk '{printf "%.0f", $2 + $3}' "$OUT/ours.rss")

# --- ffmpeg ---------------------------------------------------------------------------------------------
# One sticker, every platform: ff_sticker INDEX DIR. Peak RSS of every command goes to DIR/rss.
ff_sticker() {
  set -euo pipefail
  local i=$1 dir=$2 id s d master cover
  id=$(id_of "$i"); s=$(start_of "$i"); d=$(dur_of "$i")
  master=$(printf '%s/master%02d.flac' "$DATA" "$i"); cover=$(printf '%s/cover%02d.png' "$DATA" "$i")
  run() { "$TIME" -f "%M %U %S" -a -o "$dir/rss" "$@"; }
  # Sound: two-pass loudnorm (measure, then apply linearly), then libopus.
  sound() { # platform channels bitrate
    local log="$dir/$1/$id.loudnorm" fades pre=""
    fades="afade=t=in:d=0.01,afade=t=out:st=$(echo "$d - 0.05" | bc):d=0.05"
    [ "$2" = 1 ] && pre="pan=mono|c0=0.5*c0+0.5*c1,"
    run ffmpeg -nostdin -hide_banner -nostats -y -ss "$s" -t "$d" -i "$master" \
      -af "$pre$fades,loudnorm=I=$LUFS:TP=$TP:LRA=$LRA:print_format=json" -f null - 2>"$log"
    get() { sed -n "s/.*\"$1\" : \"\([^\"]*\)\".*/\1/p" "$log" | tail -1; }
    run ffmpeg -nostdin -v error -y -ss "$s" -t "$d" -i "$master" \
      -af "$pre$fades,loudnorm=I=$LUFS:TP=$TP:LRA=$LRA:measured_I=$(get input_i):measured_TP=$(get input_tp):measured_LRA=$(get input_lra):measured_thresh=$(get input_thresh):offset=$(get target_offset):linear=true" \
      -ar 48000 -ac "$2" -c:a libopus -b:a "$3" -metadata title="$id" "$dir/$1/$id.ogg"
  }
  # Image: the cover with a 120 BPM scale pulse (a 0.2 s bump every 0.5 s, still in between).
  pulse() { # side fps
    echo "scale=$1:$1,zoompan=z='1+0.08*max(0,1-mod(in_time,0.5)/0.2)':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=$1x$1:fps=$2"
  }
  image() { # seconds fps side out encoder-args...
    local t=$1 fps=$2 side=$3 out=$4; shift 4
    run ffmpeg -nostdin -v error -y -loop 1 -framerate "$fps" -t "$t" -i "$cover" -vf "$(pulse "$side" "$fps")" "$@" "$out"
  }
  # True when FILE fits CAP; otherwise notes a retry of KIND in DIR/retries.
  fits() { [ "$(stat -c %s "$1")" -le "$2" ] || { echo "$3" >> "$dir/retries"; false; }; }
  mkdir -p "$dir/whatsapp" "$dir/telegram" "$dir/discord"
  sound whatsapp 1 "$FF_MONO_BR"
  sound telegram 2 "$FF_STEREO_BR"
  sound discord 2 "$FF_STEREO_BR"
  # WhatsApp: animated WebP at our quality 80; over 500 KB: quality 40 at half the frame rate.
  local wa="$dir/whatsapp/$id.webp"
  image "$d" "$WA_FPS" 512 "$wa" -c:v libwebp_anim -lossless 0 -q:v 80 -compression_level 4 -loop 0
  fits "$wa" "$WA_CAP" webp ||
    image "$d" $((WA_FPS / 2)) 512 "$wa" -c:v libwebp_anim -lossless 0 -q:v 40 -compression_level 4 -loop 0
  # Telegram: VP9 at a bit-rate aimed under 256 KB for 3 s; over it: a lower one.
  local tg="$dir/telegram/$id.webm" tg_s
  tg_s=$(min_of "$d" "$TG_MAX_S")
  image "$tg_s" "$TG_FPS" 512 "$tg" -c:v libvpx-vp9 -b:v 600k -deadline good -cpu-used 4 -row-mt 1 -pix_fmt yuv420p -an
  fits "$tg" "$TG_CAP" webm ||
    image "$tg_s" "$TG_FPS" 512 "$tg" -c:v libvpx-vp9 -b:v 350k -deadline good -cpu-used 4 -row-mt 1 -pix_fmt yuv420p -an
  # Discord: 256-colour APNG (one palette for the clip), looping; over 512 KB: a quarter of the fps.
  local dc="$dir/discord/$id.png" dc_s pal="split[a][b];[a]palettegen[p];[b][p]paletteuse"
  dc_s=$(min_of "$d" "$DC_MAX_S")
  run ffmpeg -nostdin -v error -y -loop 1 -framerate "$DC_FPS" -t "$dc_s" -i "$cover" \
    -vf "$(pulse 320 "$DC_FPS"),$pal" -plays 0 -f apng "$dc"
  fits "$dc" "$DC_CAP" png ||
    run ffmpeg -nostdin -v error -y -loop 1 -framerate $((DC_FPS / 4)) -t "$dc_s" -i "$cover" \
      -vf "$(pulse 320 $((DC_FPS / 4))),$pal" -plays 0 -f apng "$dc"
}
export -f ff_sticker id_of start_of dur_of min_of
export DATA TIME LUFS TP LRA FF_STEREO_BR FF_MONO_BR WA_CAP TG_CAP DC_CAP WA_FPS TG_FPS DC_FPS TG_MAX_S DC_MAX_S

echo "ffmpeg: one sticker after another ..."
mkdir -p "$OUT/ffseq"
t2=$(now)
for i in $(seq 1 "$STICKERS"); do ff_sticker "$i" "$OUT/ffseq"; done
t3=$(now)
echo "ffmpeg: two stickers at a time (xargs -P2) ..."
mkdir -p "$OUT/ffp2"
t4=$(now)
seq 1 "$STICKERS" | xargs -P2 -I{} bash -c 'ff_sticker "$1" "$2"' _ {} "$OUT/ffp2"
t5=$(now)
seq_t=$(echo "$t3 - $t2" | bc -l); p2_t=$(echo "$t5 - $t4" | bc -l)
max_rss_mb() { sort -n "$1" | tail -1 | awk '{printf "%.0f", $1/1024}'; }
cpu_s() { awk '{s += $2 + $3} END {printf "%.0f", s}' "$1"; }
seq_rss=$(max_rss_mb "$OUT/ffseq/rss"); p2_rss=$(max_rss_mb "$OUT/ffp2/rss")
seq_cpu=$(cpu_s "$OUT/ffseq/rss"); p2_cpu=$(cpu_s "$OUT/ffp2/rss")

# --- results --------------------------------------------------------------------------------------------
# Bytes of the stickers' files of one kind: DIR PLATFORM EXT (st*: not tray.png or thumb.webm).
bytes() { find "$1/$2" -maxdepth 1 -name "st*.$3" -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
# Files of one kind over a byte cap (and, with a 5th argument, longer than that many seconds).
over() { # DIR PLATFORM EXT CAP [MAX_S]
  local n=0 f
  for f in "$1/$2"/st*."$3"; do
    if [ "$(stat -c %s "$f")" -gt "$4" ]; then n=$((n + 1)); continue; fi
    if [ -n "${5:-}" ]; then
      local dur
      dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")
      [ "$(echo "$dur > $5 + 0.001" | bc -l)" = 1 ] && n=$((n + 1))
    fi
  done
  echo "$n"
}
kinds=("whatsapp webp $WA_CAP" "telegram webm $TG_CAP $TG_MAX_S" "discord png $DC_CAP"
       "whatsapp ogg $SOUND_CAP" "telegram ogg $SOUND_CAP" "discord ogg $DC_SOUND_CAP $DC_SOUND_MAX_S")
declare -A B C
for who in ours ffseq ffp2; do
  for k in "${kinds[@]}"; do
    read -r p e cap max <<< "$k"
    B[$who,$p,$e]=$(bytes "$OUT/$who" "$p" "$e")
    C[$who,$p,$e]=$(over "$OUT/$who" "$p" "$e" "$cap" "${max:-}")
  done
  B[$who,ogg]=$((B[$who,whatsapp,ogg] + B[$who,telegram,ogg] + B[$who,discord,ogg]))
  C[$who,ogg]=$((C[$who,whatsapp,ogg] + C[$who,telegram,ogg] + C[$who,discord,ogg]))
done
loud() { ffmpeg -nostats -hide_banner -i "$1" -af ebur128=peak=true -f null - 2>&1 | awk '/Summary/{s=1} s&&/ I:/{i=$2} s&&/Peak:/{p=$2} END{printf "%s LUFS %s dBTP", i, p}'; }
kb() { awk -v b="$1" 'BEGIN {printf "%.0f", b / 1000}'; }
retries() { local n; n=$(grep -cx "$1" "$OUT/ffseq/retries" 2>/dev/null) || true; echo "${n:-0}"; }

printf '\ninputs: sha256 %s' "$inputs"
printf '\n%d-sticker pack (3-4 s clips from 3-minute 44.1 kHz FLAC masters, 640x640 covers) for WhatsApp + Telegram + Discord\n' "$STICKERS"
printf '  %-20s %8s %7s %9s | %13s %13s %13s %14s\n' "" "wall" "CPU" "peak RSS" "WA webp kB" "TG webm kB" "DC png kB" "ogg (3) kB"
for who in ours ffseq ffp2; do
  case $who in
    ours) name="soundsticker build"; t=$ours_t; cpu=$ours_cpu; rss=$ours_rss ;;
    ffseq) name="ffmpeg, sequential"; t=$seq_t; cpu=$seq_cpu; rss=$seq_rss ;;
    ffp2) name="ffmpeg, xargs -P2"; t=$p2_t; cpu=$p2_cpu; rss=$p2_rss ;;
  esac
  printf '  %-20s %7.1fs %6ss %6s MB | %7s (%2s!) %7s (%2s!) %7s (%2s!) %8s (%2s!)\n' "$name" "$t" "$cpu" "$rss" \
    "$(kb "${B[$who,whatsapp,webp]}")" "${C[$who,whatsapp,webp]}" "$(kb "${B[$who,telegram,webm]}")" "${C[$who,telegram,webm]}" \
    "$(kb "${B[$who,discord,png]}")" "${C[$who,discord,png]}" "$(kb "${B[$who,ogg]}")" "${C[$who,ogg]}"
done
printf '  (n!) = files over the platform cap: WebP %s B, WebM %s B and %s s, APNG %s B, Ogg %s B (Discord %s B and %s s)\n' \
  "$WA_CAP" "$TG_CAP" "$TG_MAX_S" "$DC_CAP" "$SOUND_CAP" "$DC_SOUND_CAP" "$DC_SOUND_MAX_S"
printf '  ffmpeg: peak RSS of the largest single command (-P2 runs two at once), CPU summed over commands;\n'
printf '          ogg at %s stereo, %s mono; retried encodes (over the cap at first): WebP %s, WebM %s, APNG %s of %s\n' \
  "$FF_STEREO_BR" "$FF_MONO_BR" "$(retries webp)" "$(retries webm)" "$(retries png)" "$STICKERS"
ratio() { echo "$1 / $2" | bc -l; }
# "met" or "MISSED": VALUE OP LIMIT, compared by bc.
verdict() { [ "$(echo "$1 $2 $3" | bc -l)" = 1 ] && echo met || echo MISSED; }
r_seq=$(ratio "$seq_t" "$ours_t"); r_p2=$(ratio "$p2_t" "$ours_t")
printf '  speed-up: ffmpeg sequential / ours = %.2fx (target >= 2: %s), ffmpeg -P2 / ours = %.2fx (target > 1: %s)\n' \
  "$r_seq" "$(verdict "$r_seq" '>=' 2)" "$r_p2" "$(verdict "$r_p2" '>' 1)"
bw=$(ratio "${B[ours,whatsapp,webp]}" "${B[ffseq,whatsapp,webp]}"); bt=$(ratio "${B[ours,telegram,webm]}" "${B[ffseq,telegram,webm]}")
bd=$(ratio "${B[ours,discord,png]}" "${B[ffseq,discord,png]}"); bo=$(ratio "${B[ours,ogg]}" "${B[ffseq,ogg]}")
printf '  bytes ours / ffmpeg sequential: WA webp %.2f (%s), TG webm %.2f (%s), DC png %.2f (%s), ogg %.2f (%s) (target <= 1)\n' \
  "$bw" "$(verdict "$bw" '<=' 1)" "$bt" "$(verdict "$bt" '<=' 1)" "$bd" "$(verdict "$bd" '<=' 1)" "$bo" "$(verdict "$bo" '<=' 1)"
printf '  peak RSS ours: %s MB (target < 500 MB: %s)\n' "$ours_rss" "$(verdict "$ours_rss" '<' 500)"
printf '  load average (1/5/15 min) at the start: %s, at the end: %s on %s cores\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
printf '  loudness of %s WhatsApp voice note: ours %s, ffmpeg %s (target %s LUFS, %s dBTP)\n' "$(id_of 1)" \
  "$(loud "$OUT/ours/whatsapp/$(id_of 1).ogg")" "$(loud "$OUT/ffseq/whatsapp/$(id_of 1).ogg")" "$LUFS" "$TP"
