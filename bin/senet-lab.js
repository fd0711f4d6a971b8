#!/usr/bin/env node
// The senet-lab CLI. It runs the TypeScript sources directly through tsx, so the command a
// user runs is always the code in src/, with no build step to forget.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
