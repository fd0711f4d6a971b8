/** Attention layers (SE, SGE), the createAttention lookup table and gate read-out. */
export * from "./attention.js";
export * from "./fused-batch-normalization.js";
export * from "./gates.js";
export * from "./spatial-group-enhance.js";
export * from "./squeeze-excite.js";
