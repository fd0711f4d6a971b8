/**
 * Seeding what tfjs does not let us seed directly. tfjs initialisers and dropout draw their
 * seeds from Math.random when none is given, so during model construction and each training
 * step Math.random is swapped for our seeded generator (whose one-number state goes into the
 * checkpoint) and restored right after. Only synchronous code runs under the swap, so no other
 * task in the process ever sees it.
 */
import type { Rng } from "../data/rng.js";

/** Runs `fn` with Math.random drawing from `rng`; restores the original even if `fn` throws. */
export function withSeededRandom<T>(rng: Rng, fn: () => T): T {
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}
