/** Tables and charts from sweeps: danfojs frames, mean ± std over seeds, pivots, Plotly. */
export * from "./format.js";
export * from "./load.js";
export * from "./paper.js";
export * from "./pivot.js";
export * from "./plot.js";
export * from "./plotly-bundle.js";
export * from "./show.js";
export * from "./summarize.js";
export * from "./table.js";
export * from "./tslab.js";
