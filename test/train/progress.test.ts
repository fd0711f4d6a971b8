/** The progress line's content and the mode choice (none in CI, no tslab kernel in tests). */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  autoProgressMode,
  createProgress,
  formatDuration,
  progressLine,
  tslabIfKernel,
} from "../../src/train/progress.js";

describe("progress", () => {
  it("shows epoch, bar, percent, images/s, loss and ETA on one line", () => {
    const line = progressLine(
      {
        epoch: 2,
        epochs: 10,
        done: 300,
        total: 1200,
        imagesPerSec: 123.45,
        etaSeconds: 3725,
        loss: 0.51234,
        phase: "train",
      },
      8,
    );
    expect(line).toBe("epoch 2/10 [##......]  25% 123.5 img/s loss 0.5123 ETA 1h02m");
    expect(line).not.toContain("\n");
  });

  it("formats durations", () => {
    expect(formatDuration(42.4)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(Number.NaN)).toBe("?");
  });

  it("chooses none outside a terminal or notebook, and rejects unknown modes", () => {
    expect(tslabIfKernel()).toBeUndefined();
    if (process.env.CI || !process.stderr.isTTY) expect(autoProgressMode()).toBe("none");
    // Asking for a notebook display outside a kernel degrades to none instead of throwing.
    expect(() =>
      createProgress("notebook").update({
        epoch: 1,
        epochs: 1,
        done: 1,
        total: 1,
        imagesPerSec: 1,
        etaSeconds: 0,
        loss: 1,
        phase: "train",
      }),
    ).not.toThrow();
    expect(() => createProgress("bar" as never)).toThrow(
      /progress must be one of auto, terminal, notebook, none/,
    );
  });
});

describe("notebook progress", () => {
  it("writes one tslab display entry and then updates it in place", () => {
    // What a tslab kernel does while a cell runs: tslab's jupyter module holds the writer.
    const jupyter = createRequire(import.meta.url)("tslab/dist/jupyter") as {
      lastWriteDisplayData: unknown;
    };
    const writes: { data: Record<string, string>; id: string | undefined; update: boolean }[] = [];
    jupyter.lastWriteDisplayData = (
      d: { data: Record<string, string>; transient: { display_id?: string } },
      update: boolean,
    ) => writes.push({ data: d.data, id: d.transient.display_id, update });
    try {
      expect(autoProgressMode()).toBe("notebook");
      const p = createProgress("auto");
      p.update({
        epoch: 1,
        epochs: 2,
        done: 5,
        total: 10,
        imagesPerSec: 50,
        etaSeconds: 3,
        loss: 2.3,
        phase: "train",
      });
      p.epochDone("epoch 1/2 done");
      p.close();
      expect(writes).toHaveLength(2);
      expect(writes[0]!.data["text/plain"]).toContain("epoch 1/2 [");
      expect(writes[0]!.update).toBeFalsy(); // a new entry
      expect(writes[1]!.update).toBe(true); // same entry, overwritten
      expect(writes[1]!.id).toBe(writes[0]!.id);
      expect(writes[1]!.data["text/plain"]).toBe("epoch 1/2 done");
    } finally {
      jupyter.lastWriteDisplayData = null;
    }
  });
});
