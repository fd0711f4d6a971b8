/** Model persistence on Node: a file IOHandler, saveModel and loadModel. */
export * from "./file-handler.js";
