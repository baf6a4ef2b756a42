"""Training: the generic resumable loop (`loop`) and its two recipes (`reference` autoencoders, learned `codec`s)."""

from .loop import (PRECISIONS, EpochCounter, FitSettings, ProgressLog, ResumableCheckpoint, TimeLimit,
                   check_resume_settings, fit_resumable, make_dataset, resolve_precision, set_seed, zoom_and_flip)
from .reference import (TrainConfig, TrainResult, compile_model, default_strategy, load_autoencoder, load_finished_run,
                        train)

__all__ = ["PRECISIONS", "EpochCounter", "FitSettings", "ProgressLog", "ResumableCheckpoint", "TimeLimit",
           "check_resume_settings", "fit_resumable", "make_dataset", "resolve_precision", "set_seed", "zoom_and_flip",
           "TrainConfig", "TrainResult", "compile_model", "default_strategy", "load_autoencoder", "load_finished_run", "train"]
