/** Tables and charts from sweeps: danfojs frames, mean ± std over seeds, pivots, Plotly. */
export * from "./compare.js";
export * from "./format.js";
export * from "./load.js";
export * from "./numbers.js";
export * from "./paper.js";
export * from "./pivot.js";
export * from "./plot.js";
export * from "./plotly-bundle.js";
export * from "./power.js";
export * from "./show.js";
export * from "./stats.js";
export * from "./summarize.js";
export * from "./table.js";
export * from "./tslab.js";
