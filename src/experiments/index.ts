/** The notebook protocol: presets, the notebook session and its sweeps. */
export * from "./notebook.js";
export * from "./presets.js";
