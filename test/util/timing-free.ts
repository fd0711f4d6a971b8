/**
 * A run's numbers without the fields that legitimately differ between two runs of one config
 * (timings, and the metrics.jsonl checksum, which covers the timings): what the kill, resume,
 * preemption and pool tests compare. One list, so a new timing field is added once.
 */

/** Per-epoch timing fields of metrics.jsonl records. */
export const EPOCH_TIMING_FIELDS = [
  "imagesPerSec",
  "seconds",
  "trainSeconds",
  "stepSeconds",
  "evalSeconds",
  "checkpointSeconds",
] as const;

/** summary.json fields that depend on timing or on how the run was started. */
export const SUMMARY_TIMING_FIELDS = [
  "imagesPerSec",
  "wallSeconds",
  "loopOverhead",
  "resumedFromEpoch",
  "metricsFile",
] as const;

function without(record: object, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !fields.includes(k)));
}

/** A summary without its timing fields (SUMMARY_TIMING_FIELDS). */
export function summaryNumbers(summary: object): Record<string, unknown> {
  return without(summary, SUMMARY_TIMING_FIELDS);
}

/** Epoch records without their timing fields (EPOCH_TIMING_FIELDS). */
export function epochNumbers(records: readonly object[]): Record<string, unknown>[] {
  return records.map((r) => without(r, EPOCH_TIMING_FIELDS));
}
