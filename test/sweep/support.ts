/** Shared pieces of the sweep tests. */

/**
 * The base config of the sweep tests' runs: a depth-8, width-4 ResNet on synthetic data, a
 * second or two per run, so kill, concurrency and cluster tests train real runs quickly.
 */
export function tinyBase(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "resnet20",
    depth: 8,
    width: 4,
    shortcut: "projection",
    dataset: "synthetic",
    epochs: 2,
    batchSize: 32,
    trainSubset: 64,
    valFraction: 0,
    ...overrides,
  };
}
