/** Builds the native onednn addon during setup when the toolchain is present and it is missing. */

/** Builds the addon if it can and has not been built; logs only what it does. */
export async function ensureNative(_log: (line: string) => void): Promise<void> {
  // Wired to the addon's build once the native backend lands (issue #5).
}
