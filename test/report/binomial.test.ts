/** binomialInterval (Wilson, 95 %) against statsmodels' proportion_confint in test/fixtures/stats/binomial.json. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { binomialInterval } from "../../src/report/stats.js";

const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "fixtures", "stats", "binomial.json"), "utf8"),
) as { cases: { successes: number; n: number; interval: [number, number] }[] };

describe("binomialInterval", () => {
  it("matches statsmodels' Wilson interval within 1e-12", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(9);
    for (const c of fixture.cases) {
      const [lo, hi] = binomialInterval(c.successes, c.n);
      expect(Math.abs(lo - c.interval[0]), `${c.successes}/${c.n}`).toBeLessThan(1e-12);
      expect(Math.abs(hi - c.interval[1]), `${c.successes}/${c.n}`).toBeLessThan(1e-12);
    }
  });

  it("refuses counts that are not a proportion, naming the value", () => {
    expect(() => binomialInterval(3, 0)).toThrow(ConfigError);
    expect(() => binomialInterval(11, 10)).toThrow(
      /successes must be an integer in \[0, 10\]; got 11/,
    );
    expect(() => binomialInterval(1.5, 10)).toThrow(/got 1\.5/);
  });
});
