/** Types shared by the backend loaders and the selection in index.ts. */

/** What a loader reports once its tfjs backend is registered. */
export interface LoadedBackend {
  /** Name under which tfjs knows the backend ("tensorflow", "onednn", "wasm", "cpu"). */
  tfBackend: string;
  /** One line on what runs: library and version, threads. */
  detail: string;
}
