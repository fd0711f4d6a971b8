/** Child process for preempt.test.ts: trains one experiment; a preemption exits EXIT_PREEMPTED. */
import { initBackend } from "../../src/backend/index.js";
import { EXIT_PREEMPTED, PreemptedError } from "../../src/errors.js";
import { runExperiment } from "../../src/train/run.js";

const [configJson, runDir, minutes] = process.argv.slice(2);
await initBackend("cpu", { quiet: true });
try {
  await runExperiment(JSON.parse(configJson!), {
    runDir: runDir!,
    progress: "none",
    checkpointMinutes: Number(minutes),
  });
} catch (err) {
  if (!(err instanceof PreemptedError)) throw err;
  process.stdout.write(`${err.message}\n`);
  process.exit(EXIT_PREEMPTED);
}
