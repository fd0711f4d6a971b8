/** Parameter and multiply-add counting for the zoo, by the papers' conventions. */
export * from "./count.js";
export * from "./rules.js";
