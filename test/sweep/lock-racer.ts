/**
 * Test helper process: waits until a shared start time, tries to take a run claim, prints
 * "won" or "lost", and either holds the claim until killed ("hold") or exits without releasing
 * it ("die", leaving a stale claim behind).
 */
import { tryLock } from "../../src/sweep/lock.js";

const [file, startAt, mode] = process.argv.slice(2);
while (Date.now() < Number(startAt)) {
  /* spin until the shared start time so the racers collide */
}
const r = tryLock(file!);
process.stdout.write("lock" in r ? "won\n" : "lost\n");
if (mode === "hold") setInterval(() => undefined, 1000);
else process.exit(0);
