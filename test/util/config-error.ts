/** The ConfigError a call throws, for tests of validation messages (fails the test if none). */
import { expect } from "vitest";
import { ConfigError } from "../../src/errors.js";

/** Runs `fn`, expects it to throw a ConfigError, and returns that error. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}
