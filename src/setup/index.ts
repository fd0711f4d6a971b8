/**
 * `senet-lab setup`: makes this machine able to run everything. Idempotent and silent when all is
 * present; installs missing Debian packages when it can (root on Debian with apt); otherwise prints
 * the exact command and what will not work until it is run.
 */
import {
  aptInstall,
  cannotInstallReason,
  checkSystem,
  installCommand,
  registerKernel,
  type SystemPiece,
} from "./system.js";

export * from "./system.js";

/** What setup did and what is still missing. */
export interface SetupReport {
  /** Pieces installed by this run. */
  installed: string[];
  /** Pieces still missing, with what will not work. */
  missing: { id: string; without: string }[];
  /** The command that installs what is missing, when something is. */
  command?: string;
  /** True when the kernelspec was (re)written. */
  kernelWritten: boolean;
}

/** Runs setup; `install: false` only checks. Messages go to `log` (stderr by default). */
export async function setup(
  options: { install?: boolean; log?: (line: string) => void } = {},
): Promise<SetupReport> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const installed: string[] = [];
  let missing = checkSystem()
    .filter((s) => !s.present)
    .map((s) => s.piece);
  if (missing.length > 0 && options.install !== false) {
    const reason = cannotInstallReason();
    if (reason === undefined) {
      log(
        `senet-lab setup: installing ${missing.map((p) => p.id).join(", ")} (Debian: ${missing.flatMap((p) => p.apt).join(" ")})`,
      );
      const failure = aptInstall(missing);
      if (failure) log(`senet-lab setup: ${failure}`);
      const still = new Set(
        checkSystem()
          .filter((s) => !s.present)
          .map((s) => s.piece.id),
      );
      installed.push(...missing.filter((p) => !still.has(p.id)).map((p) => p.id));
      missing = missing.filter((p) => still.has(p.id));
    } else {
      log(`senet-lab setup: cannot install system packages (${reason}).`);
    }
  }
  const report: SetupReport = {
    installed,
    missing: missing.map((p: SystemPiece) => ({ id: p.id, without: p.without })),
    kernelWritten: false,
  };
  if (missing.length > 0) {
    report.command = installCommand(missing);
    for (const p of missing) log(`senet-lab setup: missing ${p.what}: ${p.without}.`);
    log(`senet-lab setup: to install, run:\n  ${report.command}`);
  }
  if (!missing.some((p) => p.id === "jupyter")) report.kernelWritten = registerKernel();
  const { ensureNative } = await import("./native.js");
  await ensureNative(log);
  return report;
}
