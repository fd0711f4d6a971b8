import { defineConfig } from "vitest/config";

// Tests run in forked processes: tfjs keeps global backend state, and native addons are safest
// loaded once per process. Two cores here, so two workers.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // --experimental-websocket: the Jupyter server test talks to kernels as the browser does.
    poolOptions: { forks: { maxForks: 2, minForks: 1, execArgv: ["--experimental-websocket"] } },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two test processes (and their sweep workers) share two cores: OpenMP threads that spin
    // while waiting would take cycles from the other file's work, so they sleep at once.
    env: { SENET_LAB_QUIET: "1", OMP_WAIT_POLICY: "passive" },
  },
});
