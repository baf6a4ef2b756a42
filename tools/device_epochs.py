"""How many epochs fill a time budget, from a probe run's history (used by tools/device_finetune.sh).

    python tools/device_epochs.py PROBE_HISTORY BUDGET_S T0 FIT_IMAGES  ->  prints "EPOCHS HOURS"

The probe ran the same recipe for 2 epochs; its second epoch (compiled, validation included)
gives the seconds per step. HOURS is the train-codec --time-limit: a guard against a wrong estimate.
"""

import json
import math
import sys
import time
from pathlib import Path

history_path, budget, t0, fit_images = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
h = json.load(open(history_path))
step_s = h["history"]["epoch_time_s"][1] / (h["steps_done"] / 2)
probe = json.load(open(Path(history_path).parent / "backup" / "settings.json"))  # the recipe the main run shares
passes, batch = probe.get("passes", 1), probe["batch_size"]
left = budget - (time.time() - t0)
steps_per_epoch = math.ceil(fit_images * passes / batch)
epochs = max(1, int((left - 40) / (step_s * steps_per_epoch)))  # 40 s: start-up, compiles of the run's own shapes
print(epochs, round(max(left - 20, 60) / 3600, 4))
print(f"probe: {step_s * 1000:.1f} ms per step of {batch} images; {left:.0f} s left: {epochs} epochs of {steps_per_epoch} steps",
      file=sys.stderr)
