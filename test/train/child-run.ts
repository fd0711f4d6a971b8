/** Child process for kill.test.ts: runs one experiment (config JSON and run folder from argv). */
import { initBackend } from "../../src/backend/index.js";
import { runExperiment } from "../../src/train/run.js";

const [configJson, runDir] = process.argv.slice(2);
await initBackend("cpu", { quiet: true });
await runExperiment(JSON.parse(configJson!), { runDir: runDir!, progress: "none" });
