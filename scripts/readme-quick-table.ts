/**
 * Prints the README's table of the quick preset's ablations from the committed runs, so the
 * README shows what results/sweeps holds, not numbers typed by hand:
 *
 *   npx tsx scripts/readme-quick-table.ts [results/sweeps]
 *
 * Each arm is its 3 (or more) seeds' final test top-1 error; each comparison is Welch's t-test
 * against the arm's reference, with the minimum detectable effect (α 0.05, 80 % power) beside
 * every Δ that is not resolved, and the paper's Δ where the paper has one.
 */
import fs from "node:fs";
import path from "node:path";
import { minimumDetectableEffect, pooledStd } from "../src/report/power.js";
import { mean, sampleStd, welchTest } from "../src/report/stats.js";
import { readJsonIfExists } from "../src/util/fs.js";

const root = path.resolve(process.argv[2] ?? "results/sweeps");

/** One arm: where its runs are (notebook, sweep, run-id prefix), its reference and the paper. */
interface Arm {
  label: string;
  nb: string;
  sweep: string;
  prefix: string;
  ref?: string;
  against?: string;
  paper?: string;
  note?: string;
}

const ARMS: Arm[] = [
  {
    label: "ResNet-20 (no attention)",
    nb: "02_reduction_ratio",
    sweep: "baseline",
    prefix: "seed=",
    note: "reference of every SE / SGE arm",
  },
  ...[
    [2, "−1.01"],
    [4, "−1.05"],
    [8, "−1.04"],
    [16, "−1.02"],
    [32, "−0.58"],
  ].map(([r, paper]) => ({
    label: `SE-ResNet-20, r = ${r}`,
    nb: "02_reduction_ratio",
    sweep: "se-reduction",
    prefix: `reduction=${r}__`,
    ref: "ResNet-20 (no attention)",
    paper: `paper ${paper} pp`,
  })),
  {
    label: "SE, tanh gate",
    nb: "03_squeeze_and_excitation_operators",
    sweep: "excitation",
    prefix: "excitation=tanh__",
    ref: "SE-ResNet-20, r = 8",
    against: "against the sigmoid gate (SE r = 8)",
    paper: "paper +0.72 pp",
  },
  {
    label: "SE, ReLU gate",
    nb: "03_squeeze_and_excitation_operators",
    sweep: "excitation",
    prefix: "excitation=relu__",
    ref: "SE-ResNet-20, r = 8",
    against: "against the sigmoid gate",
    paper: "paper +1.19 pp",
  },
  {
    label: "SE-PRE",
    nb: "05_integration_and_stages",
    sweep: "integration",
    prefix: "integration=pre__",
    ref: "SE-ResNet-20, r = 8",
    against: "against standard SE",
    paper: "paper −0.05 pp",
  },
  {
    label: "SE-Identity",
    nb: "05_integration_and_stages",
    sweep: "integration",
    prefix: "integration=identity__",
    ref: "SE-ResNet-20, r = 8",
    against: "against standard SE",
    paper: "paper −0.08 pp",
  },
  {
    label: "SE-POST",
    nb: "05_integration_and_stages",
    sweep: "integration",
    prefix: "integration=post__",
    ref: "SE-ResNet-20, r = 8",
    against: "against standard SE",
    paper: "paper +0.50 pp",
  },
  ...[1, 4, 16, 64].map((g) => ({
    label: `SGE-ResNet-20, G = ${g}`,
    nb: "06_sge_groups",
    sweep: "groups",
    prefix: `groups=${g}__`,
    ref: "ResNet-20 (no attention)",
    ...(g === 64 ? { paper: "at widths 16/32/64, G = 64 is one channel per group" } : {}),
  })),
  {
    label: "ResNet-32",
    nb: "04_depth",
    sweep: "depth",
    prefix: "attention=none__depth=32__",
    ref: "ResNet-20 (no attention)",
    against: "against ResNet-20",
  },
  {
    label: "SE-ResNet-32, r = 8",
    nb: "04_depth",
    sweep: "depth",
    prefix: "attention=se__depth=32__",
    ref: "ResNet-32",
    against: "against ResNet-32",
    paper: "paper at depth 110: −1.16 pp on CIFAR-10",
  },
  {
    label: "SGE-ResNet-32, G = 4",
    nb: "04_depth",
    sweep: "depth",
    prefix: "attention=sge__depth=32__",
    ref: "ResNet-32",
    against: "against ResNet-32",
  },
];

interface ArmRuns {
  errors: number[];
  params: number;
}

function runsOf(arm: Arm): ArmRuns {
  const dir = path.join(root, arm.nb, "quick", arm.sweep);
  const errors: number[] = [];
  let params = 0;
  for (const id of fs.readdirSync(dir).sort()) {
    if (!id.startsWith(arm.prefix)) continue;
    const s = readJsonIfExists<{ testError: number | null; params: number }>(
      path.join(dir, id, "summary.json"),
    );
    if (!s || s.testError === null) continue;
    errors.push(s.testError);
    params = s.params;
  }
  return { errors, params };
}

const f2 = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;
const byLabel = new Map(ARMS.map((a) => [a.label, runsOf(a)]));
console.log(
  "| arm | test error % (n = 3) | params | against its reference (Welch's t; MDE = minimum detectable effect at α 0.05, 80 % power) |",
);
console.log("|---|---|---|---|");
for (const arm of ARMS) {
  const r = byLabel.get(arm.label)!;
  const cell = `${f2(mean(r.errors))} ± ${f2(sampleStd(r.errors))}`;
  let verdict = arm.note ?? "";
  if (arm.ref) {
    const ref = byLabel.get(arm.ref)!;
    const w = welchTest(r.errors, ref.errors);
    const n = Math.min(r.errors.length, ref.errors.length);
    const mde = minimumDetectableEffect({ n, std: pooledStd(r.errors, ref.errors) });
    const resolved = w.p < 0.05;
    const p = w.p < 0.2 || resolved ? `p = ${w.p.toFixed(w.p < 0.01 ? 3 : w.p < 0.1 ? 3 : 2)}` : "";
    const stat = resolved
      ? `resolved (${p})`
      : `not resolved (${p ? `${p}, ` : ""}MDE ${f2(mde)} pp)`;
    verdict = `${signed(w.diff)} pp${arm.against ? ` ${arm.against}` : ""}, ${stat}`;
    if (arm.paper) verdict += resolved || arm.paper.startsWith("at ") ? `: ${arm.paper}` : "";
    if (arm.paper && !resolved && !arm.paper.startsWith("at ")) {
      verdict = verdict.replace(/\)$/, `; ${arm.paper})`);
    } else if (arm.paper && resolved && !arm.paper.startsWith("at ")) {
      verdict = verdict.replace(`: ${arm.paper}`, "").replace(/\)$/, `; ${arm.paper})`);
    }
  }
  console.log(`| ${arm.label} | ${cell} | ${r.params.toLocaleString("en-US")} | ${verdict} |`);
}
