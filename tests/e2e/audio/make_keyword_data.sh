#!/usr/bin/env bash
# Makes synthetic keyword-spotting data for the audio end-to-end test (issue #13, acceptance 2):
#   OUTDIR/train/<label>.<n>.wav   1.0 s clips, labels yes, no, go and noise
#   OUTDIR/stream.wav              120 s of background noise with 20 keywords and a few distractors
#   OUTDIR/stream_truth.csv        start_s,end_s,label of every keyword in the stream
#   OUTDIR/manifest.csv            how every clip and stream word was made (for debugging)
# All audio is 16 kHz mono 16-bit PCM. Speech comes from espeak-ng, noise from sox synth.
# The output depends only on SEED (and the espeak-ng/sox versions): every random choice comes from
# a portable integer generator in awk, sox runs with -R (repeatable noise) and -D (no dither).
#
# Usage: make_keyword_data.sh OUTDIR [SEED]
#   KW_CLIPS_PER_LABEL (environment, default 60) changes the number of clips per label.
set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C

usage() {
  echo "usage: $(basename "$0") OUTDIR [SEED]   (SEED: non-negative integer, default 1)" >&2
  exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
outdir=$1
seed=${2:-1}
clips=${KW_CLIPS_PER_LABEL:-60}
[[ $seed =~ ^[0-9]{1,9}$ ]] || { echo "make_keyword_data: SEED '$seed' is not a non-negative integer (at most 9 digits)" >&2; exit 2; }
[[ $clips =~ ^[0-9]{1,4}$ ]] && [ "$clips" -ge 1 ] ||
  { echo "make_keyword_data: KW_CLIPS_PER_LABEL '$clips' is not a positive integer" >&2; exit 2; }

for tool in espeak-ng:espeak-ng sox:sox soxi:sox awk:mawk; do
  command -v "${tool%%:*}" >/dev/null 2>&1 ||
    { echo "make_keyword_data: '${tool%%:*}' not found (Debian package ${tool#*:})" >&2; exit 1; }
done

readonly RATE=16000
readonly CLIP_FRAMES=16000          # 1.0 s
readonly STREAM_FRAMES=1920000      # 120 s
readonly BED_SECONDS=300            # noise beds: training clips cut [0,180) s, the stream [180,300) s
readonly STREAM_BED_OFFSET=180
readonly STREAM_KEYWORDS=20
readonly STREAM_DISTRACTORS=6

start_time=$(date +%s.%N)
mkdir -p "$outdir/train"
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/train/*.wav "$outdir/stream.wav" "$outdir/stream_truth.csv" "$outdir/manifest.csv"
tmp=$(mktemp -d "$outdir/.kwtmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# sox: -R repeatable noise, -D no (random) dither, -V1 only errors (clipping warnings are errors
# for us: they are checked below with stats instead).
SOX=(sox -R -D -V1)
FMT=(-r "$RATE" -b 16 -e signed-integer -c 1)

# ---------------------------------------------------------------------------------------------
# Noise beds, one per colour, measured once so clips can ask for a noise RMS level in dBFS.
# ---------------------------------------------------------------------------------------------
rms_db() { # FILE -> RMS level in dBFS (sox stats)
  sox -V1 "$1" -n stats 2>&1 | awk '/^RMS lev dB/ { print $4; exit }'
}
wait_all() { # PID... -> fails when any of them failed
  local pid rc=0
  for pid in "$@"; do wait "$pid" || rc=1; done
  return "$rc"
}
pids=()
for colour in white pink brown; do
  "${SOX[@]}" -n "${FMT[@]}" "$tmp/bed_$colour.wav" synth "$BED_SECONDS" "${colour}noise" &
  pids+=($!)
done
wait_all "${pids[@]}" || { echo "make_keyword_data: sox could not make the noise beds" >&2; exit 1; }
declare -A bed_rms
for colour in white pink brown; do
  bed_rms[$colour]=$(rms_db "$tmp/bed_$colour.wav")
done

# ---------------------------------------------------------------------------------------------
# Random choices. MINSTD (x = x * 48271 mod 2^31-1) stays exact in awk's doubles, so mawk and gawk
# draw the same numbers.
# ---------------------------------------------------------------------------------------------
AWK_RNG='
function rinit(s) { rs = (s * 7919 + 12345) % 2147483647; if (rs == 0) rs = 1; rnd(); rnd() }
function rnd() { rs = (rs * 48271) % 2147483647; return rs / 2147483647 }
function rint(a, b) { return a + int(rnd() * (b - a + 1)) }           # integer in [a, b]
function runi(a, b) { return a + rnd() * (b - a) }                     # real in [a, b)
function pick(list,   n, arr) { n = split(list, arr, " "); return arr[rint(1, n)] }
BEGIN {
  langs = "en en-us en-gb en-gb-scotland en-gb-x-rp en-029 en-us-nyc en-gb-x-gbclan en-gb-x-gbcwmd"
  variants = "- f1 f2 f3 f4 f5 m1 m2 m3 m4 m5 m6 m7 klatt klatt2 klatt3 Annie Andy anika belinda boris david john linda max paul"
  others = "hello stop seven right left up down on off house bird cat dog tree happy one two three four five six eight marvin sheila wow learn follow forward visual"
}
function voice(   v) { v = pick(variants); return pick(langs) (v == "-" ? "" : "+" v) }
'

# One line per speech item: id word voice speed pitch amplitude gain_db snr_db colour
#   (gain_db: level of the -3 dB-peak word; snr_db: speech RMS over noise RMS; colour of the noise)
# Training clips add: kind offset_fraction noise_rms_db noise_offset_s
awk -v seed="$seed" -v clips="$clips" -v bed="$STREAM_BED_OFFSET" "$AWK_RNG"'
BEGIN {
  rinit(seed)
  nlab = split("yes no go noise", labels, " ")
  for (l = 1; l <= nlab; l++) for (n = 0; n < clips; n++) {
    lab = labels[l]; kind = "word"; word = lab
    if (lab == "noise") {
      k = n % 4                     # half other words, a quarter noise, a quarter near silence
      if (k <= 1) word = pick(others); else kind = (k == 2 ? "noise" : "quiet")
    }
    colour = pick("white pink brown pink brown")
    printf "%s.%d %s %s %s %d %d %d %.2f %.2f %s %.4f %.2f %.4f\n", lab, n, kind, word, voice(),
           rint(130, 200), rint(30, 70), rint(60, 200), runi(-12, -2), runi(5, 25), colour,
           rnd(), (kind == "quiet" ? runi(-70, -50) : runi(-50, -22)), runi(0, bed - 2)
  }
}' > "$tmp/train.jobs"

# ---------------------------------------------------------------------------------------------
# Speech: espeak-ng -> 16 kHz, normalised to -3 dBFS peak, leading/trailing silence trimmed.
# ---------------------------------------------------------------------------------------------
# (Every step has its own "|| return 1": callers use "speak ... || error", which turns set -e off.)
speak() { # OUT.wav WORD VOICE SPEED PITCH AMPLITUDE GAIN_DB -> prints "<frames> <rms_db>" of OUT
  local out=$1 raw=$1.raw.wav frames rms
  espeak-ng -v "$3" -s "$4" -p "$5" -a "$6" -w "$raw" "$2" </dev/null || return 1
  "${SOX[@]}" "$raw" "${FMT[@]}" "$out" rate "$RATE" norm -3 \
    silence 1 0.01 1% reverse silence 1 0.01 1% reverse gain "$7" || return 1
  rm -f "$raw"
  frames=$(soxi -s "$out") && rms=$(rms_db "$out") || return 1
  [[ $frames =~ ^[0-9]+$ ]] && [ "$frames" -gt 0 ] || return 1   # all silence: nothing left
  echo "$frames $rms"
}

make_clip() { # one line of train.jobs
  local id=$1 kind=$2 word=$3 voice=$4 speed=$5 pitch=$6 amp=$7 gain=$8 snr=$9 colour=${10}
  local offfrac=${11} noise_db=${12} noise_off=${13}
  local out="$outdir/train/$id.wav" w="$tmp/$id.word.wav" info frames rms offset noise_gain
  if [ "$kind" = word ]; then
    info=$(speak "$w" "$word" "$voice" "$speed" "$pitch" "$amp" "$gain") ||
      { echo "make_keyword_data: clip $id: espeak-ng/sox failed for '$word' (voice $voice)" >&2; return 1; }
    frames=${info% *}; rms=${info#* }
    # word placed at a random offset, 50 ms from either edge when it fits
    offset=$(awk -v f="$frames" -v u="$offfrac" -v n="$CLIP_FRAMES" 'BEGIN {
      room = n - f - 1600; if (room < 0) { o = int((n - f) / 2); if (o < 0) o = 0 } else o = 800 + int(u * room)
      print o }')
    noise_gain=$(awk -v s="$rms" -v snr="$snr" -v b="${bed_rms[$colour]}" 'BEGIN { printf "%.2f", s - snr - b }')
    "${SOX[@]}" -m -v 1 "|sox -V1 '$w' -p pad ${offset}s $CLIP_FRAMES""s" \
      -v 1 "|sox -V1 '$tmp/bed_$colour.wav' -p trim $noise_off $CLIP_FRAMES""s gain $noise_gain" \
      "${FMT[@]}" "$out" trim 0 "$CLIP_FRAMES"s
    rm -f "$w"
  else
    frames=0; offset=0; rms=none
    noise_gain=$(awk -v d="$noise_db" -v b="${bed_rms[$colour]}" 'BEGIN { printf "%.2f", d - b }')
    "${SOX[@]}" "$tmp/bed_$colour.wav" "${FMT[@]}" "$out" trim "$noise_off" "$CLIP_FRAMES"s gain "$noise_gain"
    word=-; voice=-; snr=-
  fi
  echo "train/$id.wav,$kind,$word,$voice,$speed,$pitch,$amp,$gain,$snr,$colour,$noise_gain,$offset,$frames"
}

# Two workers (the machine and CI have 2 cores); each writes its own manifest part.
pids=()
for worker in 0 1; do
  (
    awk -v w="$worker" 'NR % 2 == w' "$tmp/train.jobs" | while read -r -a job; do
      make_clip "${job[@]}" </dev/null
    done > "$tmp/manifest.$worker"
  ) &
  pids+=($!)
done
wait_all "${pids[@]}" || { echo "make_keyword_data: making the training clips failed (see above)" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Stream: keywords and distractors from a different random sequence (seed-derived), over noise
# cut from the part of the beds the training clips never use.
# ---------------------------------------------------------------------------------------------
awk -v seed="$seed" -v nk="$STREAM_KEYWORDS" -v nd="$STREAM_DISTRACTORS" "$AWK_RNG"'
BEGIN {
  rinit(seed + 1000003)
  split("yes no go", kw, " ")      # balanced (7 yes, 7 no, 6 go for 20), in shuffled order
  for (i = 0; i < nk; i++) order[i] = kw[i % 3 + 1]
  for (i = nk - 1; i > 0; i--) { j = rint(0, i); t = order[i]; order[i] = order[j]; order[j] = t }
  for (i = 0; i < nk; i++)
    printf "kw%02d word %s %s %d %d %d %.2f\n", i, order[i], voice(), rint(130, 200),
           rint(30, 70), rint(60, 200), runi(-12, -4)
  for (i = 0; i < nd; i++)
    printf "dx%02d distractor %s %s %d %d %d %.2f\n", i, pick(others), voice(), rint(130, 200),
           rint(30, 70), rint(60, 200), runi(-12, -4)
}' > "$tmp/stream.jobs"

while read -r id kind word voice speed pitch amp gain; do
  info=$(speak "$tmp/$id.wav" "$word" "$voice" "$speed" "$pitch" "$amp" "$gain" </dev/null) ||
    { echo "make_keyword_data: stream word $id: espeak-ng/sox failed for '$word' (voice $voice)" >&2; exit 1; }
  echo "$id $kind $word $voice $speed $pitch $amp $gain ${info% *}"
done < "$tmp/stream.jobs" > "$tmp/stream.words"

# Placement (in frames): keyword i starts in slot i of 5.75 s from 2.0 s, jittered by up to
# 1.5 s, so keywords are >= 4.25 s apart start to start and start in [2.0, 112.75] s.
# Distractors go 1.0-1.3 s after the end of a keyword when they end >= 1.0 s before the next one.
awk -v seed="$seed" -v rate="$RATE" -v nk="$STREAM_KEYWORDS" -v total="$STREAM_FRAMES" "$AWK_RNG"'
{ id[NR] = $1; kind[NR] = $2; word[NR] = $3; len[NR] = $9 }
END {
  rinit(seed + 2000003)
  slot = int(5.75 * rate)
  for (i = 1; i <= nk; i++) {
    start[i] = int(2.0 * rate) + (i - 1) * slot + int(runi(0, 1.5) * rate)
    if (len[i] > rate) { printf "make_keyword_data: stream keyword %s is %d frames long (> 1 s)\n", id[i], len[i] > "/dev/stderr"; exit 1 }
  }
  if (start[nk] + len[nk] > total - 1.5 * rate) { print "make_keyword_data: last stream keyword ends after 118.5 s" > "/dev/stderr"; exit 1 }
  # distractors after keywords spread over the stream: 2, 5, 8, ... (every third gap)
  d = 0
  for (i = 2; i < nk && nk + d + 1 <= NR; i += 3) {
    j = nk + d + 1
    s = start[i] + len[i] + int(runi(1.0, 1.3) * rate)
    if (s + len[j] + rate <= start[i + 1]) { start[j] = s; d++ }
  }
  for (i = 1; i <= nk + d; i++) print start[i], id[i], kind[i], word[i], len[i]
}' "$tmp/stream.words" | sort -n > "$tmp/stream.place"

# Background: pink + brown noise at a fixed level inside the training clips' noise range.
pink_gain=$(awk -v b="${bed_rms[pink]}" 'BEGIN { printf "%.2f", -40 - b }')
brown_gain=$(awk -v b="${bed_rms[brown]}" 'BEGIN { printf "%.2f", -43 - b }')
mix=(-m -v 1 "|sox -V1 '$tmp/bed_pink.wav' -p trim $STREAM_BED_OFFSET ${STREAM_FRAMES}s gain $pink_gain"
     -v 1 "|sox -V1 '$tmp/bed_brown.wav' -p trim $STREAM_BED_OFFSET ${STREAM_FRAMES}s gain $brown_gain")
while read -r start id kind word len; do
  mix+=(-v 1 "|sox -V1 '$tmp/$id.wav' -p pad ${start}s")
done < "$tmp/stream.place"
"${SOX[@]}" "${mix[@]}" "${FMT[@]}" "$outdir/stream.wav" trim 0 "$STREAM_FRAMES"s

{
  echo "start_s,end_s,label"
  awk -v rate="$RATE" '$3 == "word" { printf "%.3f,%.3f,%s\n", $1 / rate, ($1 + $5) / rate, $4 }' "$tmp/stream.place"
} > "$outdir/stream_truth.csv"

{
  echo "file,kind,word,voice,speed,pitch,amplitude,speech_gain_db,snr_db,noise,noise_gain_db,offset_frames,word_frames"
  sort -t, -k1,1V "$tmp"/manifest.0 "$tmp"/manifest.1
  awk '{ printf "stream.wav@%.3f,%s,%s,-,-,-,-,-,-,pink+brown,-,%d,%d\n", $1 / 16000, $3, $4, $1, $5 }' "$tmp/stream.place"
} > "$outdir/manifest.csv"

# ---------------------------------------------------------------------------------------------
# Checks: every clip exactly 1 s of 16 kHz mono 16-bit, the stream exactly 120 s, nothing clipped.
# ---------------------------------------------------------------------------------------------
bad=0
for f in "$outdir"/train/*.wav "$outdir/stream.wav"; do
  want=$CLIP_FRAMES; [ "$f" = "$outdir/stream.wav" ] && want=$STREAM_FRAMES
  got="$(soxi -s "$f") $(soxi -r "$f") $(soxi -c "$f") $(soxi -b "$f")"
  if [ "$got" != "$want $RATE 1 16" ]; then
    echo "make_keyword_data: $f: frames/rate/channels/bits are '$got', want '$want $RATE 1 16'" >&2; bad=1
  fi
done
peak=$(for f in "$outdir"/train/*.wav "$outdir/stream.wav"; do sox -V1 "$f" -n stats 2>&1; done |
       awk '/^Pk lev dB/ { if (m == "" || $4 > m) m = $4 } END { print m }')
if awk -v p="$peak" 'BEGIN { exit !(p > -0.1) }'; then
  echo "make_keyword_data: highest peak is $peak dBFS: something clipped" >&2; bad=1
fi
nlab=$(ls "$outdir"/train/*.wav | wc -l)
if [ "$nlab" -ne $((4 * clips)) ]; then
  echo "make_keyword_data: $nlab clips in $outdir/train, want $((4 * clips))" >&2; bad=1
fi
[ "$bad" -eq 0 ] || exit 1

nkw=$(($(wc -l < "$outdir/stream_truth.csv") - 1))
ndx=$(($(wc -l < "$tmp/stream.place") - nkw))
elapsed=$(awk -v a="$start_time" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "make_keyword_data: seed $seed: $clips clips per label (yes no go noise; $nlab in train/)," \
     "stream.wav 120.000 s with $nkw keywords and $ndx distractors, highest peak $peak dBFS, ${elapsed} s"
