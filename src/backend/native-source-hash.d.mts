/** sha256 over native/binding.gyp and every file in native/src, by sorted name; hex. */
export function nativeSourceHash(nativeDir: string): string;
