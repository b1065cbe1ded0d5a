"""Profiling the family side by side: exact parameters (offline), analytic FLOPs, measured latency, memory, GFLOP/s,
and the papers' claims checked against them. This package only re-exports; each part lives in its own module:

  parameters  exact parameter counts from a config on the meta device, by part of the model (PARTS)
  flops       analytic FLOPs of one forward pass, by where they are spent
  timing      the timing harness (measure), where it ran (Environment) and the result types
  cache       the last measurement per device, as JSON under cache.CACHE_DIR
  claims      the papers' claims as data (CLAIMS) and their checks

    >>> p = parameter_breakdown(default_checkpoint("albert"))       # doctest: +SKIP
    >>> p.total, p.per_forward                                      # albert-base-v2: (11_813_810, 89_781_554)
    >>> forward_flops(config, "BertForPreTraining", batch=1, length=128).total   # doctest: +SKIP

To point the cache elsewhere (tests do), set `profiling.cache.CACHE_DIR`: the cache module reads its own.
"""
from model_zoo.profiling import cache, claims, flops, parameters, timing  # noqa: F401
from model_zoo.profiling.cache import cache_path, load_cached, result_from_json, result_to_json, save_cached
from model_zoo.profiling.claims import CLAIMS, NOT_MEASURABLE, Claim, PaperClaim, claims_check, speed_claim
from model_zoo.profiling.flops import FlopCount, forward_flops
from model_zoo.profiling.parameters import (PARTS, ParameterBreakdown, breakdown_of_model, default_keys, meta_model,
                                            parameter_breakdown, parameter_breakdowns, part_of)
from model_zoo.profiling.timing import (ALL_BATCHES, ALL_LENGTHS, DEFAULT_BATCHES, DEFAULT_LENGTHS, MEMORY_NOTE_CPU,
                                        MEMORY_NOTE_CUDA, RANDOM_SAME_CONFIG, CompareResult, Environment, Measurement,
                                        combine, environment, measure, percentile, random_inputs, time_forward)

__all__ = ["cache", "claims", "flops", "parameters", "timing", "cache_path", "load_cached", "result_from_json",
           "result_to_json", "save_cached", "CLAIMS", "NOT_MEASURABLE", "Claim", "PaperClaim", "claims_check",
           "speed_claim", "FlopCount", "forward_flops", "PARTS", "ParameterBreakdown", "breakdown_of_model",
           "default_keys", "meta_model", "parameter_breakdown", "parameter_breakdowns", "part_of", "ALL_BATCHES",
           "ALL_LENGTHS", "DEFAULT_BATCHES", "DEFAULT_LENGTHS", "MEMORY_NOTE_CPU", "MEMORY_NOTE_CUDA",
           "RANDOM_SAME_CONFIG", "CompareResult", "Environment", "Measurement", "combine", "environment", "measure",
           "percentile", "random_inputs", "time_forward"]
